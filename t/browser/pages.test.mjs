// t/browser/pages.test.mjs - the site's pages in Chromium (t/pages.t runs
// it against the test server, LENZ_BASE_URL): the sign-in, registration,
// reset and upload pages as a guest, then the account page of a member
// (LENZ_MEMBER_EMAIL, LENZ_MEMBER_PASSWORD) signed in through the real
// form.  For each: it renders (title, h1, the stylesheet), every form
// control has an accessible name, Tab reaches the primary button and its
// focus is visible, axe-core finds no WCAG 2 A/AA violation, the security
// headers are there, and nothing failed (console errors, exceptions,
// requests).  A screenshot of each goes to t/logs/pages/, and what
// axe-core said of each to t/logs/pages/axe.txt.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  launch, open, fill, submit, text, axe, controlNames, tabTo, focusStyle, ok, is, section, plan, watchdog,
  baseUrl, top,
} from './harness.mjs';
import { checkPage, notes, stats } from './checks.mjs';

const done = watchdog(55000);
const email = process.env.LENZ_MEMBER_EMAIL;
const password = process.env.LENZ_MEMBER_PASSWORD;

const guestPages = [
  { name: 'login', path: '/account/login', h1: 'Sign in', primary: 'form.form button[type="submit"]' },
  { name: 'register', path: '/account/register', h1: 'Create an account', primary: 'form.form button[type="submit"]' },
  { name: 'reset', path: '/account/reset', h1: 'Reset your password', primary: 'form.form button[type="submit"]' },
  // The uploader is shown by upload.js; its first action is the drop zone
  // (the Upload button stays disabled until files are chosen).
  { name: 'upload', path: '/upload/', h1: 'Upload files', primary: '#dropzone', ready: '#uploader:not([hidden])' },
  // The front page: what the site does, and the way in.
  { name: 'home', path: '/', h1: 'Share files safely', primary: 'main a[href$="/account/register"]', noForm: true },
];

