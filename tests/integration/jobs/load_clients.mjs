// load_clients.mjs: the crash tests' WebSocket clients: N connections (npm ws) to the local
// gateway, each counting the delivery job ids ("apigw":{"id":...}) it receives. Prints
// "connected N failed M" once every connection is open or has failed; when --done-file appears (the
// test writes it once the job is finished) it waits --settle-ms for late messages, writes the
// report to --out and exits. Loopback only.
//
//   node load_clients.mjs --modules DIR --url ws://127.0.0.1:P/dev --clients 10000 --out F --done-file D
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const args = {};
for (let i = 2; i + 1 < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const require = createRequire(path.join(args.modules, 'package.json'));
const WebSocket = require('ws');

const url = args.url;
const clients = Number(args.clients ?? 100);
const concurrency = Number(args.concurrency ?? 100);
const settleMs = Number(args['settle-ms'] ?? 1500);
const timeoutMs = Number(args['timeout-s'] ?? 300) * 1000;
if (!url || !url.startsWith('ws://127.0.0.1:')) {
  console.error('--url must be a ws://127.0.0.1 address');
  process.exit(2);
}

const counts = new Array(clients);  // per client: Map id -> times received
let opened = 0;
let failed = 0;
let closedEarly = 0;
let next = 0;
const sockets = [];

function openOne(i) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    counts[i] = new Map();
    let settled = false;
    ws.on('open', () => { opened++; settled = true; resolve(); });
    ws.on('message', (data) => {
      let m;
      try { m = JSON.parse(data.toString()); } catch { return; }
      const id = m && m.apigw && m.apigw.id;
      if (typeof id === 'string') counts[i].set(id, (counts[i].get(id) ?? 0) + 1);
    });
    ws.on('error', () => { if (!settled) { failed++; settled = true; resolve(); } });
    ws.on('close', () => { if (settled) closedEarly++; else { failed++; settled = true; resolve(); } });
    sockets[i] = ws;
  });
}

async function worker() {
  while (next < clients) {
    const i = next++;
    await openOne(i);
  }
}

function report() {
  const ids = new Map();  // id -> {clients, total, max}
  for (const c of counts) {
    if (!c) continue;
    for (const [id, n] of c) {
      const r = ids.get(id) ?? { clients: 0, total: 0, max: 0, repeated_clients: 0 };
      r.clients++;
      r.total += n;
      r.max = Math.max(r.max, n);
      if (n > 1) r.repeated_clients++;
      ids.set(id, r);
    }
  }
  return { clients, opened, failed, closed_early: closedEarly, ids: Object.fromEntries(ids) };
}

const deadline = Date.now() + timeoutMs;
await Promise.all(Array.from({ length: concurrency }, worker));
console.log(`connected ${opened} failed ${failed}`);
while (!(args['done-file'] && fs.existsSync(args['done-file'])) && Date.now() < deadline) {
  await new Promise((r) => setTimeout(r, 100));
}
await new Promise((r) => setTimeout(r, settleMs));
fs.writeFileSync(args.out, JSON.stringify(report()));
for (const ws of sockets) if (ws) ws.terminate();
process.exit(0);
