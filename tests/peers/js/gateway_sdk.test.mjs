// Peer test: the AWS SDK for JavaScript v3 (@aws-sdk/client-apigatewaymanagementapi,
// @aws-sdk/client-apigatewayv2) and npm ws, used unchanged against `apigw-ws gateway`.
//
// Starts a recording HTTP backend (node:http on 127.0.0.1) and the gateway (port 0, a --config
// file as tests/peers/gateway_boto3.py writes it) and checks what real Node clients see:
// PostToConnection / GetConnection / DeleteConnection, GoneException after a close,
// PayloadTooLargeException, LimitExceededException (token bucket and a client that stops
// reading), ForbiddenException without a stage, SigV4 accepted and rejected (--auth sigv4), the
// apigatewayv2 control plane setting an API up that a ws client then uses, the close codes of the
// WebSocket side, $disconnect exactly once, and SIGTERM. (Over 600 lines on purpose: one peer
// session against one gateway process, read top to bottom like the Python peer test it mirrors.)
//
// The SDK clients get only an endpoint, a region and static credentials. Every socket this
// process opens is checked to go to the loopback interface; nothing is downloaded here (the
// node_modules folder comes from `npm ci` in scripts/setup.sh).
//
//   node gateway_sdk.test.mjs --binary build/bin/apigw-ws
// Exit code 77 (skipped) when node_modules is missing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const here = dirname(fileURLToPath(import.meta.url));
for (const pkg of ['@aws-sdk/client-apigatewaymanagementapi', '@aws-sdk/client-apigatewayv2', 'ws']) {
  if (!existsSync(join(here, 'node_modules', pkg, 'package.json'))) {
    console.error(`skipping: ${pkg} is not installed in ${here}/node_modules (run scripts/setup.sh)`);
    process.exit(77);
  }
}
const binaryAt = process.argv.indexOf('--binary');
const BINARY = binaryAt > 0 ? process.argv[binaryAt + 1] : process.env.APIGW_WS_BIN;
if (!BINARY) {
  console.error('usage: gateway_sdk.test.mjs --binary PATH/TO/apigw-ws');
  process.exit(2);
}

// No instance metadata, no profile files: the clients get everything they need explicitly.
process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_CONFIG_FILE = '/dev/null';
process.env.AWS_SHARED_CREDENTIALS_FILE = '/dev/null';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'; // Debian 12's node 20 is supported
for (const name of ['AWS_PROFILE', 'AWS_ENDPOINT_URL', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'HTTP_PROXY', 'HTTPS_PROXY']) {
  delete process.env[name];
}

// Every TCP connection of this process must go to the loopback interface.
const offLoopback = [];
const loopbackHosts = new Set([undefined, 'localhost', '127.0.0.1', '::1']);
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  let options = args[0];
  if (Array.isArray(options)) options = options[0];
  const host = typeof options === 'object' && options !== null ? options.host : args[1];
  const viaPath = typeof options === 'object' && options !== null && options.path;
  if (!viaPath && !loopbackHosts.has(host)) {
    offLoopback.push(String(host));
    throw new Error(`peer test: refused a connection to ${host} (loopback only)`);
  }
  return connect.apply(this, args);
};

const mgmtSdk = await import('@aws-sdk/client-apigatewaymanagementapi');
const v2Sdk = await import('@aws-sdk/client-apigatewayv2');
const { default: WebSocket } = await import('ws');
const {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  ForbiddenException,
  GetConnectionCommand,
  GoneException,
  LimitExceededException,
  PayloadTooLargeException,
  PostToConnectionCommand,
} = mgmtSdk;
const {
  ApiGatewayV2Client,
  BadRequestException,
  ConflictException,
  CreateApiCommand,
  CreateDeploymentCommand,
  CreateIntegrationCommand,
  CreateRouteCommand,
  CreateRouteResponseCommand,
  CreateStageCommand,
  DeleteApiCommand,
  DeleteRouteCommand,
  DeleteStageCommand,
  GetApiCommand,
  GetApisCommand,
  GetRoutesCommand,
  GetIntegrationCommand,
  GetStageCommand,
  GetTagsCommand,
  NotFoundException,
  TagResourceCommand,
  UpdateApiCommand,
  UpdateStageCommand,
} = v2Sdk;

const ID_RE = /^[A-Za-z0-9_-]{15}=$/;
const REGION = 'us-east-1';
const ACCESS_KEY = 'AKIDGATEWAYTEST00001';
const SECRET_KEY = 'gateway-test-secret-key-0000000000000000';
const MAX_PAYLOAD = 131072;

// withTimeout: the promise, or a rejection naming what did not happen in time.
async function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// rejection: the error a promise rejects with (fails when it resolves).
async function rejection(promise, what) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  assert.fail(`${what}: expected an error, the call succeeded`);
}

