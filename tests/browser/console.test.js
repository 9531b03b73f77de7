// tests/browser/console.test.js: the operator console in a real browser against `apigw-ws dev`:
// alice (admin) finds bob's connected page, counts and sends him a toast, reads the delivery
// report, kicks him (his page's socket closes), and sees the live charts drawn from real samples
// (a channel's messages per second among them);
// bob (no admin permission) is refused by the API, writes without the CSRF token are refused too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { browser, dev, loggedIn, screenshot, useDevAndBrowser } from './harness.js';


useDevAndBrowser();

const closeAll = (...pages) => Promise.all(pages.map((p) => p.context().close()));

test('an admin finds a session, messages it, kicks it, and watches the charts', async () => {
  const bob = await loggedIn(browser, dev, 'bob', '/app/dashboard/');
  await bob.evaluate(() => {
    window.seen = [];
    window.apigwClient.onState((s) => window.seen.push(s));
  });
  const alice = await loggedIn(browser, dev, 'alice', '/app/console/');

  // Only bob's sessions, via the filter form.
  await alice.fill('#filters input[name=user]', 'bob');
  await alice.click('#filters button[type=submit]');
  const row = alice.locator('#sessions tr', { hasText: 'bob' });
  await row.first().waitFor();
  assert.equal(await alice.locator('#sessions tr').count(), 1, 'one session of bob');
  assert.match(await row.textContent(), /dashboard/, 'his channel is listed');
  // A channel filter that does not match shows nothing.
  await alice.fill('#filters input[name=channel]', 'chat');
  await alice.click('#filters button[type=submit]');
  await alice.waitForFunction(() => document.getElementById('sessions').children.length === 0);
  await alice.fill('#filters input[name=channel]', 'dashboard');
  await alice.click('#filters button[type=submit]');
  await row.first().waitFor();

  // Detail panel, then "message this session": the preview counts one recipient.
  await row.locator('button').click();
  await alice.waitForSelector('#detail-card:not([hidden])');
  const connectionId = await alice.getAttribute('#detail', 'data-connection-id');
  assert.ok(connectionId, 'the detail names the connection');
  assert.match(await alice.textContent('#detail'), /bob/);
  await alice.click('#message-session');
  await alice.waitForFunction(() => document.getElementById('preview').dataset.recipients === '1');
  await alice.fill('#send input[name=title]', 'From the console');
  await alice.fill('#send input[name=message]', 'Please save your work');
  await alice.click('#send button[type=submit]');
  await alice.waitForSelector('#send-result:has-text("1 delivered, 0 gone, 0 failed")');
  await bob.locator('.apigw-toast:has-text("Please save your work")').waitFor();

  // A channel preview equals what the send then delivers.
  await alice.selectOption('#send select[name=target]', 'channel');
  await alice.fill('#send input[name=value]', 'dashboard');
  await alice.waitForFunction(() => document.getElementById('preview').dataset.recipients === '1');

  // The charts draw real samples: at least two points, and bob's dashboard channel in the table.
  await alice.waitForFunction(() => Number(document.getElementById('chart-connections').dataset.points) >= 2, null, { timeout: 10000 });
  // Samples taken before the page first read the stats hold no count (null, a gap): the line starts
  // once the console is watched.
  await alice.waitForSelector('#chart-connections polyline', { state: 'attached', timeout: 10000 });
  await alice.waitForFunction(() => document.querySelector('#channels tr[data-channel="dashboard"] td:nth-child(2)')?.textContent === '1');
  await alice.fill('#send input[name=message]', 'Deploy at 18:00');
  await alice.click('#send button[type=submit]');
  await alice.waitForSelector('#send-result:has-text("1 delivered")');
  // That send went to the dashboard channel: its messages-per-second series records it, and the
  // table draws that series beside the channel.
  await alice.waitForFunction(async () => {
    const s = await fetch('/api/console/stats').then((r) => r.json());
    return Math.max(0, ...(s.channel_messages_per_s?.dashboard ?? [])) > 0;
  }, null, { timeout: 10000, polling: 500 });
  await alice.waitForSelector('#channels tr[data-channel="dashboard"] polyline[data-series="dashboard messages"]');
  await alice.evaluate(() => window.scrollTo(0, 0));
  await screenshot(alice, 'console');

  // Kick: confirmed, then bob's socket is closed by the gateway and the session is disconnected.
  alice.once('dialog', (d) => d.accept());
  await alice.click('#kick');
  await alice.waitForSelector(`#kick-result:has-text("Kicked ${connectionId}")`);
  await bob.waitForFunction(() => window.seen.some((s) => s !== 'open'), null, { timeout: 15000 });
  const detail = await alice.evaluate(async (id) => {
    const list = await fetch('/api/console/sessions?connected=no&user=bob').then((r) => r.json());
    return list.sessions.find((s) => s.connection_id === id);
  }, connectionId);
  assert.equal(detail?.connected, false, 'the kicked session is marked disconnected');
  await closeAll(alice, bob);
});

