// t/browser/harness.mjs - pages in a real browser: Debian's chromium,
// headless, driven by puppeteer-core, with axe-core for accessibility.
// The npm packages come from var/npm/browser (scripts/fetch-browser-deps.sh;
// LENZ_BROWSER_MODULES overrides), the browser is /usr/bin/chromium
// (LENZ_CHROMIUM overrides); puppeteer-core never downloads one.  TAP
// through t/js/tap.mjs, so t/lib/Lenz/Test.pm's run_node reads the checks.
//
//   const b = await launch();            // one browser per test file
//   try {
//     const page = await b.page();       // per-test timeout, problems recorded
//     const res = await open(page, '/account/login');
//     ...
//   } finally { await b.close(); }       // also killed by PID at exit
import { createRequire } from 'node:module';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export { ok, is, same, section, plan, watchdog, until } from '../js/tap.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const top = path.resolve(here, '..', '..');
export const modules = process.env.LENZ_BROWSER_MODULES || path.join(top, 'var', 'npm', 'browser', 'node_modules');
export const chromium = process.env.LENZ_CHROMIUM || '/usr/bin/chromium';
export const baseUrl = (process.env.LENZ_BASE_URL || '').replace(/\/$/, '');

// What this machine's Chromium needs as root, without network or GPU.
export const chromiumArgs = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

// WCAG 2.0, 2.1 and 2.2, levels A and AA.
export const wcagTags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

function loadPuppeteer() {
  const file = path.join(modules, 'puppeteer-core', 'package.json');
  if (!existsSync(file))
    throw new Error(`puppeteer-core is not installed in ${modules}: run scripts/fetch-browser-deps.sh`);
  return createRequire(path.join(modules, '..', 'package.json'))('puppeteer-core');
}

// Every browser this process started, killed (process group, then the
// process) and its profile removed at exit, however the process ends.
const started = new Set();
function reap(b) {
  for (const target of [-b.pid, b.pid]) {
    try {
      process.kill(target, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(b.profile, { recursive: true, force: true });
  started.delete(b);
}
process.on('exit', () => { for (const b of [...started]) reap(b); });
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'])
  process.on(sig, () => process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 })[sig]));

// Starts Chromium with a new empty profile.  Returns { browser, page(),
// close() }; close() is safe to call twice.
export async function launch({ timeout = 10000 } = {}) {
  if (!existsSync(chromium))
    throw new Error(`${chromium} is missing: install Debian's chromium (scripts/deps.sh does)`);
  const puppeteer = loadPuppeteer();
  const profile = mkdtempSync(path.join(tmpdir(), 'lenz-chromium-'));
  let browser;
  try {
    browser = await puppeteer.launch({
      executablePath: chromium, headless: true, userDataDir: profile, args: chromiumArgs,
      timeout: 30000, protocolTimeout: 30000,
    });
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  const b = { pid: browser.process().pid, profile };
  started.add(b);
  return {
    browser,
    pid: b.pid,
    profile,
    page: (o = {}) => newPage(browser, { timeout, ...o }),
    async close() {
      if (!started.has(b))
        return;
      await Promise.race([browser.close().catch(() => {}), new Promise((r) => setTimeout(r, 5000))]);
      reap(b);
    },
  };
}

// A page whose default timeout is the test's, with what goes wrong on it
// recorded: console errors, uncaught exceptions, failed requests and
// answers of 400 or more (problems(page) returns them and starts anew).
export async function newPage(browser, { timeout = 10000, width = 1024, height = 768 } = {}) {
  const page = await browser.newPage();
  page.setDefaultTimeout(timeout);
  page.setDefaultNavigationTimeout(timeout);
  await page.setViewport({ width, height });
  const p = { console: [], exceptions: [], requests: [] };
  page.on('console', (m) => {
    if (m.type() === 'error')
      p.console.push(`${m.text()}${m.location()?.url ? ` (${m.location().url})` : ''}`);
  });
  page.on('pageerror', (e) => p.exceptions.push(String(e?.message ?? e)));
  page.on('requestfailed', (r) => {
    // A live stream the page's navigation closed is no failure.
    if (r.resourceType() === 'eventsource' && r.failure()?.errorText === 'net::ERR_ABORTED')
      return;
    p.requests.push(`${r.method()} ${r.url()}: ${r.failure()?.errorText ?? 'failed'}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400)
      p.requests.push(`${r.request().method()} ${r.url()}: ${r.status()}`);
  });
  page.lenzProblems = p;
  return page;
}

export function problems(page) {
  const p = page.lenzProblems;
  const out = { console: [...p.console], exceptions: [...p.exceptions], requests: [...p.requests] };
  p.console.length = p.exceptions.length = p.requests.length = 0;
  return out;
}

// Opens a path of the server under test (or a full URL); the answer.
export async function open(page, url, { waitUntil = 'load' } = {}) {
  return page.goto(/^https?:/.test(url) ? url : baseUrl + url, { waitUntil });
}

// Types into a field as a person would (after clearing it).
export async function fill(page, selector, value) {
  await page.$eval(selector, (el) => { el.value = ''; });
  await page.type(selector, value);
}

// Clicks a (submit) button and waits for the page it leads to; the final
// answer (response.request().redirectChain() holds any redirect).
export async function submit(page, selector, { waitUntil = 'load' } = {}) {
  const [res] = await Promise.all([page.waitForNavigation({ waitUntil }), page.click(selector)]);
  return res;
}

// The accessibility tree (Chromium's own), of the page or of one element.
export async function axTree(page, root) {
  return page.accessibility.snapshot({ interestingOnly: !root, ...(root ? { root } : {}) });
}

// Every form control with the role and accessible name Chromium computes
// (hidden inputs left out): [{ control, role, name, rendered }].
export async function controlNames(page) {
  const handles = await page.$$('input:not([type="hidden"]), select, textarea, button, progress, meter');
  const out = [];
  for (const h of handles) {
    const control = await h.evaluate((el) => {
      const id = el.id ? `#${el.id}` : '';
      const type = el.getAttribute('type') ? `[type=${el.getAttribute('type')}]` : '';
      return `${el.localName}${id}${type}`;
    });
    const node = await page.accessibility.snapshot({ root: h, interestingOnly: false });
    out.push({ control, role: node?.role ?? null, name: node?.name ?? '', rendered: !!node });
    await h.dispose();
  }
  return out;
}

// The visible text of the page (or of an element).
export async function text(page, selector = 'body') {
  return page.$eval(selector, (el) => el.innerText);
}

// Presses Tab until an element matching selector has focus, at most `max`
// times; call it on a freshly opened page, where the first Tab goes to the
// first focusable element.  Returns { reached, path }: what focus passed
// through.
export async function tabTo(page, selector, { max = 30 } = {}) {
  const path = [];
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const here = await page.evaluate((sel) => {
      const el = document.activeElement;
      if (!el || el === document.body)
        return { what: 'body', match: false };
      const id = el.id ? `#${el.id}` : '';
      const label = (el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 30);
      return { what: `${el.localName}${id}${label ? ` "${label}"` : ''}`, match: el.matches(sel) };
    }, selector);
    path.push(here.what);
    if (here.match)
      return { reached: true, path };
  }
  return { reached: false, path };
}

