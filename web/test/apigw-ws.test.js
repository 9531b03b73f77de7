// Unit tests of the browser client against a real WebSocket server (npm `ws`) on 127.0.0.1, port 0.
// The token endpoint is a fake fetch that hands out numbered tokens, so each test can see which
// token each connect used.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { WebSocket, WebSocketServer } from 'ws';
import { ApigwClient, backoffDelay } from '../apigw-ws.js';
import { server, until } from './support.js';

// tokenFetch: a fake token endpoint; `status` other than 200 refuses.
function tokenFetch(status = 200) {
  const f = async (url, init) => {
    f.calls.push({ url, init });
    return { ok: status === 200, status, json: async () => ({ token: `tok${f.calls.length}`, expires_in: 30 }) };
  };
  f.calls = [];
  return f;
}

function client(s, extra = {}) {
  return new ApigwClient({ url: s.url, channel: 'room', csrfToken: 'csrf', fetch: tokenFetch(), WebSocket, initialDelayMs: 10, maxDelayMs: 50, ...extra });
}

test('backoffDelay grows exponentially, is capped, and keeps half of the delay fixed', () => {
  const at = (attempt, r) => backoffDelay(attempt, { initialDelayMs: 500, maxDelayMs: 30000, random: () => r });
  assert.equal(at(0, 0), 250);
  assert.equal(at(0, 1), 500);
  assert.equal(at(3, 0), 2000);
  assert.equal(at(3, 1), 4000);
  assert.equal(at(20, 1), 30000);
  assert.equal(at(20, 0), 15000);
  assert.equal(at(1000, 0.5), 22500);
});

test('connects with the channel and a one-time token fetched with the CSRF header', async (t) => {
  const s = await server();
  t.after(() => s.close());
  const c = client(s);
  const connected = s.nextConnection();
  c.start();
  const conn = await connected;
  assert.equal(conn.query.get('channel'), 'room');
  assert.equal(conn.query.get('ws_token'), 'tok1');
  const call = c._fetch.calls[0];
  assert.equal(call.url, '/api/ws-token/');
  assert.equal(call.init.method, 'POST');
  assert.equal(call.init.headers['X-CSRF-Token'], 'csrf');
  await until(() => c.state === 'open');
  c.close();
});

test('dispatches messages by type, to "*" handlers too, and ignores non-JSON', async (t) => {
  const s = await server();
  t.after(() => s.close());
  const c = client(s);
  const toasts = [];
  const all = [];
  const off = c.on('toast', (m) => toasts.push(m.title));
  c.on('*', (m) => all.push(m.type));
  const connected = s.nextConnection();
  c.start();
  const conn = await connected;
  conn.socket.send('not json');
  conn.socket.send(JSON.stringify({ type: 'toast', title: 'one' }));
  conn.socket.send(JSON.stringify({ type: 'chat_message', message: 'hi' }));
  await until(() => all.length === 2);
  off();
  conn.socket.send(JSON.stringify({ type: 'toast', title: 'two' }));
  await until(() => all.length === 3);
  assert.deepEqual(toasts, ['one']);
  assert.deepEqual(all, ['toast', 'chat_message', 'toast']);
  c.close();
});

test('queues sends until open, in order, and drops the oldest beyond maxQueue', async (t) => {
  const s = await server();
  t.after(() => s.close());
  const c = client(s, { maxQueue: 3 });
  for (let i = 1; i <= 5; i++) assert.equal(c.send('say', { n: i }), 'queued');
  assert.equal(c.dropped, 2);
  const connected = s.nextConnection();
  c.start();
  const conn = await connected;
  await until(() => conn.messages.length === 3);
  assert.deepEqual(conn.messages, [3, 4, 5].map((n) => ({ n, handler: 'say' })));
  assert.equal(c.send('say', { n: 6 }), 'sent');
  await until(() => conn.messages.length === 4);
  c.close();
  assert.equal(c.send('say', { n: 7 }), 'dropped');
});

