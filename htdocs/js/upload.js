// upload.js - the upload page (templates/upload.mustache): choosing and
// dropping files, the queue with a progress bar per file and in total,
// status messages, cancel, resume notices and the share link.  The transfer
// logic is upload-engine.js (no DOM there); this file is only the page.
import { Batch, createUploader } from './upload-engine.js';

// Part bodies go through XMLHttpRequest: unlike fetch it reports upload
// progress (xhr.upload.onprogress), so the bars move while a 10 MiB part is
// on its way instead of jumping when it finishes.  Everything else uses
// fetch.  The adapter answers with the few Response members the engine uses.
function xhrFetch(url, init = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const signal = init.signal;
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    // abort() on a request not yet sent fires no event: settle here too.
    const onAbort = () => {
      xhr.abort();
      cleanup();
      reject(signal.reason);
    };
    const cleanup = () => signal?.removeEventListener('abort', onAbort);
    xhr.open(init.method || 'GET', url);
    for (const [k, v] of Object.entries(init.headers || {}))
      xhr.setRequestHeader(k, v);
    if (init.onUploadProgress)
      xhr.upload.onprogress = (e) => init.onUploadProgress(e.loaded);
    xhr.onload = () => {
      cleanup();
      const headers = new Headers();
      for (const line of xhr.getAllResponseHeaders().split(/\r?\n/)) {
        const i = line.indexOf(':');
        if (i > 0) {
          try {
            headers.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
          } catch {
            /* a header name Headers refuses: not one we need */
          }
        }
      }
      const text = xhr.responseText;
      resolve({ ok: xhr.status >= 200 && xhr.status < 300, status: xhr.status, headers,
                text: async () => text });
    };
    xhr.onerror = () => { cleanup(); reject(new TypeError('network error')); };
    xhr.ontimeout = xhr.onerror;
    xhr.onabort = () => { cleanup(); reject(signal?.reason ?? new DOMException('aborted', 'AbortError')); };
    signal?.addEventListener('abort', onAbort, { once: true });
    xhr.send(init.body ?? null);
  });
}

// Resume records in localStorage; a browser that refuses storage (private
// mode, full) just cannot resume after a reload.
const localStore = {
  get(k) {
    try {
      const v = localStorage.getItem(k);
      return v ? JSON.parse(v) : null;
    } catch {
      return null;
    }
  },
  set(k, v) {
    try { localStorage.setItem(k, JSON.stringify(v)); } catch { /* no resume then */ }
  },
  delete(k) {
    try { localStorage.removeItem(k); } catch { /* nothing to do */ }
  },
  keys() {
    try {
      return Array.from({ length: localStorage.length }, (_, i) => localStorage.key(i));
    } catch {
      return [];
    }
  },
};

