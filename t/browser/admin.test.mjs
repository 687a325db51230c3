// t/browser/admin.test.mjs - the admin console in Chromium (t/admin_browser.t
// runs it against the test server), as an administrator signed in through
// the form: the dashboard with its server-drawn chart, a member found by a
// misspelt name (LENZ_FIND), their roles changed, one of their devices
// signed out (the browser t/admin_browser.t signed in, LENZ_DEVICE in its
// client name), and a dead job (LENZ_DEAD_JOB) retried from the jobs page.
// Every page passes the site's checks (checks.mjs: axe-core, names,
// keyboard, headers).
import { writeFileSync } from 'node:fs';
import { launch, open, fill, submit, text, ok, is, section, plan, watchdog } from './harness.mjs';
import { checkPage, stats } from './checks.mjs';

const done = watchdog(55000);
const email = process.env.LENZ_MEMBER_EMAIL;
const password = process.env.LENZ_MEMBER_PASSWORD;
const find = process.env.LENZ_FIND;
const name = process.env.LENZ_NAME;
const device = process.env.LENZ_DEVICE;
const job = process.env.LENZ_DEAD_JOB;

let b;
try {
  b = await launch({ timeout: 15000 });
} catch (e) {
  ok(false, 'Chromium starts', e?.stack ?? String(e));
  plan();
  process.exit(1);
}
try {
  const page = await b.page();
  await open(page, '/account/login?next=/admin/');
  await fill(page, '#email', email);
  await fill(page, '#password', password);
  let res = await submit(page, 'form.form button[type="submit"]');
  await checkPage(b, page, res, { name: 'dashboard', path: '/admin/', h1: 'Administration',
                                   primary: 'nav[aria-label="Administration"] a[href$="/admin/users"]' });
  ok(await page.$('figure.chart-box svg[role="img"] title'), 'dashboard: a chart with a title, drawn on the server');
  is(await page.$$eval('details table tbody tr', (l) => l.length), 30, 'dashboard: its numbers as a table of 30 days');
  is(await page.$$eval('script', (l) => l.length), 0, 'dashboard: no script at all');

  await section('find', async () => {
    res = await open(page, '/admin/users');
    await checkPage(b, page, res, { name: 'members', path: '/admin/users', h1: 'Members',
                                     primary: 'form[role="search"] button' });
    await fill(page, '#q', find);
    res = await submit(page, 'form[role="search"] button');
    const first = await page.$eval('table.items tbody th a', (a) => a.textContent.trim());
    is(first, name, `find: "${find}" finds ${name} first`);
    res = await submit(page, 'table.items tbody th a');
    await checkPage(b, page, res, { name: 'member', path: '/admin/users/{id}', h1: 'Member',
                                     primary: 'form[action$="/roles"] button' });
  });

  await section('roles', async () => {
    await page.click('input[name="role_moderator"]');
    res = await submit(page, 'form[action$="/roles"] button');
    ok((await text(page, '[role="status"]')).includes('Saved'), 'roles: saved, the page says');
    ok(await page.$eval('input[name="role_moderator"]', (i) => i.checked), 'roles: moderator is ticked now');
  });

  await section('device', async () => {
    const button = `button[aria-label^="Sign out session ${device}"]`;
    ok(await page.$(button), `device: the member's browser (${device}) is listed`);
    res = await submit(page, button);
    ok(!(await page.$(button)), 'device: signed out, it is gone from the list');
  });

  await section('jobs', async () => {
    res = await open(page, '/admin/jobs?state=dead');
    await checkPage(b, page, res, { name: 'jobs', path: '/admin/jobs', h1: 'Jobs',
                                     primary: `button[aria-label="Retry job ${job}"]` });
    res = await submit(page, `button[aria-label="Retry job ${job}"]`);
    ok((await text(page, '[role="status"]')).includes('queued again'), 'jobs: retried, the page says');
  });

  // The audit log: the administrator's own actions above are there.
  await section('audit', async () => {
    res = await open(page, '/admin/audit?type=admin.');
    await checkPage(b, page, res, { name: 'audit', path: '/admin/audit', h1: 'Audit log',
                                     primary: 'form[role="search"] button' });
    const types = await page.$$eval('table.audit tbody th', (l) => l.map((t) => t.textContent.trim()));
    ok(['admin.job_retried', 'admin.device_ended', 'admin.roles_changed'].every((t) => types.includes(t)),
       'audit: the retry, the device and the roles are logged', types);
    ok(await page.$('a[href*="/admin/audit.csv?type=admin."][download]'), 'audit: an export of the same filter');
  });

  await section('links and system', async () => {
    res = await open(page, '/admin/links');
    await checkPage(b, page, res, { name: 'links', path: '/admin/links', h1: 'Links',
                                     primary: 'nav[aria-label="Order"] a[href="?sort=downloads"]' });
    res = await open(page, '/admin/system');
    await checkPage(b, page, res, { name: 'system', path: '/admin/system', h1: 'System',
                                     primary: 'nav[aria-label="Administration"] a[href$="/admin/system"]', noForm: true });
    ok(/^\d+\.\d+\.\d+$/.test(await text(page, '#version')), 'system: the module\'s version is shown');
  });
} finally {
  await b.close();
  if (process.env.LENZ_RESULTS)
    writeFileSync(process.env.LENZ_RESULTS, JSON.stringify({ pid: b.pid, profile: b.profile, pages: stats.checked }));
}
done();
plan();
