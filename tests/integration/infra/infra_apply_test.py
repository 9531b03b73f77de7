#!/usr/bin/env python3
"""End-to-end tests of `apigw-ws api apply|show|delete` and `apigw-ws domain apply|show`.

Over 600 lines on purpose: each test is one long scenario against one running gateway (the state
each step leaves is what the next checks), and the proxy and model checker are shared by all.

The real binary runs `apigw-ws gateway --port 0` (the local gateway's apigatewayv2 control plane)
and applies api.json files to it through a recording proxy on loopback. The proxy counts the calls
that change something (anything but GET), checks every request against the botocore model of
apigatewayv2 (operation, body members and their types, required members) when
tests/data/aws-models/apigatewayv2/service-2.json is present, and can answer a chosen call
with a 500 to inject a failure part-way through an apply.

Standard library only. Exit code 77 marks a skip. Over 600 lines on purpose: the proxy, its
botocore model check and the scenarios that use them belong together in one runnable file.
"""

import argparse
import ctypes
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import socket
import time
import subprocess
import sys
import tempfile
import threading
import unittest
import urllib.parse

BINARY = None
MODEL_PATH = None
MOTO_PYTHON = "python3"


def die_with_parent():
    """Runs in each server child before exec: SIGTERM it when this test process dies, however it
    dies (a ctest timeout kills it with SIGKILL, and no tearDown runs then)."""
    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def child_env(home, extra=None):
    """A hermetic environment (no AWS variables; instance metadata off, so the credentials chain
    never asks 169.254.169.254) that keeps the sanitizer settings of the run."""
    env = {"PATH": "/usr/bin:/bin", "HOME": home, "AWS_EC2_METADATA_DISABLED": "true"}
    for key in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if key in os.environ:
            env[key] = os.environ[key]
    env.update(extra or {})
    return env


# The operations the commands use, for naming calls without the model: (method, path regex, name).
OPERATIONS = [
    ("POST", r"^/v2/apis$", "CreateApi"),
    ("PATCH", r"^/v2/apis/[^/]+$", "UpdateApi"),
    ("DELETE", r"^/v2/apis/[^/]+$", "DeleteApi"),
    ("POST", r"^/v2/apis/[^/]+/integrations$", "CreateIntegration"),
    ("PATCH", r"^/v2/apis/[^/]+/integrations/[^/]+$", "UpdateIntegration"),
    ("DELETE", r"^/v2/apis/[^/]+/integrations/[^/]+$", "DeleteIntegration"),
    ("POST", r"^/v2/apis/[^/]+/routes$", "CreateRoute"),
    ("PATCH", r"^/v2/apis/[^/]+/routes/[^/]+$", "UpdateRoute"),
    ("DELETE", r"^/v2/apis/[^/]+/routes/[^/]+$", "DeleteRoute"),
    ("POST", r"^/v2/apis/[^/]+/integrations/[^/]+/integrationresponses$", "CreateIntegrationResponse"),
    ("PATCH", r"^/v2/apis/[^/]+/integrations/[^/]+/integrationresponses/[^/]+$", "UpdateIntegrationResponse"),
    ("DELETE", r"^/v2/apis/[^/]+/integrations/[^/]+/integrationresponses/[^/]+$", "DeleteIntegrationResponse"),
    ("POST", r"^/v2/apis/[^/]+/routes/[^/]+/routeresponses$", "CreateRouteResponse"),
    ("DELETE", r"^/v2/apis/[^/]+/routes/[^/]+/routeresponses/[^/]+$", "DeleteRouteResponse"),
    ("POST", r"^/v2/apis/[^/]+/stages$", "CreateStage"),
    ("PATCH", r"^/v2/apis/[^/]+/stages/[^/]+$", "UpdateStage"),
    ("DELETE", r"^/v2/apis/[^/]+/stages/[^/]+$", "DeleteStage"),
    ("DELETE", r"^/v2/apis/[^/]+/stages/[^/]+/accesslogsettings$", "DeleteAccessLogSettings"),
    ("POST", r"^/v2/apis/[^/]+/deployments$", "CreateDeployment"),
    ("POST", r"^/v2/domainnames$", "CreateDomainName"),
    ("POST", r"^/v2/domainnames/[^/]+/apimappings$", "CreateApiMapping"),
    ("PATCH", r"^/v2/domainnames/[^/]+/apimappings/[^/]+$", "UpdateApiMapping"),
    ("PATCH", r"^/v2/domainnames/[^/]+$", "UpdateDomainName"),
    ("POST", r"^/v2/tags/[^/]+$", "TagResource"),
    ("DELETE", r"^/v2/tags/[^/]+$", "UntagResource"),
]


def operation_name(method, path):
    for m, pattern, name in OPERATIONS:
        if m == method and re.match(pattern, path):
            return name
    return f"{method} {path}"