// Recorder: a recording HTTP backend; every integration request is answered 200 (an echo on
// /ws/echo; the first offered subprotocol on $connect), except a $connect with deny=1 (401).
class Recorder {
  requests = [];

  async start() {
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        this.requests.push({ method: req.method, path: req.url, headers: req.headers, body });
        if (req.url.startsWith('/ws/connect') && req.url.includes('deny=1')) {
          res.writeHead(401, { 'Content-Type': 'application/json' });
          res.end('{"message":"no"}');
          return;
        }
        const headers = {};
        const protocols = req.url.startsWith('/ws/connect') ? req.headers['sec-websocket-protocol'] : undefined;
        if (protocols) headers['Sec-WebSocket-Protocol'] = protocols.split(',')[0].trim();
        const out = req.url.startsWith('/ws/echo') ? Buffer.concat([Buffer.from('echo:'), body]) : Buffer.alloc(0);
        headers['Content-Length'] = out.length;
        res.writeHead(200, headers);
        res.end(out);
      });
    });
    await new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.port = this.server.address().port;
    this.base = `http://127.0.0.1:${this.port}/ws`;
  }

  matching(prefix, connectionId) {
    return this.requests.filter(
      (r) => r.path.startsWith(prefix) && (connectionId === undefined || r.headers.connectionid === connectionId),
    );
  }

  // wait: the requests to prefix (of one connection), once there are n of them or after timeoutMs.
  async wait(prefix, n = 1, { timeoutMs = 5000, connectionId } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = this.matching(prefix, connectionId);
      if (got.length >= n || Date.now() >= deadline) return got;
      await sleep(10);
    }
  }

  async stop() {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

// startGateway: `apigw-ws gateway` on a free port with the boto3 test's configuration; the port is
// read from its first stdout line.
async function startGateway(backend, extra = []) {
  const dir = mkdtempSync(join(tmpdir(), 'apigw-peer-js-'));
  const integration = (name) => ({
    integrationId: name,
    integrationUri: `${backend.base}/${name}`,
    requestParameters: { 'integration.request.header.connectionId': 'context.connectionId' },
  });
  const config = {
    region: REGION,
    keys: [{ accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }],
    apis: [
      {
        apiId: 'peerapi001',
        routeSelectionExpression: '$request.body.action',
        stages: [{ stageName: 'dev' }],
        integrations: ['connect', 'disconnect', 'default', 'echo'].map(integration),
        routes: [
          { routeKey: '$connect', target: 'integrations/connect' },
          { routeKey: '$disconnect', target: 'integrations/disconnect' },
          { routeKey: '$default', target: 'integrations/default' },
          {
            routeKey: 'echo',
            target: 'integrations/echo',
            routeResponseSelectionExpression: '$default',
            routeResponses: [{ routeResponseKey: '$default' }],
          },
        ],
      },
    ],
  };
  const configPath = join(dir, 'gateway.json');
  writeFileSync(configPath, JSON.stringify(config));
  const child = spawn(BINARY, ['gateway', '--port', '0', '--config', configPath, ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stderr.on('data', (d) => (log += d));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  let out = '';
  const port = await withTimeout(
    new Promise((resolve, reject) => {
      child.stdout.on('data', (d) => {
        out += d;
        const m = out.match(/ws:\/\/127\.0\.0\.1:(\d+)/);
        if (m) resolve(Number(m[1]));
      });
      exited.then((code) => reject(new Error(`gateway exited with ${code} before listening:\n${out}\n${log}`)));
    }),
    30000,
    'the gateway printing its port',
  );
  return {
    port,
    child,
    exited,
    url: (stage = 'dev') => `ws://127.0.0.1:${port}/${stage}`,
    log: () => log,
    // stop: SIGTERM, then the exit code (0 after a clean shutdown) and the gateway's log.
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15000);
      const code = await exited;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
      return { code, log };
    },
  };
}

function assertCleanExit({ code, log }) {
  assert.equal(code, 0, `gateway exited with ${code}; its log:\n${log}`);
  assert.ok(!/runtime error|AddressSanitizer/.test(log), `sanitizer report in the gateway log:\n${log}`);
}

function managementClient(
  gw,
  { stage = '/dev', host = '127.0.0.1', accessKeyId = ACCESS_KEY, secretAccessKey = SECRET_KEY } = {},
) {
  return new ApiGatewayManagementApiClient({
    endpoint: `http://${host}:${gw.port}${stage}`,
    region: REGION,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
  });
}

function controlPlaneClient(gw, { secretAccessKey = SECRET_KEY } = {}) {
  return new ApiGatewayV2Client({
    endpoint: `http://127.0.0.1:${gw.port}`,
    region: REGION,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey },
    maxAttempts: 1,
  });
}

// Client: an npm ws client whose messages and close are recorded from the first moment on.
class Client {
  messages = [];

