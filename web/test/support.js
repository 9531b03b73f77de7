// web/test/support.js: what the client's unit tests share: a real WebSocket server (npm `ws`) on
// 127.0.0.1, port 0, that records each connection's query and messages and can answer, and a
// polling wait. (Under test/, so `node --test test/` loads it too: it defines no tests.)
import { once } from 'node:events';
import { WebSocketServer } from 'ws';

// server: the WebSocket server; `nextConnection()` resolves to the next client, each with its
// `query`, the `messages` it sent (parsed) and `send(message)`.
export async function server() {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  const s = { wss, connections: [], url: `ws://127.0.0.1:${wss.address().port}/dev` };
  wss.on('connection', (socket, req) => {
    const c = {
      socket,
      query: new URL(req.url, 'http://x').searchParams,
      messages: [],
      send: (m) => socket.send(JSON.stringify(m)),
    };
    socket.on('message', (data) => c.messages.push(JSON.parse(data.toString())));
    s.connections.push(c);
    wss.emit('client', c);
  });
  s.nextConnection = async () => (await once(wss, 'client'))[0];
  s.close = () => new Promise((resolve) => {
    for (const c of s.connections) c.socket.terminate();
    wss.close(resolve);
  });
  return s;
}

// until: resolves when predicate() holds (polling), or rejects after `ms`.
export async function until(predicate, ms = 3000) {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 5));
  }
}