test('a system banner to everyone reaches visitors who are not logged in; the audit lists it', async () => {
  const alice = await loggedIn(browser, dev, 'alice', '/app/console/');
  const visitorContext = await browser.newContext({ viewport: { width: 1100, height: 720 } });
  const visitor = await visitorContext.newPage();
  await visitor.goto(new URL('/', dev.url).toString());
  await visitor.waitForSelector('#login');
  assert.equal(await visitor.locator('#apigw-banner:not([hidden])').count(), 0, 'no notice yet');

  await alice.selectOption('#send select[name=target]', 'everyone');
  await alice.selectOption('#send select[name=kind]', 'system');
  await alice.selectOption('#send select[name=level]', 'warning');
  await alice.fill('#send input[name=message]', 'Maintenance at 18:00 UTC');
  await alice.click('#send button[type=submit]');
  await alice.waitForSelector('#send-result:has-text("delivered")');
  // The audit list names who did it, what and the outcome, newest first. (The list is reloaded just
  // after the report is shown, and the earlier tests' actions are in it: wait for this one on top.)
  await alice.waitForSelector('#audit tr:first-child:has-text("Maintenance at 18:00 UTC")');
  assert.match(await alice.locator('#audit tr').first().textContent(), /alice.*system: Maintenance at 18:00 UTC.*everyone.*delivered/);

  // The visitor has no socket: the login page fetches the notice, and Dismiss keeps it hidden in this tab.
  await visitor.reload();
  await visitor.waitForSelector('#apigw-banner:not([hidden]):has-text("Maintenance at 18:00 UTC")');
  await visitor.click('#apigw-banner button');
  assert.equal(await visitor.locator('#apigw-banner:not([hidden])').count(), 0);
  await visitor.reload();
  await visitor.waitForSelector('#login');
  await visitor.waitForLoadState('networkidle');
  assert.equal(await visitor.locator('#apigw-banner:not([hidden])').count(), 0, 'dismissed stays dismissed');
  // The notice is public, but nothing else is: the console's audit is not.
  const refused = await visitor.evaluate(() => fetch('/api/console/audit').then((r) => r.status));
  assert.equal(refused, 401);
  await closeAll(alice, visitor);
});

test('at 360 px the console fits the screen; its session table scrolls inside its card', async () => {
  const alice = await loggedIn(browser, dev, 'alice', '/app/console/', { viewport: { width: 360, height: 780 } });
  await alice.waitForSelector('#sessions tr button');
  // Attached, not visible: a flat line (the same count every second) has no height.
  await alice.waitForSelector('#chart-connections polyline', { state: 'attached' });
  const widths = await alice.evaluate(() => ({
    page: document.documentElement.scrollWidth,
    viewport: document.documentElement.clientWidth,
    card: document.getElementById('sessions-scroll').clientWidth,
  }));
  assert.ok(widths.page <= widths.viewport, `no sideways scrolling: ${JSON.stringify(widths)}`);
  assert.ok(widths.card <= widths.viewport);
  // Keyboard: Tab reaches the row's Details button and Enter opens the detail, focused.
  await alice.focus('#sessions tr button');
  await alice.keyboard.press('Enter');
  await alice.waitForFunction(() => document.activeElement?.id === 'detail-title');
  await closeAll(alice);
});

test('the console refuses non-admins and writes without the CSRF token', async () => {
  const bob = await loggedIn(browser, dev, 'bob', '/app/console/');
  await bob.waitForSelector('#console-error:has-text("admins only")');
  const status = await bob.evaluate(() => fetch('/api/console/sessions').then((r) => r.status));
  assert.equal(status, 403);
  const bobSend = await bob.evaluate(async () => {
    const me = await fetch('/api/me/').then((r) => r.json());
    const r = await fetch('/api/console/send', {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.csrf_token },
      body: JSON.stringify({ target: 'everyone', kind: 'toast', message: 'x' }),
    });
    return r.status;
  });
  assert.equal(bobSend, 403);
  // The landing page lists the console for admins only.
  await bob.goto(new URL('/', dev.url).toString());
  await bob.waitForFunction(() => document.body.dataset.wsState === 'open');
  assert.equal(await bob.locator('#console-link').isHidden(), true);

  const alice = await loggedIn(browser, dev, 'alice', '/');
  await alice.waitForSelector('#console-link:not([hidden])');
  const noCsrf = await alice.evaluate(() => fetch('/api/console/kick', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ connection_id: 'x' }),
  }).then((r) => r.status));
  assert.equal(noCsrf, 403);
  const anon = await (await fetch(new URL('/api/console/stats', dev.url))).status;
  assert.equal(anon, 401);
  await closeAll(bob, alice);
});
