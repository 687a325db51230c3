// notify.js - keeps the account page's notification list live: listens on
// the member's Server-Sent Events stream (/events/stream, sent with the
// session cookie) and puts each new notification at the top of the list.
// EventSource reconnects by itself and sends Last-Event-ID, so nothing is
// missed across a dropped connection.  An answer that is not a stream (503
// when the site's or this member's streams are at their cap) closes it for
// good, so then the script opens a new one after a while (30 s, doubling
// to 5 min, with jitter), from the last notification it showed.  Without
// JavaScript the list is simply what the page showed when it loaded.
const section = document.getElementById('notifications');
const list = document.getElementById('notification-list');
const count = document.getElementById('unread-count');

function timeText(iso) {
  // "2026-11-22T01:02:03Z" -> "2026-11-22 01:02 UTC", as the server writes it
  return typeof iso === 'string' && iso.length >= 16 ? iso.slice(0, 10) + ' ' + iso.slice(11, 16) + ' UTC' : '';
}

export function show(n) {
  // A coalesced entry (the same kind on the same object, with a count)
  // takes the place of the one it counts in.
  let replaced = 0;
  if (n.object)
    for (const old of list.querySelectorAll('li[data-object]'))
      if (old.dataset.object === n.object) {
        if (old.classList.contains('unread')) replaced++;
        old.remove();
      }
  const li = document.createElement('li');
  li.className = 'unread';
  if (n.object) li.dataset.object = n.object;
  const what = document.createElement('span');
  what.className = 'what';
  what.textContent = n.title;                 // text, never HTML
  const when = document.createElement('time');
  when.textContent = timeText(n.created_at);
  li.append(what, ' ', when);
  list.prepend(li);
  while (list.children.length > 20) list.lastElementChild.remove();
  const none = document.getElementById('no-notifications');
  if (none) none.remove();
  const unread = parseInt(count.textContent, 10);
  count.textContent = `${Number.isFinite(unread) ? Math.max(unread - replaced, 0) + 1 : 1} unread`;
}

const RETRY_FIRST = Number(section && section.dataset.retryMs) || 30000;
const RETRY_MOST = 300000;

export function streamUrl(base, lastId) {
  if (!lastId) return base;
  return base + (base.includes('?') ? '&' : '?') + 'last_event_id=' + encodeURIComponent(lastId);
}

function listen(lastId, delay) {
  const es = new EventSource(streamUrl(section.dataset.stream, lastId));
  es.addEventListener('open', () => { delay = RETRY_FIRST; });
  es.addEventListener('notification', (e) => {
    if (e.lastEventId) lastId = e.lastEventId;
    try { show(JSON.parse(e.data)); } catch (err) { /* a malformed event: skip it */ }
  });
  es.addEventListener('error', () => {
    if (es.readyState !== 2) return;           // CONNECTING: the browser retries by itself
    es.close();
    setTimeout(() => listen(lastId, Math.min(delay * 2, RETRY_MOST)), delay / 2 + Math.random() * delay / 2);
  });
}

if (section && list && count && typeof EventSource === 'function') listen('', RETRY_FIRST);