class Model:
    """Operations of the botocore model, matched by method and request URI template."""

    def __init__(self, path):
        with open(path) as f:
            m = json.load(f)
        self.shapes = m["shapes"]
        self.ops = []
        for name, op in m["operations"].items():
            uri = op["http"]["requestUri"].split("?")[0]
            pattern = "^" + re.sub(r"{[^}]+}", "[^/]+", uri) + "$"
            self.ops.append((op["http"]["method"], re.compile(pattern), name, op.get("input", {}).get("shape")))

    def operation(self, method, path):
        for m, pattern, name, shape in self.ops:
            if m == method and pattern.match(path):
                return name, shape
        return None, None

    def check(self, method, path, query, body):
        """Returns a list of problems with one request."""
        name, shape_name = self.operation(method, path)
        if name is None:
            return [f"{method} {path} is no apigatewayv2 operation"]
        problems = []
        shape = self.shapes[shape_name] if shape_name else {"members": {}}
        members = shape.get("members", {})
        body_members = {}
        query_members = {}
        for member, spec in members.items():
            loc = spec.get("location")
            wire = spec.get("locationName", member)
            if loc is None:
                body_members[wire] = (member, spec)
            elif loc == "querystring":
                query_members[wire] = (member, spec)
        for key in query:
            if key not in query_members:
                problems.append(f"{name}: query parameter {key} is not in the model")
        if body:
            for key, value in body.items():
                if key not in body_members:
                    problems.append(f"{name}: body member {key} is not in the model")
                    continue
                target = self.shapes[body_members[key][1]["shape"]]
                problems += self.type_problems(f"{name}.{key}", target, value)
        for req in shape.get("required", []):
            spec = members[req]
            if spec.get("location") is None and spec.get("locationName", req) not in (body or {}):
                problems.append(f"{name}: required member {spec.get('locationName', req)} is missing")
        return problems

    def type_problems(self, where, shape, value):
        t = shape["type"]
        ok = {
            "string": lambda v: isinstance(v, str),
            "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "long": lambda v: isinstance(v, int) and not isinstance(v, bool),
            "double": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
            "boolean": lambda v: isinstance(v, bool),
            "map": lambda v: isinstance(v, dict),
            "list": lambda v: isinstance(v, list),
            "structure": lambda v: isinstance(v, dict),
            "timestamp": lambda v: isinstance(v, str),
        }.get(t, lambda v: True)
        if not ok(value):
            return [f"{where}: {value!r} is not a {t}"]
        if "enum" in shape and value not in shape["enum"]:
            return [f"{where}: {value!r} is not one of {shape['enum']}"]
        problems = []
        if t == "structure":
            for k, v in value.items():
                spec = next((s for n, s in shape["members"].items() if s.get("locationName", n) == k), None)
                if spec is None:
                    problems.append(f"{where}.{k} is not in the model")
                else:
                    problems += self.type_problems(f"{where}.{k}", self.shapes[spec["shape"]], v)
        elif t == "map":
            for k, v in value.items():
                problems += self.type_problems(f"{where}[{k}]", self.shapes[shape["value"]["shape"]], v)
        elif t == "list":
            for i, v in enumerate(value):
                problems += self.type_problems(f"{where}[{i}]", self.shapes[shape["member"]["shape"]], v)
        return problems


class Recorder(http.server.ThreadingHTTPServer):
    """A proxy to the gateway that records each request and can fail chosen ones."""

    def __init__(self, upstream_port):
        super().__init__(("127.0.0.1", 0), ProxyHandler)
        self.upstream_port = upstream_port
        self.lock = threading.Lock()
        self.requests = []  # (method, path, query dict, body dict or None)
        self.fail_when = None  # callable(method, path, body) -> bool

    def mutating(self):
        with self.lock:
            return [r for r in self.requests if r[0] != "GET"]

    def clear(self):
        with self.lock:
            self.requests.clear()


class ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        body = json.loads(raw) if raw else None
        q = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        srv = self.server
        with srv.lock:
            srv.requests.append((self.command, path, q, body))
            inject = srv.fail_when is not None and srv.fail_when(self.command, path, body)
        if inject:
            out = json.dumps({"message": "injected failure"}).encode()
            self.send_response(500)
            self.send_header("x-amzn-ErrorType", "InternalServerErrorException")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
            return
        conn = http.client.HTTPConnection("127.0.0.1", srv.upstream_port, timeout=10)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        conn.request(self.command, self.path, body=raw, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("connection", "content-length", "transfer-encoding", "date", "server"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        conn.close()

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = handle_any


class Gateway:
    """`apigw-ws gateway --port 0`; the port is read from its first stdout line."""

    def __init__(self, tmp, *extra, log="gateway.log"):
        self.log_path = os.path.join(tmp, log)
        self.err = open(self.log_path, "w")
        self.proc = subprocess.Popen([BINARY, "gateway", "--port", "0", *extra], stdout=subprocess.PIPE,
                                     stderr=self.err, text=True, env=child_env(tmp), preexec_fn=die_with_parent)
        line = self.proc.stdout.readline()
        m = re.search(r"127\.0\.0\.1:(\d+)", line)
        if not m:
            self.stop()
            raise RuntimeError(f"gateway did not start: {line!r}")
        self.port = int(m.group(1))

    def get(self, path):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", path)
        resp = conn.getresponse()
        data = json.loads(resp.read() or b"{}")
        conn.close()
        return resp.status, data

    def stop(self):
        """Stops the gateway; returns its exit code (0 for a clean SIGTERM shutdown)."""
        self.proc.terminate()
        try:
            code = self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = -9
        self.proc.stdout.close()
        self.err.close()
        return code


def base_config(target="http://127.0.0.1:8000/ws/"):
    return {
        "name": "chat",
        "description": "chat application",
        "route_selection_expression": "$request.body.action",
        "target_base": target,
        "stage": "production",
        "stage_variables": {"env": "test"},
        "routes": [{"route_key": "chat_message", "url": "http://127.0.0.1:8000/ws/chat", "name": "chat"}],
        "shared_secret_header": "X-Apigw-Secret",
        "shared_secret": "0123456789abcdef",
        "tags": {"team": "web"},
        "throttling": {"burst_limit": 100, "rate_limit": 50.0},
    }


class InfraTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="apigw-infra-")
        cls.gateway = Gateway(cls.tmp.name)
        cls.proxy = Recorder(cls.gateway.port)
        cls.proxy_thread = threading.Thread(target=cls.proxy.serve_forever, daemon=True)
        cls.proxy_thread.start()
        cls.endpoint = f"http://127.0.0.1:{cls.proxy.server_address[1]}"
        cls.db = os.path.join(cls.tmp.name, "apigw.sqlite3")
        cls.model = Model(MODEL_PATH) if MODEL_PATH and os.path.exists(MODEL_PATH) else None
        if cls.model is None:
            # The model is kept in the repository; without it the shape checks would pass vacuously.
            raise RuntimeError(f"botocore model not found at {MODEL_PATH}: request shapes cannot be checked")
        r = cls.cli("migrate")
        assert r.returncode == 0, r.stderr

    @classmethod
    def tearDownClass(cls):
        cls.proxy.shutdown()
        cls.proxy.server_close()
        code = cls.gateway.stop()
        with open(cls.gateway.log_path) as f:
            log = f.read()
        cls.tmp.cleanup()
        assert code == 0 and "Sanitizer" not in log, f"gateway exit {code}; log:\n{log}"

    @classmethod
    def cli(cls, *args, env=None):
        # stdin from /dev/null, as in CI: a destructive command must not wait for an answer.
        return subprocess.run([BINARY, "--db", cls.db, *args], capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, env=child_env(cls.tmp.name, env), timeout=120)

    def write_config(self, cfg, name="api.json"):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w") as f:
            json.dump(cfg, f)
        return path

    def apply(self, cfg, *extra, expect=0):
        self.proxy.clear()
        r = self.cli("api", "apply", "--config", self.write_config(cfg), "--endpoint", self.endpoint, *extra)
        self.assertEqual(r.returncode, expect, f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}")
        self.check_shapes()
        return r

    def check_shapes(self):
        if self.model is None:
            return
        problems = []
        with self.proxy.lock:
            for method, path, query, body in self.proxy.requests:
                problems += self.model.check(method, path, query, body)
        self.assertEqual(problems, [])

    def ops(self):
        return sorted(operation_name(method, path) for method, path, _, _ in self.proxy.mutating())

    def api_id(self):
        r = self.cli("api", "show", "--name", "chat")
        self.assertEqual(r.returncode, 0, r.stderr)
        return re.search(r"api id:\s+(\S+)", r.stdout).group(1), r.stdout

    def live_integrations(self, api_id):
        status, routes = self.gateway.get(f"/v2/apis/{api_id}/routes")
        self.assertEqual(status, 200)
        status, ints = self.gateway.get(f"/v2/apis/{api_id}/integrations")
        by_id = {i["integrationId"]: i for i in ints["items"]}
        return {r["routeKey"]: by_id[r["target"].split("/", 1)[1]] for r in routes["items"]}

    def test_1_apply_converges_updates_deletes_and_recovers(self):
        cfg = base_config()
        # A dry run against nothing plans every create and calls nothing that changes anything.
        r = self.apply(cfg, "--dry-run")
        self.assertIn("plan: + api chat", r.stdout)
        self.assertEqual(self.proxy.mutating(), [])

        self.apply(cfg)
        self.assertEqual(self.ops(), sorted(["CreateApi"] + ["CreateIntegration"] * 4 + ["CreateRoute"] * 4 +
                                            ["CreateStage", "CreateDeployment"]))
        api_id, shown = self.api_id()
        self.assertIn(f"endpoint:    {self.endpoint}/production", shown)
        self.assertNotIn("not deployed", shown)
        live = self.live_integrations(api_id)
        self.assertEqual(sorted(live), ["$connect", "$default", "$disconnect", "chat_message"])
        self.assertEqual(live["$connect"]["integrationUri"], "http://127.0.0.1:8000/ws/connect")
        self.assertEqual(live["$connect"]["requestParameters"], {
            "integration.request.header.connectionId": "context.connectionId",
            "integration.request.header.X-Apigw-Secret": "'0123456789abcdef'"})
        status, stage = self.gateway.get(f"/v2/apis/{api_id}/stages/production")
        self.assertEqual(stage["stageVariables"], {"env": "test"})
        self.assertEqual(stage["defaultRouteSettings"]["throttlingBurstLimit"], 100)
        self.assertIn(stage["deploymentId"], shown)

        # Nothing changed: only reads.
        r = self.apply(cfg)
        self.assertEqual(self.proxy.mutating(), [])
        self.assertIn("up to date", r.stdout)
        # The same as one JSON document (--format json).
        out = json.loads(self.apply(cfg, "--format", "json").stdout)
        self.assertEqual((out["api_id"], out["changes"], out["steps"], out["dry_run"]), (api_id, 0, [], False))
        self.assertEqual(out["endpoint"], f"{self.endpoint}/production")

        # A new target base: the three integrations are updated, then one deployment.
        cfg["target_base"] = "http://127.0.0.1:9000/ws"
        r = self.apply(cfg, "--dry-run")
        self.assertEqual(self.proxy.mutating(), [])
        self.assertIn("plan: ~ integration", r.stdout)
        out = json.loads(self.apply(cfg, "--dry-run", "--format", "json").stdout)
        self.assertTrue(out["dry_run"])
        self.assertEqual(out["changes"], 4)
        self.assertEqual(len([s for s in out["steps"] if s.startswith("~ integration")]), 3, out["steps"])
        self.apply(cfg)
        self.assertEqual(self.ops(), sorted(["UpdateIntegration"] * 3 + ["CreateDeployment"]))
        live = self.live_integrations(api_id)
        self.assertEqual(live["$default"]["integrationUri"], "http://127.0.0.1:9000/ws/default")
        self.assertEqual(live["chat_message"]["integrationUri"], "http://127.0.0.1:8000/ws/chat")

        # Stage settings alone need no deployment.
        cfg["stage_variables"] = {"env": "prod", "extra": "x"}
        self.apply(cfg)
        self.assertEqual(self.ops(), ["UpdateStage"])
        # A variable removed from the file is removed: AWS merges UpdateStage's stageVariables, so it
        # goes with an empty value (docs/design/infra.md, "Maps on update").
        cfg["stage_variables"] = {"env": "prod"}
        self.apply(cfg)
        self.assertEqual(self.ops(), ["UpdateStage"])
        self.assertEqual(self.proxy.mutating()[0][3], {"stageVariables": {"env": "prod", "extra": ""}})
        status, stage = self.gateway.get(f"/v2/apis/{api_id}/stages/production")
        self.assertEqual(stage["stageVariables"], {"env": "prod"})
        self.apply(cfg)
        self.assertEqual(self.proxy.mutating(), [])

        # The shared secret dropped from the file: its header mapping goes from every integration.
        del cfg["shared_secret"]
        self.apply(cfg)
        self.assertEqual(self.ops(), sorted(["UpdateIntegration"] * 4 + ["CreateDeployment"]))
        for m, p, _, body in self.proxy.mutating():
            if m == "PATCH":
                self.assertEqual(body, {"requestParameters": {
                    "integration.request.header.connectionId": "context.connectionId",
                    "integration.request.header.X-Apigw-Secret": ""}})
        live = self.live_integrations(api_id)
        self.assertEqual(live["$connect"]["requestParameters"],
                         {"integration.request.header.connectionId": "context.connectionId"})
        self.apply(cfg)
        self.assertEqual(self.proxy.mutating(), [])
        cfg["shared_secret"] = "0123456789abcdef"
        self.apply(cfg)
        self.assertEqual(self.ops(), sorted(["UpdateIntegration"] * 4 + ["CreateDeployment"]))

        # Tags (the API's and the stage's): one added, then removed from the file: UntagResource on
        # both, and the plan says exactly that.
        stage_path = f"/v2/apis/{api_id}/stages/{cfg['stage']}"
        self.assertEqual(self.gateway.get(stage_path)[1]["tags"], {"team": "web"})
        cfg["tags"] = {"team": "web", "cost": "42"}
        self.apply(cfg)
        self.assertEqual(self.ops(), ["TagResource", "TagResource"])
        self.assertEqual(self.gateway.get(f"/v2/apis/{api_id}")[1]["tags"], {"team": "web", "cost": "42"})
        self.assertEqual(self.gateway.get(stage_path)[1]["tags"], {"team": "web", "cost": "42"})
        cfg["tags"] = {"team": "web"}
        r = self.apply(cfg, "--dry-run")
        self.assertEqual([line for line in r.stdout.splitlines() if line.startswith("plan:")],
                         ['plan: - api chat tags: ["cost"]', f'plan: - stage {cfg["stage"]} tags: ["cost"]'])
        self.assertEqual(self.proxy.mutating(), [])
        self.apply(cfg)
        self.assertEqual(self.ops(), ["UntagResource", "UntagResource"])
        api_arn = f"arn:aws:apigateway:us-east-1::/apis/{api_id}"
        stage_arn = f"{api_arn}/stages/{cfg['stage']}"
        untagged = sorted((path, query["tagKeys"]) for (_, path, query, _) in self.proxy.mutating())
        self.assertEqual(untagged, sorted((f"/v2/tags/{urllib.parse.quote(a, safe='')}", "cost")
                                          for a in (api_arn, stage_arn)))
        arn = urllib.parse.quote(api_arn, safe="")
        self.assertEqual(self.gateway.get(f"/v2/tags/{arn}")[1], {"tags": {"team": "web"}})
        self.assertEqual(self.gateway.get(f"/v2/apis/{api_id}")[1]["tags"], {"team": "web"})
        self.assertEqual(self.gateway.get(stage_path)[1]["tags"], {"team": "web"})
        self.apply(cfg)
        self.assertEqual(self.proxy.mutating(), [])

        # A route removed from the config is deleted with its integration.
        cfg["routes"] = []
        self.apply(cfg)
        self.assertEqual(self.ops(), sorted(["DeleteRoute", "DeleteIntegration", "CreateDeployment"]))
        self.assertEqual(sorted(self.live_integrations(api_id)), ["$connect", "$default", "$disconnect"])
        _, shown = self.api_id()
        self.assertNotIn("chat_message", shown)

        # A failure part-way: the second new route cannot be created. The record says what exists
        # and that it is not deployed; the next apply finishes the job without repeating it.
        cfg["routes"] = [{"route_key": "join", "url": "http://127.0.0.1:9000/ws/join"},
                         {"route_key": "leave", "url": "http://127.0.0.1:9000/ws/leave"}]
        self.proxy.fail_when = lambda m, p, b: m == "POST" and p.endswith("/routes") and b.get("routeKey") == "leave"
        try:
            r = self.apply(cfg, "--retries", "1", expect=1)
        finally:
            self.proxy.fail_when = None
        self.assertIn("CreateRoute: HTTP 500 InternalServerErrorException: injected failure", r.stderr)
        # A 5xx is retried (here once, --retries 1) before the run gives up.
        leave_tries = [b for m, p, _, b in self.proxy.mutating() if p.endswith("/routes") and b["routeKey"] == "leave"]
        self.assertEqual(len(leave_tries), 2)
        _, shown = self.api_id()
        self.assertIn("deployment:  (not deployed)", shown)
        self.assertRegex(shown, r"join\s+http://127.0.0.1:9000/ws/join  \(not deployed\)")
        self.assertNotIn("leave", shown)
        self.apply(cfg)
        # The integration the failed run made for "leave" is reused, not made twice.
        self.assertEqual(self.ops(), sorted(["CreateRoute", "CreateDeployment"]))
        _, shown = self.api_id()
        self.assertNotIn("not deployed", shown)
        self.assertIn("leave", shown)
        self.apply(cfg)
        self.assertEqual(self.proxy.mutating(), [])

        # The custom domain and its mapping; a second run changes nothing.
        cfg["domain"] = {"name": "ws.example.com",
                         "certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/abc"}
        path = self.write_config(cfg)
        # The dry run plans both steps (the mapping too, though the domain does not exist yet).
        self.proxy.clear()
        r = self.cli("domain", "apply", "--config", path, "--endpoint", self.endpoint, "--dry-run")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.proxy.mutating(), [])
        self.assertEqual([line for line in r.stdout.splitlines() if line.startswith("plan:")],
                         ["plan: + domain name ws.example.com (certificate "
                          "arn:aws:acm:us-east-1:123456789012:certificate/abc)",
                          f"plan: + API mapping ws.example.com/ -> API {api_id} stage production"])
        self.proxy.clear()
        r = self.cli("domain", "apply", "--config", path, "--endpoint", self.endpoint)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.check_shapes()
        self.assertEqual(self.ops(), ["CreateApiMapping", "CreateDomainName"])
        self.assertRegex(r.stdout, r"d-[a-z0-9]+\.execute-api\.us-east-1\.amazonaws\.com")
        self.proxy.clear()
        r = self.cli("domain", "apply", "--config", path, "--endpoint", self.endpoint)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.proxy.mutating(), [])
        r = self.cli("domain", "show", "--config", path, "--endpoint", self.endpoint)
        self.assertIn(f"-> API {api_id} stage production", r.stdout)
        dns_target = re.search(r"DNS target:\s+(\S+)", r.stdout).group(1)
        r = self.cli("domain", "show", "--config", path, "--endpoint", self.endpoint, "--format", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual(out["dns_target"], dns_target)
        self.assertEqual(out["mappings"], [{"base_path": "", "api_id": api_id, "stage": "production"}])
        r = self.cli("domain", "apply", "--config", path, "--endpoint", self.endpoint, "--format", "json")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["steps"], [])
        self.assertEqual(json.loads(r.stdout)["dns_target"], dns_target)

        # A new certificate is applied (UpdateDomainName), the DNS target stays; then nothing to do.
        cfg["domain"]["certificate_arn"] = "arn:aws:acm:us-east-1:123456789012:certificate/def"
        path = self.write_config(cfg)
        self.proxy.clear()
        r = self.cli("domain", "apply", "--config", path, "--endpoint", self.endpoint, "--dry-run")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("plan: ~ domain name ws.example.com: certificate arn:aws:acm:us-east-1:123456789012:certificate/abc"
                      " -> arn:aws:acm:us-east-1:123456789012:certificate/def", r.stdout)
        self.assertEqual(self.proxy.mutating(), [])
        r = self.cli("domain", "apply", "--config", path, "--endpoint", self.endpoint)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.check_shapes()
        self.assertEqual(self.ops(), ["UpdateDomainName"])
        self.assertEqual(self.proxy.mutating()[0][3]["domainNameConfigurations"][0]["certificateArn"],
                         "arn:aws:acm:us-east-1:123456789012:certificate/def")
        r = self.cli("domain", "show", "--config", path, "--endpoint", self.endpoint)
        self.assertIn("certificate: arn:aws:acm:us-east-1:123456789012:certificate/def", r.stdout)
        self.assertIn(f"DNS target:  {dns_target}", r.stdout)
        self.proxy.clear()
        r = self.cli("domain", "apply", "--config", path, "--endpoint", self.endpoint)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.proxy.mutating(), [])
        # What AWS refuses for WebSocket APIs (EDGE, TLS_1_0) is refused when the file is read,
        # before any call; the local control plane refuses it too, with AWS's error type.
        for member, value in (("security_policy", "TLS_1_0"), ("endpoint_type", "EDGE")):
            refused = json.loads(json.dumps(cfg))
            refused["domain"][member] = value
            self.proxy.clear()
            r = self.cli("domain", "apply", "--config", self.write_config(refused, "refused.json"),
                         "--endpoint", self.endpoint)
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn(f"domain.{member}: {value} is refused", r.stderr)
            self.assertEqual(self.proxy.requests, [])
        for config in ({"endpointType": "EDGE"}, {"securityPolicy": "TLS_1_0"}):
            conn = http.client.HTTPConnection("127.0.0.1", self.gateway.port, timeout=10)
            conn.request("PATCH", "/v2/domainnames/ws.example.com", json.dumps(
                {"domainNameConfigurations": [dict(certificateArn=cfg["domain"]["certificate_arn"], **config)]}))
            resp = conn.getresponse()
            body = json.loads(resp.read())
            conn.close()
            self.assertEqual((resp.status, resp.getheader("x-amzn-ErrorType")), (400, "BadRequestException"))
            self.assertIn("not supported for WebSocket APIs", body["message"])
        self.assertEqual(self.gateway.get("/v2/domainnames/ws.example.com")[1]["domainNameConfigurations"][0]
                         ["securityPolicy"], "TLS_1_2")

        # Delete: without --yes and without a terminal to ask on, it refuses (usage, 2) and calls
        # nothing; with --yes the API and its record go.
        self.proxy.clear()
        r = self.cli("api", "delete", "--name", "chat", "--endpoint", self.endpoint)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("pass --yes", r.stderr)
        self.assertEqual(self.proxy.mutating(), [])
        r = self.cli("api", "delete", "--name", "chat", "--endpoint", self.endpoint, "--yes")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.ops(), ["DeleteApi"])
        self.assertEqual(self.gateway.get(f"/v2/apis/{api_id}")[0], 404)
        self.assertNotEqual(self.cli("api", "show", "--name", "chat").returncode, 0)

    def test_5_stage_settings_converge_and_a_renamed_stage_goes(self):
        cfg = base_config()
        cfg["name"] = "stages"
        cfg["stage"] = "production5"
        del cfg["throttling"]
        access_log = {"destination_arn": "arn:aws:logs:us-east-1:123456789012:log-group:ws-access",
                      "format": "$context.requestId $context.routeKey $context.status"}
        cfg["stage_settings"] = {
            "access_log": access_log,
            "default_route_settings": {"logging_level": "ERROR", "data_trace": True, "detailed_metrics": True,
                                       "throttling_burst_limit": 20, "throttling_rate_limit": 10.5}}
        self.apply(cfg)
        r = self.cli("api", "show", "--name", "stages")
        self.assertEqual(r.returncode, 0, r.stderr)
        api_id = re.search(r"api id:\s+(\S+)", r.stdout).group(1)
        stages = f"/v2/apis/{api_id}/stages"
        stage = self.gateway.get(f"{stages}/production5")[1]
        self.assertEqual(stage["accessLogSettings"], {"destinationArn": access_log["destination_arn"],
                                                      "format": access_log["format"]})
        self.assertEqual(stage["defaultRouteSettings"], {
            "dataTraceEnabled": True, "detailedMetricsEnabled": True, "loggingLevel": "ERROR",
            "throttlingBurstLimit": 20, "throttlingRateLimit": 10.5})
        self.apply(cfg)
        self.assertEqual(self.proxy.mutating(), [])

        # A setting changed: UpdateStage alone (a stage setting needs no deployment).
        cfg["stage_settings"]["default_route_settings"]["logging_level"] = "INFO"
        self.apply(cfg)
        self.assertEqual(self.ops(), ["UpdateStage"])
        self.assertEqual(self.gateway.get(f"{stages}/production5")[1]["defaultRouteSettings"]["loggingLevel"], "INFO")
        # The access log dropped from the file is removed from the stage.
        del cfg["stage_settings"]["access_log"]
        r = self.apply(cfg, "--dry-run")
        self.assertIn("plan: - stage production5 access log (arn:aws:logs:us-east-1:123456789012:log-group:ws-access)",
                      r.stdout)
        self.apply(cfg)
        self.assertEqual(self.ops(), ["DeleteAccessLogSettings"])
        self.assertNotIn("accessLogSettings", self.gateway.get(f"{stages}/production5")[1])
        self.apply(cfg)
        self.assertEqual(self.proxy.mutating(), [])

        # The stage renamed: the new one is made and deployed, then the old one deleted; only the
        # new one is left, with the file's settings.
        cfg["stage"] = "live5"
        r = self.apply(cfg, "--dry-run")
        self.assertIn("plan: - stage production5 (not in the file; list it in keep_stages to keep it)", r.stdout)
        self.assertEqual(self.proxy.mutating(), [])
        self.apply(cfg)
        self.assertEqual([operation_name(m, p) for m, p, _, _ in self.proxy.mutating()],
                         ["CreateStage", "CreateDeployment", "DeleteStage"])
        self.assertEqual([st["stageName"] for st in self.gateway.get(stages)[1]["items"]], ["live5"])
        self.assertEqual(self.gateway.get(f"{stages}/production5")[0], 404)
        live = self.gateway.get(f"{stages}/live5")[1]
        self.assertEqual(live["defaultRouteSettings"]["loggingLevel"], "INFO")
        self.assertTrue(live["deploymentId"])
        _, shown = self.api_id_of("stages")
        self.assertIn("stage:       live5", shown)
        self.apply(cfg)
        self.assertEqual(self.proxy.mutating(), [])

        # keep_stages keeps an old stage; dropped from keep_stages, it goes.
        cfg["stage"] = "next5"
        cfg["keep_stages"] = ["live5"]
        self.apply(cfg)
        self.assertEqual(self.ops(), ["CreateDeployment", "CreateStage"])
        self.assertEqual(sorted(st["stageName"] for st in self.gateway.get(stages)[1]["items"]), ["live5", "next5"])
        del cfg["keep_stages"]
        self.apply(cfg)
        self.assertEqual(self.ops(), ["DeleteStage"])
        self.assertEqual([st["stageName"] for st in self.gateway.get(stages)[1]["items"]], ["next5"])
        r = self.cli("api", "delete", "--name", "stages", "--endpoint", self.endpoint, "--yes")
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_6_mock_routes_apply_converge_and_show(self):
        """A heartbeat route answered by API Gateway: MOCK integration, integration and route
        responses in the model's request shapes; a second run changes nothing."""
        cfg = base_config()
        cfg["name"] = "beat"
        cfg["stage"] = "beat6"
        cfg["routes"] = [{"route_key": "heartbeat", "integration": "mock"},
                         {"route_key": "ping", "integration": "mock", "response": "pong $context.connectionId"}]
        r = self.apply(cfg)
        self.assertIn("+ integration heartbeat -> MOCK", r.stdout)
        self.assertIn("+ integration response ping $default", r.stdout)
        self.assertIn("+ route response ping $default", r.stdout)
        ops = self.ops()
        self.assertEqual(ops.count("CreateIntegrationResponse"), 2)
        self.assertEqual(ops.count("CreateRouteResponse"), 1)
        api_id, shown = self.api_id_of("beat")
        self.assertRegex(shown, r"heartbeat\s+MOCK")
        live = self.live_integrations(api_id)
        self.assertEqual(live["heartbeat"]["integrationType"], "MOCK")
        self.assertEqual(live["ping"]["requestTemplates"], {"$default": '{"statusCode": 200}'})
        status, irs = self.gateway.get(f"/v2/apis/{api_id}/integrations/{live['ping']['integrationId']}"
                                       "/integrationresponses")
        self.assertEqual(status, 200)
        self.assertEqual([(i["integrationResponseKey"], i["responseTemplates"]) for i in irs["items"]],
                         [("$default", {"$default": "pong $context.connectionId"})])
        r = self.apply(cfg)
        self.assertIn("up to date", r.stdout)
        self.assertEqual(self.proxy.mutating(), [])
        shown = self.cli("api", "show", "--name", "beat", "--live", "--endpoint", self.endpoint).stdout
        self.assertRegex(shown, r"live routes:(.|\n)*ping\s+MOCK")
        r = self.cli("api", "delete", "--name", "beat", "--endpoint", self.endpoint, "--yes")
        self.assertEqual(r.returncode, 0, r.stderr)

    def api_id_of(self, name):
        r = self.cli("api", "show", "--name", name)
        self.assertEqual(r.returncode, 0, r.stderr)
        return re.search(r"api id:\s+(\S+)", r.stdout).group(1), r.stdout

    def test_4_maps_converge_when_the_control_plane_replaces_them(self):
        # Whether AWS merges or replaces these maps is settled by peers' evidence, not by this
        # project on AWS: apply must converge under either, so a gateway that replaces is tried too.
        gw = Gateway(self.tmp.name, "--control-plane-maps", "replace", log="gateway-replace.log")
        try:
            db = os.path.join(self.tmp.name, "replace.sqlite3")
            endpoint = f"http://127.0.0.1:{gw.port}"

            def run(*args):
                r = subprocess.run([BINARY, "--db", db, *args], capture_output=True, text=True,
                                   env=child_env(self.tmp.name), timeout=120)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                return r

            run("migrate")
            cfg = base_config()
            cfg["stage"] = "replacing"
            cfg["stage_variables"] = {"a": "1", "b": "2"}
            path = self.write_config(cfg, "replace.json")
            run("api", "apply", "--config", path, "--endpoint", endpoint)
            cfg["stage_variables"] = {"a": "1"}
            del cfg["shared_secret"]
            path = self.write_config(cfg, "replace.json")
            run("api", "apply", "--config", path, "--endpoint", endpoint)
            api_id = re.search(r"api id:\s+(\S+)", run("api", "show", "--name", "chat").stdout).group(1)
            self.assertEqual(gw.get(f"/v2/apis/{api_id}/stages/replacing")[1]["stageVariables"], {"a": "1"})
            for i in gw.get(f"/v2/apis/{api_id}/integrations")[1]["items"]:
                self.assertEqual(i["requestParameters"],
                                 {"integration.request.header.connectionId": "context.connectionId"})
            self.assertIn("up to date", run("api", "apply", "--config", path, "--endpoint", endpoint).stdout)
        finally:
            self.assertEqual(gw.stop(), 0)

    def test_2_bad_configs_are_refused_before_any_call(self):
        cases = [
            ({"bogus": 1}, "bogus: unknown key"),
            ({"routes": [{"route_key": "chat"}]}, "routes[0].url"),
            ({"routes": [{"route_key": "chat", "url": "ftp://x/chat"}]}, "routes[0].url"),
            ({"target_base": "not a url"}, "target_base"),
            ({"stage": "my stage"}, "stage"),
            ({"stage": "$default"}, "stage"),
            ({"timeout_ms": 30000}, "timeout_ms"),
            ({"routes": [{"route_key": "$connect", "url": "http://x/"}]}, "routes[0].route_key"),
            ({"domain": {"name": "ws.example.com", "certificate_arn": "arn:aws:acm:us-east-1:1:certificate/a",
                         "security_policy": "TLS_1_3"}}, "domain.security_policy"),
            ({"domain": {"name": "ws.example.com", "certificate_arn": "arn:aws:acm:us-east-1:1:certificate/a",
                         "endpoint_type": "PRIVATE"}}, "domain.endpoint_type"),
            ({"stage_settings": {"default_route_settings": {"logging_level": "DEBUG"}}},
             "stage_settings.default_route_settings.logging_level"),
            ({"stage_settings": {"access_log": {"destination_arn": "arn:aws:logs:us-east-1:1:log-group:g",
                                                "format": "$context.status"}}},
             "stage_settings.access_log.format: must include at least $context.requestId"),
            ({"keep_stages": ["production"]}, "keep_stages[0]"),
        ]
        for change, field in cases:
            with self.subTest(field=field):
                cfg = base_config()
                cfg.update(change)
                r = self.apply(cfg, expect=1)
                self.assertIn(field, r.stderr)
                self.assertEqual(self.proxy.requests, [])

    def test_3_no_credentials_for_aws_names_where_it_looked(self):
        path = self.write_config(base_config())
        r = self.cli("api", "apply", "--config", path, "--region", "eu-west-1")
        self.assertEqual(r.returncode, 1)
        self.assertIn("no usable AWS credentials", r.stderr)
        self.assertIn("AWS_ACCESS_KEY_ID", r.stderr)
        self.assertIn(os.path.join(self.tmp.name, ".aws", "credentials"), r.stderr)
        r = self.cli("api", "apply", "--config", path,
                     env={"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret"})
        self.assertEqual(r.returncode, 1)
        self.assertIn("no AWS region", r.stderr)


