// tests/browser/ui.test.js: the example pages hold up on any screen and any input, in a real
// browser (Debian's chromium) against `apigw-ws dev`: long unbroken words, tokens and URLs wrap;
// lengths are Unicode code points on both sides; errors clear; phone widths from 360 px; refusals
// look like errors and forbidden options are not offered; the banner can be dismissed; the landing
// page's command is the running instance's; times carry the viewer's zone; keyboard, labels, live
// regions and WCAG AA (axe-core, run locally from node_modules).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { browser, dev, loggedIn, screenshot, useDevAndBrowser } from './harness.js';

const run = promisify(execFile);
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

// Many more page loads a minute than a person makes, all from 127.0.0.1: above the default
// connect limit (20 a minute per address), which is not what these tests are about.
useDevAndBrowser(['--connect-limit', '1000']);

const closeAll = (...pages) => Promise.all(pages.map((p) => p.context().close()));
// The console is for admins: alice sees all of it; bob (the phone-width test) sees its refusal.
const PAGES = ['/', '/app/chat/', '/app/notifications/', '/app/progress/', '/app/dashboard/', '/app/console/'];

// The inputs of issue 15: a 500-character word and a pasted 211-character JWT; and a long URL.
const LONG_WORD = 'y'.repeat(500);
const JWT = (
  'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIy' +
  'LCJleHAiOjE5MTYyMzkwMjIsInNjb3BlIjoiY2hhdCBub3RpZnkifQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5cAAAAAAAAAAAAA'
).slice(0, 211);
// 403 characters: a long URL that still fits the 500-character limit.
const LONG_URL = `https://example.com/${'path-segment/'.repeat(20)}?q=${'z'.repeat(120)}`;

// noPageOverflow: the document is no wider than the viewport (no sideways scrolling).
async function noPageOverflow(page, what) {
  const m = await page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: document.documentElement.clientWidth,
  }));
  assert.ok(m.scroll <= m.width, `${what}: the page is ${m.scroll} px wide in a ${m.width} px viewport`);
}

// insideViewport: the element is rendered and lies within the viewport horizontally.
async function insideViewport(page, selector, what) {
  const r = await page.locator(selector).first().evaluate((el) => {
    const b = el.getBoundingClientRect();
    return { left: b.left, right: b.right, width: b.width, viewport: document.documentElement.clientWidth };
  });
  assert.ok(r.width > 0, `${what}: ${selector} is rendered`);
  assert.ok(r.left >= 0 && r.right <= r.viewport + 0.5, `${what}: ${selector} spans ${r.left}..${r.right} of ${r.viewport} px`);
}

async function say(page, text) {
  await page.fill('#text', text);
  await page.click('#say button');
}

test('an empty room says so; messages show when they were said', async () => {
  const alice = await loggedIn(browser, dev, 'alice', '/app/chat/');
  await alice.waitForSelector('#room-title:text("# general")');
  await alice.click('#rooms button[data-room="help"]');
  await alice.waitForSelector('#room-title:text("# help")');
  await alice.waitForSelector('#messages-empty:visible');
  await say(alice, 'is anyone here?');
  const li = alice.locator('#messages li:has-text("is anyone here?")');
  await li.waitFor();
  assert.equal(await alice.isVisible('#messages-empty'), false, 'the empty state goes with the first message');
  const sentAt = await li.locator('time').getAttribute('datetime');
  assert.ok(Math.abs(Date.parse(sentAt) - Date.now()) < 60000, `sent_at ${sentAt} is now`);
  assert.match(await li.locator('time').textContent(), /\d{1,2}:\d{2}/);
  await closeAll(alice);
});