let b;
try {
  b = await launch({ timeout: 10000 });
} catch (e) {
  ok(false, 'Chromium starts', e?.stack ?? String(e));
  plan();
  process.exit(1);
}
ok(b.pid > 0, `Chromium started (PID ${b.pid}), driven from Node ${process.version}`);
let version = '?';
try {
  version = await b.browser.version();
  ok(/Chrome\/\d+/.test(version), `it is ${version}, headless`);

  // The checks themselves: a page with known faults must fail them.
  await section('canary', async () => {
    const page = await b.page();
    try {
      await page.setContent('<!doctype html><html><head><title>Canary</title>'
        + '<style>button:focus { outline: none }</style></head><body><main><h1>Canary</h1>'
        + '<input id="nameless"><img src="data:,"><button id="go">Go</button></main></body></html>');
      const ids = (await axe(page)).violations.map((v) => v.id);
      ok(['html-has-lang', 'image-alt', 'label'].every((id) => ids.includes(id)),
         'canary: axe-core reports a page\'s known faults (html-has-lang, image-alt, label)', ids);
      const named = await controlNames(page);
      ok(named.some((c) => c.control === 'input#nameless' && !c.name), 'canary: an unlabelled input has no name', named);
      const tab = await tabTo(page, '#go');
      const f = tab.reached ? await focusStyle(page) : null;
      ok(f && f.changed.length === 0 && f.focused.outlineStyle === 'none',
         'canary: a button whose focus shows nothing is told apart', f);
    } finally {
      await page.close();
    }
  });

  for (const p of guestPages) {
    await section(p.name, async () => {
      const page = await b.page();
      try {
        await checkPage(b, page, await open(page, p.path), p);
      } finally {
        await page.close();
      }
    });
  }

  await section('account', async () => {
    ok(email && password, 'a member to sign in as (LENZ_MEMBER_EMAIL, LENZ_MEMBER_PASSWORD)');
    const page = await b.page();
    try {
      await open(page, '/account/login');
      await fill(page, '#email', email);
      await fill(page, '#password', password);
      const res = await submit(page, 'form.form button[type="submit"]');
      const chain = res?.request().redirectChain() ?? [];
      ok(chain.length === 1 && chain[0].response()?.status() === 303,
         'account: signing in through the form answers 303', chain.map((r) => `${r.url()} ${r.response()?.status()}`));
      is(page.url(), `${baseUrl}/account`, 'account: ... and the browser follows it to /account');
      await checkPage(b, page, res, { name: 'account', path: '/account', h1: 'Your account',
                                       primary: 'form[action$="/account/logout"] button' });
      ok((await text(page, '.facts')).includes(email), 'account: the page shows the member\'s address');
      const cookies = await page.cookies();
      const session = cookies.find((c) => c.name === 'lenz');
      ok(session?.httpOnly && session?.sameSite && session.sameSite !== 'None',
         'account: the session cookie is HttpOnly and SameSite', session);
    } finally {
      await page.close();
    }
  });
  // Settings: a personal access token made through the form is shown once
  // (201, then never again), works as a bearer token at once, and stops
  // working the moment it is revoked through the form.
  await section('settings', async () => {
    const page = await b.page();
    const name = `script ${Date.now()}`;
    try {
      let res = await open(page, '/account/settings');
      await checkPage(b, page, res, { name: 'settings', path: '/account/settings', h1: 'Settings',
                                       primary: 'form[action$="/settings/name"] button' });
      await fill(page, '#tok-name', name);
      await page.select('#tok-exp', '7');
      res = await submit(page, 'form[action$="/settings/tokens"] button');
      await checkPage(b, page, res, { name: 'token made', path: '/account/settings/tokens', status: 201,
                                       h1: 'Your new personal access token', primary: 'main a[href$="#tokens"]' });
      const token = await page.$eval('#token', (i) => i.value);
      ok(/^lenz_pat_[A-Za-z0-9_-]{43}$/.test(token), 'settings: the token is shown once, in full');
      const me = (t) => page.evaluate(async (t) => (await fetch('/api/v1/me', {
        headers: { Authorization: `Bearer ${t}` }, credentials: 'omit' })).status, t);
      is(await me(token), 200, 'settings: the token works as a bearer token (no cookie sent)');
      res = await open(page, '/account/settings');
      ok((await text(page, '#tokens table')).includes(name), 'settings: the token is listed by name');
      ok(!(await page.content()).includes(token), 'settings: ... and the token itself is not on the page');
      await Promise.all([
        page.waitForNavigation({ waitUntil: 'load' }),
        page.click(`button[aria-label="Revoke ${name}"]`),
      ]);
      ok(!(await page.content()).includes(name), 'settings: revoked through its form, it is gone from the list');
      is(await me(token), 401, 'settings: ... and the token is refused at once');
    } finally {
      await page.close();
    }
  });
  // The file manager, as the member signed in above: the page passes the
  // same checks, and a folder is made, renamed, deleted and restored
  // through its forms (no script), the header marking where we are.
  await section('files', async () => {
    const page = await b.page();
    const name = `Holiday ${Date.now()}`;
    try {
      const res = await open(page, '/files');
      await checkPage(b, page, res, { name: 'files', path: '/files', h1: 'My files',
                                       primary: 'form[action$="/new"] button' });
      is(await page.$eval('nav[aria-label="Main"] a[aria-current="page"]', (a) => a.textContent), 'Files',
         'files: the header marks Files as the current page');
      await fill(page, '#new-folder', name);
      let r = await submit(page, 'form[action$="/new"] button');
      is(r?.status(), 200, 'files: "Create folder" posts and comes back (303, then the folder)');
      const row = async (n) => page.$$eval('table.items tbody th', (ths, n) => ths.some((t) => t.textContent.includes(n)), n);
      ok(await row(name), `files: "${name}" is listed`);
      await fill(page, '#new-folder', name.toUpperCase());
      r = await submit(page, 'form[action$="/new"] button');
      is(r?.status(), 409, 'files: the same name in other case: 409, shown on the page');
      ok((await text(page, '[role="alert"]')).includes('taken'), 'files: ... saying the name is taken');
      const rename = `form[action*="/rename"]:has(input[value="${name}"])`;
      await page.$eval(`${rename} input[name="name"]`, (i, v) => { i.value = v; }, `${name}s`);
      await submit(page, `${rename} button`);
      ok(await row(`${name}s`), 'files: renamed through its form');
      // The row's own Delete button (Enter on it, as a keyboard user would).
      await Promise.all([
        page.waitForNavigation({ waitUntil: 'load' }),
        page.evaluate((n) => {
          const tr = [...document.querySelectorAll('table.items tbody tr')].find((t) => t.textContent.includes(n));
          tr.querySelector('form[action*="/delete"] button').click();
        }, `${name}s`),
      ]);
      ok(!(await row(`${name}s`)), 'files: deleted (to the trash)');
    } finally {
      await page.close();
    }
    // The trash, on a page of its own (the 409 above stays with that one).
    const tp = await b.page();
    try {
      const trash = await open(tp, '/files/trash');
      await checkPage(b, tp, trash, { name: 'trash', path: '/files/trash', h1: 'Trash',
                                       primary: 'form[action$="/restore"] button' });
      ok((await text(tp, 'table.items')).includes(`${name}s`), 'trash: the folder is listed');
      await Promise.all([
        tp.waitForNavigation({ waitUntil: 'load' }),
        tp.evaluate((n) => {
          const tr = [...document.querySelectorAll('table.items tbody tr')].find((t) => t.textContent.includes(n));
          tr.querySelector('form[action$="/restore"] button').click();
        }, `${name}s`),
      ]);
      await open(tp, '/files');
      ok(await tp.$$eval('table.items tbody th', (ths, n) => ths.some((t) => t.textContent.includes(n)), `${name}s`),
         'files: restored to where it was');
    } finally {
      await tp.close();
    }
  });
} finally {
  await b.close();
  mkdirSync(path.join(top, 't', 'logs', 'pages'), { recursive: true });
  writeFileSync(path.join(top, 't', 'logs', 'pages', 'axe.txt'),
                `${version}, Node ${process.version}, axe-core ${stats.axeVersion}\n${notes.join('\n')}\n`);
  // For t/pages.t: which browser to look for afterwards.
  if (process.env.LENZ_RESULTS)
    writeFileSync(process.env.LENZ_RESULTS, JSON.stringify({ pid: b.pid, profile: b.profile, node: process.version,
                                                             chromium: version, pages: stats.checked }));
}
done();
plan();
