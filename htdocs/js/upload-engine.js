// upload-engine.js - the transfer logic behind the upload page, with no DOM
// access: it takes File/Blob-like objects (size, name, type, lastModified,
// slice()) and a fetch function, so the same code runs in a browser and in
// Node (t/js/upload_engine.test.mjs drives it against the real server).
//
// The routes are the seed's (docs in issue 6), relative to an endpoint such
// as /upload/guest, /upload/member or /api/v1/uploads:
//   plain:     POST initiate -> GET presigned-url?token&part -> PUT the part
//              straight to S3 (ETag from the answer) -> POST complete
//   encrypted: POST encrypted/initiate -> POST encrypted/upload-part?token&part
//              (the part's bytes, X-Part-SHA256) -> POST encrypted/complete
//   both:      GET parts?token (what arrived, for resuming), POST abort
//
// Decisions:
// - Parts: up to `concurrency` (4) in flight per file; files of a batch go
//   one after another, so the first initiate's transfer_id is known before
//   the next file starts and every file joins one transfer (one link).
// - Transport: a fetch-like function.  fetch cannot report upload progress,
//   so progress advances when a part finishes, unless the transport calls
//   init.onUploadProgress(loadedBytes) - the page passes an XMLHttpRequest
//   adapter as `partFetch` for the part bodies (upload.onprogress), Node
//   uses plain fetch.
// - Retries: network errors, 408, 429 and 5xx are retried up to `retries`
//   times with exponential backoff and full jitter (a random wait below
//   min(backoffMax, backoffBase * 2^attempt)); a Retry-After is waited out
//   (plus a little jitter) unless it is longer than maxRetryAfter, then the
//   error is reported with it.  Other 4xx answers are final.  A plain part
//   asks for a fresh presigned URL on every attempt, so no retry ever uses
//   an expired URL.
// - Resume: {name, size, lastModified, token, part_size, part_count,
//   transfer_id, ...} is kept in `store` (localStorage in the page) from
//   initiate until complete or cancel; when the same file (name, size,
//   lastModified, endpoint, mode) is uploaded again, GET parts says which
//   parts arrived and only the rest is sent.
// - Integrity: when crypto.subtle is there and the part is at most
//   digestLimit bytes (the part must then be read into memory to hash it),
//   encrypted parts carry X-Part-SHA256 (httpd checks it) and plain parts
//   go to a URL bound to their SHA-256 (S3 checks it; complete reports it);
//   larger parts are streamed from the Blob unhashed.

const MiB = 1024 * 1024;

export const DEFAULTS = Object.freeze({
  concurrency: 4,
  retries: 6,
  backoffBase: 500,
  backoffMax: 30000,
  maxRetryAfter: 120000,
  digestLimit: 64 * MiB,
});

// Answers worth another try: the server or the network said "not now".
const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);
// Initiate creates a file: only retried where the server says it did not.
const RETRYABLE_INITIATE = new Set([408, 429, 502, 503, 504]);
const PROBLEM = 'urn:lenz:problem:';

