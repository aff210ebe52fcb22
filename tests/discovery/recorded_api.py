"""A local HTTP server that answers with recorded provider API responses (GitHub, Kubernetes, Vault).

Routes are ``"METHOD /path"`` (query strings ignored unless the key has one) mapped to a recorded
body; ``throttle`` makes a route answer HTTP 429 a number of times first, like a rate-limited API, and
``hold`` keeps every answer waiting (a provider that hangs).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"


def recorded(name: str) -> dict[str, Any]:
    return json.loads((DATA / name).read_text())


class RecordedApi:
    def __init__(self, routes: dict[str, Any], base_url_marker: str = "{base}") -> None:
        self.routes = routes
        self.marker = base_url_marker
        self.throttle: dict[str, int] = {}
        self.fail: dict[str, int] = {}
        self.seen: Counter[str] = Counter()
        self.headers_seen: list[dict[str, str]] = []
        self.lock = threading.Lock()  # connectors call at once from several threads
        self.hold: threading.Event | None = None  # when set to an Event, answers wait until it is set
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                return

            def _answer(self) -> None:
                api._handle(self)

            do_GET = do_POST = do_LIST = do_PUT = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> RecordedApi:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        path, _, query = request.path.partition("?")
        method = request.command
        if method == "GET" and "list=true" in query:
            method = "LIST"
        key = f"{method} {path}"
        with_query = f"{key}?{query}" if query else key
        with self.lock:
            self.headers_seen.append({k.lower(): v for k, v in request.headers.items()})
            self.seen[key] += 1
            throttled = self.throttle.get(key, 0) > 0
            if throttled:
                self.throttle[key] -= 1
            failed = not throttled and self.fail.get(key, 0) > 0
            if failed:
                self.fail[key] -= 1
        hold = self.hold
        if hold is not None:
            hold.wait(timeout=60)
        if throttled:
            self._send(request, 429, {"message": "API rate limit exceeded"}, {"Retry-After": "0"})
            return
        if failed:
            self._send(request, 500, {"message": "internal error"}, {})
            return
        route = self.routes.get(with_query, self.routes.get(key))
        if route is None:
            self._send(request, 404, {"message": "Not Found", "errors": []}, {})
            return
        status, body, headers = (
            (route["status"], route.get("body"), route.get("headers", {}))
            if isinstance(route, dict) and "status" in route
            else (200, route, {})
        )
        headers = {k: v.replace(self.marker, self.url) for k, v in headers.items()}
        self._send(request, status, body, headers)

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, body: Any, headers: dict[str, str]) -> None:
        payload = json.dumps(body).encode()
        request.send_response(status)
        request.send_header("content-type", "application/json")
        for name, value in headers.items():
            request.send_header(name, value)
        request.send_header("content-length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)