  constructor(url, options = {}, protocols = undefined) {
    this.ws = new WebSocket(url, protocols, options);
    this.ws.on('message', (data, isBinary) => this.messages.push({ data: Buffer.from(data), isBinary }));
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
      this.ws.once('unexpected-response', (_req, res) => {
        const err = new Error(`handshake answered ${res.statusCode}`);
        err.statusCode = res.statusCode;
        err.headers = res.headers;
        res.resume();
        reject(err);
      });
    });
  }

  async next(timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length === 0) {
      if (Date.now() >= deadline) throw new Error(`no message within ${timeoutMs} ms`);
      await sleep(5);
    }
    return this.messages.shift();
  }

  async text(timeoutMs = 5000) {
    const m = await this.next(timeoutMs);
    assert.equal(m.isBinary, false, 'a text frame');
    return m.data.toString('utf8');
  }

  closeCode(timeoutMs = 5000) {
    return withTimeout(this.closed, timeoutMs, 'the close frame');
  }
}

// open: a ws client on the stage and its connection id, as the $connect integration saw it.
async function open(gw, backend, { stage = 'dev', query = '', protocols, ...options } = {}) {
  const before = backend.matching('/ws/connect').length;
  const client = new Client(gw.url(stage) + query, options, protocols);
  await withTimeout(client.opened, 10000, 'the WebSocket handshake');
  const reqs = await backend.wait('/ws/connect', before + 1);
  assert.ok(reqs.length > before, 'the $connect integration was called');
  client.id = reqs[before].headers.connectionid;
  assert.match(client.id, ID_RE);
  return client;
}

// assertDisconnectOnce: exactly one $disconnect for the connection, also a moment later.
async function assertDisconnectOnce(backend, connectionId) {
  const got = await backend.wait('/ws/disconnect', 1, { connectionId });
  assert.equal(got.length, 1, `$disconnect for ${connectionId}`);
  await sleep(150); // a second $disconnect would arrive now
  assert.equal(backend.matching('/ws/disconnect', connectionId).length, 1, `one $disconnect for ${connectionId}`);
}

// assertAwsError: the SDK's modeled error class, name, status and fault.
function assertAwsError(err, type, name, status) {
  if (type) assert.ok(err instanceof type, `${err?.name} is a ${type.name}: ${err?.stack}`);
  assert.equal(err.name, name, `error name (${err?.message})`);
  assert.equal(err.$metadata?.httpStatusCode, status, `${name} status`);
  assert.equal(err.$fault, 'client');
  assert.match(err.$metadata.requestId ?? '', ID_RE, 'x-amzn-RequestId reaches $metadata.requestId');
}

const backend = new Recorder();
let gw;

before(async () => {
  await backend.start();
  gw = await startGateway(backend);
});

after(async () => {
  const stopped = await gw?.stop();
  await backend.stop();
  if (stopped) assertCleanExit(stopped);
  assert.deepEqual(offLoopback, [], 'every connection went to the loopback interface');
});

