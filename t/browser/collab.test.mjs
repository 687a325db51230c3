// t/browser/collab.test.mjs - shared folders in Chromium (t/collab_browser.t
// runs it against the test server; the owner, the editor, the folder and a
// file are made there):
//   - the owner and the editor, each signed in through the form in a
//     browser context of their own, open the same shared folder; what one
//     adds or renames shows up in the other's page by itself (the event
//     stream), both ways;
//   - the editor comments on the file through its comments page;
//   - "Shared with me", a folder's people and activity, a file's comments,
//     messages, a conversation, the topic list, a topic and search pass the
//     site's page checks (checks.mjs: axe-core, names,
//     keyboard, headers).
import { writeFileSync } from 'node:fs';
import {
  launch, newPage, open, fill, submit, problems, ok, is, section, plan, watchdog,
} from './harness.mjs';
import { checkPage, stats } from './checks.mjs';

const done = watchdog(100000);
const env = process.env;
const folder = env.LENZ_FOLDER_ID;
const file = env.LENZ_FILE_ID;

const call = (page, method, p, body) => page.evaluate(async (method, p, body) => {
  const csrf = document.getElementById('listing')?.dataset.csrf
    ?? document.querySelector('input[name="csrf"]')?.value;
  const res = await fetch(`/api/v1${p}`, {
    method, credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
    body: body ? JSON.stringify(body) : undefined,
  });
  let json = null;
  try { json = await res.json(); } catch { /* not JSON */ }
  return { status: res.status, json };
}, method, p, body ?? null);
async function until(cond, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond())
      return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return !!(await cond());
}
const rows = (page) => page.$$eval('#listing table.items tbody th', (ths) => ths.map((t) => t.textContent.trim()));
function clean(page, what) {
  const bad = problems(page);
  is([...bad.console, ...bad.exceptions, ...bad.requests], [], `${what}: no errors or failed requests in the browser`);
}
async function signIn(ctx, email) {
  const page = await newPage(ctx, { timeout: 15000 });
  await open(page, '/account/login');
  await fill(page, '#email', email);
  await fill(page, '#password', env.LENZ_MEMBER_PASSWORD);
  await submit(page, 'form.form button[type="submit"]');
  return page;
}

