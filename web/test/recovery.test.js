// Unit tests of the browser client's envelope handling: the "apigw" key stripped, duplicates
// dropped by channel offset and by delivery id, messages that overtook a missing one held, and
// recovery after a reconnect (replay, live messages during it, gaps it cannot fill), against a
// real WebSocket server (npm `ws`) on 127.0.0.1 that plays the backend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocket } from 'ws';
import { ApigwClient, RECOVERED } from '../apigw-ws.js';
import { server, until } from './support.js';

const tokenFetch = async () => ({ ok: true, status: 200, json: async () => ({ token: 't', expires_in: 30 }) });

// started: a client on `s` recording what the app sees (notes and recovery events).
async function started(s, extra = {}) {
  const c = new ApigwClient({ url: s.url, channel: 'room', fetch: tokenFetch, WebSocket, initialDelayMs: 10, maxDelayMs: 20, ...extra });
  const seen = [];
  c.on('note', (m) => seen.push(m));
  c.onRecovered((m) => seen.push(m));
  const connected = s.nextConnection();
  c.start();
  const conn = await connected;
  await until(() => c.state === 'open');
  return { c, conn, seen };
}

const note = (n, extra = {}) => ({ type: 'note', n, apigw: { channel: 'room', epoch: 'e1', offset: n }, ...extra });

test('strips the envelope and drops repeated offsets and repeated delivery ids', async (t) => {
  const s = await server();
  t.after(() => s.close());
  const { c, conn, seen } = await started(s, { maxRecentIds: 2 });
  t.after(() => c.close());
  conn.send(note(1));
  conn.send(note(1));
  conn.send(note(2));
  conn.send({ type: 'note', n: 'a', apigw: { id: 'a' } });
  conn.send({ type: 'note', n: 'a', apigw: { id: 'a' } });
  conn.send({ type: 'note', n: 'b', apigw: { id: 'b' } });
  conn.send({ type: 'note', n: 'c', apigw: { id: 'c' } });
  conn.send({ type: 'note', n: 'a again', apigw: { id: 'a' } }); // forgotten: only 2 ids are kept
  conn.send({ type: 'note', n: 'done' });
  await until(() => seen.some((m) => m.n === 'done'));
  assert.deepEqual(seen.map((m) => m.n), [1, 2, 'a', 'b', 'c', 'a again', 'done']);
  assert.ok(seen.every((m) => !('apigw' in m)));
  assert.deepEqual(c.positions, { room: { epoch: 'e1', offset: 2 } });
});

test('holds a message that overtook a missing one until the missing one arrives', async (t) => {
  const s = await server();
  t.after(() => s.close());
  const { c, conn, seen } = await started(s);
  t.after(() => c.close());
  for (const n of [1, 3, 4, 2, 5]) conn.send(note(n));
  await until(() => seen.length === 5);
  assert.deepEqual(seen.map((m) => m.n), [1, 2, 3, 4, 5]);
});

test('asks for a gap that does not fill by itself', async (t) => {
  const s = await server();
  t.after(() => s.close());
  const { c, conn, seen } = await started(s, { gapWaitMs: 30 });
  t.after(() => c.close());
  conn.send(note(1));
  conn.send(note(3));
  await until(() => conn.messages.some((m) => m.handler === 'apigw.recover'));
  const ask = conn.messages.find((m) => m.handler === 'apigw.recover');
  assert.deepEqual(ask.channels, [{ channel: 'room', epoch: 'e1', offset: 1 }]);
  conn.send({ type: 'apigw.replay', channel: 'room', messages: [note(2), note(3)] });
  conn.send({ type: RECOVERED, channel: 'room', recovered: true, epoch: 'e1', offset: 3 });
  await until(() => seen.length === 4);
  assert.deepEqual(seen.map((m) => m.n ?? m.type), [1, RECOVERED, 2, 3]);
});

test('after a reconnect replays what was missed; live messages during the replay are seen once, in order', async (t) => {
  const s = await server();
  t.after(() => s.close());
  const { c, conn, seen } = await started(s);
  t.after(() => c.close());
  conn.send(note(1));
  conn.send(note(2));
  await until(() => seen.length === 2);
  const again = s.nextConnection();
  conn.socket.terminate();
  const conn2 = await again;
  await until(() => conn2.messages.some((m) => m.handler === 'apigw.recover'));
  assert.deepEqual(conn2.messages.find((m) => m.handler === 'apigw.recover').channels, [{ channel: 'room', epoch: 'e1', offset: 2 }]);
  conn2.send(note(6)); // live, while the replay is on its way
  conn2.send({ type: 'apigw.replay', channel: 'room', messages: [note(3), note(4)] });
  conn2.send({ type: 'apigw.replay', channel: 'room', messages: [note(5)] });
  conn2.send({ type: RECOVERED, channel: 'room', recovered: true, epoch: 'e1', offset: 5 });
  conn2.send(note(6)); // a duplicate
  conn2.send(note(7));
  await until(() => seen.some((m) => m.n === 7));
  assert.deepEqual(seen.map((m) => (m.type === RECOVERED ? `recovered:${m.recovered}` : m.n)), [1, 2, 'recovered:true', 3, 4, 5, 6, 7]);
});

test('a gap the backend cannot fill reaches the app as recovered:false and the sequence goes on from its position', async (t) => {
  const s = await server();
  t.after(() => s.close());
  const { c, conn, seen } = await started(s);
  t.after(() => c.close());
  conn.send(note(1));
  await until(() => seen.length === 1);
  const again = s.nextConnection();
  conn.socket.terminate();
  const conn2 = await again;
  await until(() => conn2.messages.some((m) => m.handler === 'apigw.recover'));
  conn2.send(note(90));
  conn2.send({ type: RECOVERED, channel: 'room', recovered: false, reason: 'retention', epoch: 'e1', offset: 89 });
  await until(() => seen.length === 3);
  assert.deepEqual(seen[1], { type: RECOVERED, channel: 'room', recovered: false, reason: 'retention' });
  assert.equal(seen[2].n, 90);
  assert.deepEqual(c.positions, { room: { epoch: 'e1', offset: 90 } });
});

test('a recovery the backend never answers ends as recovered:false after recoverTimeoutMs', async (t) => {
  const s = await server();
  t.after(() => s.close());
  const { c, conn, seen } = await started(s, { recoverTimeoutMs: 50 });
  t.after(() => c.close());
  conn.send(note(1));
  await until(() => seen.length === 1);
  const again = s.nextConnection();
  conn.socket.terminate();
  const conn2 = await again;
  conn2.send(note(5));
  await until(() => seen.length === 3);
  assert.deepEqual(seen.map((m) => m.reason ?? m.n), [1, 'timeout', 5]);
});