describe('Management API (ApiGatewayManagementApiClient)', () => {
  test('PostToConnection, GetConnection, DeleteConnection, then GoneException', async () => {
    const client = await open(gw, backend, { headers: { 'User-Agent': 'peer-js/1.0' } });
    const api = managementClient(gw);
    const posted = await api.send(
      new PostToConnectionCommand({ ConnectionId: client.id, Data: new TextEncoder().encode('{"hello":"js"}') }),
    );
    assert.equal(posted.$metadata.httpStatusCode, 200);
    assert.match(posted.$metadata.requestId, ID_RE);
    assert.equal(await client.text(), '{"hello":"js"}');
    // Handler code often passes a string (JSON.stringify) as Data; the SDK sends its UTF-8 bytes.
    await api.send(new PostToConnectionCommand({ ConnectionId: client.id, Data: JSON.stringify({ text: 'héllo ✓' }) }));
    assert.equal(await client.text(), '{"text":"héllo ✓"}');

    const info = await api.send(new GetConnectionCommand({ ConnectionId: client.id }));
    assert.ok(info.ConnectedAt instanceof Date && !Number.isNaN(info.ConnectedAt.getTime()), 'ConnectedAt is a Date');
    assert.ok(info.LastActiveAt instanceof Date && !Number.isNaN(info.LastActiveAt.getTime()), 'LastActiveAt is a Date');
    assert.ok(Math.abs(Date.now() - info.ConnectedAt.getTime()) < 60000, `ConnectedAt ${info.ConnectedAt.toISOString()}`);
    assert.ok(info.LastActiveAt >= info.ConnectedAt, 'LastActiveAt is not before ConnectedAt');
    assert.deepEqual(info.Identity, { SourceIp: '127.0.0.1', UserAgent: 'peer-js/1.0' });

    const deleted = await api.send(new DeleteConnectionCommand({ ConnectionId: client.id }));
    assert.equal(deleted.$metadata.httpStatusCode, 204);
    assert.equal((await client.closeCode()).code, 1000);
    await assertDisconnectOnce(backend, client.id);

    const late = [
      new PostToConnectionCommand({ ConnectionId: client.id, Data: new TextEncoder().encode('late') }),
      new GetConnectionCommand({ ConnectionId: client.id }),
      new DeleteConnectionCommand({ ConnectionId: client.id }),
    ];
    for (const command of late) {
      const err = await rejection(api.send(command), command.constructor.name);
      assertAwsError(err, GoneException, 'GoneException', 410);
    }
  });

  test('GoneException after the client closed; no User-Agent reads as ""', async () => {
    const client = await open(gw, backend);
    const api = managementClient(gw);
    const info = await api.send(new GetConnectionCommand({ ConnectionId: client.id }));
    assert.deepEqual(info.Identity, { SourceIp: '127.0.0.1', UserAgent: '' });
    client.ws.close(1000, 'bye');
    assert.equal((await client.closeCode()).code, 1000);
    await assertDisconnectOnce(backend, client.id);
    const err = await rejection(
      api.send(new PostToConnectionCommand({ ConnectionId: client.id, Data: new TextEncoder().encode('x') })),
      'post after close',
    );
    assertAwsError(err, GoneException, 'GoneException', 410);
    const unknown = await rejection(
      api.send(new GetConnectionCommand({ ConnectionId: 'AAAAAAAAAAAAAAA=' })),
      'an id never seen',
    );
    assertAwsError(unknown, GoneException, 'GoneException', 410);
  });

  test('over 128 KiB: PayloadTooLargeException; exactly 128 KiB is delivered', async () => {
    const client = await open(gw, backend);
    const api = managementClient(gw);
    const err = await rejection(
      api.send(new PostToConnectionCommand({ ConnectionId: client.id, Data: Buffer.alloc(MAX_PAYLOAD + 1, 'a') })),
      'a post of 131073 bytes',
    );
    assertAwsError(err, PayloadTooLargeException, 'PayloadTooLargeException', 413);
    assert.ok(err.message.length > 0, 'the JSON message reaches err.message');
    // Beyond the gateway's HTTP body limit (4 MiB) the SDK is still writing when the 413 comes.
    const huge = await rejection(
      api.send(new PostToConnectionCommand({ ConnectionId: client.id, Data: Buffer.alloc(6 * 1024 * 1024, 'a') })),
      'a post of 6 MiB',
    );
    assertAwsError(huge, PayloadTooLargeException, 'PayloadTooLargeException', 413);
    await api.send(new PostToConnectionCommand({ ConnectionId: client.id, Data: Buffer.alloc(MAX_PAYLOAD, 'a') }));
    assert.equal((await client.text()).length, MAX_PAYLOAD);
    client.ws.close();
    await client.closeCode();
  });

  test('data that is not UTF-8 arrives as a binary frame', async () => {
    const client = await open(gw, backend);
    const api = managementClient(gw);
    await api.send(new PostToConnectionCommand({ ConnectionId: client.id, Data: Uint8Array.from([0xff, 0xfe, 0x00]) }));
    const m = await client.next();
    assert.equal(m.isBinary, true);
    assert.deepEqual([...m.data], [0xff, 0xfe, 0x00]);
    client.ws.close();
    await client.closeCode();
  });

  test('a client that stops reading: LimitExceededException (429)', async () => {
    const client = await open(gw, backend);
    const api = managementClient(gw);
    client.ws.pause(); // ws stops reading the socket: the kernel buffers, then the gateway's queue fill up
    const chunk = Buffer.alloc(MAX_PAYLOAD, 'z');
    let error;
    for (let i = 0; i < 2000 && !error; ++i) {
      try {
        await api.send(new PostToConnectionCommand({ ConnectionId: client.id, Data: chunk }));
      } catch (err) {
        error = err;
      }
    }
    assert.ok(error, 'no LimitExceededException after 2000 posts');
    assertAwsError(error, LimitExceededException, 'LimitExceededException', 429);
    client.ws.terminate();
    await client.closeCode();
    await assertDisconnectOnce(backend, client.id);
  });

  test('the spec\'s own client setup: endpoint http://localhost:PORT/dev, ws://localhost:PORT/dev', async () => {
    const client = new Client(`ws://localhost:${gw.port}/dev`);
    await withTimeout(client.opened, 10000, 'the handshake via localhost');
    const api = managementClient(gw, { host: 'localhost' });
    const reqs = await backend.wait('/ws/connect', 1);
    const id = reqs.at(-1).headers.connectionid;
    await api.send(new PostToConnectionCommand({ ConnectionId: id, Data: 'via localhost' }));
    assert.equal(await client.text(), 'via localhost');
    client.ws.close();
    await client.closeCode();
  });

  test('no stage or an unknown stage in the endpoint: ForbiddenException', async () => {
    for (const stage of ['', '/nostage']) {
      const api = managementClient(gw, { stage });
      const err = await rejection(
        api.send(new PostToConnectionCommand({ ConnectionId: 'AAAAAAAAAAAAAAA=', Data: new TextEncoder().encode('x') })),
        `endpoint stage "${stage}"`,
      );
      assertAwsError(err, ForbiddenException, 'ForbiddenException', 403);
    }
  });
});

