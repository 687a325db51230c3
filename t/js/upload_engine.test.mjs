// t/js/upload_engine.test.mjs - htdocs/js/upload-engine.js against the
// running test server and its real S3 (RGW), with Node's fetch and Blob.
// Run by t/upload_page.t, which passes
//   LENZ_BASE_URL       http://127.0.0.1:8529
//   LENZ_RESULTS        a file to write what was uploaded (ids, SHA-256) to,
//                       so the .t file can check the stored objects
//   LENZ_MEMBER_COOKIE, LENZ_MEMBER_CSRF   a signed-in member's session
// Prints TAP (the plan last); every check is one line.
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

import { ok, is, same, section, plan, watchdog } from './tap.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const engine = await import(path.join(here, '..', '..', 'htdocs', 'js', 'upload-engine.js'));
const { createUploader, memoryStore, Batch, UploadError, safeName, safeType, parseRetryAfter } = engine;

const BASE = (process.env.LENZ_BASE_URL || 'http://127.0.0.1:8529').replace(/\/+$/, '');
const GUEST = `${BASE}/upload/guest`;
const MiB = 1024 * 1024;
const subtle = webcrypto.subtle;      // Node 18 has no global crypto
const results = {};

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');
const sorted = (a) => [...a].sort((x, y) => x - y);
const range = (n) => Array.from({ length: n }, (_, i) => i + 1);

// A File-like object over a Blob (Node 18 has no global File).
function fileOf(bytes, name, type = 'application/octet-stream') {
  const blob = new Blob([bytes]);
  return { name, size: blob.size, type, lastModified: 1700000000000 + bytes.length,
           slice: (a, b) => blob.slice(a, b) };
}