// kind: too-large | quota-exceeded | too-many-files | rate-limited | network |
// server | auth | policy | expired | refused | storage | stopped | cancelled
export class UploadError extends Error {
  constructor(kind, message, { status = 0, retryAfter = null, problem = null, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'UploadError';
    this.kind = kind;
    this.status = status;
    this.retryAfter = retryAfter;    // milliseconds, when the server said
    this.problem = problem;          // the problem+json document, if any
  }
}

// A file name the server accepts: no path separators, control characters
// or bidirectional text controls (which can disguise an extension),
// 1-255 UTF-8 bytes (the extension kept when shortening).
export function safeName(name) {
  let s = String(name ?? '').replace(/[\u0000-\u001f\u007f/\\\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, '_');
  if (s === '' || s === '.' || s === '..')
    s = s.replace(/\./g, '_') || 'file';
  const enc = new TextEncoder();
  if (enc.encode(s).length <= 255)
    return s;
  const dot = s.lastIndexOf('.');
  const ext = dot > 0 && s.length - dot <= 16 ? s.slice(dot) : '';
  let budget = 255 - enc.encode(ext).length;
  let stem = '';
  for (const ch of s.slice(0, s.length - ext.length)) {
    budget -= enc.encode(ch).length;
    if (budget < 0)
      break;
    stem += ch;
  }
  return stem + ext;
}

// A media type the server accepts, or null (then it stores octet-stream).
export function safeType(type) {
  return typeof type === 'string' && type.length <= 127
    && /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+$/.test(type) ? type : null;
}

// Milliseconds to wait from a Retry-After header (seconds or a date).
export function parseRetryAfter(value, now = Date.now()) {
  if (value == null || value === '')
    return null;
  if (/^\s*\d+\s*$/.test(value))
    return parseInt(value, 10) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

function hex(buf) {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
}

// A Blob's bytes: arrayBuffer() where there is one, else FileReader (older
// browsers, jsdom), else null (the part is then sent without a digest).
function bytesOf(blob) {
  if (typeof blob.arrayBuffer === 'function')
    return blob.arrayBuffer();
  if (typeof globalThis.FileReader !== 'function')
    return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const r = new globalThis.FileReader();
    r.onload = () => resolve(r.result);
    r.onerror = () => reject(r.error);
    r.readAsArrayBuffer(blob);
  });
}

function defaultSleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted)
      return reject(signal.reason);
    const onAbort = () => { clearTimeout(timer); reject(signal.reason); };
    const timer = setTimeout(() => { signal?.removeEventListener('abort', onAbort); resolve(); }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

// Reads an answer once: status, headers and the body (parsed when JSON).
async function settle(res) {
  let text = '';
  try {
    text = await res.text();
  } catch {
    text = '';
  }
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  return { ok: res.ok, status: res.status, headers: res.headers, data, text };
}

function errorFrom(a, what, now) {
  const problem = a.data && typeof a.data === 'object' ? a.data : null;
  const slug = typeof problem?.type === 'string' && problem.type.startsWith(PROBLEM)
    ? problem.type.slice(PROBLEM.length) : '';
  const detail = problem?.detail || problem?.title || `the server answered ${a.status}`;
  const retryAfter = parseRetryAfter(a.headers?.get('Retry-After'), now);
  let kind;
  if (slug === 'quota-exceeded')
    kind = 'quota-exceeded';
  else if (a.status === 413 || slug === 'too-large')
    kind = 'too-large';
  else if (a.status === 429 || slug === 'rate-limited')
    kind = 'rate-limited';
  else if (slug === 'too-many-files')
    kind = 'too-many-files';
  else if (a.status === 401 || ['csrf', 'auth-required', 'cross-site', 'forbidden'].includes(slug))
    kind = 'auth';
  else if (slug === 'upload-policy' || slug === 'guest-uploads-off')
    kind = 'policy';
  else if (a.status === 410 || ['upload-expired', 'upload-gone', 'invalid-upload-token'].includes(slug))
    kind = 'expired';
  else if (a.status >= 500)
    kind = 'server';
  else
    kind = 'refused';
  return new UploadError(kind, `${what}: ${detail}`, { status: a.status, retryAfter, problem });
}

// A Map-like store for resume records; the page wraps localStorage.
export function memoryStore() {
  const m = new Map();
  return {
    get: (k) => (m.has(k) ? JSON.parse(m.get(k)) : null),
    set: (k, v) => { m.set(k, JSON.stringify(v)); },
    delete: (k) => { m.delete(k); },
    keys: () => Array.from(m.keys()),
  };
}

const KEY_PREFIX = 'lenz-upload|';

export function createUploader(options = {}) {
  const o = { ...DEFAULTS, ...options };
  if (!o.endpoint)
    throw new TypeError('createUploader: endpoint is required');
  const endpoint = String(o.endpoint).replace(/\/+$/, '');
  const doFetch = o.fetch ?? globalThis.fetch.bind(globalThis);
  const partFetch = o.partFetch ?? doFetch;
  const store = o.store ?? null;
  const subtle = o.subtle === undefined ? globalThis.crypto?.subtle : o.subtle;
  const digests = new Map();      // "token:part" -> SHA-256 hex a plain part's URL was bound to
  const random = o.random ?? Math.random;
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? defaultSleep;
  const headers = { ...(o.headers ?? {}) };    // to our server only, never to S3
  const concurrency = Math.max(1, Math.min(8, o.concurrency | 0 || 1));

  const keyOf = (file, encrypted) =>
    KEY_PREFIX + [endpoint, encrypted ? 'enc' : 'plain', file.name, file.size,
                  file.lastModified ?? 0].join('|');
  const partLen = (rec, n) => (n < rec.part_count ? rec.part_size
                                                  : rec.size - rec.part_size * (rec.part_count - 1));

  function stopped(signal) {
    return signal?.reason instanceof UploadError ? signal.reason
      : new UploadError('stopped', 'the upload was stopped');
  }

  // One logical request with retries; attempt(n) makes one try and
  // returns a Response-like answer (or throws on a network error).
  async function withRetries(what, attempt, { signal, retryable = RETRYABLE, onRetry } = {}) {
    for (let n = 0; ; n++) {
      if (signal?.aborted)
        throw stopped(signal);
      let res = null;
      let netErr = null;
      try {
        res = await attempt(n);
      } catch (e) {
        if (signal?.aborted)
          throw stopped(signal);
        if (e instanceof UploadError)
          throw e;
        netErr = e;
      }
      if (res && !retryable.has(res.status))
        return res;
      const ra = res ? parseRetryAfter(res.headers?.get('Retry-After'), now()) : null;
      if (n >= o.retries || (ra !== null && ra > o.maxRetryAfter)) {
        if (res)
          return res;
        throw new UploadError('network', `${what}: the connection failed (${netErr?.message ?? netErr})`,
                              { cause: netErr });
      }
      if (res) {
        try { await res.text(); } catch { /* the body is of no use */ }
      }
      const cap = Math.min(o.backoffMax, o.backoffBase * 2 ** n);
      const delay = ra !== null ? ra + random() * Math.min(cap, 1000) : random() * cap;
      o.onRetry?.({ what, attempt: n + 1, delay, status: res?.status ?? 0, error: netErr });
      onRetry?.();
      await sleep(delay, signal);
    }
  }

  function request(what, path, init, opts = {}) {
    return withRetries(what, () => doFetch(endpoint + path, {
      ...init,
      headers: { Accept: 'application/json', ...headers, ...(init.headers ?? {}) },
      signal: opts.signal,
    }), opts);
  }

  function postJson(what, path, body, opts = {}) {
    return request(what, path, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    }, opts);
  }

  function saved(file, encrypted) {
    if (!store)
      return null;
    const key = keyOf(file, encrypted);
    const rec = store.get(key);
    if (!rec)
      return null;
    if (rec.size !== file.size || !(rec.expires > now() + 60000)) {
      store.delete(key);
      return null;
    }
    return rec;
  }

  // Resume records for this endpoint (for "interrupted uploads" lists);
  // expired ones are dropped.
  function pending() {
    if (!store?.keys)
      return [];
    const out = [];
    for (const k of store.keys()) {
      if (!k.startsWith(`${KEY_PREFIX}${endpoint}|`))
        continue;
      const rec = store.get(k);
      if (!rec || !(rec.expires > now() + 60000))
        store.delete(k);
      else
        out.push(rec);
    }
    return out;
  }

  async function abortOnServer(token) {
    const a = await settle(await postJson('Cancelling the upload', '/abort', { token }));
    if (a.status === 204 || a.status === 200)
      return 'aborted';
    if (a.status === 409 || a.status === 410)
      return 'finished';
    throw errorFrom(a, 'Cancelling the upload', now());
  }

  // Forgets an interrupted upload of this file and tells the server.
  async function discard(file, encrypted) {
    const rec = saved(file, encrypted);
    if (!rec)
      return false;
    store.delete(keyOf(file, encrypted));
    try {
      await abortOnServer(rec.token);
    } catch (e) {
      if (e.kind !== 'expired' && e.kind !== 'refused')
        throw e;
    }
    return true;
  }

  async function initiate(file, encrypted, transferId, signal, folderId) {
    const what = 'Starting the upload';
    const body = { filename: safeName(file.name), size: file.size };
    const ct = safeType(file.type);
    if (ct)
      body.content_type = ct;
    if (transferId)
      body.transfer_id = transferId;
    if (folderId ?? o.folderId)
      body.folder_id = folderId ?? o.folderId;  // a member's folder (issue 16): the root when absent
    if (typeof o.extra === 'function')
      Object.assign(body, o.extra(file));     // e.g. a file request's uploader_name and message
    const path = encrypted ? '/encrypted/initiate' : '/initiate';
    const opts = { signal, retryable: RETRYABLE_INITIATE };
    let a = await settle(await postJson(what, path, body, opts));
    if (a.status === 404 && transferId && a.data?.type === `${PROBLEM}no-transfer`) {
      // The batch's transfer is closed or too old to join: a new one.
      delete body.transfer_id;
      a = await settle(await postJson(what, path, body, opts));
    }
    if (a.status !== 201 || !a.data?.token)
      throw errorFrom(a, what, now());
    return a.data;
  }

  // Sends part n; returns its ETag.  onUp(bytes) reports upload progress.
  async function sendPart(file, rec, n, onUp, signal) {
    const start = (n - 1) * rec.part_size;
    const len = partLen(rec, n);
    const blob = file.slice(start, start + len);
    const what = `Part ${n} of ${rec.part_count}`;
    if (rec.encrypted) {
      const h = { ...headers, Accept: 'application/json', 'Content-Type': 'application/octet-stream' };
      let body = blob;
      if (subtle && len <= o.digestLimit) {
        const bytes = await bytesOf(blob);
        if (bytes) {
          body = bytes;
          h['X-Part-SHA256'] = hex(await subtle.digest('SHA-256', bytes));
        }
      }
      const url = `${endpoint}/encrypted/upload-part?token=${encodeURIComponent(rec.token)}&part=${n}`;
      const res = await withRetries(what, () => {
        onUp(0);
        return partFetch(url, { method: 'POST', headers: h, body, signal, onUploadProgress: onUp });
      }, { signal });
      const a = await settle(res);
      if (a.status !== 200)
        throw errorFrom(a, what, now());
      return a.data?.etag ?? '';
    }
    // Plain: a fresh presigned URL for every attempt, then the PUT to S3.
    // With the part's SHA-256 the URL is bound to it and S3 refuses other
    // bytes (the x-amz-content-sha256 header it then needs is sent).
    let presign = `${endpoint}/presigned-url?token=${encodeURIComponent(rec.token)}&part=${n}`;
    let body = blob;
    let sha256;
    if (subtle && len <= o.digestLimit) {
      const bytes = await bytesOf(blob);
      if (bytes) {
        body = bytes;
        sha256 = hex(await subtle.digest('SHA-256', bytes));
        presign += `&sha256=${sha256}`;
      }
    }
    let fromS3 = false;
    const res = await withRetries(what, async () => {
      onUp(0);
      fromS3 = false;
      const p = await doFetch(presign, { headers: { Accept: 'application/json', ...headers }, signal });
      if (p.status !== 200)
        return p;
      const j = await settle(p);
      if (!j.data?.url)
        throw new UploadError('server', `${what}: the server gave no part URL`);
      fromS3 = true;
      // No cookies, CSRF or bearer tokens go to the storage service.
      return partFetch(j.data.url, { method: j.data.method || 'PUT', body, signal,
                                     headers: j.data.headers || {}, onUploadProgress: onUp });
    }, { signal });
    if (!fromS3)
      throw errorFrom(await settle(res), what, now());
    const etag = res.headers.get('ETag');
    await settle(res);
    if (!res.ok)
      throw new UploadError(res.status >= 500 ? 'server' : 'storage',
                            `${what}: the storage service refused the part (${res.status})`,
                            { status: res.status });
    if (!etag)
      throw new UploadError('storage', `${what}: the storage service sent no ETag `
                            + '(its CORS rule must expose the ETag header)');
    if (sha256)
      digests.set(`${rec.token}:${n}`, sha256);
    return etag;
  }

  async function run(file, opts, key, ctl, state) {
    const signal = ctl.signal;
    const encrypted = !!opts.encrypted;
    const total = file.size;
    let rec = saved(file, encrypted);
    const received = new Map();           // part -> etag
    if (rec) {
      opts.onStatus?.('resuming');
      const a = await settle(await request('Asking which parts arrived',
                                           `/parts?token=${encodeURIComponent(rec.token)}`, {},
                                           { signal }));
      if (a.status === 200) {
        for (const p of a.data?.parts ?? []) {
          if (p.part >= 1 && p.part <= rec.part_count && p.size === partLen(rec, p.part))
            received.set(p.part, p.etag);
        }
      }
      else if (a.status >= 400 && a.status < 500 && a.status !== 429 && a.status !== 408) {
        // Completed, aborted, expired or not ours any more: start again.
        store.delete(key);
        rec = null;
      }
      else {
        throw errorFrom(a, 'Asking which parts arrived', now());
      }
    }
    if (!rec) {
      opts.onStatus?.('starting');
      const init = await initiate(file, encrypted, opts.transferId, signal, opts.folderId);
      rec = {
        name: file.name, size: file.size, lastModified: file.lastModified ?? 0, encrypted,
        endpoint, token: init.token, part_size: init.part_size, part_count: init.part_count,
        transfer_id: init.transfer_id ?? null, file_id: init.file_id ?? null,
        expires: Date.parse(init.expires_at) || now() + 23 * 3600 * 1000,
      };
      store?.set(key, rec);
    }
    state.token = rec.token;
    opts.onStart?.({ ...rec, resumedParts: received.size });

    const todo = [];
    for (let n = 1; n <= rec.part_count; n++)
      if (!received.has(n))
        todo.push(n);
    const etags = new Map(received);
    const inflight = new Map();
    let doneBytes = 0;
    for (const n of received.keys())
      doneBytes += partLen(rec, n);
    const report = () => {
      let l = doneBytes;
      for (const v of inflight.values())
        l += v;
      opts.onProgress?.(Math.min(l, total), total);
    };
    report();

    opts.onStatus?.('uploading');
    let next = 0;
    let failure = null;
    const worker = async () => {
      while (!failure && next < todo.length) {
        const n = todo[next++];
        const len = partLen(rec, n);
        try {
          inflight.set(n, 0);
          const etag = await sendPart(file, rec, n, (b) => {
            inflight.set(n, Math.max(0, Math.min(len, b)));
            report();
          }, signal);
          inflight.delete(n);
          etags.set(n, etag);
          doneBytes += len;
          state.sent.push(n);
          report();
          opts.onPart?.(n, rec.part_count);
        } catch (e) {
          inflight.delete(n);
          // Parts already under way may finish (they count on resume);
          // no new part starts.
          failure ??= e;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, todo.length) }, worker));
    if (signal.aborted)
      throw stopped(signal);
    if (failure)
      throw failure;

    opts.onStatus?.('completing');
    const what = 'Finishing the upload';
    const body = { token: rec.token };
    if (!rec.encrypted)
      body.parts = Array.from(etags, ([part, etag]) => {
        const sha256 = digests.get(`${rec.token}:${part}`);
        return sha256 ? { part, etag, sha256 } : { part, etag };
      }).sort((x, y) => x.part - y.part);
    const a = await settle(await postJson(what, rec.encrypted ? '/encrypted/complete' : '/complete', body,
                                          { signal }));
    if (a.status !== 201)
      throw errorFrom(a, what, now());
    store?.delete(key);
    for (const part of etags.keys())
      digests.delete(`${rec.token}:${part}`);
    return {
      ...a.data, name: file.name, size: file.size, encrypted: rec.encrypted,
      transfer_id: a.data.transfer_id ?? rec.transfer_id,
      resumedParts: received.size, sentParts: state.sent.slice(),
    };
  }

  // Starts one file.  Returns a job: done (a promise of the complete
  // answer plus name, size, resumedParts, sentParts), stop() (keeps the
  // resume record) and cancel() (aborts on the server and forgets).
  function upload(file, opts = {}) {
    const key = keyOf(file, !!opts.encrypted);
    const ctl = new AbortController();
    const state = { token: null, sent: [] };
    let finished = false;
    const done = run(file, opts, key, ctl, state).finally(() => { finished = true; });
    done.catch(() => {});
    return {
      done,
      get token() { return state.token; },
      stop() {
        if (!finished)
          ctl.abort(new UploadError('stopped', 'the upload was stopped; it can resume later'));
      },
      // Resolves to 'aborted', 'finished' (it completed first) or 'none'
      // (nothing had been started on the server yet).
      async cancel() {
        if (!finished)
          ctl.abort(new UploadError('cancelled', 'the upload was cancelled'));
        let completed = false;
        try {
          await done;
          completed = true;
        } catch {
          /* stopped as asked */
        }
        if (completed)
          return 'finished';
        store?.delete(key);
        return state.token ? abortOnServer(state.token) : 'none';
      },
    };
  }

  return { endpoint, upload, saved, pending, discard, keyOf };
}

