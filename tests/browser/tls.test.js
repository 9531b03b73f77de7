// tests/browser/tls.test.js: `apigw-ws dev --tls` in a real browser: the pages over https:// and
// the socket over wss://, with the certificate trusted for real (Chromium is told the dev
// certificate's public key with --ignore-certificate-errors-spki-list, what `dev --tls` prints; no
// ignoreHTTPSErrors), and a message going browser -> gateway -> https backend -> @connections
// over https -> browser.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, loggedIn, startDev } from './harness.js';

let dev;
let browser;
let plain;

// spki: base64 SHA-256 of the certificate's SubjectPublicKeyInfo (Chromium's flag takes these).
function spki(pemFile) {
  const der = new X509Certificate(readFileSync(pemFile)).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

before(async () => {
  dev = await startDev(['--tls']);
  browser = await launch([`--ignore-certificate-errors-spki-list=${spki(join(dev.data, 'tls', 'cert.pem'))}`]);
  plain = await launch();
});

after(async () => {
  await browser?.close();
  await plain?.close();
  const code = await dev?.stop();
  assert.equal(code, 0, 'apigw-ws dev --tls stops cleanly on Ctrl-C');
});

test('dev --tls prints https and wss URLs', () => {
  assert.match(dev.url, /^https:\/\/127\.0\.0\.1:\d+\/$/);
  assert.match(dev.gateway, /^wss:\/\/127\.0\.0\.1:\d+\/dev$/);
});

test('a page over https connects over wss and chats through the gateway', async () => {
  const alice = await loggedIn(browser, dev, 'alice', '/app/chat/');
  assert.equal(await alice.evaluate(() => location.protocol), 'https:');
  const config = await alice.evaluate(async () => (await (await fetch('/api/ws-config/')).json()).url);
  assert.match(config, /^wss:\/\//);
  // The session cookie is Secure over https.
  const cookies = await alice.context().cookies();
  assert.ok(cookies.length > 0 && cookies.every((c) => c.secure), JSON.stringify(cookies));
  await alice.waitForSelector('#room-title:text("# general")');
  await alice.fill('#text', 'hello over wss');
  await alice.click('#say button');
  await alice.waitForSelector('#messages li:has-text("hello over wss")');
  await alice.context().close();
});

test('a browser that does not trust the certificate gets no page', async () => {
  const context = await plain.newContext();
  const page = await context.newPage();
  await assert.rejects(page.goto(dev.url), /ERR_CERT_AUTHORITY_INVALID/);
  await context.close();
});