// A fetch that records every request and can inject faults:
// fault(entry, attempt) returns a Response (answered without the
// server), throws (a network error) or returns nothing (passes through).
function recorder(fault) {
  const log = [];
  let inflight = 0;
  let max = 0;
  const tries = new Map();
  const f = async (url, init = {}) => {
    const u = new URL(url);
    const method = init.method || 'GET';
    let kind = 'other';
    let part = null;
    if (u.origin !== BASE) {
      kind = 's3-put';
      part = Number(u.searchParams.get('partNumber'));
    } else {
      const last = u.pathname.replace(/^.*\/(guest|member)\//, '');
      kind = { initiate: 'initiate', 'encrypted/initiate': 'initiate', 'presigned-url': 'presign',
               'encrypted/upload-part': 'upload-part', parts: 'parts', complete: 'complete',
               'encrypted/complete': 'complete', abort: 'abort' }[last] ?? 'other';
      if (u.searchParams.has('part'))
        part = Number(u.searchParams.get('part'));
    }
    const entry = { kind, part, method, url: String(url), headers: { ...(init.headers ?? {}) },
                    body: typeof init.body === 'string' ? init.body : null, status: null };
    log.push(entry);
    const key = `${kind}:${part}`;
    const attempt = (tries.get(key) ?? 0) + 1;
    tries.set(key, attempt);
    const isPart = kind === 'upload-part' || kind === 's3-put';
    if (isPart)
      max = Math.max(max, ++inflight);
    try {
      const injected = fault ? await fault(entry, attempt) : undefined;
      const res = injected ?? await fetch(url, init);
      entry.status = res.status;
      entry.injected = !!injected;
      return res;
    } catch (e) {
      entry.status = 'error';
      throw e;
    } finally {
      if (isPart)
        inflight--;
    }
  };
  f.log = log;
  f.maxInflight = () => max;
  f.of = (kind) => log.filter((e) => e.kind === kind);
  return f;
}

async function api(method, url, body, headers = {}) {
  const res = await fetch(url, { method, headers: { 'Content-Type': 'application/json', ...headers },
                                 body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  return { status: res.status, data };
}

const stopWatchdog = watchdog(600000);

// --- Pure helpers ----------------------------------------------------------------
await section('helpers', async () => {
  is(safeName('a/b\\c\u0001d'), 'a_b_c_d', 'safeName: separators and control characters replaced');
  is(safeName('photo\u202egpj.exe\u200f\u2066\u061c'), 'photo_gpj.exe___',
     'safeName: bidirectional text controls replaced (the server refuses them)');
  const long = safeName(`${'é'.repeat(300)}.jpeg`);
  ok(new TextEncoder().encode(long).length <= 255 && long.endsWith('.jpeg'),
     'safeName: at most 255 UTF-8 bytes, the extension kept');
  ok(safeType('image/png') === 'image/png' && safeType('text/html; charset=x') === null,
     'safeType: a media type or nothing');
  ok(parseRetryAfter('7') === 7000 && parseRetryAfter(new Date(Date.now() + 60000).toUTCString()) > 50000,
     'parseRetryAfter: seconds and HTTP dates');
});

// --- A batch: one encrypted and one plain file, one transfer ------------------------
await section('batch', async () => {
  const bytes = randomBytes(25 * MiB);
  const enc = fileOf(bytes, 'batch encrypted.bin');
  const plain = fileOf(bytes, 'batch plain.bin');
  const f = recorder();
  const store = memoryStore();
  const up = createUploader({ endpoint: GUEST, fetch: f, store, subtle,
                              headers: { 'X-Test-Secret': 'to-our-server-only' } });
  const batch = new Batch(up);
  const eEnc = batch.add(enc, { encrypted: true });
  const ePlain = batch.add(plain, { encrypted: false });
  const progress = new Map([[eEnc.id, []], [ePlain.id, []]]);
  await batch.run({ onProgress: (e) => progress.get(e.id).push(e.loaded) });
  is([eEnc.state, ePlain.state], ['done', 'done'], 'batch: both files uploaded as a guest');
  if (eEnc.error || ePlain.error)
    console.log(`# ${eEnc.error?.message ?? ''} ${ePlain.error?.message ?? ''}`);
  const r1 = eEnc.result ?? {};
  const r2 = ePlain.result ?? {};
  ok(r1.transfer_id && r1.transfer_id === r2.transfer_id, 'batch: one transfer for both files');
  ok(/\/download\/[A-Za-z0-9_-]+$/.test(r1.download_url ?? '') && r1.download_url === r2.download_url,
     'batch: one share link (download_url) for both');
  is(batch.links().length, 1, 'batch: links() lists that one link');
  const inits = f.of('initiate');
  ok(inits.length === 2 && !JSON.parse(inits[0].body).transfer_id
     && JSON.parse(inits[1].body).transfer_id === r1.transfer_id,
     'batch: the second initiate passes the first one\'s transfer_id');

  // Encrypted path: parts through httpd with their SHA-256.
  const parts = f.of('upload-part');
  is(sorted(parts.map((e) => e.part)), [1, 2, 3], 'encrypted: 3 parts of 10 MiB (the last 5 MiB), each once');
  ok(parts.every((e) => e.method === 'POST' && e.status === 200), 'encrypted: POST upload-part answered 200');
  ok(parts.every((e) => e.headers['X-Part-SHA256']
                 === sha256(bytes.subarray((e.part - 1) * 10 * MiB, e.part * 10 * MiB))),
     'encrypted: each part carries X-Part-SHA256 of its bytes');
  // Plain path: presigned URL per part, PUT straight to S3.
  const puts = f.of('s3-put');
  is(sorted(puts.map((e) => e.part)), [1, 2, 3], 'plain: 3 parts PUT straight to S3');
  ok(puts.every((e) => e.method === 'PUT' && e.status === 200 && !e.url.startsWith(BASE)),
     'plain: PUT to the storage service, 200 each');
  ok(puts.every((e) => !e.headers['X-Test-Secret']), 'plain: none of our headers go to S3');
  is(f.of('presign').length, 3, 'plain: one presigned URL per part');
  ok(f.maxInflight() >= 2 && f.maxInflight() <= 4, `parts in flight concurrently (max ${f.maxInflight()}, 2-4)`);
  const pe = progress.get(eEnc.id);
  const pp = progress.get(ePlain.id);
  ok(pe.length >= 3 && pp.length >= 3 && pe.at(-1) === enc.size && pp.at(-1) === plain.size
     && [pe, pp].every((a) => a.every((v, i) => i === 0 || v >= a[i - 1])),
     'progress rises to the file size on both paths');
  is(store.keys().length, 0, 'nothing left in the resume store after completing');
  results.batch = { transfer_id: r1.transfer_id, sha256: sha256(bytes),
                    enc: r1.file_id, plain: r2.file_id };
});

// --- Resume: stop after two parts, start again with the stored state -------------------
for (const encrypted of [true, false]) {
  const label = encrypted ? 'resume (encrypted)' : 'resume (plain)';
  await section(label, async () => {
    const bytes = randomBytes(35 * MiB);                 // 4 parts
    const file = fileOf(bytes, `resume-${encrypted ? 'enc' : 'plain'}.bin`);
    const store = memoryStore();
    const f1 = recorder();
    const up1 = createUploader({ endpoint: GUEST, fetch: f1, store, subtle, concurrency: 2 });
    const acked = [];
    const job = up1.upload(file, { encrypted, onPart: (n) => { acked.push(n); if (acked.length === 2) job.stop(); } });
    const err = await job.done.then(() => null, (e) => e);
    ok(err instanceof UploadError && err.kind === 'stopped', `${label}: the first run stops after two parts`,
       err?.message);
    const rec = up1.saved(file, encrypted);
    ok(rec && rec.token && rec.part_count === 4 && rec.transfer_id && rec.name === file.name
       && rec.size === file.size && rec.lastModified === file.lastModified && rec.part_size === 10 * MiB,
       `${label}: the store keeps name, size, lastModified, token, part_size, part_count, transfer_id`);

    const f2 = recorder();
    const up2 = createUploader({ endpoint: GUEST, fetch: f2, store, subtle, concurrency: 2 });
    const res = await up2.upload(file, { encrypted }).done;
    is(f2.of('initiate').length, 0, `${label}: no new initiate`);
    is(f2.of('parts').length, 1, `${label}: asks once which parts arrived`);
    const sent = sorted(f2.of(encrypted ? 'upload-part' : 's3-put').map((e) => e.part));
    ok(acked.every((n) => !sent.includes(n)), `${label}: no part acknowledged before is sent again`,
       { acked, sent });
    ok(res.resumedParts >= 2 && sent.length >= 1 && sent.length === 4 - res.resumedParts
       && same(sorted([...sent, ...range(4).filter((n) => !sent.includes(n))]), range(4))
       && same(sorted(res.sentParts), sent),
       `${label}: only the missing parts are sent (${sent.join(', ')}; ${res.resumedParts} were there)`,
       { sent, resumed: res.resumedParts });
    ok(/\/download\//.test(res.download_url ?? '') && res.transfer_id === rec.transfer_id,
       `${label}: completes in its transfer with a share link`);
    is(store.keys().length, 0, `${label}: the stored state is gone after completing`);
    results[encrypted ? 'resume_enc' : 'resume_plain'] = { file_id: res.file_id, sha256: sha256(bytes) };
  });
}

// --- Cancel ----------------------------------------------------------------------------
await section('cancel', async () => {
  const bytes = randomBytes(25 * MiB);
  const file = fileOf(bytes, 'cancel.bin');
  const store = memoryStore();
  const f = recorder();
  // One part at a time: nothing is in flight when the abort reaches S3 (a
  // part still streaming into an aborted upload is S3's race, not ours).
  const up = createUploader({ endpoint: GUEST, fetch: f, store, subtle, concurrency: 1 });
  let fileId = null;
  let cancelling = null;
  const job = up.upload(file, { encrypted: true, onStart: (r) => { fileId = r.file_id; },
                                onPart: () => { cancelling ??= job.cancel(); } });
  const err = await job.done.then(() => null, (e) => e);
  const outcome = await cancelling;
  ok(err && err.kind === 'cancelled', 'cancel: the upload stops as cancelled', err?.message);
  is(outcome, 'aborted', 'cancel: aborted on the server');
  const aborts = f.of('abort');
  ok(aborts.length === 1 && aborts[0].status === 204 && JSON.parse(aborts[0].body).token === job.token,
     'cancel: one POST abort with the token, 204');
  is(store.keys().length, 0, 'cancel: the resume record is forgotten');
  is((await api('POST', `${GUEST}/abort`, { token: job.token })).status, 409, 'cancel: a second abort is 409');
  is((await api('POST', `${GUEST}/encrypted/complete`, { token: job.token })).status, 409,
     'cancel: complete after it is 409');
  results.cancelled = fileId;
});

// --- Errors, retries and back-off (faults injected into the fetch) -----------------------
await section('too large', async () => {
  const f = recorder();
  const up = createUploader({ endpoint: GUEST, fetch: f, store: memoryStore(), subtle });
  const huge = { name: 'huge.bin', size: 2 * 1024 * MiB, type: '', lastModified: 1,
                 slice() { throw new Error('must not be read'); } };
  const err = await up.upload(huge, { encrypted: true }).done.then(() => null, (e) => e);
  ok(err?.kind === 'too-large' && err.status === 413, 'over the guest size limit: too-large (413)', err?.message);
  ok(/up to/.test(err?.message ?? ''), 'the message carries the server\'s limit');
  is(f.log.length, 1, 'no retry, nothing read');
});

await section('folder', async () => {
  // folderId (the file manager's "Upload files here") goes to initiate as
  // folder_id; without it, none is sent.  A guest's is refused (400), which
  // is the answer this run waits for.
  const seen = [];
  const spy = async (url, init = {}) => {
    if (/initiate$/.test(new URL(url).pathname))
      seen.push(JSON.parse(init.body ?? '{}'));
    return fetch(url, init);
  };
  const id = '00000000-0000-0000-0000-0000000000f0';
  const up = createUploader({ endpoint: GUEST, fetch: spy, store: memoryStore(), subtle, folderId: id });
  const err = await up.upload(fileOf(randomBytes(10), 'f.txt'), { encrypted: true }).done.then(() => null, (e) => e);
  is(seen[0]?.folder_id, id, 'folderId is sent as folder_id');
  ok(err && err.status === 400, 'a guest naming a folder is refused: 400', err?.message);
  const plain = createUploader({ endpoint: GUEST, fetch: spy, store: memoryStore(), subtle });
  await plain.upload(fileOf(randomBytes(10), 'g.txt'), { encrypted: true }).done.catch(() => null);
  ok(seen[1] && !('folder_id' in seen[1]), 'without folderId, no folder_id');
});

await section('retries', async () => {
  const bytes = randomBytes(12 * MiB);                 // 2 parts
  const delays = [];
  const f = recorder((e, attempt) => {
    if (e.kind === 'upload-part' && e.part === 1 && attempt === 1)
      throw new TypeError('fetch failed (injected)');
    if (e.kind === 'upload-part' && e.part === 2 && attempt === 1)
      return new Response('{"title":"busy"}', { status: 503, headers: { 'Retry-After': '2' } });
    return undefined;
  });
  const up = createUploader({ endpoint: GUEST, fetch: f, store: memoryStore(), subtle, backoffBase: 100,
                              sleep: async (ms) => { delays.push(ms); } });
  const res = await up.upload(fileOf(bytes, 'retry.bin'), { encrypted: true }).done;
  ok(/\/download\//.test(res.download_url ?? ''), 'encrypted: completes despite a network error and a 503');
  is(f.of('upload-part').map((e) => `${e.part}:${e.status}`).sort(), ['1:200', '1:error', '2:200', '2:503'],
     'each failed part is tried again once');
  ok(delays.length === 2 && delays.some((d) => d >= 2000 && d < 3100) && delays.some((d) => d < 100),
     `back-off: Retry-After waited out (2 s + jitter), a network error jittered below 100 ms (${delays.map(Math.round)})`);
  results.retried = { file_id: res.file_id, sha256: sha256(bytes) };

  // Plain: S3 answering 500 once; the retry asks for a fresh URL.
  const g = recorder((e, attempt) => (e.kind === 's3-put' && e.part === 2 && attempt === 1
    ? new Response('<Error><Code>InternalError</Code></Error>', { status: 500 }) : undefined));
  const up2 = createUploader({ endpoint: GUEST, fetch: g, store: memoryStore(), sleep: async () => {} });
  const res2 = await up2.upload(fileOf(bytes, 'retry-plain.bin'), { encrypted: false }).done;
  ok(/\/download\//.test(res2.download_url ?? ''), 'plain: completes after S3 answered 500 once');
  is(g.of('presign').filter((e) => e.part === 2).length, 2, 'plain: the retry got a fresh presigned URL');
  results.retried_plain = { file_id: res2.file_id, sha256: sha256(bytes) };
});

await section('rate limit', async () => {
  const f = recorder((e) => (e.kind === 'initiate'
    ? new Response(JSON.stringify({ type: 'urn:lenz:problem:rate-limited', title: 'Too many requests',
                                    status: 429, detail: 'limit reached' }),
                   { status: 429, headers: { 'Retry-After': '3600', 'Content-Type': 'application/problem+json' } })
    : undefined));
  const delays = [];
  const up = createUploader({ endpoint: GUEST, fetch: f, store: memoryStore(), sleep: async (ms) => { delays.push(ms); } });
  const err = await up.upload(fileOf(randomBytes(10), 'r.bin'), {}).done.then(() => null, (e) => e);
  ok(err?.kind === 'rate-limited' && err.retryAfter === 3600000, 'a 429 with a long Retry-After: rate-limited, retryAfter kept',
     err?.message);
  ok(f.log.length === 1 && delays.length === 0, '... reported at once, not waited for');
});

await section('network down', async () => {
  const bytes = randomBytes(3 * MiB);
  const store = memoryStore();
  const f = recorder((e) => {
    if (e.kind === 'upload-part')
      throw new TypeError('fetch failed (injected)');
    return undefined;
  });
  const up = createUploader({ endpoint: GUEST, fetch: f, store, subtle, retries: 2, sleep: async () => {} });
  const file = fileOf(bytes, 'offline.bin');
  const err = await up.upload(file, { encrypted: true }).done.then(() => null, (e) => e);
  ok(err?.kind === 'network', 'a network that stays down: network error', err?.message);
  is(f.of('upload-part').length, 3, '... after 1 + 2 retries');
  ok(up.saved(file, true), '... and the upload can resume later');
  ok(await up.discard(file, true) && !up.saved(file, true), 'discard forgets it (and aborts it on the server)');
});

// --- A member, signed in with a session (the page's case) ---------------------------------
await section('member', async () => {
  const cookie = process.env.LENZ_MEMBER_COOKIE;
  const csrf = process.env.LENZ_MEMBER_CSRF;
  if (!ok(cookie && csrf, 'member: session cookie and CSRF token given'))
    return;
  const bytes = randomBytes(12 * MiB);
  const endpoint = `${BASE}/upload/member`;
  const up = createUploader({ endpoint, store: memoryStore(), subtle,
                              headers: { Cookie: cookie, 'X-CSRF-Token': csrf } });
  const res = await up.upload(fileOf(bytes, 'member.bin'), { encrypted: true }).done;
  ok(/\/download\//.test(res.download_url ?? ''), 'member: upload through /upload/member with the CSRF header');
  results.member = { file_id: res.file_id, sha256: sha256(bytes) };
  const bad = createUploader({ endpoint, store: memoryStore(), subtle, headers: { Cookie: cookie } });
  const err = await bad.upload(fileOf(bytes, 'member.bin'), { encrypted: true }).done.then(() => null, (e) => e);
  ok(err?.kind === 'auth' && err.status === 403, 'member: without the CSRF token: auth error (403)', err?.message);
});

if (process.env.LENZ_RESULTS)
  writeFileSync(process.env.LENZ_RESULTS, JSON.stringify(results, null, 1));
stopWatchdog();
plan();