test('reconnects by itself after the server drops it, with a fresh token each time', async (t) => {
  const s = await server();
  t.after(() => s.close());
  const c = client(s);
  const states = [];
  c.onState((st) => states.push(st));
  let connected = s.nextConnection();
  c.start();
  let conn = await connected;
  await until(() => c.state === 'open');
  for (let i = 2; i <= 3; i++) {
    connected = s.nextConnection();
    conn.socket.terminate();
    conn = await connected;
    assert.equal(conn.query.get('ws_token'), `tok${i}`);
    await until(() => c.state === 'open');
  }
  assert.deepEqual(states.filter((st, i) => st !== states[i - 1]), ['connecting', 'open', 'reconnecting', 'open', 'reconnecting', 'open']);
  c.close();
});

test('keeps retrying while the server is down, then connects when it is back', async (t) => {
  const s = await server();
  const port = s.wss.address().port;
  await s.close();
  const c = client(s);
  const delays = [];
  c.onState((st, d) => st === 'reconnecting' && d.delayMs !== undefined && delays.push(d.delayMs));
  c.start();
  await until(() => delays.length >= 3);
  assert.ok(delays.every((d) => d <= 50), `capped: ${delays}`);
  const back = new WebSocketServer({ host: '127.0.0.1', port });
  t.after(() => new Promise((r) => { for (const ws of back.clients) ws.terminate(); back.close(r); }));
  await until(() => c.state === 'open');
  c.close();
});

test('sends a heartbeat while open', async (t) => {
  const s = await server();
  t.after(() => s.close());
  const c = client(s, { heartbeatMs: 20 });
  const connected = s.nextConnection();
  c.start();
  const conn = await connected;
  await until(() => conn.messages.length >= 2);
  assert.deepEqual(conn.messages[0], { action: 'heartbeat' });
  c.close();
});

test('the heartbeat frame is configurable, and heartbeatHandler alone keeps the old frame', async (t) => {
  const s = await server();
  t.after(() => s.close());
  for (const [options, frame] of [
    [{ heartbeatMessage: { action: 'ping', n: 1 } }, { action: 'ping', n: 1 }],
    [{ heartbeatHandler: 'beat' }, { handler: 'beat' }],
    [{ heartbeatHandler: 'beat', heartbeatMessage: { action: 'beat' } }, { action: 'beat' }],
  ]) {
    const c = client(s, { heartbeatMs: 20, ...options });
    const connected = s.nextConnection();
    c.start();
    const conn = await connected;
    await until(() => conn.messages.length >= 1);
    assert.deepEqual(conn.messages[0], frame);
    c.close();
  }
});

test('stops with state "unauthorized" when the token endpoint refuses', async (t) => {
  const s = await server();
  t.after(() => s.close());
  const c = client(s, { fetch: tokenFetch(403) });
  c.start();
  await until(() => c.state === 'unauthorized');
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(c._fetch.calls.length, 1);
  assert.equal(s.connections.length, 0);
});

test('close() ends the connection for good', async (t) => {
  const s = await server();
  t.after(() => s.close());
  const c = client(s);
  const connected = s.nextConnection();
  c.start();
  const conn = await connected;
  await until(() => c.state === 'open');
  const closed = once(conn.socket, 'close');
  c.close();
  const [code] = await closed;
  assert.equal(code, 1000);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(s.connections.length, 1);
  assert.equal(c.state, 'closed');
});

test('fetches the token from a configurable URL with the configured credentials mode', async (t) => {
  const s = await server();
  t.after(() => s.close());
  const same = client(s);
  const cross = client(s, { tokenUrl: 'https://api.example.com/api/ws-token/', credentials: 'include' });
  for (const c of [same, cross]) {
    const connected = s.nextConnection();
    c.start();
    await connected;
    c.close();
  }
  assert.equal(same._fetch.calls[0].url, '/api/ws-token/');
  assert.equal(same._fetch.calls[0].init.credentials, 'same-origin');
  assert.equal(cross._fetch.calls[0].url, 'https://api.example.com/api/ws-token/');
  assert.equal(cross._fetch.calls[0].init.credentials, 'include');
});
