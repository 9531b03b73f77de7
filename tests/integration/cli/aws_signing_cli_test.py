#!/usr/bin/env python3
"""The apigw-ws commands that call AWS (api, send, sessions kick) resolve credentials through the
whole chain (mgmt::credentials_provider) and never send unsigned to a non-loopback endpoint.

The real binary runs `apigw-ws gateway --auth sigv4` on loopback with two temporary key pairs it
accepts: one that a `credential_process` profile prints, one that a fake STS on loopback hands out
for AssumeRoleWithWebIdentity. Each command then runs with only that profile configured:
`api apply` gets 2xx answers from the control plane; `send` and `sessions kick` get past the
signature check (the gateway answers 410 for the unknown connection, 403 for a bad signature).

Without credentials, an endpoint whose host is not literally loopback ("127.1", which the resolver
still maps to 127.0.0.1, so nothing could leave the machine even if a request were sent) fails
with the list of places the chain looked, and the listening socket behind it sees no connection.

Standard library only. Every child runs with HOME in a temporary directory and
AWS_EC2_METADATA_DISABLED=true (nothing may reach 169.254.169.254).
"""

import argparse
import ctypes
import datetime
import http.server
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import unittest
import urllib.parse

BINARY = None
PROCESS_KEY = ("ASIAPROCESS000000001", "process-secret", "process-token")
WEB_KEY = ("ASIAWEBIDENTITY00001", "web-secret", "web-token")


def die_with_parent():
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def expiry_in_an_hour():
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeSts(http.server.ThreadingHTTPServer):
    """AssumeRoleWithWebIdentity for one token; counts the calls."""

    def __init__(self, token):
        self.token = token
        self.calls = 0
        super().__init__(("127.0.0.1", 0), FakeStsHandler)


class FakeStsHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        form = dict(urllib.parse.parse_qsl(body))
        self.server.calls += 1
        if form.get("Action") != "AssumeRoleWithWebIdentity" or form.get("WebIdentityToken") != self.server.token:
            self.answer(400, "<ErrorResponse><Error><Code>InvalidIdentityToken</Code>"
                             "<Message>bad token</Message></Error></ErrorResponse>")
            return
        key, secret, token = WEB_KEY
        self.answer(200, (
            '<AssumeRoleWithWebIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
            "<AssumeRoleWithWebIdentityResult><Credentials>"
            f"<AccessKeyId>{key}</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey>"
            f"<SessionToken>{token}</SessionToken><Expiration>{expiry_in_an_hour()}</Expiration>"
            "</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>"))

    def answer(self, status, text):
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class SignedCommandsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="apigw-aws-signing-")
        cls.home = cls.tmp.name
        cls.db = os.path.join(cls.home, "apigw.sqlite3")
        keys = [{"accessKeyId": k, "secretAccessKey": s, "sessionToken": t} for k, s, t in (PROCESS_KEY, WEB_KEY)]
        gateway = {"region": "eu-west-1", "keys": keys,
                   "apis": [{"apiId": "signedapi1", "routeSelectionExpression": "$request.body.action",
                             "stages": [{"stageName": "dev"}], "integrations": [], "routes": []}]}
        cls.write("gateway.json", json.dumps(gateway))
        cls.write("api.json", json.dumps({
            "name": "chat", "route_selection_expression": "$request.body.action",
            "target_base": "http://127.0.0.1:8000/ws/", "stage": "production",
            "routes": [{"route_key": "chat_message", "url": "http://127.0.0.1:8000/ws/chat"}]}))
        cls.gw_log = open(os.path.join(cls.home, "gateway.log"), "w")
        cls.gw = subprocess.Popen([BINARY, "gateway", "--port", "0", "--config", os.path.join(cls.home, "gateway.json"),
                                   "--auth", "sigv4"], stdout=subprocess.PIPE, stderr=cls.gw_log, text=True,
                                  env=cls.env(), preexec_fn=die_with_parent)
        line = cls.gw.stdout.readline()
        m = re.search(r"127\.0\.0\.1:(\d+)", line)
        if not m:
            cls.gw.kill()
            raise RuntimeError(f"the gateway did not start: {line!r}")
        cls.endpoint = f"http://127.0.0.1:{m.group(1)}"
        cls.sts = FakeSts("the-web-identity-token")
        threading.Thread(target=cls.sts.serve_forever, daemon=True).start()
        cls.write("web-token", "the-web-identity-token")
        cls.write("process.json", json.dumps({
            "Version": 1, "AccessKeyId": PROCESS_KEY[0], "SecretAccessKey": PROCESS_KEY[1],
            "SessionToken": PROCESS_KEY[2], "Expiration": expiry_in_an_hour()}))
        cls.write("wrong.json", json.dumps({
            "Version": 1, "AccessKeyId": PROCESS_KEY[0], "SecretAccessKey": "not-the-secret",
            "SessionToken": PROCESS_KEY[2], "Expiration": expiry_in_an_hour()}))
        os.makedirs(os.path.join(cls.home, ".aws"))
        cls.write(".aws/config", (
            "[profile process]\nregion = eu-west-1\n"
            f"credential_process = /bin/cat {os.path.join(cls.home, 'process.json')}\n"
            "[profile wrong]\nregion = eu-west-1\n"
            f"credential_process = /bin/cat {os.path.join(cls.home, 'wrong.json')}\n"
            "[profile web]\nregion = eu-west-1\nrole_arn = arn:aws:iam::123456789012:role/app\n"
            f"web_identity_token_file = {os.path.join(cls.home, 'web-token')}\n"))
        assert cls.cli("migrate").returncode == 0

    @classmethod
    def tearDownClass(cls):
        cls.sts.shutdown()
        cls.gw.terminate()
        cls.gw.wait(timeout=30)
        cls.gw_log.close()
        cls.tmp.cleanup()

    @classmethod
    def write(cls, name, text):
        with open(os.path.join(cls.home, name), "w") as f:
            f.write(text)

    @classmethod
    def env(cls, extra=None):
        env = {"PATH": "/usr/bin:/bin", "HOME": cls.home, "AWS_EC2_METADATA_DISABLED": "true"}
        for key in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TSAN_OPTIONS"):
            if key in os.environ:
                env[key] = os.environ[key]
        env.update(extra or {})
        return env

    @classmethod
    def cli(cls, *args, env=None):
        return subprocess.run([BINARY, "--db", cls.db, *args], capture_output=True, text=True, timeout=120,
                              stdin=subprocess.DEVNULL, env=cls.env(env))

    def sts_env(self):
        return {"AWS_ENDPOINT_URL_STS": f"http://127.0.0.1:{self.sts.server_address[1]}"}

    sessions = 0

    def add_session(self, endpoint):
        """A new connected session on its own channel; returns (connection id, channel)."""
        SignedCommandsTest.sessions += 1
        conn, channel = f"L0SM9cOFvHc{self.sessions:04d}=", f"room{self.sessions}"
        r = self.cli("sessions", "add", "--connection", conn, "--channel", channel, "--gateway", "local",
                     "--endpoint", endpoint)
        self.assertEqual(r.returncode, 0, r.stderr)
        return conn, channel

    def test_1_api_apply_with_credential_process_and_web_identity(self):
        r = self.cli("api", "apply", "--config", os.path.join(self.home, "api.json"), "--endpoint", self.endpoint,
                     "--profile", "process")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("deployed chat to stage production", r.stdout)
        calls = self.sts.calls
        r = self.cli("api", "apply", "--config", os.path.join(self.home, "api.json"), "--endpoint", self.endpoint,
                     "--profile", "web", env=self.sts_env())
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("up to date", r.stdout)
        self.assertEqual(self.sts.calls, calls + 1)
        # The control check: a wrong secret from the same kind of source is refused by the gateway.
        r = self.cli("api", "apply", "--config", os.path.join(self.home, "api.json"), "--endpoint", self.endpoint,
                     "--profile", "wrong")
        self.assertEqual(r.returncode, 1)
        self.assertIn("HTTP 403", r.stderr)

    def test_2_send_and_kick_are_signed_with_the_profile(self):
        for profile, env in (("process", None), ("web", self.sts_env())):
            with self.subTest(profile=profile):
                # 410: the signature was accepted and the gateway does not know the connection.
                conn, channel = self.add_session(self.endpoint + "/dev")
                r = self.cli("send", "--channel", channel, "--json", '{"a":1}', "--profile", profile,
                             "--format", "json", env=env)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                report = json.loads(r.stdout)
                self.assertEqual(report["gone"], [conn])
                self.assertEqual(report["failed"], [])
                conn, _ = self.add_session(self.endpoint + "/dev")
                r = self.cli("sessions", "kick", "--connection", conn, "--yes", "--profile", profile,
                             "--format", "json", env=env)
                self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
                self.assertEqual(json.loads(r.stdout)["already_gone"], [conn])
        _, channel = self.add_session(self.endpoint + "/dev")
        r = self.cli("send", "--channel", channel, "--json", '{"a":1}', "--profile", "wrong", "--format", "json")
        self.assertEqual(r.returncode, 1)
        self.assertIn("403", json.loads(r.stdout)["failed"][0]["reason"])

    def test_3_no_credentials_for_a_non_loopback_endpoint_sends_nothing(self):
        # "127.1" is not literally loopback for the signing decision, yet resolves to 127.0.0.1:
        # were a request sent anyway, it would arrive at this socket.
        self.assertEqual(socket.gethostbyname("127.1"), "127.0.0.1")
        with socket.socket() as trap:
            trap.bind(("127.0.0.1", 0))
            trap.listen(8)
            trap.setblocking(False)
            remote = f"http://127.1:{trap.getsockname()[1]}"
            conn, channel = self.add_session(remote + "/dev")
            r = self.cli("send", "--channel", channel, "--json", '{"a":1}')
            self.assertEqual(r.returncode, 1)
            self.assertIn("before any request", r.stdout)
            self.assertIn("looked in", r.stdout)
            self.assertIn("web identity", r.stdout)
            r = self.cli("sessions", "kick", "--connection", conn, "--yes")
            self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
            self.assertIn("looked in", r.stderr)
            r = self.cli("api", "apply", "--config", os.path.join(self.home, "api.json"), "--endpoint", remote,
                         "--region", "eu-west-1")
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("no usable AWS credentials", r.stderr)
            self.assertIn("looked in", r.stderr)
            with self.assertRaises(BlockingIOError):
                trap.accept()
        # The same send to the literal loopback address goes out unsigned (and the gateway, which
        # verifies signatures, refuses it): loopback is the local gateway with --auth none.
        _, channel = self.add_session(self.endpoint + "/dev")
        r = self.cli("send", "--channel", channel, "--json", '{"a":1}', "--format", "json")
        self.assertEqual(r.returncode, 1)
        self.assertIn("403", json.loads(r.stdout)["failed"][0]["reason"])


def main():
    global BINARY
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    args, rest = parser.parse_known_args()
    BINARY = args.binary
    result = unittest.main(argv=[sys.argv[0], "-v", *rest], exit=False).result
    sys.exit(0 if result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
