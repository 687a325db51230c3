// t/browser/files.test.mjs - the file manager in Chromium (t/files_browser.t
// runs it against the test server): as a member signed in through the form,
//   - a folder tree and a file dropped on the page from the disk (Chromium's
//     own drag and drop, through DevTools' Input.dispatchDragEvent with the
//     paths) arrive as folders and files below the open folder, their
//     content intact;
//   - a row dragged onto a folder's row moves into it;
//   - a second tab showing a folder updates by itself when the first one
//     adds to it (the event stream);
//   - the link dialog, the Shared page, the Request files page and a file
//     request's page for its uploader pass the site's page checks
//     (checks.mjs: axe-core, names, keyboard, headers), and an uploader
//     sends a file through the request's page.
// A screenshot of the manager after the drop goes to t/logs/pages/.
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  launch, newPage, open, fill, submit, screenshot, problems, ok, is, section, plan, watchdog, baseUrl,
} from './harness.mjs';
import { checkPage, stats } from './checks.mjs';

const done = watchdog(100000);
const email = process.env.LENZ_MEMBER_EMAIL;
const password = process.env.LENZ_MEMBER_PASSWORD;

// The page's own API calls (cookie session + the page's CSRF token).
const call = (page, method, p, body) => page.evaluate(async (method, p, body) => {
  const csrf = document.getElementById('listing')?.dataset.csrf
    ?? document.querySelector('input[name="csrf"]')?.value;
  const res = await fetch(`/api/v1${p}`, {
    method, credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, json, text };
}, method, p, body ?? null);
// Waits for an async condition (every 50 ms, up to ms).
async function until(cond, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond())
      return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !!(await cond());
}
// Nothing went wrong in the browser since the last look.
function clean(page, what) {
  const bad = problems(page);
  is([...bad.console, ...bad.exceptions, ...bad.requests], [], `${what}: no errors or failed requests in the browser`);
}
const rows = (page) => page.$$eval('#listing table.items tbody th', (ths) => ths.map((t) => t.textContent.trim()));
const child = (list, name) => list.children.find((c) => c.name === name);