describe('@connections token bucket (--management-rate)', () => {
  let limited;
  before(async () => {
    limited = await startGateway(backend, ['--management-rate', '2', '--management-burst', '3']);
  });
  after(async () => assertCleanExit(await limited.stop()));

  test('calls beyond the burst get LimitExceededException; the bucket refills', async () => {
    const client = await open(limited, backend);
    const api = managementClient(limited);
    const outcomes = [];
    for (let i = 0; i < 8; ++i) {
      try {
        await api.send(new PostToConnectionCommand({ ConnectionId: client.id, Data: new TextEncoder().encode(`m${i}`) }));
        outcomes.push('ok');
      } catch (err) {
        assertAwsError(err, LimitExceededException, 'LimitExceededException', 429);
        outcomes.push('limited');
      }
    }
    assert.ok(outcomes.includes('limited'), `some calls limited: ${outcomes}`);
    const delivered = outcomes.filter((o) => o === 'ok').length;
    assert.ok(delivered >= 3 && delivered < 8, `the burst went through: ${outcomes}`);
    for (let i = 0; i < delivered; ++i) assert.match(await client.text(), /^m\d$/);

    await sleep(1200); // 2 tokens a second
    const info = await api.send(new GetConnectionCommand({ ConnectionId: client.id }));
    assert.equal(info.Identity.SourceIp, '127.0.0.1');
    client.ws.close();
    await client.closeCode();
  });
});

describe('SigV4 (--auth sigv4)', () => {
  let signed;
  before(async () => {
    signed = await startGateway(backend, ['--auth', 'sigv4']);
  });
  after(async () => assertCleanExit(await signed.stop()));

  test('the right keys are accepted', async () => {
    const client = await open(signed, backend);
    const api = managementClient(signed);
    await api.send(new PostToConnectionCommand({ ConnectionId: client.id, Data: new TextEncoder().encode('signed') }));
    assert.equal(await client.text(), 'signed');
    const info = await api.send(new GetConnectionCommand({ ConnectionId: client.id }));
    assert.equal(info.Identity.SourceIp, '127.0.0.1');
    const deleted = await api.send(new DeleteConnectionCommand({ ConnectionId: client.id }));
    assert.equal(deleted.$metadata.httpStatusCode, 204);
    assert.equal((await client.closeCode()).code, 1000);
  });

  test('a wrong secret or an unknown key: 403 with the IAM error type', async () => {
    const cases = [
      [ACCESS_KEY, 'wrong-secret', 'InvalidSignatureException'],
      ['AKIDUNKNOWN000000000', SECRET_KEY, 'UnrecognizedClientException'],
    ];
    for (const [accessKeyId, secretAccessKey, name] of cases) {
      const api = managementClient(signed, { accessKeyId, secretAccessKey });
      const err = await rejection(
        api.send(new GetConnectionCommand({ ConnectionId: 'AAAAAAAAAAAAAAA=' })),
        `${accessKeyId}/${secretAccessKey}`,
      );
      // Not in the service model (spec §5.2): the SDK names the error after x-amzn-ErrorType.
      assertAwsError(err, undefined, name, 403);
      assert.match(err.message, name === 'InvalidSignatureException' ? /signature/ : /security token/);
    }
  });

  test('the control plane is signed with the signing name apigateway', async () => {
    const items = (await controlPlaneClient(signed).send(new GetApisCommand({}))).Items;
    assert.ok(items.some((a) => a.ApiId === 'peerapi001'));
    // A query string (maxResults, a string in the model) is part of what is signed.
    const paged = await controlPlaneClient(signed).send(new GetApisCommand({ MaxResults: '25' }));
    assert.ok(paged.Items.some((a) => a.ApiId === 'peerapi001'));
    const err = await rejection(
      controlPlaneClient(signed, { secretAccessKey: 'wrong-secret' }).send(new GetApisCommand({})),
      'GetApis with a wrong secret',
    );
    assertAwsError(err, undefined, 'InvalidSignatureException', 403);
  });
});