// Kinds after which the rest of a batch would fail the same way.
const BATCH_FATAL = new Set(['network', 'server', 'rate-limited', 'auth', 'policy']);

// Several files as one transfer, one file after another.  Entries:
// { id, file, encrypted, state: queued|running|done|failed|stopped|cancelled,
//   loaded, total, resumable, result, error }.
export class Batch {
  constructor(uploader, { transferId = null } = {}) {
    this.uploader = uploader;
    this.entries = [];
    this.transferId = transferId;
    this.running = false;
    this.halted = false;
    this.current = null;
    this.seq = 0;
  }

  // folderId: where a member's file goes (the uploader's, when absent).
  add(file, { encrypted = false, folderId } = {}) {
    const rec = this.uploader.saved(file, encrypted);
    const e = { id: ++this.seq, file, encrypted, folderId, state: 'queued', loaded: 0, total: file.size,
                resumable: !!rec, result: null, error: null, job: null };
    if (rec && !this.transferId)
      this.transferId = rec.transfer_id;
    this.entries.push(e);
    return e;
  }

  // Entries that count towards a transfer's file limit.
  live() {
    return this.entries.filter((e) => e.state !== 'cancelled');
  }

  // Distinct share links with the names of their files.
  links() {
    const m = new Map();
    for (const e of this.entries) {
      if (e.state === 'done' && e.result?.download_url) {
        if (!m.has(e.result.download_url))
          m.set(e.result.download_url, []);
        m.get(e.result.download_url).push(e.file.name);
      }
    }
    return Array.from(m, ([url, names]) => ({ url, names }));
  }