// How the focused element looks focused against unfocused: whether it
// matches :focus-visible, its outline and box-shadow both ways, and the
// contrast of the focus indicator's colour against the background behind
// it (WCAG 1.4.11 asks for 3:1).
export async function focusStyle(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body)
      return null;
    const pick = (s) => ({
      outlineStyle: s.outlineStyle, outlineWidth: s.outlineWidth, outlineColor: s.outlineColor,
      boxShadow: s.boxShadow, borderColor: s.borderColor, backgroundColor: s.backgroundColor,
    });
    const focused = pick(getComputedStyle(el));
    const focusVisible = el.matches(':focus-visible');
    const rgb = (c) => {
      const m = /rgba?\(([\d.]+),\s*([\d.]+),\s*([\d.]+)(?:,\s*([\d.]+))?\)/.exec(c || '');
      return m ? { r: +m[1], g: +m[2], b: +m[3], a: m[4] === undefined ? 1 : +m[4] } : null;
    };
    const lum = ({ r, g, b }) => {
      const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const contrast = (a, b) => {
      const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
      return (x + 0.05) / (y + 0.05);
    };
    // The first opaque background behind the element (white at the root).
    let bg = { r: 255, g: 255, b: 255, a: 1 };
    for (let n = el.parentElement; n; n = n.parentElement) {
      const c = rgb(getComputedStyle(n).backgroundColor);
      if (c && c.a > 0) { bg = c; break; }
    }
    const colours = [];
    if (focused.outlineStyle !== 'none' && parseFloat(focused.outlineWidth) > 0)
      colours.push(focused.outlineColor);
    for (const m of (focused.boxShadow || '').matchAll(/rgba?\([^)]*\)/g))
      colours.push(m[0]);
    const best = Math.max(0, ...colours.map(rgb).filter(Boolean).map((c) => contrast(c, bg)));
    el.blur();
    const unfocused = pick(getComputedStyle(el));
    el.focus({ focusVisible: true });
    const changed = Object.keys(focused).filter((k) => focused[k] !== unfocused[k]);
    return { focusVisible, focused, unfocused, changed, indicatorContrast: Math.round(best * 100) / 100 };
  });
}

// axe-core on the page with the rules of the given tags (WCAG 2 A and AA
// by default): { rules: how many applied, violations: [{ id, impact, help,
// nodes: [{ target, summary }] }], incomplete: ids of rules axe could not
// decide (to look at by hand) }.
// The page's CSP (script-src 'self', no inline) blocks a <script> that
// page.addScriptTag would add, so axe.min.js is evaluated through the
// DevTools protocol instead, which the page's CSP does not govern.
let axeSource;
export async function axe(page, { tags = wcagTags } = {}) {
  axeSource ??= readFileSync(path.join(modules, 'axe-core', 'axe.min.js'), 'utf8');
  if (!(await page.evaluate(() => typeof window.axe === 'object')))
    await page.evaluate(axeSource);
  return page.evaluate(async (values) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values }, resultTypes: ['violations'] });
    return {
      rules: r.passes.length + r.violations.length + r.incomplete.length,
      violations: r.violations.map((v) => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary })),
      })),
      incomplete: r.incomplete.map((v) => v.id),
    };
  }, tags);
}

// The violations as diagnostic text: id, impact, and each node.
export function describeViolations(violations) {
  return violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n`
    + v.nodes.map((n) => `  ${n.target}: ${(n.summary || '').replace(/\n/g, ' ')}`).join('\n')).join('\n');
}

// A full-page PNG into t/logs/<dir>/<name>.png (for the docs; not committed).
export async function screenshot(page, name, dir = 'pages') {
  const d = path.join(top, 't', 'logs', dir);
  mkdirSync(d, { recursive: true });
  const file = path.join(d, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