for (const width of [1280, 360]) {
  test(`long words, tokens and URLs wrap at ${width} px: chat, toasts and the landing page`, async () => {
    const viewport = { width, height: 800 };
    const alice = await loggedIn(browser, dev, 'alice', '/app/chat/', { viewport });
    const bob = await loggedIn(browser, dev, 'bob', '/app/chat/', { viewport });
    for (const p of [alice, bob]) await p.waitForSelector('#room-title:text("# general")');
    for (const text of [LONG_WORD, JWT, LONG_URL]) {
      await say(alice, text);
      await bob.waitForFunction((t) => [...document.querySelectorAll('#messages li')].some((li) => li.textContent.endsWith(t)), text);
    }
    for (const [p, who] of [[alice, 'alice'], [bob, 'bob']]) {
      await noPageOverflow(p, `chat of ${who} at ${width} px`);
      await insideViewport(p, '#say button', `chat of ${who} at ${width} px`);
      await insideViewport(p, '#presence', `chat of ${who} at ${width} px`);
      // Text that overflows its box does not widen the box: compare what it would need to scroll.
      const spill = await p.evaluate(() =>
        [document.getElementById('messages'), ...document.querySelectorAll('#messages li')].filter((el) => el.scrollWidth > el.clientWidth).length);
      assert.equal(spill, 0, `every message of ${who} wraps inside the message list`);
    }

    // A toast with the same inputs.
    const notify = await loggedIn(browser, dev, 'alice', '/app/notifications/', { viewport });
    await notify.fill('#title', JWT);
    await notify.fill('#message', `${LONG_WORD} ${LONG_URL}`);
    await notify.fill('#timeout', '60000');
    await notify.click('#send');
    await notify.locator('.apigw-toast').first().waitFor();
    await noPageOverflow(notify, `a toast at ${width} px`);
    await insideViewport(notify, '.apigw-toast', `a toast at ${width} px`);
    assert.equal(await notify.evaluate(() => [...document.querySelectorAll('.apigw-toast *')].filter((el) => el.scrollWidth > el.clientWidth).length), 0,
      'the toast\'s text wraps inside it');

    // The landing page: its command wraps inside its card.
    const home = await loggedIn(browser, dev, 'alice', '/', { viewport });
    await home.waitForFunction((db) => document.getElementById('broadcast-command').textContent.includes(db), dev.db);
    await noPageOverflow(home, `the landing page at ${width} px`);
    const pre = await home.evaluate(() => {
      const el = document.getElementById('broadcast-command');
      return { scroll: el.scrollWidth, client: el.clientWidth, right: el.getBoundingClientRect().right, card: el.closest('.card').getBoundingClientRect().right };
    });
    assert.ok(pre.scroll <= pre.client && pre.right <= pre.card, `the command stays in its card: ${JSON.stringify(pre)}`);
    await closeAll(alice, bob, notify, home);
  });
}

test('lengths are Unicode code points on both sides, and the limit shows as you type', async () => {
  const alice = await loggedIn(browser, dev, 'alice', '/app/chat/');
  const bob = await loggedIn(browser, dev, 'bob', '/app/chat/');
  for (const p of [alice, bob]) await p.waitForSelector('#room-title:text("# general")');

  await alice.fill('#text', 'ж'.repeat(300)); // 600 bytes of UTF-8
  assert.equal(await alice.textContent('#text-count'), '300 / 500');
  await alice.click('#say button');
  await bob.waitForFunction(() => [...document.querySelectorAll('#messages li')].some((li) => li.textContent.endsWith('ж'.repeat(300))));
  // 500 emoji: 500 code points, 1000 UTF-16 units, 2000 bytes: accepted by both sides.
  await say(alice, '😀'.repeat(500));
  await bob.waitForFunction(() => [...document.querySelectorAll('#messages li')].some((li) => li.textContent.endsWith('😀'.repeat(500))));
  assert.equal(await alice.textContent('#chat-error'), '');

  // 501 code points: the page refuses before sending and keeps the text to edit ...
  await alice.fill('#text', 'ж'.repeat(501));
  assert.equal(await alice.textContent('#text-count'), '501 / 500');
  assert.ok(await alice.locator('#text-count.over').count(), 'the counter turns red over the limit');
  await alice.click('#say button');
  await alice.waitForSelector('#chat-error:text("Message is longer than 500 characters")');
  assert.equal(await alice.inputValue('#text'), 'ж'.repeat(501));
  // ... and the backend refuses it too, when a client skips the page's check.
  await alice.fill('#text', '');
  await alice.evaluate(() => (document.getElementById('chat-error').textContent = ''));
  await alice.evaluate(() => window.apigwClient.send('chat_say', { room: 'general', text: '😀'.repeat(501) }));
  await alice.waitForSelector('#chat-error:text("Message is longer than 500 characters")');
  const refusedSeen = await bob.evaluate(() =>
    [...document.querySelectorAll('#messages li')].some((li) => li.textContent.endsWith('😀'.repeat(501))));
  assert.equal(refusedSeen, false, 'the refused message reached nobody');
  await closeAll(alice, bob);
});