  async run(hooks = {}) {
    if (this.running)
      return;
    this.running = true;
    this.halted = false;
    for (const e of this.entries)
      if (e.state === 'failed' || e.state === 'stopped')
        e.state = 'queued';
    try {
      for (const e of this.entries) {
        if (this.halted)
          break;
        if (e.state !== 'queued')
          continue;
        e.state = 'running';
        e.error = null;
        this.current = e;
        hooks.onStart?.(e);
        e.job = this.uploader.upload(e.file, {
          encrypted: e.encrypted,
          folderId: e.folderId,
          transferId: this.transferId,
          onStart: (rec) => {
            e.resumedParts = rec.resumedParts;
            if (rec.transfer_id && rec.transfer_id !== this.transferId)
              this.transferId = rec.transfer_id;
            hooks.onStatus?.(e, rec.resumedParts ? 'resumed' : 'started');
          },
          onStatus: (s) => hooks.onStatus?.(e, s),
          onProgress: (l, t) => { e.loaded = l; e.total = t; hooks.onProgress?.(e); },
          onPart: (n, count) => hooks.onPart?.(e, n, count),
        });
        try {
          e.result = await e.job.done;
          e.state = 'done';
          e.loaded = e.total;
          this.transferId = e.result.transfer_id ?? this.transferId;
          hooks.onDone?.(e);
        } catch (err) {
          e.error = err;
          e.state = err.kind === 'cancelled' ? 'cancelled' : err.kind === 'stopped' ? 'stopped' : 'failed';
          if (e.state !== 'cancelled')
            hooks.onError?.(e, err);
          if (BATCH_FATAL.has(err.kind) || err.kind === 'stopped')
            this.halted = true;
        } finally {
          e.job = null;
          this.current = null;
        }
      }
    } finally {
      this.running = false;
    }
    hooks.onEnd?.(this);
  }

  // Cancels one entry: a running one is stopped and aborted on the server,
  // a queued one that had an interrupted upload is discarded.
  async cancel(e) {
    if (e.state === 'running' && e.job) {
      e.state = 'cancelled';
      return e.job.cancel();
    }
    if (e.state === 'queued' || e.state === 'failed' || e.state === 'stopped') {
      e.state = 'cancelled';
      return e.resumable ? this.uploader.discard(e.file, e.encrypted) : 'none';
    }
    return 'none';
  }

  async cancelAll() {
    this.halted = true;
    const out = [];
    for (const e of this.entries)
      if (e.state !== 'done' && e.state !== 'cancelled')
        out.push(this.cancel(e));
    return Promise.allSettled(out);
  }

  // Stops the running file (it can resume) and the rest of the batch.
  stop() {
    this.halted = true;
    this.current?.job?.stop();
  }
}
