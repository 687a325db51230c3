// t/js/upload_page.test.mjs - the upload page as a browser runs it: the HTML
// from GET /upload/ in jsdom, htdocs/js/upload.js on top of it, files chosen
// through the file input, parts sent with jsdom's XMLHttpRequest (CORS and
// all, the plain parts straight to RGW) and the rest with fetch.  Checks
// what a visitor sees: the queue, progress, status messages, the link, the
// too-large refusal, cancel, and resuming after a reload.  Run by
// t/upload_page.t with LENZ_BASE_URL and LENZ_RESULTS (names and SHA-256 of
// what was uploaded, checked there in S3 and the database); jsdom comes from
// Debian's node-jsdom (NODE_PATH=/usr/share/nodejs).
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import { ok, is, section, plan, watchdog, until } from './tap.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const pageUrl = pathToFileURL(path.join(here, '..', '..', 'htdocs', 'js', 'upload.js')).href;
const BASE = (process.env.LENZ_BASE_URL || 'http://127.0.0.1:8529').replace(/\/+$/, '');
const MiB = 1024 * 1024;
const results = {};
const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');
const stopWatchdog = watchdog(600000);

let JSDOM;
try {
  ({ JSDOM } = createRequire(import.meta.url)('jsdom'));
} catch (e) {
  ok(false, 'jsdom is installed (Debian: node-jsdom)', e.message);
  plan();
  process.exit(1);
}

const html = await (await fetch(`${BASE}/upload/`)).text();
const realFetch = globalThis.fetch;
let loads = 0;

// One page load: a window with the server's HTML, the browser globals the
// script uses, and upload.js run on it.  storage: localStorage entries to
// start with (what a reload keeps).  XHR part sends can be held back.
async function openPage(storage = {}) {
  const dom = new JSDOM(html, { url: `${BASE}/upload/`, pretendToBeVisual: true });
  const { window } = dom;
  for (const [k, v] of Object.entries(storage))
    window.localStorage.setItem(k, v);
  const sends = [];
  const page = { window, document: window.document, sends, hold: () => false };
  class RecordingXHR extends window.XMLHttpRequest {
    open(method, url, ...rest) {
      this.lenzUrl = new URL(url, window.location.href);
      this.lenzMethod = method;
      return super.open(method, url, ...rest);
    }
    send(body) {
      const u = this.lenzUrl;
      const part = Number(u.searchParams.get('part') ?? u.searchParams.get('partNumber'));
      const e = { method: this.lenzMethod, origin: u.origin, part, held: page.hold(u, part) };
      sends.push(e);
      if (!e.held)
        super.send(body);
    }
  }
  Object.assign(globalThis, {
    window, document: window.document, localStorage: window.localStorage,
    XMLHttpRequest: RecordingXHR, FileReader: window.FileReader,
  });
  try {
    Object.defineProperty(globalThis, 'navigator', { value: window.navigator, configurable: true });
  } catch { /* Node's own navigator stays */ }
  // Relative URLs resolve against the page, as in a browser.
  globalThis.fetch = (u, init) => realFetch(new URL(String(u), window.location.href), init);
  await import(`${pageUrl}?load=${++loads}`);
  page.$ = (id) => window.document.getElementById(id);
  page.status = () => page.$('status').textContent;
  page.items = () => Array.from(window.document.querySelectorAll('#queue li'));
  page.choose = (files) => {
    const input = page.$('files');
    Object.defineProperty(input, 'files', { value: files, configurable: true });
    input.dispatchEvent(new window.Event('change'));
  };
  page.submit = () => page.$('uploader').dispatchEvent(new window.Event('submit', { cancelable: true }));
  page.file = (bytes, name, lastModified = 1700000000000) =>
    new window.File([bytes], name, { type: 'application/octet-stream', lastModified });
  page.storageKeys = () => Array.from({ length: window.localStorage.length }, (_, i) => window.localStorage.key(i))
    .filter((k) => k.startsWith('lenz-upload|'));
  return page;
}

let p = await openPage();

await section('page', async () => {
  const { $ } = p;
  ok(!$('uploader').hidden, 'the script shows the uploader (hidden without JavaScript)');
  ok($('start').disabled && $('queue-empty').hidden === false, 'nothing to upload yet: Upload is disabled');
  ok($('interrupted').hidden, 'no interrupted uploads to show');
});

