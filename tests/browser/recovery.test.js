// tests/browser/recovery.test.js: recovery after a reconnect, in a real browser (Debian's chromium,
// headless) against `apigw-ws dev`, on the task-progress page: its task's messages are published to
// the task's channel with history, so a page that was away gets what it missed, once each and in
// order; when the history no longer has it, the page refetches the task's state.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { launch, loggedIn, screenshot, startDev, waitOpen } from './harness.js';

const run = promisify(execFile);
let dev;
let browser;

before(async () => {
  dev = await startDev();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  const code = await dev?.stop();
  assert.equal(code, 0, 'apigw-ws dev stops cleanly on Ctrl-C');
});

// progressPage: alice on the progress page, every message and recovery event the app is handed
// recorded in window.seen (after the envelope was removed and duplicates dropped).
async function progressPage() {
  const page = await loggedIn(browser, dev, 'alice', '/app/progress/');
  await page.evaluate(() => {
    window.seen = [];
    window.apigwClient.on('*', (m) => window.seen.push(m));
  });
  return page;
}

// startTask: starts a task of `megabytes` from the page; resolves to its id.
async function startTask(page, megabytes) {
  await page.fill('#mb', String(megabytes));
  await page.click('#start button');
  const card = page.locator('.task').first();
  await card.waitFor();
  return card.getAttribute('data-task');
}

const progressOf = (page, id) =>
  page.evaluate((task) => window.seen.filter((m) => m.type === 'task_progress' && m.task_id === task).map((m) => m.percent), id);

// goAway: closes the page's socket and refuses its reconnects (the token endpoint fails) until
// the returned function is called.
async function goAway(page) {
  await page.route('**/api/ws-token/**', (route) => route.abort());
  await page.evaluate(() => window.apigwClient._ws.close());
  await page.waitForFunction(() => document.body.dataset.wsState !== 'open');
  return () => page.unroute('**/api/ws-token/**');
}

test('a page away for 10 s while its task sends 100 messages gets all of them after reconnecting, once each, in order', async () => {
  const page = await progressPage();
  // 96 MiB: 384 chunks of 256 KiB at about 40 ms each; one message per percent (0..100), then done.
  const id = await startTask(page, 96);
  await page.waitForFunction((task) => window.seen.some((m) => m.task_id === task && m.percent >= 3), id);
  const back = await goAway(page);
  const before = (await progressOf(page, id)).length;
  await new Promise((r) => setTimeout(r, 10000));
  await back();
  await waitOpen(page, 60000);
  await page.waitForFunction((task) => window.seen.some((m) => m.type === 'task_complete' && m.task_id === task), id, {
    timeout: 60000,
  });
  const percents = await progressOf(page, id);
  assert.ok(before < 60, `the page was away for most of the task (it had ${before} messages when it left)`);
  assert.deepEqual(percents, Array.from({ length: 101 }, (_, i) => i), 'every percent once, in order');
  const completes = await page.evaluate((task) => window.seen.filter((m) => m.type === 'task_complete' && m.task_id === task).length, id);
  assert.equal(completes, 1);
  const recovered = await page.evaluate((task) => window.seen.filter((m) => m.type === 'apigw.recovered' && m.channel === `task-${task}`), id);
  assert.deepEqual(recovered.map((m) => m.recovered), [true]);
  assert.equal(await page.evaluate(() => window.seen.some((m) => 'apigw' in m)), false, 'the envelope never reaches the app');
  assert.equal(await page.locator(`.task[data-task="${id}"] progress`).evaluate((b) => b.value), 100);
  await screenshot(page, 'recovery-reconnect');
  await page.context().close();
});

test('when the history no longer has the gap the page is told recovered:false and refetches the task', async () => {
  const page = await progressPage();
  const id = await startTask(page, 8);
  await page.waitForFunction((task) => window.seen.some((m) => m.task_id === task && m.percent >= 1), id);
  const back = await goAway(page);
  // The task finishes while the page is away; then retention drops all but the last message.
  const state = (task) => page.evaluate(async (t) => (await (await fetch(`/api/tasks/${t}`, { credentials: 'same-origin' })).json()).state, task);
  for (const end = Date.now() + 30000; (await state(id)) !== 'done'; ) {
    assert.ok(Date.now() < end, 'the task finishes');
    await new Promise((r) => setTimeout(r, 200));
  }
  const { stdout } = await run(dev.bin, ['--db', dev.db, 'history', 'prune', `task-${id}`, '--max-messages', '1', '--format', 'json']);
  assert.ok(JSON.parse(stdout).deleted > 0);
  await back();
  await waitOpen(page, 60000);
  const card = page.locator(`.task[data-task="${id}"]`);
  await page.waitForFunction((task) => document.querySelector(`.task[data-task="${task}"]`).dataset.refetched === 'true', id, {
    timeout: 30000,
  });
  const recovered = await page.evaluate((task) => window.seen.filter((m) => m.type === 'apigw.recovered' && m.channel === `task-${task}`), id);
  assert.deepEqual(recovered.map((m) => [m.recovered, m.reason]), [[false, 'retention']]);
  await page.waitForFunction((task) => document.querySelector(`.task[data-task="${task}"] progress`).value === 100, id);
  const seen = await page.evaluate(() => JSON.stringify(window.seen.map((m) => [m.type, m.percent, m.recovered])));
  assert.match(await card.textContent(), /sha256/, seen);
  await page.context().close();
});

test('the progress page recovers after a gateway restart', async () => {
  const page = await progressPage();
  const id = await startTask(page, 64);
  await page.waitForFunction((task) => window.seen.some((m) => m.task_id === task && m.percent >= 5), id);
  dev.restartGateway();
  await page.waitForFunction(() => document.body.dataset.wsState !== 'open', null, { timeout: 15000 });
  await waitOpen(page, 60000);
  await page.waitForFunction((task) => window.seen.some((m) => m.type === 'task_complete' && m.task_id === task), id, {
    timeout: 60000,
  });
  const percents = await progressOf(page, id);
  assert.deepEqual(percents, Array.from({ length: 101 }, (_, i) => i), 'every percent once, in order');
  const label = await page.locator(`.task[data-task="${id}"] .label`).textContent();
  assert.match(label, /^100 %/);
  await page.context().close();
});