test('a validation error clears once the next message got through', async () => {
  const alice = await loggedIn(browser, dev, 'alice', '/app/chat/');
  await alice.waitForSelector('#room-title:text("# general")');
  await say(alice, '   ');
  await alice.waitForSelector('#chat-error:text("Message is empty")');
  assert.equal(await alice.isVisible('#chat-error'), true);
  await say(alice, 'this one is fine');
  await alice.waitForSelector('#messages li:has-text("this one is fine")');
  assert.equal(await alice.textContent('#chat-error'), '');
  assert.equal(await alice.isVisible('#chat-error'), false);
  await closeAll(alice);
});

for (const width of [390, 360]) {
  test(`phone width ${width} px: the header spans the page, the name is readable, chat stacks, tables scroll in their card`, async () => {
    const page = await loggedIn(browser, dev, 'bob', '/', { viewport: { width, height: 780 } });
    for (const path of PAGES) {
      await page.goto(new URL(path, dev.url).toString());
      await page.waitForFunction(() => document.body.dataset.wsState === 'open');
      if (path === '/app/dashboard/') await page.waitForSelector('#order-6');
      await noPageOverflow(page, `${path} at ${width} px`);
      const h = await page.evaluate(() => {
        const header = document.querySelector('header').getBoundingClientRect();
        const me = document.getElementById('me');
        const name = me.getBoundingClientRect();
        return {
          header: header.width,
          viewport: document.documentElement.clientWidth,
          nameInside: name.left >= header.left && name.right <= header.right && name.top >= header.top && name.bottom <= header.bottom,
          color: getComputedStyle(me).color,
          background: getComputedStyle(document.querySelector('header')).backgroundColor,
        };
      });
      assert.equal(h.header, h.viewport, `${path}: the header is as wide as the viewport`);
      assert.ok(h.nameInside, `${path}: the user name sits on the dark header`);
      assert.deepEqual([h.color, h.background], ['rgb(255, 255, 255)', 'rgb(17, 24, 39)'], `${path}: white on dark`);
    }

    await page.goto(new URL('/app/chat/', dev.url).toString());
    await page.waitForSelector('#room-title:text("# general")');
    const columns = await page.evaluate(() => [...document.querySelector('.chat').children].map((c) => {
      const b = c.getBoundingClientRect();
      return { left: Math.round(b.left), top: b.top, bottom: b.bottom };
    }));
    assert.equal(new Set(columns.map((c) => c.left)).size, 1, `the chat columns stack: ${JSON.stringify(columns)}`);
    for (let i = 1; i < columns.length; ++i) assert.ok(columns[i].top >= columns[i - 1].bottom, 'one below the other');
    await insideViewport(page, '#say button', `chat at ${width} px`);

    await page.goto(new URL('/app/dashboard/', dev.url).toString());
    await page.waitForSelector('#order-6');
    await insideViewport(page, '.table-scroll', `dashboard at ${width} px`);
    if (width === 390) {
      // The README's pictures: bob's own connection counted first, then the landing page too.
      await page.waitForFunction(() => document.querySelector('#counts [data-channel="dashboard"] b')?.textContent !== '0');
      await screenshot(page, 'dashboard-phone');
      await page.goto(new URL('/', dev.url).toString());
      await page.waitForFunction(() => document.body.dataset.wsState === 'open');
      await screenshot(page, 'home-phone');
    }
    await closeAll(page);
  });
}

test('refusals look like errors, and bob is not offered "everyone"', async () => {
  const alice = await loggedIn(browser, dev, 'alice', '/app/notifications/');
  const bob = await loggedIn(browser, dev, 'bob', '/app/notifications/');
  assert.equal(await alice.locator('#to option[value="everyone"]').count(), 1, 'alice (admin) is offered everyone');
  assert.equal(await bob.locator('#to option[value="everyone"]').count(), 0, 'bob is not');
  // The backend still refuses a client that sends it anyway, and the page shows it as an error.
  await bob.evaluate(() => window.apigwClient.send('notify', { to: 'everyone', level: 'info', title: 't', message: 'm' }));
  await bob.waitForSelector('#result.notice-error:text("Only admins may notify everyone")');
  const style = await bob.evaluate(() => getComputedStyle(document.getElementById('result')).color);
  assert.equal(style, 'rgb(185, 28, 28)', 'the refusal is red');
  await bob.selectOption('#to', 'me');
  await bob.click('#send');
  await bob.waitForSelector('#result.notice-ok:text("Delivered to")');
  await closeAll(alice, bob);
});