describe('control plane (ApiGatewayV2Client)', () => {
  test('set an API up, connect a ws client to it, route through the integration', async () => {
    const v2 = controlPlaneClient(gw);
    const api = await v2.send(
      new CreateApiCommand({ Name: 'chat', ProtocolType: 'WEBSOCKET', RouteSelectionExpression: '$request.body.action' }),
    );
    assert.equal(api.$metadata.httpStatusCode, 201);
    const apiId = api.ApiId;
    assert.match(apiId, /^[a-z0-9]{10}$/);
    assert.equal(api.ApiEndpoint, `wss://${apiId}.execute-api.${REGION}.amazonaws.com`);
    assert.equal(api.ApiKeySelectionExpression, '$request.header.x-api-key');
    assert.equal(api.ProtocolType, 'WEBSOCKET');
    assert.equal(api.DisableExecuteApiEndpoint, false);
    assert.ok(api.CreatedDate instanceof Date && Math.abs(Date.now() - api.CreatedDate.getTime()) < 60000);

    const got = await v2.send(new GetApiCommand({ ApiId: apiId }));
    assert.equal(got.Name, 'chat');
    assert.equal(got.RouteSelectionExpression, '$request.body.action');
    const updated = await v2.send(new UpdateApiCommand({ ApiId: apiId, Name: 'chat-js', Description: 'from the JS SDK' }));
    assert.equal(updated.$metadata.httpStatusCode, 200);
    assert.equal(updated.Name, 'chat-js');
    assert.equal((await v2.send(new GetApiCommand({ ApiId: apiId }))).Description, 'from the JS SDK');

    const connect = await v2.send(
      new CreateIntegrationCommand({
        ApiId: apiId,
        IntegrationType: 'HTTP_PROXY',
        IntegrationMethod: 'POST',
        IntegrationUri: `${backend.base}/connect`,
        RequestParameters: { 'integration.request.header.connectionId': 'context.connectionId' },
      }),
    );
    assert.equal(connect.$metadata.httpStatusCode, 201);
    assert.match(connect.IntegrationId, /^[a-z0-9]{7}$/);
    assert.equal(connect.TimeoutInMillis, 29000);
    assert.equal(connect.ConnectionType, 'INTERNET');
    assert.equal(connect.PayloadFormatVersion, '1.0');
    const echo = await v2.send(
      new CreateIntegrationCommand({
        ApiId: apiId,
        IntegrationType: 'HTTP_PROXY',
        IntegrationMethod: 'POST',
        IntegrationUri: `${backend.base}/echo`,
        RequestParameters: { 'integration.request.header.connectionId': 'context.connectionId' },
      }),
    );
    await v2.send(new CreateRouteCommand({ ApiId: apiId, RouteKey: '$connect', Target: `integrations/${connect.IntegrationId}` }));
    const route = await v2.send(
      new CreateRouteCommand({
        ApiId: apiId,
        RouteKey: 'ping',
        Target: `integrations/${echo.IntegrationId}`,
        RouteResponseSelectionExpression: '$default',
      }),
    );
    assert.equal(route.$metadata.httpStatusCode, 201);
    assert.match(route.RouteId, /^[a-z0-9]{7}$/);
    assert.equal(route.AuthorizationType, 'NONE');
    assert.equal(route.ApiKeyRequired, false);
    const rr = await v2.send(
      new CreateRouteResponseCommand({ ApiId: apiId, RouteId: route.RouteId, RouteResponseKey: '$default' }),
    );
    assert.equal(rr.RouteResponseKey, '$default');
    assert.ok(rr.RouteResponseId);

    const stage = await v2.send(new CreateStageCommand({ ApiId: apiId, StageName: 'jscp' }));
    assert.equal(stage.$metadata.httpStatusCode, 201);
    assert.deepEqual(stage.DefaultRouteSettings, {
      DataTraceEnabled: false,
      DetailedMetricsEnabled: false,
      LoggingLevel: 'OFF',
    });
    assert.deepEqual(stage.StageVariables ?? {}, {});
    assert.ok(stage.CreatedDate instanceof Date);
    const dep = await v2.send(new CreateDeploymentCommand({ ApiId: apiId, StageName: 'jscp' }));
    assert.equal(dep.DeploymentStatus, 'DEPLOYED');
    assert.equal(dep.AutoDeployed, false);
    assert.match(dep.DeploymentId, /^[a-z0-9]{6}$/);
    const gotStage = await v2.send(new GetStageCommand({ ApiId: apiId, StageName: 'jscp' }));
    assert.equal(gotStage.StageName, 'jscp');
    assert.equal(gotStage.DeploymentId, dep.DeploymentId);
    assert.ok(gotStage.LastUpdatedDate instanceof Date);
    assert.ok((await v2.send(new GetApisCommand({}))).Items.some((a) => a.ApiId === apiId && a.Name === 'chat-js'));
    const integration = await v2.send(new GetIntegrationCommand({ ApiId: apiId, IntegrationId: echo.IntegrationId }));
    assert.equal(integration.IntegrationUri, `${backend.base}/echo`);
    assert.deepEqual(integration.RequestParameters, { 'integration.request.header.connectionId': 'context.connectionId' });
    const redeployed = await v2.send(
      new UpdateStageCommand({ ApiId: apiId, StageName: 'jscp', DeploymentId: dep.DeploymentId, StageVariables: { v: '1' } }),
    );
    assert.equal(redeployed.$metadata.httpStatusCode, 200);
    assert.deepEqual(redeployed.StageVariables, { v: '1' });

    // The ARN goes into the path as one label, ':' and '/' percent-encoded by the SDK.
    const arn = `arn:aws:apigateway:${REGION}::/apis/${apiId}`;
    const tagged = await v2.send(new TagResourceCommand({ ResourceArn: arn, Tags: { team: 'peers', 'a/b': 'c:d' } }));
    assert.equal(tagged.$metadata.httpStatusCode, 201);
    assert.deepEqual((await v2.send(new GetTagsCommand({ ResourceArn: arn }))).Tags, { team: 'peers', 'a/b': 'c:d' });
    assert.deepEqual((await v2.send(new GetApiCommand({ ApiId: apiId }))).Tags, { team: 'peers', 'a/b': 'c:d' });

    // A ws client on the new API: $connect and the message reach the backend with the mapped header.
    const before = backend.matching('/ws/connect').length;
    const client = await open(gw, backend, { stage: 'jscp' });
    const connectReq = backend.matching('/ws/connect')[before];
    assert.equal(connectReq.headers['x-amzn-apigateway-api-id'], apiId);
    client.ws.send('{"action":"ping","n":1}');
    assert.equal(await client.text(), 'echo:{"action":"ping","n":1}');
    const pings = await backend.wait('/ws/echo', 1, { connectionId: client.id });
    assert.equal(pings.length, 1);
    assert.equal(pings[0].method, 'POST');
    assert.equal(pings[0].headers.connectionid, client.id);
    assert.equal(pings[0].headers['user-agent'], `AmazonAPIGateway_${apiId}`);
    assert.equal(pings[0].body.toString(), '{"action":"ping","n":1}');

    // DeleteRoute: the open connection's next message finds no route and no $default.
    const del = await v2.send(new DeleteRouteCommand({ ApiId: apiId, RouteId: route.RouteId }));
    assert.equal(del.$metadata.httpStatusCode, 204);
    const keys = (await v2.send(new GetRoutesCommand({ ApiId: apiId }))).Items.map((r) => r.RouteKey);
    assert.deepEqual(keys, ['$connect']);
    client.ws.send('{"action":"ping","n":2}');
    const frame = JSON.parse(await client.text());
    assert.equal(frame.message, 'Forbidden');
    assert.equal(frame.connectionId, client.id);
    assert.match(frame.requestId, ID_RE);
    assert.equal(backend.matching('/ws/echo', client.id).length, 1);
    client.ws.close();
    await client.closeCode();

    await v2.send(new DeleteStageCommand({ ApiId: apiId, StageName: 'jscp' }));
    await v2.send(new DeleteApiCommand({ ApiId: apiId }));
    const gone = await rejection(v2.send(new GetApiCommand({ ApiId: apiId })), 'GetApi after DeleteApi');
    assertAwsError(gone, NotFoundException, 'NotFoundException', 404);
  });

  test('NotFoundException, ConflictException, BadRequestException', async () => {
    const v2 = controlPlaneClient(gw);
    const notFound = await rejection(v2.send(new GetApiCommand({ ApiId: 'nosuchapi0' })), 'GetApi of an unknown id');
    assertAwsError(notFound, NotFoundException, 'NotFoundException', 404);
    assert.match(notFound.message, /nosuchapi0/);
    assert.ok(notFound.ResourceType, 'resourceType reaches ResourceType');

    const noRse = await rejection(
      v2.send(new CreateApiCommand({ Name: 'x', ProtocolType: 'WEBSOCKET' })),
      'CreateApi without a route selection expression',
    );
    assertAwsError(noRse, BadRequestException, 'BadRequestException', 400);
    assert.ok(noRse.message.length > 0);

    const { ApiId: apiId } = await v2.send(
      new CreateApiCommand({ Name: 'e', ProtocolType: 'WEBSOCKET', RouteSelectionExpression: '$request.body.a' }),
    );
    const badTimeout = await rejection(
      v2.send(
        new CreateIntegrationCommand({
          ApiId: apiId,
          IntegrationType: 'HTTP_PROXY',
          IntegrationUri: 'http://127.0.0.1:9/x',
          TimeoutInMillis: 30000,
        }),
      ),
      'a timeout above 29000',
    );
    assertAwsError(badTimeout, BadRequestException, 'BadRequestException', 400);

    await v2.send(new CreateRouteCommand({ ApiId: apiId, RouteKey: 'a' }));
    const dupRoute = await rejection(v2.send(new CreateRouteCommand({ ApiId: apiId, RouteKey: 'a' })), 'a duplicate route key');
    assertAwsError(dupRoute, ConflictException, 'ConflictException', 409);
    await v2.send(new CreateStageCommand({ ApiId: apiId, StageName: 'jsdup' }));
    const dupStage = await rejection(
      v2.send(new CreateStageCommand({ ApiId: apiId, StageName: 'jsdup' })),
      'a duplicate stage',
    );
    assertAwsError(dupStage, ConflictException, 'ConflictException', 409);
    const takenStage = await rejection(
      v2.send(new CreateStageCommand({ ApiId: apiId, StageName: 'dev' })),
      'a stage the config API serves on this port',
    );
    assertAwsError(takenStage, ConflictException, 'ConflictException', 409);
    const missingRoute = await rejection(
      v2.send(new DeleteRouteCommand({ ApiId: apiId, RouteId: 'nosuchr' })),
      'DeleteRoute of an unknown route',
    );
    assertAwsError(missingRoute, NotFoundException, 'NotFoundException', 404);
    await v2.send(new DeleteApiCommand({ ApiId: apiId }));
  });
});