export function formatSize(n) {
  const unit = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < unit.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0)
    return `${n} ${n === 1 ? 'byte' : 'bytes'}`;
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${unit[u]}`;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v == null)
      continue;
    if (k === 'class')
      e.className = v;
    else
      e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children)
    e.append(c);
  return e;
}

function start(form) {
  const $ = (id) => document.getElementById(id);
  const d = form.dataset;
  const maxSize = Number(d.maxSize) || 0;
  const maxFiles = Number(d.maxFiles) || 0;
  const perBatch = d.sizeScope === 'batch';
  const policy = d.policy;
  const input = $('files');
  const drop = $('dropzone');
  const encrypt = $('encrypt');
  const queue = $('queue');
  const startBtn = $('start');
  const cancelAll = $('cancel-all');
  const total = $('total');
  const totalText = $('total-text');
  const status = $('status');
  const errors = $('errors');
  const result = $('result');
  const links = $('links');

  // "Upload files here" from the file manager: /upload/?folder=<id>.
  const folder = new URLSearchParams(globalThis.location?.search ?? '').get('folder');
  // A file request's page (/upload/request/{token}): who sends, and a word.
  const request = d.mode === 'request';
  const senderName = $('uploader-name');
  const senderMessage = $('uploader-message');
  const uploader = createUploader({
    endpoint: d.endpoint,
    extra: request ? () => ({
      uploader_name: senderName?.value.trim() || undefined,
      message: senderMessage?.value.trim() || undefined,
    }) : undefined,
    folderId: /\/member\b/.test(d.endpoint) && /^[0-9a-f-]{36}$/i.test(folder ?? '') ? folder : undefined,
    headers: d.csrf ? { 'X-CSRF-Token': d.csrf } : {},
    store: localStore,
    partFetch: typeof XMLHttpRequest === 'function' ? xhrFetch : undefined,
  });
  let batch = new Batch(uploader);
  const items = new Map();        // entry id -> { li, bar, state, button }

  form.hidden = false;

  // Files above the site's threshold (data-plain-above) take the plain path
  // whatever the policy; the rest as the policy (or the visitor) says.
  const plainAbove = Number(d.plainAbove) || 0;
  const encrypted = (file) => (plainAbove && file && file.size > plainAbove ? false
    : policy === 'encrypted' ? true : policy === 'plain' ? false : !!encrypt?.checked);

  // Status messages: a polite live region for milestones (never for every
  // progress step), an alert region for errors.
  let lastSaid = '';
  function say(text) {
    status.textContent = text === lastSaid ? `${text}\u00a0` : text;
    lastSaid = status.textContent;
  }
  function complain(text) {
    errors.append(el('p', {}, text));
  }

  function describe(e, err) {
    const name = `“${e.file.name}”`;
    const mins = err.retryAfter ? Math.max(1, Math.ceil(err.retryAfter / 60000)) : 0;
    const detail = err.problem?.detail ? ` (${err.problem.detail})` : '';
    switch (err.kind) {
      case 'too-large':
        return `${name} is too large${maxSize && !perBatch ? `: files may be up to ${formatSize(maxSize)}` : detail}.`;
      case 'quota-exceeded':
        return `${name} does not fit in your storage${detail}. Delete some files or upload fewer.`;
      case 'too-many-files':
        return `${name} was not uploaded: one upload holds at most ${maxFiles || 'a limited number of'} files. `
          + 'Upload it separately.';
      case 'rate-limited':
        return `Too many uploads from your address for now. Try again${mins ? ` in about ${mins} minute${mins > 1 ? 's' : ''}` : ' later'}; `
          + `${name} will continue where it stopped.`;
      case 'network':
        return `The connection was lost while uploading ${name}. Check your network and press Upload again: `
          + 'it continues where it stopped.';
      case 'server':
        return `The server could not take ${name} just now. Press Upload to try again; the parts already sent are kept.`;
      case 'storage':
        return `The storage service refused ${name}: ${err.message}`;
      case 'auth':
        return 'Your session has ended or this page is out of date. Reload the page (signing in again if asked) '
          + `and choose ${name} again: it continues where it stopped.`;
      case 'policy':
        return `${name} cannot be uploaded this way${detail}.`;
      case 'expired':
        return `The upload of ${name} expired. Press Upload to start it again.`;
      default:
        return `${name} was refused${detail || `: ${err.message}`}.`;
    }
  }

  const stateText = {
    queued: (e) => (e.resumable ? 'Waiting; an earlier upload of this file will continue' : 'Waiting'),
    running: (e) => `Uploading: ${formatSize(e.loaded)} of ${formatSize(e.total)}`,
    done: () => 'Uploaded',
    failed: (e) => `Not uploaded: ${describe(e, e.error)}`,
    stopped: () => 'Paused; it continues when you press Upload',
    cancelled: () => 'Cancelled',
    rejected: (e) => `Not uploaded: ${e.reason}`,
  };

  // Progress bars are redrawn at most ten times a second.
  let timer = null;
  function schedule() {
    if (!timer)
      timer = setTimeout(() => { timer = null; render(); }, 100);
  }
  function render() {
    let loaded = 0;
    let size = 0;
    for (const e of batch.entries) {
      const it = items.get(e.id);
      if (!it)
        continue;
      it.li.dataset.state = e.state;
      it.bar.max = Math.max(1, e.total);
      it.bar.value = e.state === 'done' ? it.bar.max : Math.min(e.loaded, e.total);
      it.state.textContent = (stateText[e.state] ?? (() => e.state))(e);
      const removable = e.state === 'queued' || e.state === 'failed' || e.state === 'stopped'
        || e.state === 'rejected';
      const cancellable = e.state === 'running';
      it.button.hidden = !(removable || cancellable);
      it.button.textContent = cancellable ? 'Cancel' : 'Remove';
      it.button.setAttribute('aria-label', `${cancellable ? 'Cancel the upload of' : 'Remove'} ${e.file.name}`);
      if (e.state !== 'cancelled' && e.state !== 'rejected') {
        loaded += e.state === 'done' ? e.total : Math.min(e.loaded, e.total);
        size += e.total;
      }
    }
    total.max = Math.max(1, size);
    total.value = Math.min(loaded, size);
    totalText.textContent = size ? `${formatSize(loaded)} of ${formatSize(size)}` : '';
    const waiting = batch.entries.some((e) => ['queued', 'failed', 'stopped'].includes(e.state));
    startBtn.disabled = batch.running || !waiting;
    startBtn.textContent = batch.entries.some((e) => e.state === 'stopped' || e.state === 'failed')
      ? 'Continue upload' : 'Upload';
    cancelAll.disabled = !batch.running && !waiting;
    if (encrypt)
      encrypt.disabled = batch.running;
    $('queue-empty').hidden = batch.entries.length > 0;
  }

  function addItem(e) {
    const id = `file-${e.id}`;
    const bar = el('progress', { id: `${id}-bar`, max: Math.max(1, e.total), value: 0,
                                 'aria-describedby': `${id}-state` });
    const stateP = el('p', { id: `${id}-state`, class: 'item-state' });
    const button = el('button', { type: 'button', class: 'secondary item-cancel' }, 'Remove');
    const li = el('li', { class: 'item', id },
                  el('div', { class: 'item-head' },
                     el('label', { class: 'item-name', for: `${id}-bar` }, e.file.name),
                     el('span', { class: 'item-size' }, formatSize(e.file.size))),
                  bar, stateP, button);
    button.addEventListener('click', async () => {
      const running = e.state === 'running';
      if (e.state === 'rejected') {
        e.state = 'cancelled';
      } else {
        try {
          await batch.cancel(e);
        } catch (err) {
          complain(`Cancelling “${e.file.name}” on the server failed: ${err.message}`);
        }
      }
      li.remove();
      items.delete(e.id);
      say(running ? `The upload of ${e.file.name} was cancelled.` : `${e.file.name} was removed.`);
      render();
      drop.focus();
    });
    items.set(e.id, { li, bar, state: stateP, button });
    queue.append(li);
  }

  function addFiles(files) {
    if (!files.length)
      return;
    if (!batch.running && batch.entries.length
        && batch.entries.every((e) => ['done', 'cancelled', 'rejected'].includes(e.state))) {
      // The previous batch is finished: these files get a link of their own.
      batch = new Batch(uploader);
      items.clear();
      queue.replaceChildren();
    }
    const added = [];
    let refused = 0;
    for (const f of files) {
      if (maxFiles && batch.live().filter((e) => e.state !== 'rejected').length >= maxFiles) {
        refused++;
        continue;
      }
      const e = batch.add(f, { encrypted: encrypted(f) });
      if (!perBatch && maxSize && f.size > maxSize) {
        e.state = 'rejected';
        e.reason = `it is ${formatSize(f.size)}; files may be up to ${formatSize(maxSize)}.`;
      }
      addItem(e);
      added.push(e);
    }
    if (perBatch && maxSize) {
      const sum = batch.entries.filter((e) => e.state === 'queued').reduce((s, e) => s + e.total, 0);
      if (sum > maxSize)
        complain(`These files need ${formatSize(sum)} but ${formatSize(maxSize)} is left in your storage; `
                 + 'remove some before uploading.');
    }
    if (refused)
      complain(`One upload holds at most ${maxFiles} files: ${refused} file${refused > 1 ? 's were' : ' was'} `
               + 'not added. Upload them separately afterwards.');
    const resumable = added.filter((e) => e.resumable).length;
    say(`${added.length} file${added.length === 1 ? '' : 's'} added${resumable
      ? `; ${resumable} will continue an earlier upload` : ''}. Press Upload to start.`);
    render();
  }

  // One row per share link (usually one per batch), its label naming
  // what the link holds; rows stay when a later batch adds its own link.
  const linkRows = new Map();     // url -> { label, copy }
  function showLinks() {
    const list = batch.links();
    if (!list.length)
      return;
    result.hidden = false;
    for (const { url, names } of list) {
      let row = linkRows.get(url);
      if (!row) {
        const id = `link-${linkRows.size + 1}`;
        const field = el('input', { id, class: 'link', type: 'url', readonly: true, value: url });
        const label = el('label', { for: id });
        const copy = el('button', { type: 'button', class: 'secondary' }, 'Copy link');
        copy.addEventListener('click', () => copyLink(field));
        links.append(el('p', { class: 'link-row' }, label, field, copy));
        row = { label, copy };
        linkRows.set(url, row);
      }
      const what = names.length === 1 ? `“${names[0]}”` : `${names.length} files`;
      row.label.textContent = `Link to ${what}`;
      row.copy.setAttribute('aria-label', `Copy the link to ${what}`);
    }
  }

  async function copyLink(field) {
    const note = $('copy-status');
    try {
      await navigator.clipboard.writeText(field.value);
      note.textContent = 'The link is copied.';
    } catch {
      field.focus();
      field.select();
      note.textContent = 'Copying was not allowed: the link is selected, press Ctrl+C (⌘C on a Mac) to copy it.';
    }
  }

  async function run() {
    errors.replaceChildren();
    const todo = batch.entries.filter((e) => ['queued', 'failed', 'stopped'].includes(e.state)).length;
    say(`Uploading ${todo} file${todo === 1 ? '' : 's'}…`);
    const running = batch.run({
      onStart: () => schedule(),
      onStatus: (e, s) => {
        if (s === 'resumed')
          say(`${e.file.name}: continuing an earlier upload; ${e.resumedParts} part${
            e.resumedParts === 1 ? ' was' : 's were'} already there.`);
        schedule();
      },
      onProgress: () => schedule(),
      onDone: (e) => {
        const done = batch.entries.filter((x) => x.state === 'done').length;
        const all = batch.live().filter((x) => x.state !== 'rejected').length;
        say(`${e.file.name} uploaded (${done} of ${all}).`);
        showLinks();
        schedule();
      },
      onError: (e, err) => {
        if (err.kind !== 'stopped')
          complain(describe(e, err));
        schedule();
      },
    });
    render();
    await running;
    render();
    const done = batch.entries.filter((e) => e.state === 'done').length;
    const left = batch.entries.filter((e) => ['queued', 'failed', 'stopped'].includes(e.state)).length;
    if (done && !left && request) {
      say(`All ${done} file${done === 1 ? ' was' : 's were'} sent. The owner of this request will be told.`);
      result.hidden = false;
      links.replaceChildren(el('p', {}, `${done} file${done === 1 ? '' : 's'} sent.`));
    }
    else if (done && !left)
      say(`All ${done} file${done === 1 ? '' : 's'} uploaded. The share link is below.`);
    else if (left)
      say(`${done} of ${done + left} files uploaded; ${left} not yet. Press ${startBtn.textContent} to try again.`);
    showInterrupted();
  }

  function showInterrupted() {
    const box = $('interrupted');
    const list = $('interrupted-list');
    const inQueue = new Set(batch.entries.filter((e) => e.state !== 'done' && e.state !== 'cancelled')
      .map((e) => uploader.keyOf(e.file, e.encrypted)));
    const recs = uploader.pending().filter((r) => !inQueue.has(uploader.keyOf(r, r.encrypted)));
    list.replaceChildren();
    for (const r of recs) {
      const forget = el('button', { type: 'button', class: 'secondary' }, 'Discard');
      forget.setAttribute('aria-label', `Discard the interrupted upload of ${r.name}`);
      forget.addEventListener('click', async () => {
        try {
          await uploader.discard(r, r.encrypted);
          say(`The interrupted upload of ${r.name} was discarded.`);
        } catch (err) {
          complain(`Discarding “${r.name}” failed: ${err.message}`);
        }
        showInterrupted();
      });
      list.append(el('li', {}, `${r.name} (${formatSize(r.size)}${r.encrypted ? ', encrypted' : ''}) `, forget));
    }
    box.hidden = recs.length === 0;
  }

  // Choosing files: the drop zone is a button that opens the picker.
  drop.addEventListener('click', () => input.click());
  input.addEventListener('change', () => {
    addFiles(Array.from(input.files));
    input.value = '';
  });
  const hasFiles = (ev) => Array.from(ev.dataTransfer?.types ?? []).includes('Files');
  for (const type of ['dragenter', 'dragover']) {
    drop.addEventListener(type, (ev) => {
      if (!hasFiles(ev))
        return;
      ev.preventDefault();
      ev.dataTransfer.dropEffect = 'copy';
      drop.classList.add('is-over');
    });
  }
  drop.addEventListener('dragleave', () => drop.classList.remove('is-over'));
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('is-over');
    const files = [];
    let folders = 0;
    const dt = ev.dataTransfer;
    Array.from(dt.items ?? []).forEach((item, i) => {
      const entry = item.webkitGetAsEntry?.();
      if (entry?.isDirectory)
        folders++;
      else if (item.kind === 'file') {
        const f = item.getAsFile() ?? dt.files[i];
        if (f)
          files.push(f);
      }
    });
    if (!dt.items)
      files.push(...Array.from(dt.files));
    if (folders)
      complain('Folders cannot be uploaded: open the folder and choose the files in it.');
    addFiles(files);
  });
  // A drop that misses the zone must not navigate away from the uploads.
  for (const type of ['dragover', 'drop']) {
    window.addEventListener(type, (ev) => {
      if (hasFiles(ev) && !drop.contains(ev.target))
        ev.preventDefault();
    });
  }

  encrypt?.addEventListener('change', () => {
    for (const e of batch.entries) {
      if (e.state === 'queued') {
        e.encrypted = encrypted(e.file);
        e.resumable = !!uploader.saved(e.file, e.encrypted);
      }
    }
    render();
  });

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!batch.running)
      run();
  });
  cancelAll.addEventListener('click', async () => {
    const n = batch.entries.filter((e) => !['done', 'cancelled', 'rejected'].includes(e.state)).length;
    await batch.cancelAll();
    say(`${n} upload${n === 1 ? ' was' : 's were'} cancelled.`);
    render();
  });
  window.addEventListener('beforeunload', (ev) => {
    if (batch.running) {
      ev.preventDefault();
      ev.returnValue = '';
    }
  });

  showInterrupted();
  render();
}

// Last, once every declaration above is initialised.
const form = document.getElementById('uploader');
if (form)
  start(form);