test('the landing page shows the command for this instance, and that command works; the banner can be dismissed', async () => {
  const home = await loggedIn(browser, dev, 'alice', '/');
  const chat = await loggedIn(browser, dev, 'bob', '/app/chat/');
  await home.waitForFunction((db) => document.getElementById('broadcast-command').textContent.includes(db), dev.db);
  const command = await home.textContent('#broadcast-command');
  assert.ok(!command.includes('apigw-dev-data'), command);
  // Run exactly what the page shows, pasted into a shell: the banner reaches both pages. (The build
  // folder is not on PATH here, so the page must name the binary by its path.)
  const sent = await run('/bin/sh', ['-c', command]);
  assert.match(sent.stdout, /delivered\s+2\b/, sent.stdout);
  for (const p of [home, chat]) await p.waitForSelector('#apigw-banner:has-text("Maintenance at 18:00")');
  await chat.click('#apigw-banner button');
  assert.equal(await chat.isVisible('#apigw-banner'), false, 'dismissed');
  assert.equal(await home.isVisible('#apigw-banner'), true, 'only where it was dismissed');
  const again = JSON.stringify({ type: 'system', level: 'error', message: 'Maintenance starts now' });
  await run(dev.bin, ['--db', dev.db, 'send', '--all', '--json', again]);
  await chat.waitForSelector('#apigw-banner:has-text("Maintenance starts now")');
  await closeAll(home, chat);
});

test('dashboard times are in the viewer\'s time zone, with the zone', async () => {
  const page = await loggedIn(browser, dev, 'alice', '/app/dashboard/', { timezoneId: 'Asia/Kolkata', locale: 'en-US' });
  await page.waitForSelector('#order-1 time');
  const t = await page.evaluate(() => {
    const el = document.querySelector('#order-1 time');
    return { iso: el.dateTime, text: el.textContent };
  });
  assert.match(t.iso, /Z$/, 'the instant is UTC');
  assert.match(t.text, /GMT\+5:30/, `the zone is shown: ${t.text}`);
  const local = new Date(Date.parse(t.iso) + 330 * 60000);
  const hh = local.getUTCHours() % 12 || 12;
  const mm = String(local.getUTCMinutes()).padStart(2, '0');
  assert.ok(t.text.includes(`${hh}:${mm}`), `${t.text} shows ${hh}:${mm} Kolkata time for ${t.iso}`);
  await closeAll(page);
});

test('keyboard only: log in, chat and dismiss a toast; focus is visible', async () => {
  const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
  const page = await context.newPage();
  await page.goto(new URL('/app/chat/', dev.url).toString());
  await page.waitForSelector('#login');
  // Tab order: the header's links first, then the form.
  await page.focus('input[name=username]');
  await page.keyboard.type('bob');
  await page.keyboard.press('Tab');
  await page.keyboard.type(dev.password('bob'));
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.body.dataset.wsState === 'open');
  await page.waitForSelector('#room-title:text("# general")');

  // From the room buttons to the message field with Tab only, then Enter sends.
  await page.focus('#rooms button[data-room="general"]');
  await page.keyboard.press('Tab'); // random
  await page.keyboard.press('Enter');
  await page.waitForSelector('#room-title:text("# random")');
  const outline = await page.evaluate(() => {
    const s = getComputedStyle(document.activeElement);
    return { tag: document.activeElement.dataset.room, style: s.outlineStyle, width: parseFloat(s.outlineWidth) };
  });
  assert.equal(outline.tag, 'random');
  assert.ok(outline.style !== 'none' && outline.width >= 2, `a visible focus ring: ${JSON.stringify(outline)}`);
  for (let i = 0; i < 10 && (await page.evaluate(() => document.activeElement.id)) !== 'text'; ++i) await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'text', 'the message field is reachable with Tab');
  await page.keyboard.type('typed with the keyboard');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#messages li:has-text("typed with the keyboard")');

  // A toast's close button is a real button with a name, reachable and usable from the keyboard.
  await page.evaluate(() =>
    window.apigwClient.send('notify', { to: 'me', level: 'info', title: 'Keyboard', message: 'close me', timeout_ms: 60000 }));
  const close = page.locator('.apigw-toast:has-text("Keyboard") button');
  await close.waitFor();
  assert.equal(await close.getAttribute('aria-label'), 'Dismiss notification');
  await close.focus();
  await page.keyboard.press('Enter');
  await page.locator('.apigw-toast:has-text("Keyboard")').waitFor({ state: 'detached' });
  await context.close();
});