class SignedTest(unittest.TestCase):
    """Against `gateway --auth sigv4`: requests are signed for service apigateway, and a wrong key
    is refused with AWS's error shown."""

    def test_signed_apply_is_accepted_and_a_wrong_secret_refused(self):
        with tempfile.TemporaryDirectory(prefix="apigw-infra-signed-") as tmp:
            config = {"region": "eu-west-1", "keys": [{"accessKeyId": "AKIDINFRA", "secretAccessKey": "infra-secret"}],
                      "apis": [{"apiId": "signedapi1", "routeSelectionExpression": "$request.body.action",
                                "stages": [{"stageName": "dev"}], "integrations": [], "routes": []}]}
            with open(os.path.join(tmp, "gateway.json"), "w") as f:
                json.dump(config, f)
            with open(os.path.join(tmp, "api.json"), "w") as f:
                json.dump(base_config(), f)
            gw = Gateway(tmp, "--config", os.path.join(tmp, "gateway.json"), "--auth", "sigv4")
            try:
                def run(secret):
                    return subprocess.run(
                        [BINARY, "--db", os.path.join(tmp, "db.sqlite3"), "api", "apply", "--config",
                         os.path.join(tmp, "api.json"), "--endpoint", f"http://127.0.0.1:{gw.port}"],
                        capture_output=True, text=True, timeout=120,
                        env=child_env(tmp, {"AWS_ACCESS_KEY_ID": "AKIDINFRA", "AWS_SECRET_ACCESS_KEY": secret,
                                            "AWS_REGION": "eu-west-1"}))
                self.assertEqual(subprocess.run([BINARY, "--db", os.path.join(tmp, "db.sqlite3"), "migrate"],
                                                capture_output=True, env=child_env(tmp)).returncode, 0)
                r = run("wrong-secret")
                self.assertEqual(r.returncode, 1)
                self.assertIn("GetApis: HTTP 403", r.stderr)
                r = run("infra-secret")
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertIn("deployed chat to stage production", r.stdout)
            finally:
                self.assertEqual(gw.stop(), 0)


