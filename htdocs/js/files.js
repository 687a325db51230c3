// files.js - the file manager's folder page (templates/files/folder.mustache)
// made direct; every action also works without it, through the page's forms.
//   - Drop files, or whole folders with their subfolders, anywhere on the
//     page: the folders are made (or found) below the open folder and each
//     file is uploaded into its own, through the upload engine
//     (upload-engine.js), encrypted or not as the site's policy and the
//     member's default say.
//   - Drag a row onto a folder's row or onto the path above: it moves there
//     (PATCH /api/v1/files|folders/{id}).
//   - A box in the header ticks every row for the bulk form.
//   - Live: the member's event stream (/events/stream) says when one of
//     their folders changed ("event: storage", from any tab or device); when
//     it is this one, the list is fetched again and swapped in, unless the
//     member is working in it (a box ticked, or focus in the list): then a
//     button offers the refresh.  Announced in a polite live region.
import { Batch, createUploader, memoryStore } from './upload-engine.js';

const listing = document.getElementById('listing');
const live = document.getElementById('live');
const d = listing?.dataset ?? {};
const csrf = d.csrf;
const here = d.folderId;
const api = (path, init = {}) => fetch(`/api/v1${path}`, {
  credentials: 'same-origin',
  ...init,
  headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf, ...(init.headers ?? {}) },
});

function say(text) {
  live.textContent = text === live.textContent ? `${text}\u00a0` : text;
}

// --- The list, fetched again -------------------------------------------------------------------
let pending = false;
let shown = listing?.innerHTML;         // the server's list as last shown (before enhance())
// quiet: a change this tab already shows (its own, echoed by the stream)
// is not announced again.
async function refresh(why, { quiet = false } = {}) {
  const res = await fetch(location.href, { credentials: 'same-origin', headers: { Accept: 'text/html' } });
  if (!res.ok)
    return;
  const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
  const fresh = doc.getElementById('listing');
  if (!fresh)
    return;
  if (quiet && fresh.innerHTML === shown) {
    pending = false;
    return;
  }
  shown = fresh.innerHTML;
  listing.replaceChildren(...Array.from(fresh.childNodes, (n) => document.importNode(n, true)));
  enhance();
  pending = false;
  say(why);
}

function busy() {
  return listing.contains(document.activeElement) || !!listing.querySelector('input[name="item"]:checked');
}

function offerRefresh() {
  if (pending)
    return;
  pending = true;
  const b = document.createElement('button');
  b.type = 'button';
  b.className = 'secondary';
  b.textContent = 'Show the changes';
  b.addEventListener('click', () => refresh('The list is up to date.'));
  live.replaceChildren('This folder changed elsewhere. ', b);
}

function listen() {
  if (typeof EventSource !== 'function')
    return;
  let wait = 30000;
  const open = () => {
    const es = new EventSource('/events/stream');
    es.addEventListener('storage', (ev) => {
      let c;
      try { c = JSON.parse(ev.data); } catch { return; }
      if (!Array.isArray(c.folders) || !c.folders.includes(here))
        return;
      if (busy())
        offerRefresh();
      else
        refresh('This folder changed; the list is up to date.', { quiet: true });
    });
    es.addEventListener('open', () => { wait = 30000; });
    es.addEventListener('error', () => {
      // Closed for good (503 at the streams' cap): try again later.
      if (es.readyState === EventSource.CLOSED) {
        setTimeout(open, wait + Math.random() * 5000);
        wait = Math.min(wait * 2, 300000);
      }
    });
  };
  open();
}

// --- Rows: select all, drag to move ----------------------------------------------------------------
function enhance() {
  const table = listing.querySelector('table.items');
  if (!table)
    return;
  const head = table.querySelector('thead th');
  if (head && !head.querySelector('input')) {
    const all = document.createElement('input');
    all.type = 'checkbox';
    all.setAttribute('aria-label', 'Pick every item');
    all.addEventListener('change', () => {
      for (const c of table.querySelectorAll('input[name="item"]'))
        c.checked = all.checked;
    });
    head.replaceChildren(all);
  }
  for (const tr of table.querySelectorAll('tbody tr[data-id]')) {
    tr.draggable = true;
    tr.addEventListener('dragstart', (ev) => {
      ev.dataTransfer.setData('application/x-lenz-item', `${tr.dataset.type}:${tr.dataset.id}`);
      ev.dataTransfer.effectAllowed = 'move';
    });
    if (tr.dataset.type === 'folder')
      dropTarget(tr, tr.dataset.id);
  }
}

