// tests/browser/apps.test.js: the example apps in a real browser (Debian's chromium, headless),
// against `apigw-ws dev`: every message goes browser -> local gateway -> backend over HTTP and back
// through @connections. Two users, alice (admin) and bob, each in their own browser context.
// Screenshots of each app go to APIGW_SCREENSHOT_DIR.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { browser, dev, loggedIn, screenshot, useDevAndBrowser, waitOpen } from './harness.js';

const run = promisify(execFile);

useDevAndBrowser();

const closeAll = (...pages) => Promise.all(pages.map((p) => p.context().close()));

test('the landing page links every app and shows the connection', async () => {
  const page = await loggedIn(browser, dev, 'alice', '/');
  for (const href of ['/app/chat/', '/app/notifications/', '/app/progress/', '/app/dashboard/']) {
    assert.equal(await page.locator(`main a[href="${href}"]`).count(), 1, href);
  }
  await page.waitForFunction(() => document.getElementById('home-state').textContent === 'open');
  await screenshot(page, 'home');
  await closeAll(page);
});

test('two browsers chat in a room; errors go to the sender only', async () => {
  const alice = await loggedIn(browser, dev, 'alice', '/app/chat/');
  const bob = await loggedIn(browser, dev, 'bob', '/app/chat/');
  for (const p of [alice, bob]) await p.waitForSelector('#room-title:text("# general")');
  await alice.waitForFunction(() => document.getElementById('presence').textContent.includes('bob'));

  await alice.fill('#text', 'hello bob');
  await alice.click('#say button');
  await bob.waitForSelector('#messages li:has-text("hello bob")');
  await bob.fill('#text', 'hi alice');
  await bob.press('#text', 'Enter');
  await alice.waitForSelector('#messages li:has-text("hi alice")');

  await alice.fill('#text', '   ');
  await alice.click('#say button');
  await alice.waitForSelector('#chat-error:text("Message is empty")');
  await alice.fill('#text', 'x'.repeat(501));
  await alice.click('#say button');
  await alice.waitForSelector('#chat-error:text("longer than 500")');
  assert.equal(await bob.textContent('#chat-error'), '');
  await screenshot(alice, 'chat');
  await closeAll(alice, bob);
});

test('switching rooms moves the session without reconnecting; joining shows the history', async () => {
  const alice = await loggedIn(browser, dev, 'alice', '/app/chat/');
  const bob = await loggedIn(browser, dev, 'bob', '/app/chat/');
  await bob.waitForSelector('#room-title:text("# general")');
  const connects = await bob.evaluate(() => {
    window.stateChanges = 0;
    window.apigwClient.onState(() => (window.stateChanges += 1));
  });
  void connects;
  await bob.click('#rooms button[data-room="random"]');
  await bob.waitForSelector('#room-title:text("# random")');
  await bob.fill('#text', 'anyone in random?');
  await bob.click('#say button');
  await bob.waitForSelector('#messages li:has-text("anyone in random?")');

  await alice.fill('#text', 'only in general');
  await alice.click('#say button');
  await alice.waitForSelector('#messages li:has-text("only in general")');
  await alice.click('#rooms button[data-room="random"]');
  await alice.waitForSelector('#messages li:has-text("anyone in random?")');  // the room's history
  await alice.waitForFunction(() => document.getElementById('presence').textContent.includes('bob'));
  assert.equal(await bob.locator('#messages li:has-text("only in general")').count(), 0);
  assert.equal(await bob.evaluate(() => window.stateChanges), 0, 'no reconnect');
  await closeAll(alice, bob);
});

test('a toast appears for the user it was sent to; only admins notify everyone', async () => {
  const alice = await loggedIn(browser, dev, 'alice', '/app/notifications/');
  const bob = await loggedIn(browser, dev, 'bob', '/');
  await alice.selectOption('#to', 'user');
  await alice.fill('#username', 'bob');
  await alice.selectOption('#level', 'success');
  await alice.fill('#title', 'Order shipped');
  await alice.fill('#message', 'Your keyboard is on its way.');
  await alice.fill('#action', '/app/dashboard/');
  await alice.click('#send');
  const toast = bob.locator('.apigw-toast-success:has-text("Order shipped")');
  await toast.waitFor();
  assert.equal(await toast.locator('a').getAttribute('href'), '/app/dashboard/');
  await alice.waitForSelector('#result:text("Delivered to 1 tab(s).")');

  const bobNotify = await loggedIn(browser, dev, 'bob', '/app/notifications/');
  assert.equal(await bobNotify.locator('#to option[value="everyone"]').count(), 0, 'bob is not offered everyone');
  await bobNotify.evaluate(() => window.apigwClient.send('notify', { to: 'everyone', title: 'x', message: 'y' }));
  await bobNotify.waitForSelector('#result.notice-error:text("Only admins may notify everyone")');

  await alice.selectOption('#to', 'everyone');
  await alice.selectOption('#level', 'warning');
  await alice.fill('#title', 'Heads up');
  await alice.click('#send');
  await bob.locator('.apigw-toast-warning:has-text("Heads up")').waitFor();
  await alice.locator('.apigw-toast-warning:has-text("Heads up")').waitFor();
  await screenshot(alice, 'notifications');
  await closeAll(alice, bob, bobNotify);
});

