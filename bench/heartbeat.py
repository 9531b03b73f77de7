#!/usr/bin/python3
"""Idle browser clients and their backend: how many backend requests do heartbeats cost?

Runs the real `apigw-ws gateway` binary in front of a counting HTTP backend (Python, in this
process), opens --clients WebSocket clients to it (each through $connect), lets them idle for
--seconds while each sends the browser client's heartbeat frame every --heartbeat-ms (what
web/apigw-ws.js sends: JSON.stringify({action: 'heartbeat'})), and counts the requests the backend
receives in that window. The `heartbeat` route is, per --route:

  mock     a MOCK integration, one-way (the gateway answers it itself; docs/design/gateway.md)
  backend  an HTTP_PROXY integration to the backend, one-way (how a heartbeat reached the backend
           before MOCK routes: through $default or a route of its own)
  both     mock, then backend, side by side in one run (the default)

One RESULT line per route:

  RESULT heartbeat route=mock clients=1000 seconds=60 interval_ms=1000 heartbeats=59874 backend_requests=0 frames_back=0

`frames_back` counts frames the clients received (a one-way route sends none; an error frame
would show here). --check exits 1 unless the mock route's backend_requests is 0 and every
heartbeat was answered by silence (the ctest smoke run uses it with a few clients).

  /usr/bin/python3 bench/heartbeat.py --binary build/release/bin/apigw-ws --clients 1000 --seconds 60
"""
import argparse
import asyncio
import http.server
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time

try:
    import websockets
except ImportError as e:  # Debian's python3-websockets (scripts/setup.sh)
    print(f"skipping: {e}", file=sys.stderr)
    sys.exit(77)

# The browser client's heartbeat frame, byte for byte (JSON.stringify adds no spaces).
HEARTBEAT = json.dumps({"action": "heartbeat"}, separators=(",", ":"))


class Backend:
    """A counting HTTP backend: every integration request answered 200 with no body."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_path = {}
        backend = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                path = self.path.split("?")[0]
                with backend.lock:
                    backend.by_path[path] = backend.by_path.get(path, 0) + 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def count(self, path=None):
        with self.lock:
            return sum(self.by_path.values()) if path is None else self.by_path.get(path, 0)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def gateway_config(backend_port, route):
    base = f"http://127.0.0.1:{backend_port}/ws"
    integrations = [
        {"integrationId": name, "integrationType": "HTTP_PROXY", "integrationUri": f"{base}/{name}",
         "requestParameters": {"integration.request.header.connectionId": "context.connectionId"}}
        for name in ("connect", "disconnect", "default", "heartbeat")]
    if route == "mock":
        # What `apigw-ws dev` serves and `api apply` makes from {"integration": "mock"}.
        integrations[3] = {"integrationId": "heartbeat", "integrationType": "MOCK",
                           "requestTemplates": {"$default": '{"statusCode": 200}'},
                           "templateSelectionExpression": "\\$default",
                           "integrationResponses": [{"integrationResponseKey": "$default"}]}
    return {"region": "us-east-1", "apis": [{
        "apiId": "beatapi001", "routeSelectionExpression": "$request.body.action",
        "stages": [{"stageName": "dev"}], "integrations": integrations,
        "routes": [{"routeKey": key, "target": f"integrations/{key.lstrip('$')}"}
                   for key in ("$connect", "$disconnect", "$default", "heartbeat")]}]}


def start_gateway(binary, config_path):
    proc = subprocess.Popen([binary, "gateway", "--port", "0", "--config", config_path, "--log-level", "warn"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    m = re.search(r"ws://127\.0\.0\.1:(\d+)", line)
    if not m:
        proc.kill()
        raise RuntimeError(f"gateway did not start: {line!r}")
    return proc, int(m.group(1))


async def run_route(args, route):
    backend = Backend()
    with tempfile.TemporaryDirectory() as tmp:
        config_path = os.path.join(tmp, "gateway.json")
        with open(config_path, "w") as f:
            json.dump(gateway_config(backend.port, route), f)
        gateway, port = start_gateway(args.binary, config_path)
        try:
            return await measure(args, route, backend, port)
        finally:
            gateway.terminate()
            try:
                gateway.wait(15)
            except subprocess.TimeoutExpired:
                gateway.kill()
            backend.stop()


async def measure(args, route, backend, port):
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(64)

    async def open_one():
        async with gate:
            # No client pings: a browser sends none either.
            return await websockets.connect(f"ws://127.0.0.1:{port}/dev", ping_interval=None, open_timeout=60,
                                            max_queue=None)

    started = time.monotonic()
    clients = await asyncio.gather(*[open_one() for _ in range(args.clients)])
    opened_s = time.monotonic() - started
    while backend.count("/ws/connect") < args.clients:
        await asyncio.sleep(0.05)

    frames_back = 0
    heartbeats = 0

    async def read(ws):
        nonlocal frames_back
        try:
            async for _ in ws:
                frames_back += 1
        except websockets.ConnectionClosed:
            pass

    readers = [loop.create_task(read(ws)) for ws in clients]
    interval = args.heartbeat_ms / 1000
    before = backend.count()
    deadline = loop.time() + args.seconds

    async def beat(ws):
        nonlocal heartbeats
        # Independent browsers: each starts at its own moment of the interval.
        await asyncio.sleep(random.uniform(0, interval))
        next_at = loop.time()
        while next_at < deadline:
            await ws.send(HEARTBEAT)
            heartbeats += 1
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - loop.time()))

    await asyncio.gather(*[beat(ws) for ws in clients])
    await asyncio.sleep(1)  # what is in flight arrives
    backend_requests = backend.count() - before
    heartbeat_requests = backend.count("/ws/heartbeat")
    await asyncio.gather(*[ws.close() for ws in clients], return_exceptions=True)
    for r in readers:
        r.cancel()
    print(f"heartbeat route={route}: {args.clients} clients opened in {opened_s:.1f} s; {heartbeats} heartbeats "
          f"in {args.seconds} s -> {backend_requests} backend requests ({heartbeat_requests} to /ws/heartbeat), "
          f"{frames_back} frames back", flush=True)
    print(f"RESULT heartbeat route={route} clients={args.clients} seconds={args.seconds} "
          f"interval_ms={args.heartbeat_ms} heartbeats={heartbeats} backend_requests={backend_requests} "
          f"frames_back={frames_back}", flush=True)
    return heartbeats, backend_requests, frames_back


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--binary", required=True, help="the apigw-ws binary")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--heartbeat-ms", type=int, default=1000)
    parser.add_argument("--route", choices=("mock", "backend", "both"), default="both")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 unless the mock route cost 0 backend requests and sent nothing back")
    args = parser.parse_args()
    routes = ("mock", "backend") if args.route == "both" else (args.route,)
    results = {route: asyncio.run(run_route(args, route)) for route in routes}
    if args.check and "mock" in results:
        heartbeats, backend_requests, frames_back = results["mock"]
        if heartbeats == 0 or backend_requests != 0 or frames_back != 0:
            print("check failed: the MOCK heartbeat route reached the backend or answered", file=sys.stderr)
            return 1
    if args.check and "backend" in results:
        heartbeats, backend_requests, _ = results["backend"]
        if backend_requests < heartbeats:
            print("check failed: the backend route lost heartbeats", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