async function move(item, to) {
  const [type, id] = item.split(':');
  if (!id || id === to)
    return;
  const res = await api(`/${type === 'folder' ? 'folders' : 'files'}/${id}`, {
    method: 'PATCH', body: JSON.stringify(type === 'folder' ? { parent_id: to } : { folder_id: to }),
  });
  if (res.ok)
    await refresh('Moved.');
  else {
    let why = `the server said ${res.status}`;
    try {
      const p = await res.json();
      why = p.detail ?? why;
    } catch { /* not JSON */ }
    say(`Not moved: ${why}.`);
  }
}

function dropTarget(el, folderId) {
  el.addEventListener('dragover', (ev) => {
    if (ev.dataTransfer.types.includes('application/x-lenz-item')) {
      ev.preventDefault();
      ev.stopPropagation();
      el.classList.add('is-over');
    }
  });
  el.addEventListener('dragleave', () => el.classList.remove('is-over'));
  el.addEventListener('drop', (ev) => {
    const item = ev.dataTransfer.getData('application/x-lenz-item');
    if (!item)
      return;
    ev.preventDefault();
    ev.stopPropagation();
    el.classList.remove('is-over');
    move(item, folderId);
  });
}

// --- Dropped files and folders ---------------------------------------------------------------------
const readEntries = (reader) => new Promise((resolve, reject) => reader.readEntries(resolve, reject));
const fileOf = (entry) => new Promise((resolve, reject) => entry.file(resolve, reject));

// Every file under the dropped entries, with the folder path it sits in
// ("" for the drop's top level).
async function walk(entries) {
  const out = [];
  const visit = async (entry, dir) => {
    if (entry.isFile)
      out.push({ file: await fileOf(entry), dir });
    else if (entry.isDirectory) {
      const reader = entry.createReader();
      const sub = dir ? `${dir}/${entry.name}` : entry.name;
      out.push({ dir: sub });             // an empty folder is made too
      for (;;) {
        const batch = await readEntries(reader);
        if (!batch.length)
          break;
        for (const e of batch)
          await visit(e, sub);
      }
    }
  };
  for (const e of entries)
    await visit(e, '');
  return out;
}