await section('encrypted batch', async () => {
  const { $ } = p;
  const big = randomBytes(21 * MiB);
  const small = Buffer.from('hello from the upload page\n');
  p.choose([p.file(big, 'page big.bin'), p.file(small, 'page hello.txt')]);
  const items = p.items();
  is(items.length, 2, 'two chosen files are listed');
  ok(items.every((li) => {
    const bar = li.querySelector('progress');
    const label = li.querySelector(`label[for="${bar?.id}"]`);
    const button = li.querySelector('button');
    return bar && label && label.textContent.length > 0 && /^Remove page /.test(button?.getAttribute('aria-label') ?? '');
  }), 'each with a labelled progress bar and a labelled Remove button');
  ok(/^2 files added\. Press Upload to start\.$/.test(p.status()), 'the live region says so', p.status());
  ok(!$('start').disabled && $('encrypt').checked, 'Upload is enabled; encryption is on by default');

  // How often the total bar is redrawn while the parts go.
  let redraws = 0;
  new p.window.MutationObserver((m) => { redraws += m.length; })
    .observe($('total'), { attributes: true, attributeFilter: ['value'] });
  const t0 = Date.now();
  p.submit();
  ok($('start').disabled && !$('cancel-all').disabled && $('encrypt').disabled,
     'while uploading: Upload and the checkbox are disabled, Cancel all is not');
  const done = await until(() => /^All 2 files uploaded/.test(p.status()), 240000);
  const ms = Date.now() - t0;
  ok(done, 'both files upload; the live region says "All 2 files uploaded"', p.status() + $('errors').textContent);
  ok(p.items().every((li) => li.dataset.state === 'done' && li.querySelector('progress').value
                            === li.querySelector('progress').max), 'each file: done, its bar full');
  ok($('total').value === $('total').max && $('total').max === big.length + small.length,
     'the total bar is full at the batch size');
  ok(redraws <= ms / 100 + 12, `progress redrawn at most about 10 times a second (${redraws} in ${ms} ms)`);
  const parts = p.sends.filter((s) => s.method === 'POST' && s.origin === BASE);
  is(parts.map((s) => s.part).sort(), [1, 1, 2, 3], 'the parts went through XMLHttpRequest (upload progress)');
  ok(!$('result').hidden, 'the share link section is shown');
  const links = Array.from($('links').querySelectorAll('input'));
  ok(links.length === 1 && /^http:\/\/[^/]+\/download\/[A-Za-z0-9_-]+$/.test(links[0].value)
     && links[0].readOnly, 'one read-only share link for the batch', links.map((l) => l.value));
  const label = $('links').querySelector(`label[for="${links[0]?.id}"]`);
  ok(label && /Link to 2 files/.test(label.textContent), 'the link is labelled');
  is(p.storageKeys(), [], 'no resume records left');
  const copy = $('links').querySelector('button');
  copy.click();
  await until(() => $('copy-status').textContent !== '', 2000);
  ok(/copied|Ctrl\+C/.test($('copy-status').textContent), 'Copy link says what happened', $('copy-status').textContent);
  results.page_big = sha256(big);
  results.page_hello = sha256(small);
});

await section('plain', async () => {
  const { $ } = p;
  $('encrypt').checked = false;
  $('encrypt').dispatchEvent(new p.window.Event('change'));
  const bytes = randomBytes(11 * MiB);
  p.choose([p.file(bytes, 'page plain.bin')]);
  is(p.items().length, 1, 'after a finished batch, new files start a new list');
  const before = p.sends.length;
  p.submit();
  const done = await until(() => /^All 1 file uploaded/.test(p.status()), 240000);
  ok(done, 'a plain upload from the page completes', p.status() + $('errors').textContent);
  const puts = p.sends.slice(before).filter((s) => s.method === 'PUT');
  ok(puts.length === 2 && puts.every((s) => s.origin !== BASE),
     'its two parts were PUT to the storage service (CORS exposes the ETag)');
  is($('links').querySelectorAll('input').length, 2, 'a second link: a new transfer');
  results.page_plain = sha256(bytes);
});

