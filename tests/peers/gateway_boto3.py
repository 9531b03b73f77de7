#!/usr/bin/python3
"""Peer test: boto3 (apigatewaymanagementapi) and python3-websockets, used unchanged against
`apigw-ws gateway`.

Starts a recording HTTP backend and the gateway (port 0) and checks what a real AWS SDK and a real
WebSocket client see: PostToConnection / GetConnection / DeleteConnection, GoneException after a
close, PayloadTooLargeException, LimitExceededException for a client that stops reading,
ForbiddenException without a stage, SigV4 signatures accepted and rejected (--auth sigv4), and
the close codes of the WebSocket side. (Just over 600 lines on purpose: one peer session against
one gateway process, read top to bottom like the JavaScript peer test that mirrors it.)

Run with Debian's /usr/bin/python3 (python3-boto3, python3-websockets):
    gateway_boto3.py --binary build/bin/apigw-ws
Exit code 77 (skipped) when boto3 or websockets are missing.
"""
import argparse
import asyncio
import datetime
import http.server
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import warnings

try:
    import boto3
    import botocore.config
    import botocore.exceptions
    import websockets
except ImportError as e:  # pragma: no cover
    print(f"skipping: {e}", file=sys.stderr)
    sys.exit(77)

BINARY = None
ID_RE = re.compile(r"^[A-Za-z0-9_-]{15}=$")
ACCESS_KEY = "AKIDGATEWAYTEST00001"
SECRET_KEY = "gateway-test-secret-key-0000000000000000"


class Recorder:
    """A recording HTTP backend: every integration request, answered 200 (echo on /ws/echo)."""

    def __init__(self):
        self.requests = []
        self.cv = threading.Condition()
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with recorder.cv:
                    recorder.requests.append((self.path, dict(self.headers), body))
                    recorder.cv.notify_all()
                out = b"echo:" + body if self.path.startswith("/ws/echo") else b""
                self.send_response(200)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, prefix, n=1, timeout=5.0, connection_id=None):
        deadline = time.monotonic() + timeout
        with self.cv:
            while True:
                got = [r for r in self.requests if r[0].startswith(prefix) and
                       (connection_id is None or r[1].get("connectionId") == connection_id)]
                left = deadline - time.monotonic()
                if len(got) >= n or left <= 0:
                    return got
                self.cv.wait(left)