// The folder for a path below here, made when missing (a name taken by a
// folder already: that one).  Cached per drop.
async function folderFor(path, made) {
  if (!path)
    return here;
  if (made.has(path))
    return made.get(path);
  const cut = path.lastIndexOf('/');
  const parent = await folderFor(cut < 0 ? '' : path.slice(0, cut), made);
  const name = path.slice(cut + 1);
  let res = await api('/folders', { method: 'POST', body: JSON.stringify({ name, parent_id: parent }) });
  let id = null;
  if (res.status === 201)
    id = (await res.json()).id;
  else if (res.status === 409) {
    // There already: find it among the parent's folders.
    let cursor = '';
    while (!id) {
      res = await api(`/folders/${parent}?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
                      { method: 'GET' });
      if (!res.ok)
        break;
      const page = await res.json();
      const hit = page.children.find((c) => c.type === 'folder' && c.name.normalize('NFC').toLowerCase()
                                      === name.normalize('NFC').toLowerCase());
      if (hit)
        id = hit.id;
      if (!page.next_cursor)
        break;
      cursor = page.next_cursor;
    }
  }
  if (!id)
    throw new Error(`the folder “${path}” could not be made (${res.status})`);
  made.set(path, id);
  return id;
}

function encryptedFor(file) {
  const above = Number(d.plainAbove) || 0;
  if (above && file.size > above)
    return false;
  if (d.policy === 'encrypted')
    return true;
  if (d.policy === 'plain')
    return false;
  return d.uploadDefault !== 'plain';
}

async function uploadDropped(items) {
  const box = document.getElementById('dnd');
  let bar = document.getElementById('dnd-total');
  if (!bar) {                       // made when first needed: no hidden control in the page
    bar = Object.assign(document.createElement('progress'), { id: 'dnd-total', max: 1, value: 0 });
    bar.setAttribute('aria-labelledby', 'dnd-title');
    document.getElementById('dnd-bar').prepend(bar, ' ');
  }
  const text = document.getElementById('dnd-text');
  const errors = document.getElementById('dnd-errors');
  const files = items.filter((i) => i.file);
  const total = files.reduce((s, i) => s + i.file.size, 0) || 1;
  const made = new Map();
  const uploader = createUploader({ endpoint: '/upload/member', headers: { 'X-CSRF-Token': csrf },
                                    store: memoryStore() });
  let sent = 0;
  let done = 0;
  let failed = 0;
  box.hidden = false;
  errors.replaceChildren();
  bar.max = total;
  bar.value = 0;
  say(`Uploading ${files.length} file${files.length === 1 ? '' : 's'} here…`);
  for (const i of items.filter((x) => !x.file)) {
    try {
      await folderFor(i.dir, made);
    } catch (e) {
      failed++;
      errors.append(Object.assign(document.createElement('li'), { textContent: e.message }));
    }
  }
  // One transfer per drop, one file after another (the engine's Batch does
  // the same on the upload page).
  const batch = new Batch(uploader);
  for (const i of files) {
    let folderId;
    try {
      folderId = await folderFor(i.dir, made);
    } catch (e) {
      failed++;
      errors.append(Object.assign(document.createElement('li'), { textContent: `${i.file.name}: ${e.message}` }));
      continue;
    }
    batch.add(i.file, { encrypted: encryptedFor(i.file), folderId });
  }
  await batch.run({
    onProgress: (e) => {
      bar.value = Math.min(total, sent + e.loaded);
      text.textContent = `${done} of ${files.length} done`;
    },
    onDone: (e) => {
      done++;
      sent += e.total;
      bar.value = Math.min(total, sent);
      text.textContent = `${done} of ${files.length} done`;
    },
    onError: (e, err) => {
      failed++;
      errors.append(Object.assign(document.createElement('li'), { textContent: `${e.file.name}: ${err.message}` }));
    },
  });
  text.textContent = `${done} of ${files.length} done${failed ? `, ${failed} failed` : ''}`;
  await refresh(`${done} file${done === 1 ? '' : 's'} uploaded here${failed ? `; ${failed} could not be` : ''}.`);
}

function acceptDrops() {
  const main = document.getElementById('main');
  const hasFiles = (ev) => Array.from(ev.dataTransfer?.types ?? []).includes('Files');
  main.addEventListener('dragover', (ev) => {
    if (!hasFiles(ev))
      return;
    ev.preventDefault();
    ev.dataTransfer.dropEffect = 'copy';
    main.classList.add('is-dropping');
  });
  main.addEventListener('dragleave', (ev) => {
    if (ev.target === main)
      main.classList.remove('is-dropping');
  });
  main.addEventListener('drop', async (ev) => {
    if (!hasFiles(ev))
      return;
    ev.preventDefault();
    main.classList.remove('is-dropping');
    const entries = Array.from(ev.dataTransfer.items ?? [])
      .map((it) => it.webkitGetAsEntry?.()).filter(Boolean);
    let items;
    if (entries.length)
      items = await walk(entries);
    else
      items = Array.from(ev.dataTransfer.files).map((file) => ({ file, dir: '' }));
    if (items.length)
      await uploadDropped(items);
  });
}

if (listing) {
  enhance();
  for (const a of document.querySelectorAll('nav.crumbs a[data-id]'))
    dropTarget(a, a.dataset.id);
  acceptDrops();
  listen();
  document.getElementById('dnd-hint').hidden = false;
}