test('labels and live regions: every control has a name; toasts and incoming chat are announced', async () => {
  const page = await loggedIn(browser, dev, 'alice', '/');
  for (const path of PAGES) {
    await page.goto(new URL(path, dev.url).toString());
    await page.waitForFunction(() => document.body.dataset.wsState === 'open');
    if (path === '/app/dashboard/') await page.waitForSelector('#order-6');
    // Attached, not visible: a flat line (the same count every second) has no height.
    if (path === '/app/console/') await page.waitForSelector('#chart-connections polyline', { state: 'attached' });
    const unnamed = await page.evaluate(() =>
      [...document.querySelectorAll('input, select, button, progress')]
        .filter((el) => !(el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby') ||
          (el.tagName === 'BUTTON' && el.textContent.trim())))
        .map((el) => el.outerHTML.slice(0, 80)));
    assert.deepEqual(unnamed, [], `${path}: controls without a name`);
    assert.equal(await page.getAttribute('.apigw-toasts', 'aria-live'), 'polite', `${path}: toasts are a live region`);
  }
  await page.goto(new URL('/app/chat/', dev.url).toString());
  await page.waitForSelector('#room-title');
  assert.equal(await page.getAttribute('#messages-log', 'role'), 'log');
  assert.equal(await page.getAttribute('#messages-log', 'aria-live'), 'polite');
  assert.equal(await page.locator('#messages-log #messages').count(), 1, 'incoming chat lands in the log');
  assert.equal(await page.getAttribute('#chat-error', 'role'), 'alert');
  await closeAll(page);
});

// axe: WCAG 2 A and AA rules (contrast included) on a page in its current state; [] when clean.
async function axeViolations(page) {
  await page.addScriptTag({ path: AXE });
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
}

test('axe-core finds no WCAG 2.1 A/AA violation on any page (logged out, logged in, with a toast, banner and error)', async () => {
  const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
  const out = await context.newPage();
  await out.goto(new URL('/', dev.url).toString());
  await out.waitForSelector('#login');
  assert.deepEqual(await axeViolations(out), [], 'the login form');
  await context.close();

  const page = await loggedIn(browser, dev, 'alice', '/');
  for (const path of PAGES) {
    await page.goto(new URL(path, dev.url).toString());
    await page.waitForFunction(() => document.body.dataset.wsState === 'open');
    if (path === '/app/dashboard/') await page.waitForSelector('#order-6');
    if (path === '/app/chat/') {
      await page.waitForSelector('#room-title:text("# general")');
      await say(page, '   ');
      await page.waitForSelector('#chat-error:text("Message is empty")');
    }
    if (path === '/app/notifications/') {
      await page.evaluate(() =>
        window.apigwClient.send('notify', { to: 'me', level: 'success', title: 'Saved', message: 'All good', timeout_ms: 60000 }));
      await page.locator('.apigw-toast').waitFor();
    }
    if (path === '/app/progress/') {
      await page.fill('#mb', '1');
      await page.click('#start button');
      await page.waitForSelector('.task .result a', { timeout: 30000 });
    }
    if (path === '/app/console/') {
      await page.waitForSelector('#sessions tr button');
      await page.click('#sessions tr button');
      await page.waitForSelector('#detail-card:not([hidden])');
    }
    if (path === '/app/dashboard/') {
      const message = JSON.stringify({ type: 'system', level: 'warning', message: 'Maintenance at 18:00' });
      await run(dev.bin, ['--db', dev.db, 'send', '--all', '--json', message]);
      await page.waitForSelector('#apigw-banner');
    }
    assert.deepEqual(await axeViolations(page), [], path);
  }
  await closeAll(page);
});