let b;
try {
  b = await launch({ timeout: 15000 });
} catch (e) {
  ok(false, 'Chromium starts', e?.stack ?? String(e));
  plan();
  process.exit(1);
}
try {
  const ownerCtx = await b.browser.createBrowserContext();
  const editorCtx = await b.browser.createBrowserContext();
  const owner = await signIn(ownerCtx, env.LENZ_OWNER_EMAIL);
  const editor = await signIn(editorCtx, env.LENZ_EDITOR_EMAIL);

  await section('live', async () => {
    let r = await open(owner, `/files/folder/${folder}`);
    is(r?.status(), 200, 'the owner opens the shared folder');
    r = await open(editor, `/files/folder/${folder}`);
    is(r?.status(), 200, 'the editor opens the same folder');
    await owner.waitForSelector('#dnd-hint:not([hidden])');
    await editor.waitForSelector('#dnd-hint:not([hidden])');
    ok(/Shared with you as\s+editor/.test(await editor.$eval('h1 + p', (e) => e.textContent)), "the editor's page names their role");
    await new Promise((res) => setTimeout(res, 500));     // both streams are open
    const made = await call(editor, 'POST', '/folders', { name: 'From the editor', parent_id: folder });
    is(made.status, 201, 'the editor makes a folder in it');
    ok(await until(async () => (await rows(owner)).some((t) => t.startsWith('From the editor')), 15000),
       "the owner's page lists it without a reload");
    const renamed = await call(owner, 'PATCH', `/files/${file}`, { name: 'renamed-by-owner.txt' });
    is(renamed.status, 200, 'the owner renames the file');
    ok(await until(async () => (await rows(editor)).some((t) => t.startsWith('renamed-by-owner.txt')), 15000),
       "the editor's page shows the new name without a reload");
    clean(owner, 'live (owner)');
    clean(editor, 'live (editor)');
  });

  await section('pages', async () => {
    let r = await open(editor, '/collab/shares');
    await checkPage(b, editor, r, { name: 'collab-shares', path: '/collab/shares', h1: 'Shared with me',
                                    primary: 'form[action$="/leave"] button' });
    r = await open(owner, `/collab/folder/${folder}`);
    await checkPage(b, owner, r, { name: 'collab-folder', path: '/collab/folder/{id}', h1: 'Studio: people and activity',
                                   primary: 'form[action$="/invite"] button' });
    ok(/joined/.test(await owner.$eval('ol.activity', (e) => e.textContent)), "the folder's activity shows the editor joining");
    r = await open(editor, `/collab/file/${file}`);
    await checkPage(b, editor, r, { name: 'collab-file', path: '/collab/file/{id}', h1: 'Comments on renamed-by-owner.txt',
                                    primary: '#comment-body ~ button, form.form p button[type="submit"]' });
    await fill(editor, '#comment-body', 'Looks right to me.');
    r = await submit(editor, 'form.form p button[type="submit"]');
    is(r?.status(), 200, 'the editor comments through the form (303, then the page)');
    ok(/Looks right to me\./.test(await editor.$eval('ol.comments', (e) => e.textContent)), '... and the comment is there');
    clean(editor, 'comment');
    r = await open(editor, '/collab/messages');
    await checkPage(b, editor, r, { name: 'collab-messages', path: '/collab/messages', h1: 'Messages',
                                    primary: 'form.form button[type="submit"]' });
    await fill(editor, '#msg-to', env.LENZ_OWNER_EMAIL);
    await fill(editor, '#msg-body', 'About the draft');
    r = await submit(editor, 'form.form button[type="submit"]');
    is(r?.status(), 200, 'the editor starts a conversation through the form');
    r = await open(editor, editor.url());
    await checkPage(b, editor, r, { name: 'collab-thread', path: '/collab/messages/{id}', h1: (await editor.$eval('h1', (e) => e.textContent)),
                                    primary: 'form.form button[type="submit"]' });
    ok(/About the draft/.test(await editor.$eval('#thread', (e) => e.textContent)), '... the message is in the conversation');
    clean(editor, 'messages');

    // Topics and search, as the owner.
    r = await open(owner, '/topics/');
    await checkPage(b, owner, r, { name: 'topics', path: '/topics/', h1: 'Topics',
                                   primary: 'form.form button[type="submit"]' });
    await fill(owner, '#topic-title', 'Browser topic');
    await fill(owner, '#topic-body', 'Which **paper** for the prints?');
    r = await submit(owner, 'form.form button[type="submit"]');
    is(r?.status(), 200, 'a topic opened through the form (303, then its page)');
    r = await open(owner, owner.url());
    await checkPage(b, owner, r, { name: 'topic', path: '/topics/{id}', h1: 'Browser topic',
                                   primary: 'form.form button[type="submit"]' });
    is(await owner.$eval('.post-body strong', (e) => e.textContent), 'paper', "the topic's Markdown is rendered");
    r = await open(owner, '/search?q=renamed');
    await checkPage(b, owner, r, { name: 'search', path: '/search', h1: 'Search',
                                   primary: 'form[role="search"] button' });
    ok(/renamed-by-owner/.test(await owner.$eval('ol.results', (e) => e.textContent)), 'search finds the renamed file');
    clean(owner, 'topics and search');
  });

  await section('ownership', async () => {
    let r = await open(owner, `/collab/folder/${folder}`);
    is(r?.status(), 200, "the owner's people page");
    await owner.select('#transfer-email', env.LENZ_EDITOR_EMAIL);
    r = await submit(owner, 'form[action$="/transfer"] button');
    is(r?.status(), 200, 'ownership offered to the editor through the form (303, then the page)');
    r = await open(editor, `/collab/folder/${folder}`);
    await checkPage(b, editor, r, { name: 'collab-folder-offer', path: '/collab/folder/{id} (an offer)',
                                    h1: 'Studio: people and activity',
                                    primary: 'form[action$="/transfer/accept"] button' });
    r = await submit(editor, 'form[action$="/transfer/accept"] button');
    is(r?.status(), 200, 'the editor accepts it (303, then the folder)');
    ok(/\/files\/folder\//.test(editor.url()), '... and lands in the folder, now theirs');
    clean(owner, 'ownership (owner)');
    clean(editor, 'ownership (editor)');
  });
  await ownerCtx.close();
  await editorCtx.close();
} finally {
  await b.close();
  if (env.LENZ_RESULTS)
    writeFileSync(env.LENZ_RESULTS, JSON.stringify({ pid: b.pid, profile: b.profile, pages: stats.checked }));
}
done();
plan();