class MotoTest(unittest.TestCase):
    """moto's server mode as a second, independent control plane. It has no deployments (nor
    UpdateStage), so every apply ends with CreateDeployment failing: the test checks that everything
    before it converges the same way it does on the local gateway."""

    @classmethod
    def setUpClass(cls):
        python = shutil.which(MOTO_PYTHON) or MOTO_PYTHON
        if subprocess.run([python, "-c", "import moto.server"], capture_output=True).returncode != 0:
            raise unittest.SkipTest(f"moto is not importable with {python}; skipping the moto comparison")
        cls.tmp = tempfile.TemporaryDirectory(prefix="apigw-infra-moto-")
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        cls.log = open(os.path.join(cls.tmp.name, "moto.log"), "w")
        cls.moto = subprocess.Popen([python, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                    stdout=cls.log, stderr=subprocess.STDOUT, env={**os.environ, "HOME": cls.tmp.name},
                                    preexec_fn=die_with_parent)
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or cls.moto.poll() is not None:
                    cls.tearDownClass()
                    raise RuntimeError("moto.server did not start")
                time.sleep(0.2)
        cls.proxy = Recorder(port)
        threading.Thread(target=cls.proxy.serve_forever, daemon=True).start()
        cls.endpoint = f"http://127.0.0.1:{cls.proxy.server_address[1]}"
        cls.db = os.path.join(cls.tmp.name, "apigw.sqlite3")
        # moto picks the service from the signature's scope, so requests must be signed.
        cls.env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1"}
        assert subprocess.run([BINARY, "--db", cls.db, "migrate"], capture_output=True,
                              env=child_env(cls.tmp.name)).returncode == 0

    @classmethod
    def tearDownClass(cls):
        if hasattr(cls, "proxy"):
            cls.proxy.shutdown()
            cls.proxy.server_close()
        cls.moto.terminate()
        try:
            cls.moto.wait(timeout=15)
        except subprocess.TimeoutExpired:
            cls.moto.kill()
        cls.log.close()
        cls.tmp.cleanup()

    def apply(self, cfg):
        path = os.path.join(self.tmp.name, "api.json")
        with open(path, "w") as f:
            json.dump(cfg, f)
        self.proxy.clear()
        r = subprocess.run([BINARY, "--db", self.db, "api", "apply", "--config", path, "--endpoint", self.endpoint],
                           capture_output=True, text=True, timeout=120, env=child_env(self.tmp.name, self.env))
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("CreateDeployment: HTTP 404", r.stderr)
        return sorted(operation_name(m, p) for m, p, _, _ in self.proxy.mutating())

    def test_the_same_convergence_up_to_the_deployment(self):
        cfg = base_config()
        self.assertEqual(self.apply(cfg), sorted(["CreateApi"] + ["CreateIntegration"] * 4 + ["CreateRoute"] * 4 +
                                                 ["CreateStage", "CreateDeployment"]))
        self.assertEqual(self.apply(cfg), ["CreateDeployment"])
        cfg["target_base"] = "http://127.0.0.1:9000/ws/"
        self.assertEqual(self.apply(cfg), sorted(["UpdateIntegration"] * 3 + ["CreateDeployment"]))
        cfg["routes"] = []
        self.assertEqual(self.apply(cfg), sorted(["DeleteRoute", "DeleteIntegration", "CreateDeployment"]))
        self.assertEqual(self.apply(cfg), ["CreateDeployment"])


def main():
    global BINARY, MODEL_PATH, MOTO_PYTHON
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--model", default="")
    parser.add_argument("--moto-python", default="python3",
                        help="a Python with moto (default: python3 on PATH); the moto test skips without one")
    args, rest = parser.parse_known_args()
    BINARY = args.binary
    MODEL_PATH = args.model
    MOTO_PYTHON = args.moto_python
    result = unittest.main(argv=[sys.argv[0], "-v", *rest], exit=False).result
    sys.exit(0 if result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