describe('npm ws as the client', () => {
  test('routes, a two-way reply, and $default for non-JSON', async () => {
    const client = await open(gw, backend);
    assert.equal(client.ws.extensions, '', 'no extension negotiated (permessage-deflate stays off)');
    client.ws.send('{"action":"echo","n":1}');
    assert.equal(await client.text(), 'echo:{"action":"echo","n":1}');
    client.ws.send('not json');
    const reqs = await backend.wait('/ws/default', 1, { connectionId: client.id });
    assert.equal(reqs.length, 1);
    assert.equal(reqs[0].body.toString(), 'not json');
    assert.equal(reqs[0].headers['user-agent'], 'AmazonAPIGateway_peerapi001');
    client.ws.close();
    await client.closeCode();
    await assertDisconnectOnce(backend, client.id);
  });

  test('ping is answered with pong; the subprotocol the backend picked is the one ws sees', async () => {
    const client = await open(gw, backend, { protocols: ['chat.v2', 'chat.v1'] });
    assert.equal(client.ws.protocol, 'chat.v2');
    const connectReq = backend.matching('/ws/connect', client.id)[0];
    assert.equal(connectReq.headers['sec-websocket-protocol'], 'chat.v2,chat.v1', 'the header as ws sent it');
    const pong = new Promise((resolve) => client.ws.once('pong', (data) => resolve(data.toString())));
    client.ws.ping('are you there');
    assert.equal(await withTimeout(pong, 5000, 'the pong'), 'are you there');
    client.ws.close(4001, 'custom');
    assert.equal((await client.closeCode()).code, 4001, 'the gateway echoes the client close code');
    await assertDisconnectOnce(backend, client.id);
  });

  test('a $connect the backend refuses: its status, no $disconnect', async () => {
    const before = backend.matching('/ws/connect').length;
    const client = new Client(`${gw.url()}?deny=1&x=y`);
    const err = await rejection(withTimeout(client.opened, 5000, 'handshake'), 'a refused $connect');
    assert.equal(err.statusCode, 401);
    const reqs = await backend.wait('/ws/connect', before + 1);
    const refused = reqs[before];
    assert.equal(refused.path, '/ws/connect?deny=1&x=y', 'the query string goes to the $connect integration');
    await sleep(200);
    assert.equal(backend.matching('/ws/disconnect', refused.headers.connectionid).length, 0);
  });

  test('close codes: binary frame 1003, frame and message over the limits 1009; $disconnect once each', async () => {
    const cases = [
      ['a binary frame', (ws) => ws.send(Buffer.from([0, 1])), 1003],
      ['one 40 KiB frame', (ws) => ws.send('a'.repeat(40 * 1024)), 1009],
      [
        'a 144 KiB message in 16 KiB fragments',
        (ws) => {
          for (let i = 0; i < 9; ++i) ws.send('a'.repeat(16384), { fin: i === 8 });
        },
        1009,
      ],
    ];
    for (const [what, send, code] of cases) {
      const client = await open(gw, backend);
      send(client.ws);
      assert.equal((await client.closeCode()).code, code, what);
      await assertDisconnectOnce(backend, client.id);
    }
  });

  test('an unknown stage is refused with 403; a plain GET of a stage with 426', async () => {
    const client = new Client(gw.url('nostage'));
    const err = await rejection(withTimeout(client.opened, 5000, 'handshake'), 'a handshake on an unknown stage');
    assert.equal(err.statusCode, 403);
    const status = await new Promise((resolve, reject) => {
      http.get(`http://127.0.0.1:${gw.port}/dev`, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on('error', reject);
    });
    assert.equal(status, 426);
  });
});

describe('shutdown', () => {
  test('SIGTERM closes every connection with 1001 and fires each $disconnect', async () => {
    const own = await startGateway(backend);
    const a = await open(own, backend);
    const b = await open(own, backend);
    const stopping = own.stop();
    for (const client of [a, b]) assert.equal((await client.closeCode(10000)).code, 1001);
    assertCleanExit(await stopping);
    for (const client of [a, b]) await assertDisconnectOnce(backend, client.id);
  });
});
