// t/browser/checks.mjs - the checks every page of the site gets in the
// browser tests (pages.test.mjs, files.test.mjs): it renders (status, title,
// one h1, the stylesheet, lang), every form control has an accessible name,
// Tab reaches the primary control and its focus is visible with enough
// contrast, axe-core finds no WCAG 2 A/AA violation (best practices noted,
// not counted), the security headers are there, and nothing failed in the
// browser.  A screenshot of each goes to t/logs/pages/.
import {
  controlNames, tabTo, focusStyle, axe, describeViolations, screenshot, problems, text, ok, is,
} from './harness.mjs';

const site = 'Lenzeye';          // mod_lenz/httpd/render.c's site.name

// What axe-core said of each page, beside the screenshots.
export const notes = [];
export const stats = { checked: 0, axeVersion: '?' };
const note = (t) => { notes.push(t); console.log(`# ${t.split('\n').join('\n# ')}`); };

// The checks every page gets; res is the page's answer.
export async function checkPage(b, page, res, p) {
  const n = p.name;
  stats.checked++;
  if (p.ready)
    await page.waitForSelector(p.ready);

  // It renders.
  is(res?.status(), p.status ?? 200, `${n}: ${p.path} answers ${p.status ?? 200}`);
  const title = await page.title();
  is(title, `${p.h1} · ${site}`, `${n}: the title names the page and the site`);
  is(await text(page, 'h1'), p.h1, `${n}: one h1, "${p.h1}"`);
  is(await page.$$eval('h1', (l) => l.length), 1, `${n}: exactly one h1`);
  const styled = await page.evaluate(() => ({
    sheets: [...document.styleSheets].filter((s) => s.href?.endsWith('/static/css/lenz.css') && s.cssRules.length).length,
    margin: getComputedStyle(document.body).margin,
  }));
  ok(styled.sheets === 1 && styled.margin === '0px', `${n}: lenz.css is loaded and applied`, styled);
  is(await page.evaluate(() => document.documentElement.lang), 'en', `${n}: <html lang="en">`);

  // Every form control has an accessible name (Chromium's own computation).
  const controls = await controlNames(page);
  const unnamed = controls.filter((c) => !c.name.trim());
  ok((controls.length > 0 || p.noForm) && unnamed.length === 0,
     `${n}: every form control has an accessible name (${controls.length} controls)`,
     controls.map((c) => `${c.control}: ${c.role} ${JSON.stringify(c.name)}${c.rendered ? '' : ' (not rendered)'}`).join('\n'));

  // Keyboard: Tab reaches the primary button, and focus shows.
  const tab = await tabTo(page, p.primary);
  ok(tab.reached, `${n}: Tab reaches the primary button (${p.primary})`, `focus went: ${tab.path.join(' -> ')}`);
  const f = tab.reached ? await focusStyle(page) : null;
  ok(f?.focusVisible, `${n}: ... which then matches :focus-visible`, f);
  ok(f && f.changed.length > 0 && f.focused.outlineStyle !== 'none' && parseFloat(f.focused.outlineWidth) >= 2,
     `${n}: ... and shows a focus outline of 2px or more that it has not without focus`, f);
  ok(f && f.indicatorContrast >= 3, `${n}: ... whose colour has 3:1 or more against the background (WCAG 1.4.11)`,
     f && `contrast ${f.indicatorContrast}: ${JSON.stringify(f.focused)}`);
  await screenshot(page, n);

  // axe-core: WCAG 2.0/2.1/2.2 A and AA.  Its best practices (landmarks,
  // headings...) are shown, not counted.
  const a = await axe(page);
  ok(a.rules > 10 && a.violations.length === 0,
     `${n}: axe-core finds no WCAG 2 A/AA violation (${a.rules} rules applied)`, describeViolations(a.violations));
  const bp = await axe(page, { tags: ['best-practice'] });
  stats.axeVersion = await page.evaluate(() => window.axe.version);
  note(`${n} (${page.url()}): axe-core, WCAG 2 A/AA: ${a.rules} rules, ${a.violations.length} violations`
       + `${a.violations.length ? `\n${describeViolations(a.violations)}` : ''}`
       + `${a.incomplete.length ? `\n  undecided (look by hand): ${a.incomplete.join(', ')}` : ''}`
       + `\n  best practices (not counted): ${bp.violations.length ? `\n${describeViolations(bp.violations)}` : 'none violated'}`);

  // The answer's security headers.
  const h = res?.headers() ?? {};
  const csp = h['content-security-policy'] ?? '';
  const dir = Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/)).filter((d) => d[0])
    .map(([k, ...vals]) => [k.toLowerCase(), vals]));
  const scripts = dir['script-src'] ?? dir['default-src'];
  ok(scripts && !scripts.includes("'unsafe-inline'") && !scripts.includes("'unsafe-eval'"),
     `${n}: CSP governs scripts without 'unsafe-inline' or 'unsafe-eval'`, `CSP: ${csp}`);
  ok(dir['frame-ancestors']?.length > 0, `${n}: CSP frame-ancestors (${(dir['frame-ancestors'] ?? []).join(' ')})`,
     `CSP: ${csp}`);
  is(h['x-content-type-options'], 'nosniff', `${n}: X-Content-Type-Options: nosniff`);

  // Nothing went wrong on the way.
  const bad = problems(page);
  is(bad.console, [], `${n}: no console errors`);
  is(bad.exceptions, [], `${n}: no uncaught exceptions`);
  is(bad.requests, [], `${n}: no failed requests`);
}