class Gateway:
    """`apigw-ws gateway` on a free port; the port is read from its first stdout line."""

    def __init__(self, backend_port, *extra):
        self.dir = tempfile.TemporaryDirectory()
        base = f"http://127.0.0.1:{backend_port}"
        config = {
            "region": "us-east-1",
            "keys": [{"accessKeyId": ACCESS_KEY, "secretAccessKey": SECRET_KEY}],
            "apis": [{
                "apiId": "peerapi001",
                "routeSelectionExpression": "$request.body.action",
                "stages": [{"stageName": "dev"}],
                "integrations": [
                    {"integrationId": name, "integrationUri": f"{base}/ws/{name}",
                     "requestParameters": {"integration.request.header.connectionId": "context.connectionId"}}
                    for name in ("connect", "disconnect", "default", "echo")],
                "routes": [
                    {"routeKey": "$connect", "target": "integrations/connect"},
                    {"routeKey": "$disconnect", "target": "integrations/disconnect"},
                    {"routeKey": "$default", "target": "integrations/default"},
                    {"routeKey": "echo", "target": "integrations/echo",
                     "routeResponseSelectionExpression": "$default",
                     "routeResponses": [{"routeResponseKey": "$default"}]},
                ],
            }],
        }
        path = os.path.join(self.dir.name, "gateway.json")
        with open(path, "w") as f:
            json.dump(config, f)
        self.log = open(os.path.join(self.dir.name, "gateway.log"), "w+")
        self.proc = subprocess.Popen([BINARY, "gateway", "--port", "0", "--config", path, *extra],
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"ws://127\.0\.0\.1:(\d+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"gateway did not start: {line!r}")
        self.port = int(m.group(1))

    def client(self, stage="/dev", key=ACCESS_KEY, secret=SECRET_KEY):
        return boto3.client(
            "apigatewaymanagementapi", endpoint_url=f"http://127.0.0.1:{self.port}{stage}", region_name="us-east-1",
            aws_access_key_id=key, aws_secret_access_key=secret,
            config=botocore.config.Config(retries={"max_attempts": 1}))

    def stop(self):
        """SIGTERM, then the exit code: 0 after a clean shutdown. Returns the gateway's log."""
        self.proc.terminate()
        try:
            code = self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = "killed after 15 s"
        self.proc.stdout.close()
        self.log.seek(0)
        log = self.log.read()
        self.log.close()
        self.dir.cleanup()
        return code, log


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


async def in_thread(fn, *args, **kwargs):
    return await asyncio.get_running_loop().run_in_executor(None, lambda: fn(*args, **kwargs))


class GatewayPeerTest(unittest.TestCase):
    extra_args = ()

    @classmethod
    def setUpClass(cls):
        cls.backend = Recorder()
        cls.gateway = Gateway(cls.backend.port, *cls.extra_args)

    @classmethod
    def tearDownClass(cls):
        code, log = cls.gateway.stop()
        if code != 0 or "runtime error" in log or "AddressSanitizer" in log:
            raise AssertionError(f"gateway exited with {code}; its log:\n{log}")
        cls.backend.server.shutdown()
        cls.backend.server.server_close()

    def ws_url(self, query=""):
        return f"ws://127.0.0.1:{self.gateway.port}/dev{query}"

    def connection_id(self, before):
        reqs = self.backend.wait("/ws/connect", before + 1)
        self.assertGreater(len(reqs), before)
        cid = reqs[before][1]["connectionId"]
        self.assertRegex(cid, ID_RE)
        return cid

    async def connect(self, **kwargs):
        before = len(self.backend.wait("/ws/connect", 0, 0))
        ws = await websockets.connect(self.ws_url(), **kwargs)
        return ws, self.connection_id(before)


class ManagementApiTest(GatewayPeerTest):
    def test_post_get_delete_and_gone(self):
        async def body():
            ws, cid = await self.connect(user_agent_header="peer-test/1.0")
            api = self.gateway.client()
            await in_thread(api.post_to_connection, ConnectionId=cid, Data=b'{"hello":"boto3"}')
            self.assertEqual(await asyncio.wait_for(ws.recv(), 5), '{"hello":"boto3"}')

            info = await in_thread(api.get_connection, ConnectionId=cid)
            self.assertIsInstance(info["ConnectedAt"], datetime.datetime)
            self.assertIsInstance(info["LastActiveAt"], datetime.datetime)
            self.assertEqual(info["Identity"], {"SourceIp": "127.0.0.1", "UserAgent": "peer-test/1.0"})
            self.assertRegex(info["ResponseMetadata"]["RequestId"], ID_RE)

            resp = await in_thread(api.delete_connection, ConnectionId=cid)
            self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 204)
            with self.assertRaises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
            self.assertEqual(closed.exception.rcvd.code, 1000)
            self.assertEqual(len(self.backend.wait("/ws/disconnect", 1, connection_id=cid)), 1)
            await asyncio.sleep(0.1)  # a second $disconnect would arrive now
            self.assertEqual(len(self.backend.wait("/ws/disconnect", 0, 0, connection_id=cid)), 1)

            for call in (lambda: api.post_to_connection(ConnectionId=cid, Data=b"late"),
                         lambda: api.get_connection(ConnectionId=cid),
                         lambda: api.delete_connection(ConnectionId=cid)):
                with self.assertRaises(api.exceptions.GoneException) as gone:
                    await in_thread(call)
                self.assertEqual(gone.exception.response["ResponseMetadata"]["HTTPStatusCode"], 410)
        run(body())

    def test_gone_after_client_close(self):
        async def body():
            ws, cid = await self.connect()
            await ws.close()
            api = self.gateway.client()
            with self.assertRaises(api.exceptions.GoneException):
                await in_thread(api.post_to_connection, ConnectionId=cid, Data=b"x")
        run(body())

    def test_payload_too_large(self):
        async def body():
            ws, cid = await self.connect()
            api = self.gateway.client()
            with self.assertRaises(api.exceptions.PayloadTooLargeException) as e:
                await in_thread(api.post_to_connection, ConnectionId=cid, Data=b"a" * 131073)
            self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 413)
            await in_thread(api.post_to_connection, ConnectionId=cid, Data=b"a" * 131072)
            self.assertEqual(len(await asyncio.wait_for(ws.recv(), 5)), 131072)
            await ws.close()
        run(body())

    def test_limit_exceeded_for_a_client_that_stops_reading(self):
        async def body():
            ws, cid = await self.connect(max_queue=1, read_limit=2**16)
            api = self.gateway.client()
            chunk = b"z" * 131072
            error = None
            for _ in range(2000):
                try:
                    await in_thread(api.post_to_connection, ConnectionId=cid, Data=chunk)
                except api.exceptions.LimitExceededException as e:
                    error = e
                    break
            self.assertIsNotNone(error, "no LimitExceededException after 2000 posts")
            self.assertEqual(error.response["ResponseMetadata"]["HTTPStatusCode"], 429)
            ws.transport.abort()
        run(body())

    def test_forbidden_without_stage(self):
        api = self.gateway.client(stage="")
        with self.assertRaises(api.exceptions.ForbiddenException):
            api.post_to_connection(ConnectionId="AAAAAAAAAAAAAAA=", Data=b"x")


