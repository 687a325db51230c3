// t/js/notify_page.test.mjs - the account page's live notifications as a
// browser runs them: the HTML of GET /account (signed in with the member's
// session cookie) in jsdom, htdocs/js/notify.js on top of it, and an
// EventSource that really streams /events/stream from the server with that
// cookie (jsdom has none; this one follows the EventSource rules the script
// relies on: named events, data, Last-Event-ID on reconnect).  An upload
// by the member then has to appear at the top of the list, as text, with
// the unread count raised.  Run by t/notify.t with LENZ_BASE_URL,
// LENZ_MEMBER_COOKIE and LENZ_MEMBER_TOKEN.
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import { ok, is, section, plan, watchdog, until } from './tap.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const script = pathToFileURL(path.join(here, '..', '..', 'htdocs', 'js', 'notify.js')).href;
const BASE = (process.env.LENZ_BASE_URL || 'http://127.0.0.1:8529').replace(/\/+$/, '');
const COOKIE = process.env.LENZ_MEMBER_COOKIE || '';
const TOKEN = process.env.LENZ_MEMBER_TOKEN || '';
const stopWatchdog = watchdog(60000);

let JSDOM;
try {
  ({ JSDOM } = createRequire(import.meta.url)('jsdom'));
} catch (e) {
  ok(false, 'jsdom is installed (Debian: node-jsdom)', e.message);
  plan();
  process.exit(1);
}

// EventSource over fetch, for the window: the stream with the cookie.
const streams = [];
function makeEventSource(window) {
  return class EventSource extends window.EventTarget {
    constructor(url) {
      super();
      this.url = new URL(url, window.location.href).href;
      this.ctrl = new AbortController();
      streams.push(this);
      this.opened = this.run();
    }
    async run() {
      const res = await fetch(this.url, { headers: { Cookie: COOKIE, Accept: 'text/event-stream' },
                                          signal: this.ctrl.signal });
      this.status = res.status;
      this.type = res.headers.get('content-type');
      const reader = res.body.getReader();
      const dec = new TextDecoder();
      let buf = '';
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += dec.decode(value, { stream: true });
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const ev = { event: 'message', data: [] };
            for (const line of block.split('\n')) {
              const m = /^([^:]*):?\s?(.*)$/.exec(line);
              if (!m || m[1] === '') continue;                   // a comment
              if (m[1] === 'data') ev.data.push(m[2]);
              else if (m[1] === 'event') ev.event = m[2];
              else if (m[1] === 'id') ev.id = m[2];
            }
            if (ev.data.length) {
              const me = new window.MessageEvent(ev.event, { data: ev.data.join('\n'), lastEventId: ev.id || '' });
              this.dispatchEvent(me);
            }
          }
        }
      } catch (e) {
        if (e.name !== 'AbortError') throw e;
      }
    }
    close() { this.ctrl.abort(); }
  };
}