test('progress bars of several tasks reach 100 % with a result link', async () => {
  const page = await loggedIn(browser, dev, 'alice', '/app/progress/');
  await page.fill('#mb', '4');
  await page.click('#start button');
  await page.fill('#mb', '8');
  await page.click('#start button');
  await page.waitForFunction(() => document.querySelectorAll('.task').length === 2);
  await page.waitForFunction(() => [...document.querySelectorAll('.task progress')].some((p) => p.value > 0 && p.value < 100));
  await screenshot(page, 'progress');
  await page.waitForFunction(() => [...document.querySelectorAll('.task')].every((t) => t.querySelector('progress').value === 100 && t.querySelector('.result a')), null, { timeout: 30000 });
  const link = await page.locator('.task .result a').first().getAttribute('href');
  const result = await page.evaluate((url) => fetch(url).then((r) => r.json()), link);
  assert.equal(result.state, 'done');
  assert.match(result.sha256, /^[0-9a-f]{64}$/);
  await closeAll(page);
});

test('an edit in one browser updates that row in the other; session counts are live', async () => {
  const alice = await loggedIn(browser, dev, 'alice', '/app/dashboard/');
  const bob = await loggedIn(browser, dev, 'bob', '/app/dashboard/');
  await alice.waitForSelector('#order-3');
  await alice.waitForFunction(() => document.querySelector('#counts [data-channel="dashboard"] b')?.textContent === '2');
  const fetched = [];
  bob.on('request', (r) => r.url().includes('/api/orders/') && fetched.push(new URL(r.url()).pathname));
  await alice.selectOption('#order-3 select', 'shipped');
  await bob.waitForFunction(() => document.querySelector('#order-3 select').value === 'shipped');
  await alice.fill('#order-5 input', '7');
  await alice.press('#order-5 input', 'Tab');
  await bob.waitForFunction(() => document.querySelector('#order-5 input').value === '7');
  assert.deepEqual(fetched, ['/api/orders/3', '/api/orders/5'], 'bob refetched the changed rows only');
  await screenshot(bob, 'dashboard');

  // Stale connections: closing bob's tab ends his session ($disconnect), and the count drops.
  await bob.context().close();
  await alice.waitForFunction(() => document.querySelector('#counts [data-channel="dashboard"] b')?.textContent === '1');
  await closeAll(alice);
});

test('apigw-ws send --all from a shell shows the maintenance banner on every open page', async () => {
  const pages = [await loggedIn(browser, dev, 'alice', '/app/chat/'), await loggedIn(browser, dev, 'bob', '/app/dashboard/')];
  const message = JSON.stringify({ type: 'system', level: 'warning', message: 'Maintenance at 18:00 UTC' });
  await run(dev.bin, ['--db', dev.db, 'send', '--all', '--json', message]);
  for (const p of pages) await p.waitForSelector('#apigw-banner:has-text("Maintenance at 18:00 UTC")');
  await screenshot(pages[1], 'admin-broadcast');
  await closeAll(...pages);
});

test('apigw-ws send --durable is sent by the job worker apigw-ws dev runs, once per page', async () => {
  const alice = await loggedIn(browser, dev, 'alice', '/app/notifications/');
  await alice.evaluate(() => {
    window.toasts = [];
    window.apigwClient.on('toast', (m) => window.toasts.push(m.message));
  });
  const message = JSON.stringify({ type: 'toast', level: 'info', title: 'Jobs', message: 'Recorded first, then sent' });
  const { stdout } = await run(dev.bin, ['--db', dev.db, 'send', '--user', 'alice', '--durable', '--format', 'json', '--json', message]);
  const job = JSON.parse(stdout);
  await alice.locator('.apigw-toast:has-text("Recorded first, then sent")').waitFor({ timeout: 15000 });
  // The job's report, read back through the CLI, counts the delivery.
  let shown;
  for (let i = 0; i < 50; i += 1) {
    shown = JSON.parse((await run(dev.bin, ['--db', dev.db, 'jobs', 'show', String(job.job), '--format', 'json'])).stdout);
    if (shown.state === 'done') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(shown.state, 'done', JSON.stringify(shown));
  assert.ok(shown.delivered >= 1, JSON.stringify(shown));
  // The browser client dropped nothing and showed it once (the job's id is stripped with the envelope).
  assert.deepEqual(await alice.evaluate(() => window.toasts), ['Recorded first, then sent']);
  await closeAll(alice);
});

test('the client recovers by itself after the gateway restarts', async () => {
  const alice = await loggedIn(browser, dev, 'alice', '/app/chat/');
  const bob = await loggedIn(browser, dev, 'bob', '/app/chat/');
  for (const p of [alice, bob]) {
    await p.evaluate(() => {
      window.seen = [];
      window.apigwClient.onState((s) => window.seen.push(s));
      document.getElementById('presence').replaceChildren();
    });
  }
  dev.restartGateway();
  for (const p of [alice, bob]) {
    await p.waitForFunction(() => window.seen.includes('reconnecting'), null, { timeout: 15000 });
    await waitOpen(p, 30000);
  }
  // Both are back in the room: each page rejoined it on its own after reconnecting.
  for (const [p, other] of [[alice, 'bob'], [bob, 'alice']]) {
    await p.waitForFunction((name) => document.getElementById('presence').textContent.includes(name), other);
  }
  await alice.fill('#text', 'back again');
  await alice.click('#say button');
  await bob.waitForSelector('#messages li:has-text("back again")');
  await closeAll(alice, bob);
});
