// tests/browser/harness.js: starts `apigw-ws dev` on free ports in a temporary data folder, launches
// Debian's chromium through playwright-core, and logs pages in. Nothing is downloaded here: the
// browser and the npm packages come from scripts/setup.sh.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.APIGW_CHROMIUM ?? '/usr/bin/chromium';
const BIN = process.env.APIGW_WS_BIN;
const SOURCE = process.env.APIGW_SOURCE_DIR;
export const SCREENSHOTS = process.env.APIGW_SCREENSHOT_DIR ?? join(tmpdir(), 'apigw-browser-screenshots');

// startDev: `apigw-ws dev` on port 0 for both servers, with `args` added; resolves when it printed
// its ready line.
export async function startDev(args = []) {
  if (!BIN || !SOURCE) throw new Error('set APIGW_WS_BIN and APIGW_SOURCE_DIR (ctest does)');
  const data = mkdtempSync(join(tmpdir(), 'apigw-browser-'));
  const child = spawn(BIN, ['dev', '--port', '0', '--gateway-port', '0', '--data-dir', data, '--source-dir', SOURCE, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stderr.on('data', (d) => process.stderr.write(`[dev] ${d}`));
  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`apigw-ws dev did not start:\n${out}`)), 30000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/^ready url=(\S+) gateway=(\S+)$/m);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], gateway: m[2] });
      }
    });
    child.on('exit', (code) => reject(new Error(`apigw-ws dev exited with ${code}:\n${out}`)));
  });
  const password = (user) => readFileSync(join(data, `${user}.password`), 'utf8').trim();
  return {
    ...ready,
    data,
    db: join(data, 'apigw.sqlite3'),
    bin: BIN,
    password,
    restartGateway: () => child.kill('SIGUSR1'),
    // stop: Ctrl-C; resolves to the exit code, or 'killed' when it had not exited after 20 s.
    async stop() {
      const exited = new Promise((resolve) => child.on('exit', resolve));
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20000);
      const code = (await exited) ?? 'killed';
      clearTimeout(timer);
      rmSync(data, { recursive: true, force: true });
      return code;
    },
  };
}

// launch: headless chromium with the flags this machine needs (no background networking: the
// network is closed), plus `extraArgs`. playwright gives every launch a fresh, empty profile of its own.
export async function launch(extraArgs = []) {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run scripts/setup.sh (Debian package chromium)`);
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', ...extraArgs],
  });
}

// dev, browser: the suite's `apigw-ws dev` and Chromium once useDevAndBrowser's before hook ran
// (live bindings: a suite imports them and reads them inside its tests).
export let dev;
export let browser;

// useDevAndBrowser: one `apigw-ws dev` (with `devArgs`) and one Chromium for the whole suite,
// started before its first test and stopped after its last; dev must stop cleanly on Ctrl-C.
export function useDevAndBrowser(devArgs = []) {
  before(async () => {
    dev = await startDev(devArgs);
    browser = await launch();
  });
  after(async () => {
    await browser?.close();
    const code = await dev?.stop();
    assert.equal(code, 0, 'apigw-ws dev stops cleanly on Ctrl-C');
  });
}

// loggedIn: a new browser context (its own cookies) logged in as `user`, on `path`, connected.
// `options` go to newContext (viewport, timezoneId, locale, ...).
export async function loggedIn(browser, dev, user, path = '/', options = {}) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 720 }, ...options });
  const page = await context.newPage();
  page.on('pageerror', (e) => process.stderr.write(`[${user} page error] ${e}\n`));
  await page.goto(new URL(path, dev.url).toString());
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', dev.password(user));
  await page.click('#login button[type=submit]');
  await waitOpen(page);
  return page;
}

// waitOpen: the page's client is connected.
export async function waitOpen(page, timeout = 15000) {
  await page.waitForFunction(() => document.body.dataset.wsState === 'open', null, { timeout });
}

// screenshot: a PNG of the page under SCREENSHOTS/<name>.png.
export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}
