// t/browser/settings.test.mjs - two-factor sign-in set up through the
// settings page in Chromium (t/settings_browser.t runs it against the test
// server), as a member signed in through the form:
//   - "Set up two-factor sign-in" shows a QR code drawn as SVG on the
//     server; a screenshot of it is read with zbarimg (zbar-tools) into the
//     otpauth:// URI, whose secret is the key printed under it;
//   - a code computed from that secret switches two-factor on, and the
//     page shows ten recovery codes once;
//   - signed out, the member signs in again with the password and a code;
//   - new recovery codes made through the page replace the old ones;
//   - the e-mail change's code page passes the checks;
//   - mails for downloads are turned off through the page's form;
//   - every page passes the site's checks (checks.mjs: axe-core, names,
//     keyboard, headers).
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { launch, open, fill, submit, text, ok, is, section, plan, watchdog } from './harness.mjs';
import { checkPage, stats } from './checks.mjs';

const done = watchdog(55000);
const email = process.env.LENZ_MEMBER_EMAIL;
const password = process.env.LENZ_MEMBER_PASSWORD;
const tmp = mkdtempSync(path.join(tmpdir(), 'lenz-qr-'));

function base32(s) {
  const abc = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of s.replace(/[\s=]/g, '').toUpperCase())
    bits += abc.indexOf(c).toString(2).padStart(5, '0');
  const out = [];
  for (let i = 0; i + 8 <= bits.length; i += 8)
    out.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(out);
}
// RFC 6238: SHA-1, 6 digits, 30 s steps; t in seconds.
function totp(key, t) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(Math.floor(t / 30)));
  const mac = createHmac('sha1', key).update(msg).digest();
  const off = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(off) & 0x7fffffff) % 1000000).padStart(6, '0');
}
const codesOn = (page) => page.$$eval('#recovery-codes code', (l) => l.map((c) => c.textContent.trim()));

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
  await open(page, '/account/login');
  await fill(page, '#email', email);
  await fill(page, '#password', password);
  await submit(page, 'form.form button[type="submit"]');
  let res = await open(page, '/account/settings');
  await checkPage(b, page, res, { name: 'settings (2FA off)', path: '/account/settings', h1: 'Settings',
                                   primary: 'form[action$="/settings/name"] button' });
  let key;
  let recovery;

  await section('qr', async () => {
    res = await submit(page, 'form[action$="/settings/totp"] button');
    await checkPage(b, page, res, { name: 'totp set-up', path: '/account/settings/totp', h1: 'Set up two-factor sign-in',
                                     primary: 'form[action$="/totp/enable"] button' });
    const svg = await page.$('figure.qr svg');
    ok(svg, 'qr: the page holds an inline <svg>');
    is(await page.$eval('figure.qr svg', (s) => s.getAttribute('role') + ' / ' + s.getAttribute('aria-label')),
       'img / QR code to scan with your authenticator app', 'qr: it is an image with a text alternative');
    const png = path.join(tmp, 'qr.png');
    await svg.screenshot({ path: png });
    let uri = '';
    try {
      uri = execFileSync('zbarimg', ['--quiet', '--raw', png], { encoding: 'utf8' }).trim();
    } catch (e) {
      ok(false, 'qr: zbarimg reads the code', String(e));
    }
    const u = uri ? new URL(uri) : null;
    ok(u && u.protocol === 'otpauth:' && u.host === 'totp', `qr: zbarimg reads an otpauth://totp URI from the screenshot`, uri);
    ok(u && decodeURIComponent(u.pathname).includes(email), 'qr: ... naming the member', uri);
    const secret = u?.searchParams.get('secret') ?? '';
    is(secret, (await text(page, '#totp-secret')).replace(/\s+/g, ''), 'qr: ... with the key printed under it');
    key = base32(secret);
    ok(key.length >= 20, `qr: a key of ${key.length} bytes`);
  });

  await section('enable', async () => {
    const now = Date.now() / 1000;
    await fill(page, '#totp-code', totp(key, now - 30));
    res = await submit(page, 'form[action$="/totp/enable"] button');
    await checkPage(b, page, res, { name: 'recovery codes', path: '/account/settings/totp/enable',
                                     h1: 'Two-factor sign-in is on', primary: 'main a[href$="#two-factor"]', noForm: true });
    recovery = await codesOn(page);
    is(recovery.length, 10, 'enable: ten recovery codes shown');
    ok(recovery.every((c) => /^[A-Z2-7]{6}-[A-Z2-7]{6}$/.test(c)), 'enable: ... as XXXXXX-XXXXXX', recovery);
    res = await open(page, '/account/settings');
    ok((await text(page, '#two-factor')).includes('On. 10 unused recovery codes left.'), 'enable: the settings say it is on');
  });

  await section('sign in', async () => {
    await submit(page, 'form[action$="/account/logout"] button');
    await open(page, '/account/login?next=/account/settings');
    await fill(page, '#email', email);
    await fill(page, '#password', password);
    res = await submit(page, 'form.form button[type="submit"]');
    is(res?.status(), 401, 'sign in: the password alone asks for a code (401)');
    ok(await page.$('#totp'), 'sign in: ... with a field for it');
    await fill(page, '#password', password);
    await fill(page, '#totp', totp(key, Date.now() / 1000));
    res = await submit(page, 'form.form button[type="submit"]');
    is(page.url().replace(/^https?:\/\/[^/]+/, ''), '/account/settings', 'sign in: with the app\'s code: signed in, back to settings');
  });

  // A page of its own: the 401 the sign-in asked for a code with stays
  // with the page above (checkPage counts failed requests).
  await section('new codes', async () => {
    const p2 = await b.page();
    await open(p2, '/account/settings');
    await fill(p2, '#rc-pw', password);
    await fill(p2, '#rc-code', recovery[0]);
    res = await submit(p2, 'form[action$="/recovery-codes"] button');
    await checkPage(b, p2, res, { name: 'new recovery codes', path: '/account/settings/recovery-codes',
                                     h1: 'Your new recovery codes', primary: 'main a[href$="#two-factor"]', noForm: true });
    const fresh = await codesOn(p2);
    is(fresh.length, 10, 'new codes: ten');
    ok(!fresh.some((c) => recovery.includes(c)), 'new codes: none of them an old one');
    if (process.env.LENZ_CODES)
      writeFileSync(process.env.LENZ_CODES, JSON.stringify({ old: recovery, fresh }));
  });

  // The e-mail change's second page (the code is not typed: nothing changes).
  await section('email', async () => {
    const pe = await b.page();
    await open(pe, '/account/settings');
    await fill(pe, '#em-new', `elsewhere-${Date.now()}@example.org`);
    await fill(pe, '#em-pw', password);
    res = await submit(pe, 'form[action$="/settings/email"] button');
    await checkPage(b, pe, res, { name: 'email code', path: '/account/settings/email', h1: 'Confirm your new address',
                                   primary: 'form[action$="/email/confirm"] button' });
    await pe.close();
  });

  // Mails for downloads turned off through the form (t/settings_browser.t
  // then downloads one of the member's links: no mail, a notification).
  await section('notifications', async () => {
    const p3 = await b.page();
    await open(p3, '/account/settings');
    ok(await p3.$eval('input[name="downloads_mail"]', (i) => i.checked), 'notifications: mails for downloads start on');
    await p3.click('input[name="downloads_mail"]');
    res = await submit(p3, 'form[action$="/settings/notifications"] button');
    ok((await text(p3, '[role="status"]')).includes('notification choices were saved'), 'notifications: saved, the page says');
    ok(!(await p3.$eval('input[name="downloads_mail"]', (i) => i.checked)), 'notifications: ... and the box stays unticked');
    ok(await p3.$eval('input[name="downloads_in_app"]', (i) => i.checked), 'notifications: ... in the app still on');
  });
} finally {
  await b.close();
  rmSync(tmp, { recursive: true, force: true });
  if (process.env.LENZ_RESULTS)
    writeFileSync(process.env.LENZ_RESULTS, JSON.stringify({ pid: b.pid, profile: b.profile, pages: stats.checked }));
}
done();
plan();