class WebSocketTest(GatewayPeerTest):
    def test_routes_and_two_way_reply(self):
        async def body():
            ws, cid = await self.connect()
            await ws.send('{"action":"echo","n":1}')
            self.assertEqual(await asyncio.wait_for(ws.recv(), 5), 'echo:{"action":"echo","n":1}')
            await ws.send("not json")
            reqs = self.backend.wait("/ws/default")
            self.assertEqual(reqs[-1][2], b"not json")
            self.assertEqual(reqs[-1][1]["User-Agent"], "AmazonAPIGateway_peerapi001")
            self.assertEqual(reqs[-1][1]["connectionId"], cid)
            await ws.close()
        run(body())

    def test_close_codes(self):
        async def expect_close(send, code):
            ws, _ = await self.connect(max_size=None)
            await send(ws)
            with self.assertRaises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 5)
            self.assertEqual(closed.exception.rcvd.code, code)

        async def body():
            await expect_close(lambda ws: ws.send(b"\x00\x01"), 1003)
            await expect_close(lambda ws: ws.send("a" * (40 * 1024)), 1009)
            await expect_close(lambda ws: ws.send(("a" * 16384 for _ in range(9))), 1009)
        run(body())

    def test_plain_get_is_426_and_unknown_stage_403(self):
        import urllib.error
        import urllib.request
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(f"http://127.0.0.1:{self.gateway.port}/dev", timeout=5)
        self.assertEqual(e.exception.code, 426)

        async def body():
            with self.assertRaises(websockets.InvalidStatusCode) as e:
                await websockets.connect(f"ws://127.0.0.1:{self.gateway.port}/nostage")
            self.assertEqual(e.exception.status_code, 403)
        run(body())


class ShutdownTest(GatewayPeerTest):
    def test_sigterm_closes_every_connection_and_fires_disconnect(self):
        async def body():
            a, id_a = await self.connect()
            b, id_b = await self.connect()
            stopping = asyncio.get_running_loop().run_in_executor(None, self.gateway.proc.terminate)
            for ws in (a, b):
                with self.assertRaises(websockets.ConnectionClosed) as closed:
                    await asyncio.wait_for(ws.recv(), 10)
                self.assertEqual(closed.exception.rcvd.code, 1001)
            await stopping
            for cid in (id_a, id_b):
                self.assertEqual(len(self.backend.wait("/ws/disconnect", 1, connection_id=cid)), 1)
        run(body())


