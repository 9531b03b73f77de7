"""Signs execute-api requests with botocore at a fixed time and prints them as JSON.

Run by tests/unit/sigv4 (signer_test, verifier_test) with Debian's /usr/bin/python3, which has
python3-botocore. Exits with 77 when botocore cannot be imported, so the C++ test skips.

Two kinds of request:
  * made by the real `apigatewaymanagementapi` client (PostToConnection / GetConnection /
    DeleteConnection), captured at the moment it would be sent: exactly what the SDK puts on the
    wire, `@connections` literal and the connection id percent-encoded ('=' -> %3D);
  * built as an AWSRequest and signed with botocore.auth.SigV4Auth directly, for shapes the client
    never produces (queries, extra signed headers, dot segments).

For each: the headers present when botocore signed (so the C++ signer can sign the same set), the
headers it would send, the body (hex) and the Authorization header.
"""

import datetime
import json
import sys
import types
from urllib.parse import urlsplit

try:
    import botocore.auth
    import botocore.session
    from botocore.awsrequest import AWSRequest, AWSResponse
    from botocore.credentials import Credentials
except ImportError:
    sys.exit(77)

FIXED = datetime.datetime(2025, 3, 5, 10, 0, 0)
AMZ_DATE = FIXED.strftime("%Y%m%dT%H%M%SZ")


class _FixedDatetime(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return cls(FIXED.year, FIXED.month, FIXED.day, FIXED.hour, FIXED.minute, FIXED.second)


# botocore.auth reads the clock through `datetime.datetime.utcnow()`; give it a fixed one.
botocore.auth.datetime = types.SimpleNamespace(datetime=_FixedDatetime)

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "IQoJb3JpZ2luX2VjEPT//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+example/token=="

CONNECTION_IDS = [
    "R1kmxc2VNjMCFIA=",
    "L0SM9cOFvHcCIhw=",
    "e_d2EewNLPECIGw=",
    "a-b_c-d_e-f_g-h=",
    "Zm9v+YmFy/YmF6==",
]

BODIES = [
    b"",
    b'{"message":"hello"}',
    "héllo ✓ 日本語 🚀".encode("utf-8"),
    bytes(range(256)),
]

ENDPOINTS = [
    # (endpoint_url, region)
    ("https://abc123defg.execute-api.us-east-1.amazonaws.com/dev", "us-east-1"),
    ("https://abc123defg.execute-api.eu-west-2.amazonaws.com/production", "eu-west-2"),
    ("http://localhost:3001/dev", "us-east-1"),
    ("https://ws.example.com/chat/v1", "ap-southeast-2"),  # custom domain, two-segment base path
    ("https://ws.example.com", "us-west-2"),  # custom domain, empty base path
]


def as_text(v):
    return v.decode("utf-8") if isinstance(v, bytes) else str(v)


def host_of(url):
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    if parts.port is None or parts.port == default:
        return parts.hostname
    return f"{parts.hostname}:{parts.port}"


def record(name, method, url, region, token, signing_headers, wire_headers, body):
    parts = urlsplit(url)
    authorization = [as_text(v) for k, v in wire_headers if k.lower() == "authorization"]
    return {
        "name": name,
        "method": method,
        "host": host_of(url),
        "path": parts.path,
        "query": parts.query,
        "region": region,
        "access_key": ACCESS_KEY,
        "secret_key": SECRET_KEY,
        "token": token or "",
        "amz_date": AMZ_DATE,
        "signing_headers": [[k, as_text(v)] for k, v in signing_headers],
        "wire_headers": [[k, as_text(v)] for k, v in wire_headers],
        "body_hex": (body or b"").hex(),
        "authorization": authorization[0] if authorization else "",
    }


class _EmptyRaw:
    def stream(self, **_):
        return iter([b""])


def client_cases():
    out = []
    session = botocore.session.Session()
    for endpoint, region in ENDPOINTS:
        for token in (None, TOKEN):
            client = session.create_client(
                "apigatewaymanagementapi",
                region_name=region,
                endpoint_url=endpoint,
                aws_access_key_id=ACCESS_KEY,
                aws_secret_access_key=SECRET_KEY,
                aws_session_token=token,
            )
            captured = {}

            def before_sign(request, **_):
                captured["signing_headers"] = list(request.headers.items())

            def before_send(request, **_):
                captured["method"] = request.method
                captured["url"] = request.url
                captured["wire_headers"] = list(request.headers.items())
                body = request.body
                captured["body"] = body.read() if hasattr(body, "read") else body
                return AWSResponse(request.url, 200, {}, _EmptyRaw())

            client.meta.events.register("before-sign", before_sign)
            client.meta.events.register("before-send", before_send)

            calls = []
            for cid in CONNECTION_IDS:
                for body in BODIES:
                    calls.append(("PostToConnection", lambda c=cid, b=body: client.post_to_connection(ConnectionId=c, Data=b)))
                calls.append(("GetConnection", lambda c=cid: client.get_connection(ConnectionId=c)))
                calls.append(("DeleteConnection", lambda c=cid: client.delete_connection(ConnectionId=c)))
            for op, call in calls:
                captured.clear()
                try:
                    call()
                except Exception:  # the fake response may not parse as the operation's output
                    pass
                out.append(
                    record(
                        f"{op} {captured['url']} body={len(captured['body'] or b'')} token={token is not None}",
                        captured["method"],
                        captured["url"],
                        region,
                        token,
                        captured["signing_headers"],
                        captured["wire_headers"],
                        captured["body"],
                    )
                )
    return out


def direct_cases():
    out = []
    shapes = [
        ("POST", "https://abc123defg.execute-api.us-east-1.amazonaws.com/dev/@connections/R1kmxc2VNjMCFIA%3D",
         {"Content-Type": "application/octet-stream"}, "héllo".encode()),
        ("GET", "https://abc123defg.execute-api.us-east-1.amazonaws.com/dev/%40connections/R1kmxc2VNjMCFIA%3D", {}, b""),
        ("GET", "https://abc123defg.execute-api.us-east-1.amazonaws.com/dev/@connections?b=2&a=1&a=0&c=x%20y&d", {}, b""),
        ("POST", "https://abc123defg.execute-api.us-east-1.amazonaws.com/dev/./@connections/x/../R1kmxc2VNjMCFIA%3D",
         {"X-Custom": "  several   spaces\there  ", "User-Agent": "not-signed/1.0"}, b"{}"),
        ("DELETE", "http://127.0.0.1:8080/dev/@connections/a-b_c%3D", {"X-Amzn-Trace-Id": "Root=1-abc"}, b""),
        # With a Date header botocore signs Date (IMF-fixdate) instead of adding X-Amz-Date.
        ("GET", "https://abc123defg.execute-api.us-east-1.amazonaws.com/dev/@connections/R1kmxc2VNjMCFIA%3D",
         {"Date": "Thu, 01 Jan 1970 00:00:00 GMT"}, b""),
    ]
    for method, url, headers, body in shapes:
        for token in (None, TOKEN):
            request = AWSRequest(method=method, url=url, headers=dict(headers), data=body)
            signing_headers = list(request.headers.items())
            botocore.auth.SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY, token), "execute-api", "us-east-1").add_auth(request)
            out.append(
                record(
                    f"SigV4Auth {method} {url} token={token is not None}",
                    method,
                    url,
                    "us-east-1",
                    token,
                    signing_headers,
                    list(request.headers.items()),
                    body,
                )
            )
    return out


def main():
    json.dump(client_cases() + direct_cases(), sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
