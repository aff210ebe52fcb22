"""A local HTTP proxy in front of moto_server that answers some AWS actions with errors.

It speaks AWS's own error formats (query-protocol XML for IAM/STS, JSON for Secrets Manager), so
the connector sees exactly what AWS would send for a denied or throttled call; every other
request is forwarded unchanged to the real moto server.
"""

from __future__ import annotations

import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import httpx

QUERY_ERROR = (
    '<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type>'
    "<Code>{code}</Code><Message>{message}</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>"
)


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.denied: set[str] = set()
        self.throttled: dict[str, int] = {}  # action -> how many more times to throttle
        self.seen: Counter[str] = Counter()
        self.lock = threading.Lock()
        # One pooled client: a new one per request would build a TLS context and a connection each time.
        self.http = httpx.Client(timeout=30)
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                return

            def do_POST(self) -> None:
                proxy._handle(self)

            def do_GET(self) -> None:
                proxy._handle(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.http.close()

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        length = int(request.headers.get("content-length") or 0)
        body = request.rfile.read(length) if length else b""
        target = request.headers.get("x-amz-target")
        json_protocol = target is not None
        if target:
            action = target.split(".")[-1]
        else:
            action = parse_qs(body.decode(errors="replace")).get("Action", [""])[0]
        with self.lock:
            self.seen[action] += 1
            denied = action in self.denied
            throttled = not denied and self.throttled.get(action, 0) > 0
            if throttled:
                self.throttled[action] -= 1
        if denied:
            self._error(request, json_protocol, 403, "AccessDenied", "AccessDeniedException", f"not allowed: {action}")
            return
        if throttled:
            self._error(request, json_protocol, 400, "Throttling", "ThrottlingException", "Rate exceeded")
            return
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        upstream = self.http.request(request.command, self.upstream + request.path, headers=headers, content=body)
        request.send_response(upstream.status_code)
        for key, value in upstream.headers.items():
            if key.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                request.send_header(key, value)
        request.send_header("content-length", str(len(upstream.content)))
        request.end_headers()
        request.wfile.write(upstream.content)

    @staticmethod
    def _error(
        request: BaseHTTPRequestHandler, json_protocol: bool, status: int, code: str, json_code: str, message: str
    ) -> None:
        if json_protocol:
            payload = (f'{{"__type": "{json_code}", "message": "{message}"}}').encode()
            content_type = "application/x-amz-json-1.1"
        else:
            payload = QUERY_ERROR.format(code=code, message=message).encode()
            content_type = "text/xml"
        request.send_response(status)
        request.send_header("content-type", content_type)
        request.send_header("x-amzn-errortype", json_code if json_protocol else code)
        request.send_header("content-length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)