class ControlPlaneTest(GatewayPeerTest):
    """apigatewayv2 (spec §6): set an API up with boto3 exactly as against AWS, then use it."""

    def v2(self):
        return boto3.client("apigatewayv2", endpoint_url=f"http://127.0.0.1:{self.gateway.port}",
                            region_name="us-east-1", aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
                            config=botocore.config.Config(retries={"max_attempts": 1}))

    def test_create_api_routes_stage_and_connect(self):
        v2 = self.v2()
        api = v2.create_api(Name="chat", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.action")
        api_id = api["ApiId"]
        self.assertRegex(api_id, r"^[a-z0-9]{10}$")
        self.assertEqual(api["ApiEndpoint"], f"wss://{api_id}.execute-api.us-east-1.amazonaws.com")
        self.assertEqual(api["ApiKeySelectionExpression"], "$request.header.x-api-key")
        self.assertIsInstance(api["CreatedDate"], datetime.datetime)
        self.assertEqual(api["ResponseMetadata"]["HTTPStatusCode"], 201)

        base = f"http://127.0.0.1:{self.backend.port}/ws"
        connect = v2.create_integration(
            ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationMethod="POST", IntegrationUri=f"{base}/connect",
            RequestParameters={"integration.request.header.connectionId": "context.connectionId"})
        self.assertEqual(connect["TimeoutInMillis"], 29000)
        self.assertEqual(connect["ConnectionType"], "INTERNET")
        self.assertEqual(connect["PayloadFormatVersion"], "1.0")
        echo = v2.create_integration(ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationMethod="POST",
                                     IntegrationUri=f"{base}/echo")
        v2.create_route(ApiId=api_id, RouteKey="$connect", Target=f"integrations/{connect['IntegrationId']}")
        route = v2.create_route(ApiId=api_id, RouteKey="ping", Target=f"integrations/{echo['IntegrationId']}",
                                RouteResponseSelectionExpression="$default")
        self.assertEqual(route["AuthorizationType"], "NONE")
        self.assertFalse(route["ApiKeyRequired"])
        rr = v2.create_route_response(ApiId=api_id, RouteId=route["RouteId"], RouteResponseKey="$default")
        self.assertEqual(rr["RouteResponseKey"], "$default")
        stage = v2.create_stage(ApiId=api_id, StageName="cp")
        self.assertEqual(stage["DefaultRouteSettings"],
                         {"DataTraceEnabled": False, "DetailedMetricsEnabled": False, "LoggingLevel": "OFF"})
        dep = v2.create_deployment(ApiId=api_id, StageName="cp")
        self.assertEqual(dep["DeploymentStatus"], "DEPLOYED")
        self.assertRegex(dep["DeploymentId"], r"^[a-z0-9]{6}$")

        self.assertIn(api_id, [a["ApiId"] for a in v2.get_apis()["Items"]])
        self.assertEqual(v2.get_api(ApiId=api_id)["Name"], "chat")
        self.assertEqual({r["RouteKey"] for r in v2.get_routes(ApiId=api_id)["Items"]}, {"$connect", "ping"})
        self.assertEqual(v2.get_stage(ApiId=api_id, StageName="cp")["DeploymentId"], dep["DeploymentId"])

        async def use_it():
            before = len(self.backend.wait("/ws/connect", 0, 0))
            async with websockets.connect(f"ws://127.0.0.1:{self.gateway.port}/cp") as ws:
                reqs = self.backend.wait("/ws/connect", before + 1)
                self.assertEqual(reqs[before][1]["X-Amzn-Apigateway-Api-Id"], api_id)
                await ws.send('{"action":"ping"}')
                self.assertEqual(await asyncio.wait_for(ws.recv(), 5), 'echo:{"action":"ping"}')
        run(use_it())

        v2.delete_stage(ApiId=api_id, StageName="cp")
        v2.delete_api(ApiId=api_id)
        with self.assertRaises(v2.exceptions.NotFoundException):
            v2.get_api(ApiId=api_id)

    def test_mock_integration_answers_without_the_backend(self):
        """MOCK integration + integration response + route response, as against AWS: the gateway
        answers the route itself with the response template and the backend sees nothing."""
        v2 = self.v2()
        api_id = v2.create_api(Name="mock", ProtocolType="WEBSOCKET",
                               RouteSelectionExpression="$request.body.action")["ApiId"]
        mock = v2.create_integration(ApiId=api_id, IntegrationType="MOCK",
                                     RequestTemplates={"$default": '{"statusCode": 200}'},
                                     TemplateSelectionExpression="\\$default")
        self.assertEqual(mock["IntegrationType"], "MOCK")
        self.assertNotIn("IntegrationUri", mock)
        self.assertEqual(mock["PassthroughBehavior"], "WHEN_NO_MATCH")
        self.assertEqual(mock["IntegrationResponseSelectionExpression"], "${integration.response.statuscode}")
        self.assertEqual(mock["RequestTemplates"], {"$default": '{"statusCode": 200}'})
        mock_id = mock["IntegrationId"]
        template = '{"type":"heartbeat","connectionId":"$context.connectionId"}'
        ir = v2.create_integration_response(ApiId=api_id, IntegrationId=mock_id, IntegrationResponseKey="$default",
                                            ResponseTemplates={"$default": template},
                                            TemplateSelectionExpression="\\$default")
        self.assertEqual(ir["ResponseMetadata"]["HTTPStatusCode"], 201)
        self.assertEqual(ir["IntegrationResponseKey"], "$default")
        self.assertEqual(ir["ResponseTemplates"], {"$default": template})
        self.assertEqual(v2.get_integration_response(ApiId=api_id, IntegrationId=mock_id,
                                                     IntegrationResponseId=ir["IntegrationResponseId"])
                         ["ResponseTemplates"], {"$default": template})
        other = v2.create_integration_response(ApiId=api_id, IntegrationId=mock_id, IntegrationResponseKey="/4\\d\\d/")
        self.assertEqual([i["IntegrationResponseKey"] for i in
                          v2.get_integration_responses(ApiId=api_id, IntegrationId=mock_id)["Items"]],
                         ["$default", "/4\\d\\d/"])
        v2.delete_integration_response(ApiId=api_id, IntegrationId=mock_id,
                                       IntegrationResponseId=other["IntegrationResponseId"])
        with self.assertRaises(v2.exceptions.NotFoundException):
            v2.get_integration_response(ApiId=api_id, IntegrationId=mock_id,
                                        IntegrationResponseId=other["IntegrationResponseId"])
        with self.assertRaises(v2.exceptions.ConflictException):
            v2.create_integration_response(ApiId=api_id, IntegrationId=mock_id, IntegrationResponseKey="$default")
        with self.assertRaises(v2.exceptions.BadRequestException):
            v2.create_integration_response(ApiId=api_id, IntegrationId=mock_id, IntegrationResponseKey="200")

        route = v2.create_route(ApiId=api_id, RouteKey="heartbeat", Target=f"integrations/{mock_id}",
                                RouteResponseSelectionExpression="$default")
        self.assertEqual(route["RouteResponseSelectionExpression"], "$default")
        rr = v2.create_route_response(ApiId=api_id, RouteId=route["RouteId"], RouteResponseKey="$default")
        self.assertEqual(v2.get_route_response(ApiId=api_id, RouteId=route["RouteId"],
                                               RouteResponseId=rr["RouteResponseId"])["RouteResponseKey"], "$default")
        self.assertEqual(len(v2.get_route_responses(ApiId=api_id, RouteId=route["RouteId"])["Items"]), 1)
        quiet = v2.create_route(ApiId=api_id, RouteKey="quiet", Target=f"integrations/{mock_id}")
        quiet_rr = v2.create_route_response(ApiId=api_id, RouteId=quiet["RouteId"], RouteResponseKey="$default")
        v2.delete_route_response(ApiId=api_id, RouteId=quiet["RouteId"], RouteResponseId=quiet_rr["RouteResponseId"])
        self.assertEqual(v2.get_route_responses(ApiId=api_id, RouteId=quiet["RouteId"])["Items"], [])
        echo = v2.create_integration(ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationMethod="POST",
                                     IntegrationUri=f"http://127.0.0.1:{self.backend.port}/ws/echo")
        v2.create_route(ApiId=api_id, RouteKey="echo", Target=f"integrations/{echo['IntegrationId']}",
                        RouteResponseSelectionExpression="$default")
        v2.create_stage(ApiId=api_id, StageName="mock")
        v2.create_deployment(ApiId=api_id, StageName="mock")

        async def use_it():
            before = len(self.backend.wait("/", 0, 0))
            async with websockets.connect(f"ws://127.0.0.1:{self.gateway.port}/mock") as ws:
                for _ in range(5):
                    await ws.send('{"action":"heartbeat"}')
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 5))
                    self.assertEqual(frame["type"], "heartbeat")
                    self.assertRegex(frame["connectionId"], ID_RE)
                await ws.send('{"action":"quiet"}')  # one-way: no frame
                await ws.send('{"action":"echo"}')  # no route response on echo either: no frame
                self.assertEqual(len(self.backend.wait("/", before + 1)), before + 1)
                time.sleep(0.2)  # a request for a MOCK route would have arrived by now
                got = self.backend.wait("/", 0, 0)[before:]
                self.assertEqual([path for path, *_ in got], ["/ws/echo"])  # only the echo
                with self.assertRaises(asyncio.TimeoutError):
                    await asyncio.wait_for(ws.recv(), 0.3)
        run(use_it())
        v2.delete_api(ApiId=api_id)

    def test_stage_settings_as_boto3_sends_and_reads_them(self):
        v2 = self.v2()
        api_id = v2.create_api(Name="settings", ProtocolType="WEBSOCKET",
                               RouteSelectionExpression="$request.body.action")["ApiId"]
        log = {"DestinationArn": "arn:aws:logs:us-east-1:123456789012:log-group:ws-access",
               "Format": "$context.requestId $context.connectionId $context.status"}
        stage = v2.create_stage(ApiId=api_id, StageName="settings", AccessLogSettings=log,
                                DefaultRouteSettings={"LoggingLevel": "ERROR", "ThrottlingBurstLimit": 30})
        self.assertEqual(stage["AccessLogSettings"], log)
        self.assertEqual(stage["DefaultRouteSettings"], {"DataTraceEnabled": False, "DetailedMetricsEnabled": False,
                                                         "LoggingLevel": "ERROR", "ThrottlingBurstLimit": 30})
        v2.update_stage(ApiId=api_id, StageName="settings",
                        DefaultRouteSettings={"DataTraceEnabled": True, "DetailedMetricsEnabled": True,
                                              "LoggingLevel": "INFO", "ThrottlingRateLimit": 12.5})
        got = v2.get_stage(ApiId=api_id, StageName="settings")
        self.assertEqual(got["AccessLogSettings"], log)
        self.assertEqual(got["DefaultRouteSettings"], {"DataTraceEnabled": True, "DetailedMetricsEnabled": True,
                                                       "LoggingLevel": "INFO", "ThrottlingBurstLimit": 30,
                                                       "ThrottlingRateLimit": 12.5})
        self.assertIsInstance(got["DefaultRouteSettings"]["ThrottlingRateLimit"], float)
        # A format without $context.requestId is refused, as the model's documentation says AWS does.
        with self.assertRaises(v2.exceptions.BadRequestException):
            v2.update_stage(ApiId=api_id, StageName="settings",
                            AccessLogSettings={"DestinationArn": log["DestinationArn"], "Format": "$context.status"})
        v2.delete_access_log_settings(ApiId=api_id, StageName="settings")
        self.assertNotIn("AccessLogSettings", v2.get_stage(ApiId=api_id, StageName="settings"))
        v2.delete_api(ApiId=api_id)

    def test_access_log_lines_for_connect_message_and_disconnect(self):
        """A stage with accessLogSettings gets one line per event in its format, on stderr."""
        v2 = self.v2()
        fmt = ("$context.requestId $context.eventType $context.routeKey $context.status $context.connectionId "
               "$context.stage [$context.requestTime] ${context.identity.sourceIp} $context.nosuch")
        v2.update_stage(ApiId="peerapi001", StageName="dev", AccessLogSettings={
            "DestinationArn": "arn:aws:logs:us-east-1:123456789012:log-group:ws-access", "Format": fmt})
        try:
            async def body():
                ws, cid = await self.connect()
                await ws.send('{"action":"echo","n":1}')
                self.assertEqual(await asyncio.wait_for(ws.recv(), 5), 'echo:{"action":"echo","n":1}')
                await ws.close()
                return cid
            cid = run(body())
            self.assertTrue(self.backend.wait("/ws/disconnect", 1, connection_id=cid))
            line_re = re.compile(r"^(\S+) (CONNECT|MESSAGE|DISCONNECT) (\S+) (\d+) (\S+) dev "
                                 r"\[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000\] 127\.0\.0\.1 -$")
            deadline = time.monotonic() + 10
            while True:
                with open(self.gateway.log.name) as f:
                    lines = [m.groups() for m in map(line_re.match, f.read().splitlines()) if m and m.group(5) == cid]
                if len(lines) >= 3 or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            self.assertEqual([(event, route, status) for _, event, route, status, _ in lines],
                             [("CONNECT", "$connect", "200"), ("MESSAGE", "echo", "200"),
                              ("DISCONNECT", "$disconnect", "200")])
            self.assertEqual(len({request_id for request_id, *_ in lines}), 3)  # one request id per event
        finally:
            v2.delete_access_log_settings(ApiId="peerapi001", StageName="dev")

    def test_edge_and_tls_1_0_custom_domains_refused(self):
        v2 = self.v2()
        for config in ({"EndpointType": "EDGE"}, {"SecurityPolicy": "TLS_1_0"}):
            with self.assertRaises(v2.exceptions.BadRequestException) as e:
                v2.create_domain_name(DomainName="ws.example.com", DomainNameConfigurations=[
                    dict(CertificateArn="arn:aws:acm:us-east-1:123456789012:certificate/abc", **config)])
            self.assertIn("not supported for WebSocket APIs", str(e.exception))
        with self.assertRaises(v2.exceptions.NotFoundException):
            v2.get_domain_name(DomainName="ws.example.com")

    def test_errors(self):
        v2 = self.v2()
        with self.assertRaises(v2.exceptions.BadRequestException):
            v2.create_api(Name="x", ProtocolType="WEBSOCKET")  # no route selection expression
        with self.assertRaises(v2.exceptions.NotFoundException):
            v2.get_routes(ApiId="nosuchapi0")
        api_id = v2.create_api(Name="e", ProtocolType="WEBSOCKET", RouteSelectionExpression="$request.body.a")["ApiId"]
        with self.assertRaises(v2.exceptions.BadRequestException):
            v2.create_integration(ApiId=api_id, IntegrationType="HTTP_PROXY", IntegrationUri="http://h/x",
                                  TimeoutInMillis=30000)
        v2.create_route(ApiId=api_id, RouteKey="a")
        with self.assertRaises(v2.exceptions.ConflictException):
            v2.create_route(ApiId=api_id, RouteKey="a")
        with self.assertRaises(v2.exceptions.ConflictException):
            v2.create_stage(ApiId=api_id, StageName="dev")  # served by the config's API on this port
        v2.delete_api(ApiId=api_id)