async function upload(name) {
  const json = (o) => ({ method: 'POST', body: JSON.stringify(o),
                         headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${TOKEN}` } });
  const body = 'hello from the page test\n';
  const init = await (await fetch(`${BASE}/api/v1/uploads/encrypted/initiate`,
                                  json({ filename: name, size: body.length }))).json();
  await fetch(`${BASE}/api/v1/uploads/encrypted/upload-part?token=${encodeURIComponent(init.token)}&part=1`,
              { method: 'POST', body, headers: { Authorization: `Bearer ${TOKEN}` } });
  const done = await fetch(`${BASE}/api/v1/uploads/encrypted/complete`, json({ token: init.token }));
  return done.status;
}

await section('the account page goes live', async () => {
  const res = await fetch(`${BASE}/account`, { headers: { Cookie: COOKIE, Accept: 'text/html' } });
  is(res.status, 200, 'the account page with the session cookie');
  const html = await res.text();
  const dom = new JSDOM(html, { url: `${BASE}/account`, pretendToBeVisual: true });
  const { window } = dom;
  const { document } = window;
  globalThis.window = window;
  globalThis.document = document;
  globalThis.EventSource = makeEventSource(window);
  const list = document.getElementById('notification-list');
  const count = document.getElementById('unread-count');
  ok(list && count, 'the list and the unread count are on the page');
  const before = list.children.length;
  const unread = parseInt(count.textContent, 10);
  await import(script);
  ok(await until(() => streams.length === 1, 2000), 'the script opened one EventSource');
  ok(streams[0].url.endsWith('/events/stream'), `... on /events/stream (${streams[0].url})`);
  await until(() => streams[0].status !== undefined, 5000);
  is(streams[0].status, 200, '... which the server answers 200 for the session');
  ok(/^text\/event-stream/.test(streams[0].type || ''), '... as text/event-stream');

  const name = `<img src=x onerror=alert(1)> page-${Date.now()}.txt`;
  is(await upload(name), 201, 'the member uploads a file (through the API)');
  ok(await until(() => list.children.length > before, 5000), 'a new item appears in the list');
  const first = list.firstElementChild;
  is(first.querySelector('.what').textContent, `Uploaded: ${name}`, '... at the top, its title as text');
  is(first.querySelectorAll('img').length, 0, '... markup in a file name stays text (no element made)');
  is(first.className, 'unread', '... marked unread');
  ok(/^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/.test(first.querySelector('time').textContent), '... with its time');
  is(count.textContent, `${(Number.isFinite(unread) ? unread : 0) + 1} unread`, 'the unread count went up by one');
  is(document.getElementById('no-notifications'), null, 'no "nothing yet" line is left');
  streams.forEach((s) => s.close());
  window.close();
});

await section('a stream refused at the cap is opened again, from the last notification', async () => {
  // EventSource closes for good on an answer that is not a stream (the 503
  // past LenzEventStreams); the script must open a new one itself.  Here an
  // EventSource that plays the browser's part: the first is refused, the
  // second opens, shows notification 41 and is refused in turn.
  const res = await fetch(`${BASE}/account`, { headers: { Cookie: COOKIE, Accept: 'text/html' } });
  const html = (await res.text()).replace('data-stream=', 'data-retry-ms="40" data-stream=');
  const dom = new JSDOM(html, { url: `${BASE}/account`, pretendToBeVisual: true });
  const { window } = dom;
  globalThis.window = window;
  globalThis.document = window.document;
  const made = [];
  globalThis.EventSource = class extends window.EventTarget {
    constructor(url) {
      super();
      this.url = url;
      this.readyState = 0;
      made.push(this);
      const n = made.length;
      setTimeout(() => {
        if (n === 2) {
          this.readyState = 1;
          this.dispatchEvent(new window.Event('open'));
          this.dispatchEvent(new window.MessageEvent('notification', { lastEventId: '41',
            data: JSON.stringify({ id: 41, title: 'Downloaded: a.txt', created_at: '2026-12-07T01:02:03Z' }) }));
          this.dispatchEvent(new window.Event('error'));    // dropped: the browser retries itself
        }
        if (n <= 2) {
          this.readyState = 2;                              // refused: closed for good
          this.dispatchEvent(new window.Event('error'));
        }
      }, 5);
    }
    close() { this.readyState = 2; }
  };
  await import(`${script}?again`);
  ok(await until(() => made.length >= 3, 5000), `after each refusal the script opened a new stream (${made.length})`);
  ok(made[0].url.endsWith('/events/stream') && made[1].url.endsWith('/events/stream'),
     'the first ones start from now (nothing shown yet)');
  ok(made.length >= 3 && made[2].url.endsWith('/events/stream?last_event_id=41'),
     `the next resumes after notification 41 (${made[2] && made[2].url})`);
  await new Promise((r) => setTimeout(r, 300));
  is(made.length, 3, 'a stream that stays open is not opened again');
  is(window.document.getElementById('notification-list').firstElementChild.querySelector('.what').textContent,
     'Downloaded: a.txt', 'the notification the reopened stream carried is shown');
  window.close();
});

stopWatchdog();
plan();
process.exit(0);
