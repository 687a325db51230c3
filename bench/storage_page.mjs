// bench/storage_page.mjs - bench/storage's page half (bench/storage.py runs
// it): the members' /files page in Chromium, the time from the start of
// the navigation to the first row of the file list being in the DOM.
//
// Debian's chromium, headless, driven by puppeteer-core as the page tests
// drive it (t/browser/harness.mjs: the same launch flags, the same
// clean-up).  Each member signs in through the real form in a browser
// context of their own.  Three pages, each loaded once unmeasured, then
// BENCH_PAGE_LOADS times (default 5) in turn:
//   full member     /files of the member whose root holds 100,000 files
//                   (the page lists the first 200)
//   empty folder    the same member's empty folder (/files/folder/ID):
//                   everything the page does for this member but the rows
//   empty member    /files of a member with nothing: the reference
// "First row": a script added before the page's own (CDP
// Page.addScriptToEvaluateOnNewDocument) watches the DOM with a
// MutationObserver and notes performance.now() -- milliseconds since the
// navigation started -- when `table.items tbody tr` (templates/files/
// folder.mustache) is first there; on an empty folder, its "This folder is
// empty." paragraph (#folder-empty) instead.  A MutationObserver hears of
// nodes at the parser's next pause, so this is when the row could first
// be seen by a script, a little after the parser made it.  Also noted:
// the first byte of the answer (responseStart) and DOMContentLoaded.
//
// Environment: LENZ_BASE_URL, LENZ_BROWSER_MODULES, LENZ_CHROMIUM (as the
// harness), BENCH_FULL_EMAIL, BENCH_EMPTY_EMAIL, BENCH_PASSWORD,
// BENCH_EMPTY_FOLDER (the full member's empty folder's id),
// BENCH_PAGE_LOADS, BENCH_PAGE_RESULTS (where the JSON goes).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { launch, fill, submit, modules } from '../t/browser/harness.mjs';

const base = (process.env.LENZ_BASE_URL || '').replace(/\/$/, '');
const loads = Number(process.env.BENCH_PAGE_LOADS || 5);
const password = process.env.BENCH_PASSWORD;
const need = ['LENZ_BASE_URL', 'BENCH_FULL_EMAIL', 'BENCH_EMPTY_EMAIL', 'BENCH_PASSWORD', 'BENCH_EMPTY_FOLDER',
  'BENCH_PAGE_RESULTS'].filter((k) => !process.env[k]);
if (need.length) {
  console.error(`storage_page: missing ${need.join(' ')} (bench/storage.py sets them)`);
  process.exit(2);
}

// Runs in the page before its own scripts, on every navigation.
function watchFirstRow() {
  window.__lenzFirstRow = null;
  const sel = 'table.items tbody tr, #folder-empty';
  const obs = new MutationObserver(() => {
    if (window.__lenzFirstRow === null && document.querySelector(sel)) {
      window.__lenzFirstRow = performance.now();
      obs.disconnect();
    }
  });
  obs.observe(document, { childList: true, subtree: true });
}

async function signIn(ctx, email) {
  const page = await ctx.newPage();
  page.setDefaultTimeout(60000);
  page.setDefaultNavigationTimeout(60000);
  await page.setViewport({ width: 1024, height: 768 });
  await page.goto(`${base}/account/login`, { waitUntil: 'load' });
  await fill(page, '#email', email);
  await fill(page, '#password', password);
  const res = await submit(page, 'form.form button[type="submit"]');
  if (!res || res.status() !== 200 || !page.url().endsWith('/account'))
    throw new Error(`signing in ${email} ended at ${page.url()} (${res?.status()})`);
  await page.evaluateOnNewDocument(watchFirstRow);
  return page;
}

async function load(page, url) {
  const res = await page.goto(url, { waitUntil: 'load' });
  if (!res || res.status() !== 200)
    throw new Error(`${url}: ${res?.status()}`);
  return page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0];
    return {
      first_row: window.__lenzFirstRow,
      first_byte: nav.responseStart,
      dcl: nav.domContentLoadedEventEnd,
      rows: document.querySelectorAll('table.items tbody tr').length,
      empty: !!document.querySelector('#folder-empty'),
    };
  });
}

const b = await launch({ timeout: 60000 });
let status = 1;
try {
  const fullCtx = b.browser.defaultBrowserContext();
  const emptyCtx = await b.browser.createBrowserContext();
  const full = await signIn(fullCtx, process.env.BENCH_FULL_EMAIL);
  const empty = await signIn(emptyCtx, process.env.BENCH_EMPTY_EMAIL);
  const variants = {
    'full member': { page: full, url: `${base}/files`, rows: 'some' },
    'empty folder': { page: full, url: `${base}/files/folder/${process.env.BENCH_EMPTY_FOLDER}`, rows: 'none' },
    'empty member': { page: empty, url: `${base}/files`, rows: 'none' },
  };
  const out = {};
  for (const [name, v] of Object.entries(variants)) {
    await load(v.page, v.url);        // unmeasured: caches, the connection
    out[name] = { url: v.url.slice(base.length), first_row: [], first_byte: [], dcl: [], rows: 0 };
  }
  for (let i = 0; i < loads; i++) {
    for (const [name, v] of Object.entries(variants)) {
      const m = await load(v.page, v.url);
      if (m.first_row === null)
        throw new Error(`${name}: no row (nor the empty folder's note) was seen on ${v.url}`);
      if ((v.rows === 'some') !== (m.rows > 0) || (v.rows === 'none' && !m.empty))
        throw new Error(`${name}: ${m.rows} rows on ${v.url}, expected ${v.rows}`);
      const o = out[name];
      o.first_row.push(m.first_row);
      o.first_byte.push(m.first_byte);
      o.dcl.push(m.dcl);
      o.rows = m.rows;
    }
  }
  const pkg = JSON.parse(readFileSync(path.join(modules, 'puppeteer-core', 'package.json'), 'utf8'));
  writeFileSync(process.env.BENCH_PAGE_RESULTS, JSON.stringify({
    chromium: (await b.browser.version()).replace(/^HeadlessChrome\//, ''),
    node: process.version, puppeteer: pkg.version, loads, variants: out,
  }));
  status = 0;
} catch (e) {
  console.error(`storage_page: ${e?.stack ?? e}`);
} finally {
  await b.close();
}
process.exit(status);