class StateFileTest(unittest.TestCase):
    """--state-file: what the control plane set up survives a restart; a corrupt file stops the start."""

    def test_restart_keeps_apis_and_corrupt_file_refused(self):
        backend = Recorder()
        with tempfile.TemporaryDirectory() as d:
            state = os.path.join(d, "state.json")
            gw = Gateway(backend.port, "--state-file", state)
            v2 = boto3.client("apigatewayv2", endpoint_url=f"http://127.0.0.1:{gw.port}", region_name="us-east-1",
                              aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
            api_id = v2.create_api(Name="kept", ProtocolType="WEBSOCKET",
                                   RouteSelectionExpression="$request.body.action")["ApiId"]
            v2.create_stage(ApiId=api_id, StageName="kept")
            self.assertEqual(gw.stop()[0], 0)

            gw = Gateway(backend.port, "--state-file", state)
            v2 = boto3.client("apigatewayv2", endpoint_url=f"http://127.0.0.1:{gw.port}", region_name="us-east-1",
                              aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)
            self.assertEqual(v2.get_api(ApiId=api_id)["Name"], "kept")
            self.assertEqual(v2.get_stage(ApiId=api_id, StageName="kept")["StageName"], "kept")
            self.assertEqual(gw.stop()[0], 0)

            with open(state, "w") as f:
                f.write("{not json")
            proc = subprocess.run([BINARY, "gateway", "--port", "0", "--state-file", state], capture_output=True,
                                  text=True, timeout=30)
            self.assertEqual(proc.returncode, 1)
            self.assertIn(state, proc.stderr)
            with open(state) as f:
                self.assertEqual(f.read(), "{not json")  # never overwritten
        backend.server.shutdown()
        backend.server.server_close()


class SigV4Test(GatewayPeerTest):
    extra_args = ("--auth", "sigv4")

    def test_signed_calls_accepted(self):
        async def body():
            ws, cid = await self.connect()
            api = self.gateway.client()
            await in_thread(api.post_to_connection, ConnectionId=cid, Data=b"signed")
            self.assertEqual(await asyncio.wait_for(ws.recv(), 5), "signed")
            self.assertEqual((await in_thread(api.get_connection, ConnectionId=cid))["Identity"]["SourceIp"],
                             "127.0.0.1")
            await ws.close()
        run(body())

    def test_control_plane_signed_with_service_apigateway(self):
        def v2(secret):
            return boto3.client("apigatewayv2", endpoint_url=f"http://127.0.0.1:{self.gateway.port}",
                                region_name="us-east-1", aws_access_key_id=ACCESS_KEY, aws_secret_access_key=secret,
                                config=botocore.config.Config(retries={"max_attempts": 1}))
        self.assertIn("peerapi001", [a["ApiId"] for a in v2(SECRET_KEY).get_apis()["Items"]])
        with self.assertRaises(botocore.exceptions.ClientError) as e:
            v2("wrong-secret").get_apis()
        self.assertEqual(e.exception.response["Error"]["Code"], "InvalidSignatureException")

    def test_bad_signatures_rejected(self):
        cases = [(ACCESS_KEY, "wrong-secret", "InvalidSignatureException"),
                 ("AKIDUNKNOWN000000000", SECRET_KEY, "UnrecognizedClientException")]
        for key, secret, code in cases:
            api = self.gateway.client(key=key, secret=secret)
            with self.assertRaises(botocore.exceptions.ClientError) as e:
                api.get_connection(ConnectionId="AAAAAAAAAAAAAAA=")
            self.assertEqual(e.exception.response["Error"]["Code"], code)
            self.assertEqual(e.exception.response["ResponseMetadata"]["HTTPStatusCode"], 403)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    args, rest = parser.parse_known_args()
    BINARY = args.binary
    # botocore keeps pooled sockets open until exit; that is not what these tests are about.
    warnings.simplefilter("ignore", ResourceWarning)
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2, warnings=False)
