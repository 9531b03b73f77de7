// tests/browser/xorigin.test.js: a single-page app served from another origin than the backend,
// using the browser client exactly as npm users get it (`npm pack` of web/, unpacked): it reads the
// login and CSRF token from the backend with `credentials: 'include'`, fetches its connect token
// from an absolute `tokenUrl`, connects through the gateway and receives a message sent from a
// shell. `apigw-ws dev --allow-origin` lists the app's origin; a page on an origin not listed is
// refused by the browser (CORS) and by the backend ($connect's Origin check).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { launch, loggedIn, startDev } from './harness.js';

const run = promisify(execFile);

// The app's one page: everything it knows of the backend comes from its query string.
const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>Another origin</title></head>
<body><ul id="got"></ul><script type="module">
import { ApigwClient } from './apigw-ws.js';
const q = new URLSearchParams(location.search);
const backend = q.get('backend');
try {
  const r = await fetch(new URL('/api/me/', backend), { credentials: 'include' });
  if (!r.ok) throw new Error('/api/me/ answered ' + r.status);
  const me = await r.json();
  document.body.dataset.user = me.username;
  const client = new ApigwClient({ url: q.get('gateway'), tokenUrl: new URL('/api/ws-token/', backend).toString(),
                                   credentials: 'include', csrfToken: me.csrf_token });
  client.onState((s) => { document.body.dataset.wsState = s; });
  client.on('*', (m) => {
    const li = document.createElement('li');
    li.textContent = JSON.stringify(m);
    document.getElementById('got').append(li);
  });
  client.start();
} catch (e) {
  document.body.dataset.error = String(e);
}
</script></body></html>`;

let dev;
let browser;
let packDir;
const servers = [];

// serveApp: a static server on 127.0.0.1 (a free port) for the page and the packed client.
async function serveApp(clientJs) {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/app.html') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(PAGE);
    } else if (path === '/apigw-ws.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' }).end(clientJs);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `http://127.0.0.1:${server.address().port}`;
}

let allowed;
let other;

before(async () => {
  // The client as published: npm pack, then the tarball unpacked.
  packDir = mkdtempSync(join(tmpdir(), 'apigw-xorigin-'));
  const web = join(process.env.APIGW_SOURCE_DIR, 'web');
  const [packed] = JSON.parse(
    execFileSync('npm', ['pack', '--json', '--offline', '--pack-destination', packDir, '--loglevel=error'], {
      cwd: web,
      encoding: 'utf8',
    }),
  );
  execFileSync('tar', ['-xzf', join(packDir, packed.filename), '-C', packDir]);
  const clientJs = readFileSync(join(packDir, 'package', 'apigw-ws.js'), 'utf8');
  allowed = await serveApp(clientJs);
  other = await serveApp(clientJs);
  dev = await startDev(['--allow-origin', allowed]);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await dev?.stop();
  for (const s of servers) s.close();
  if (packDir) rmSync(packDir, { recursive: true, force: true });
});

const appUrl = (origin) =>
  `${origin}/app.html?backend=${encodeURIComponent(dev.url)}&gateway=${encodeURIComponent(dev.gateway)}`;

test('a page on an allowed origin logs in by cookie, connects and receives messages', async () => {
  // Log in on the backend's own pages: the session cookie is the backend's (same site, other port).
  const home = await loggedIn(browser, dev, 'alice');
  const page = await home.context().newPage();
  await page.goto(appUrl(allowed));
  await page.waitForFunction(() => document.body.dataset.wsState === 'open' || document.body.dataset.error, null, {
    timeout: 15000,
  });
  assert.equal(await page.evaluate(() => document.body.dataset.error ?? null), null);
  assert.equal(await page.evaluate(() => document.body.dataset.user), 'alice');

  await run(dev.bin, ['--db', dev.db, 'send', '--user', 'alice', '--json', '{"type":"hello","from":"a shell"}']);
  await page.waitForSelector('#got li:has-text("a shell")');
  await home.context().close();
});

test('a page on an origin not allowed cannot read the login or connect', async () => {
  const home = await loggedIn(browser, dev, 'alice');
  const page = await home.context().newPage();
  await page.goto(appUrl(other));
  await page.waitForFunction(() => document.body.dataset.error || document.body.dataset.wsState, null, {
    timeout: 15000,
  });
  // The browser keeps the answer from the page: fetch rejects (no Access-Control-Allow-Origin).
  assert.match(await page.evaluate(() => document.body.dataset.error ?? ''), /TypeError|Failed to fetch/);
  assert.equal(await page.evaluate(() => document.body.dataset.wsState ?? null), null);

  // Even with a valid one-time token (fetched by the allowed app), $connect refuses the socket
  // because of its Origin; the same kind of token opens one from the allowed origin.
  const good = await home.context().newPage();
  await good.goto(appUrl(allowed));
  await good.waitForFunction(() => document.body.dataset.wsState === 'open', null, { timeout: 15000 });
  const token = () =>
    good.evaluate(async (backend) => {
      const me = await (await fetch(new URL('/api/me/', backend), { credentials: 'include' })).json();
      const r = await fetch(new URL('/api/ws-token/', backend), {
        method: 'POST',
        credentials: 'include',
        headers: { 'X-CSRF-Token': me.csrf_token },
      });
      return (await r.json()).token;
    }, dev.url);
  const open = (p, t) =>
    p.evaluate(
      ([gateway, t]) =>
        new Promise((resolve) => {
          const ws = new WebSocket(`${gateway}?ws_token=${encodeURIComponent(t)}`);
          ws.onopen = () => {
            resolve('open');
            ws.close();
          };
          ws.onclose = () => resolve('closed');
        }),
      [dev.gateway, t],
    );
  assert.equal(await open(page, await token()), 'closed');
  assert.equal(await open(good, await token()), 'open');
  await home.context().close();
});