const disk = mkdtempSync(path.join(tmpdir(), 'lenz-drop-'));
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
  const res = await open(page, '/files');
  is(res?.status(), 200, 'signed in, the file manager opens');
  await page.waitForSelector('#dnd-hint:not([hidden])');
  ok(true, 'files.js is running (its hint shows)');
  let trip;

  await section('drop', async () => {
    // On the disk: Trip/Day 1/a.txt, Trip/b.txt and top.txt.
    mkdirSync(path.join(disk, 'Trip', 'Day 1'), { recursive: true });
    writeFileSync(path.join(disk, 'Trip', 'Day 1', 'a.txt'), 'alpha');
    writeFileSync(path.join(disk, 'Trip', 'b.txt'), 'bravo');
    writeFileSync(path.join(disk, 'top.txt'), 'top of the drop');
    const box = await (await page.$('main')).boundingBox();
    const at = { x: Math.round(box.x + box.width / 2), y: Math.round(box.y + 40) };
    const cdp = await page.createCDPSession();
    const data = { items: [], files: [path.join(disk, 'Trip'), path.join(disk, 'top.txt')], dragOperationsMask: 1 };
    for (const type of ['dragEnter', 'dragOver', 'drop'])
      await cdp.send('Input.dispatchDragEvent', { type, ...at, data });
    const finished = await until(async () => /3 of 3 done/.test(await page.$eval('#dnd-text', (e) => e.textContent)),
                                 30000);
    ok(finished, 'dropped from the disk: 3 of 3 files uploaded',
       await page.$eval('#dnd', (e) => e.textContent.replace(/\s+/g, ' ')));
    await until(async () => (await rows(page)).some((r) => r.startsWith('Trip')), 10000);
    const names = await rows(page);
    ok(names.some((r) => r.startsWith('Trip')) && names.includes('top.txt'),
       'the list shows the folder Trip and top.txt without a reload', names);
    const root = (await call(page, 'GET', '/folders/root')).json;
    trip = child(root, 'Trip');
    const inTrip = (await call(page, 'GET', `/folders/${trip?.id}`)).json;
    const day1 = child(inTrip, 'Day 1');
    const inDay1 = (await call(page, 'GET', `/folders/${day1?.id}`)).json;
    ok(day1?.type === 'folder' && child(inTrip, 'b.txt') && child(inDay1, 'a.txt'),
       'the tree arrived as it was: Trip/Day 1/a.txt and Trip/b.txt', { inTrip, inDay1 });
    const a = await call(page, 'GET', `/files/${child(inDay1, 'a.txt')?.id}/content`);
    is(a.text, 'alpha', 'Trip/Day 1/a.txt reads back as it was on the disk');
    const top = await call(page, 'GET', `/files/${child(root, 'top.txt')?.id}/content`);
    is(top.text, 'top of the drop', 'top.txt too');
    await screenshot(page, 'file-manager');
    clean(page, 'drop');
  });

  await section('drag to move', async () => {
    await page.evaluate(() => {
      const rowOf = (n) => [...document.querySelectorAll('#listing tbody tr')]
        .find((tr) => tr.querySelector('th').textContent.trim().startsWith(n));
      const from = rowOf('top.txt');
      const to = rowOf('Trip');
      const dt = new DataTransfer();
      from.dispatchEvent(new DragEvent('dragstart', { bubbles: true, dataTransfer: dt }));
      to.dispatchEvent(new DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: dt }));
      to.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: dt }));
    });
    const moved = await until(async () => !(await rows(page)).includes('top.txt'), 10000);
    ok(moved, 'top.txt dragged onto Trip leaves the list');
    const inTrip = (await call(page, 'GET', `/folders/${trip.id}`)).json;
    ok(child(inTrip, 'top.txt'), '... and is in Trip');
    ok(/Moved/.test(await page.$eval('#live', (e) => e.textContent)), '... announced in the live region');
    clean(page, 'drag to move');
  });

  await section('live', async () => {
    const other = await b.page();
    try {
      await open(other, `/files/folder/${trip.id}`);
      await other.waitForSelector('#dnd-hint:not([hidden])');
      await new Promise((r) => setTimeout(r, 500));     // its stream is open
      const made = await call(page, 'POST', '/folders', { name: 'Made elsewhere', parent_id: trip.id });
      is(made.status, 201, 'the first tab makes a folder in Trip');
      const seen = await until(async () => (await rows(other)).some((r) => r.startsWith('Made elsewhere')), 15000);
      ok(seen, 'the second tab, showing Trip, lists it without a reload');
      ok(/changed/.test(await other.$eval('#live', (e) => e.textContent)), '... and says so in its live region');
      clean(other, 'live');
    } finally {
      await other.close();
    }
  });

  await section('pages', async () => {
    const file = child((await call(page, 'GET', `/folders/${trip.id}`)).json, 'b.txt');
    let r = await open(page, `/files/share?item=file:${file.id}`);
    await checkPage(b, page, r, { name: 'share', path: '/files/share', h1: 'Share', primary: 'form.form button[type="submit"]' });
    await page.select('#days', '1');
    r = await submit(page, 'form.form button[type="submit"]');
    is(r?.status(), 201, 'share: Create link answers 201');
    const url = await page.$eval('#link', (e) => e.value);
    ok(url.startsWith(`${baseUrl}/download/`), 'share: the link is shown', url);
    r = await open(page, '/files/shared');
    await checkPage(b, page, r, { name: 'shared', path: '/files/shared', h1: 'Shared',
                                  primary: 'form[action$="/revoke"] button' });
    r = await open(page, `/files/folder/${trip.id}/request`);
    await checkPage(b, page, r, { name: 'request-new', path: '/files/folder/{id}/request', h1: 'Request files',
                                  primary: 'form.form button[type="submit"]' });
    await fill(page, '#req-title', 'Photos from the trip');
    r = await submit(page, 'form.form button[type="submit"]');
    is(r?.status(), 201, 'request: made');
    const rurl = await page.$eval('#link', (e) => e.value);

    // The uploader: another browser context, no account.
    const ctx = await b.browser.createBrowserContext();
    const guest = await newPage(ctx, { timeout: 15000 });
    try {
      const g = await guest.goto(rurl, { waitUntil: 'load' });
      await checkPage(b, guest, g, { name: 'request', path: '/upload/request/{token}', h1: 'Photos from the trip',
                                     primary: '#dropzone', ready: '#uploader:not([hidden])' });
      await fill(guest, '#uploader-name', 'Rita');
      const input = await guest.$('#files');
      writeFileSync(path.join(disk, 'from-rita.txt'), 'hello from rita');
      await input.uploadFile(path.join(disk, 'from-rita.txt'));
      await guest.waitForSelector('#start:not([disabled])');
      await guest.click('#start');
      const sent = await until(async () => /sent/.test(await guest.$eval('#status', (e) => e.textContent)), 20000);
      ok(sent, 'request: an uploader sends a file through the page',
         await guest.$eval('#status', (e) => e.textContent));
      const inTrip = (await call(page, 'GET', `/folders/${trip.id}`)).json;
      ok(child(inTrip, 'from-rita.txt'), "request: the file is in the owner's folder");
    } finally {
      await ctx.close();
    }
  });
} finally {
  await b.close();
  rmSync(disk, { recursive: true, force: true });
  if (process.env.LENZ_RESULTS)
    writeFileSync(process.env.LENZ_RESULTS, JSON.stringify({ pid: b.pid, profile: b.profile, pages: stats.checked }));
}
done();
plan();