await section('too large', async () => {
  const { $ } = p;
  const f = p.file(Buffer.from('x'), 'page huge.iso');
  Object.defineProperty(f, 'size', { value: 3 * 1024 * MiB });
  p.choose([f]);
  const li = p.items().at(-1);
  ok(li?.dataset.state === 'rejected' && /3 GiB; files may be up to 1 GiB/.test(li.textContent),
     'a file over the guest limit is refused before uploading, saying the limit', li?.textContent);
  ok($('start').disabled, '... nothing to upload');
  li.querySelector('button').click();
  await until(() => p.items().length === 0, 2000);
  ok(p.items().length === 0 && /removed/.test(p.status()), 'Remove takes it off the list');
});

await section('cancel', async () => {
  const { $ } = p;
  $('encrypt').checked = true;
  $('encrypt').dispatchEvent(new p.window.Event('change'));
  p.hold = () => true;               // no part leaves: cancelled before it is sent
  p.choose([p.file(randomBytes(2 * MiB), 'page cancel.bin')]);
  p.submit();
  ok(await until(() => p.sends.some((s) => s.held), 30000), 'the upload starts');
  is(p.storageKeys().length, 1, 'a resume record is kept in localStorage while it runs');
  const li = p.items().at(-1);
  const button = li.querySelector('button');
  ok(button.textContent === 'Cancel' && /^Cancel the upload of page cancel\.bin$/.test(button.getAttribute('aria-label')),
     'a running file has a labelled Cancel button');
  button.click();
  ok(await until(() => /The upload of page cancel\.bin was cancelled\./.test(p.status()), 30000),
     'Cancel: the live region says so', p.status());
  is(p.storageKeys(), [], 'its resume record is gone');
  ok(!p.items().includes(li), 'it is off the list');
  p.hold = () => false;
});

await section('resume after a reload', async () => {
  const bytes = randomBytes(21 * MiB);            // 3 parts
  const modified = 1700000123000;
  p.hold = (u, part) => part >= 2;                // part 1 arrives, 2 and 3 never leave
  p.choose([p.file(bytes, 'page resume.bin', modified)]);
  p.submit();
  ok(await until(() => p.$('total').value >= 10 * MiB, 120000), 'part 1 of 3 arrives, then the page "reloads"');
  const keys = p.storageKeys();
  const rec = keys.length === 1 ? JSON.parse(p.window.localStorage.getItem(keys[0])) : {};
  ok(rec.name === 'page resume.bin' && rec.size === bytes.length && rec.lastModified === modified
     && rec.token && rec.part_size === 10 * MiB && rec.part_count === 3 && rec.transfer_id,
     'localStorage holds name, size, lastModified, token, part_size, part_count, transfer_id');
  const saved = Object.fromEntries(keys.map((k) => [k, p.window.localStorage.getItem(k)]));
  p.window.close();

  p = await openPage(saved);
  const { $ } = p;
  ok(!$('interrupted').hidden && /page resume\.bin \(21 MiB, encrypted\)/.test($('interrupted-list').textContent),
     'after the reload: the interrupted upload is listed', $('interrupted-list').textContent);
  p.choose([p.file(bytes, 'page resume.bin', modified)]);
  ok(/1 file added; 1 will continue an earlier upload/.test(p.status()), 'choosing the same file: it will continue',
     p.status());
  p.submit();
  ok(await until(() => /part was already there/.test(p.status()) || /^All 1 file/.test(p.status()), 60000),
     'the live region says a part was already there', p.status());
  ok(await until(() => /^All 1 file uploaded/.test(p.status()), 240000), 'and the upload completes',
     p.status() + $('errors').textContent);
  const sent = p.sends.filter((s) => s.method === 'POST' && s.origin === BASE).map((s) => s.part).sort();
  is(sent, [2, 3], 'only parts 2 and 3 were sent after the reload');
  is(p.storageKeys(), [], 'the resume record is gone');
  ok($('interrupted').hidden, 'nothing is listed as interrupted any more');
  results.page_resume = sha256(bytes);
});

if (process.env.LENZ_RESULTS)
  writeFileSync(process.env.LENZ_RESULTS, JSON.stringify(results, null, 1));
stopWatchdog();
plan();
process.exit(0);
