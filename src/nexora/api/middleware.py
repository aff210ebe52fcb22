"""The edge: one pure-ASGI middleware for request ids, client address, body limits, security
headers, metrics, access logs and trace spans (pure ASGI keeps the per-request cost small)."""

from __future__ import annotations

import ipaddress
import json
import re
import time
import uuid
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nexora.core import context as request_context
from nexora.core.errors import PROBLEM_BASE
from nexora.core.observability import HTTP_REQUEST_SECONDS, get_logger

REQUEST_ID_HEADER = "x-request-id"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Run inputs uploaded to a connector: the only bodies allowed past `api.max_body_bytes`, up to
# `connector.max_upload_bytes` (the route streams them to disk, so they are never held in memory).
UPLOAD_ROUTE = re.compile(r"/api/v1/connectors/[^/]+/runs/upload")
# Activity batches: streamed to a temporary file as they arrive, up to `analytics.max_batch_bytes`.
ACTIVITY_ROUTE = re.compile(r"/api/v1/activity/batches")
log = get_logger("nexora.access")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
HTML_CSP = (
    b"default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    b"connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
API_CSP = b"default-src 'none'; frame-ancestors 'none'"


class BodyTooLarge(HTTPException):
    """Raised while the body streams in; FastAPI lets HTTP exceptions through to the problem handler."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {limit} bytes")


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int, trusted_proxies: list[str], tracing: bool) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.trusted = [ipaddress.ip_network(p, strict=False) for p in trusted_proxies]
        self.tracing = tracing
        self._tracer: Any = None
        if tracing:
            from opentelemetry import trace

            self._tracer = trace.get_tracer("nexora.api")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self._tracer is None:
            await self._handle(scope, receive, send, None)
            return
        from opentelemetry import trace
        from opentelemetry.propagate import extract

        carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        with self._tracer.start_as_current_span(
            f"{scope['method']} {scope['path']}", context=extract(carrier), kind=trace.SpanKind.SERVER
        ) as span:
            span.set_attribute("http.request.method", scope["method"])
            span.set_attribute("url.path", scope["path"])
            await self._handle(scope, receive, send, span)

    def _client_address(self, scope: Scope, headers: dict[bytes, bytes]) -> str | None:
        client = scope.get("client")
        address: str | None = str(client[0]) if client else None
        if not address or not self.trusted:
            return address
        chain: list[str] = [address]
        forwarded = headers.get(b"x-forwarded-for")
        if forwarded:
            chain = [a.strip() for a in forwarded.decode("latin-1").split(",") if a.strip()] + [address]
        # Walk from the nearest hop back while hops are trusted proxies.
        for hop in reversed(chain):
            try:
                ip = ipaddress.ip_address(hop)
            except ValueError:
                return hop
            if not any(ip in network for network in self.trusted):
                return hop
        return chain[0]

    async def _handle(self, scope: Scope, receive: Receive, send: Send, span: Any) -> None:
        started = time.perf_counter()
        headers = dict(scope.get("headers", []))
        incoming = headers.get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        request_id = incoming if _VALID_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        address = self._client_address(scope, headers)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        state["client_address"] = address
        request_context.reset()
        request_context.bind(request_id=request_id, source_address=address)
        path: str = scope["path"]
        is_api = path.startswith("/api/") or path.startswith("/.well-known/")
        status_holder = {"status": 500, "started": False}

        limit = self._body_limit(scope)
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > limit
            except ValueError:
                too_large = False
            if too_large:
                await self._reject_body(scope, send, request_id, limit)
                self._observe(scope, 413, started, address, request_id, span)
                return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = True
                extra = list(SECURITY_HEADERS)
                extra.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                response_headers = list(message.get("headers", []))
                content_type = next((v for k, v in response_headers if k.lower() == b"content-type"), b"")
                if not any(k.lower() == b"content-security-policy" for k, _ in response_headers):
                    extra.append((b"content-security-policy", HTML_CSP if b"html" in content_type else API_CSP))
                if is_api and not any(k.lower() == b"cache-control" for k, _ in response_headers):
                    extra.append((b"cache-control", b"no-store"))
                message = {**message, "headers": response_headers + extra}
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except BodyTooLarge:
            if not status_holder["started"]:
                await self._reject_body(scope, send, request_id, limit)
            status_holder["status"] = 413
        finally:
            self._observe(scope, int(status_holder["status"]), started, address, request_id, span)

    def _body_limit(self, scope: Scope) -> int:
        """``max_body_bytes``, or the running app's upload limits on the run-input and activity routes."""
        if scope["method"] == "POST":
            runtime = getattr(getattr(scope.get("app"), "state", None), "runtime", None)
            if runtime is not None and UPLOAD_ROUTE.fullmatch(scope["path"]):
                return int(runtime.settings.connector.max_upload_bytes)
            if runtime is not None and ACTIVITY_ROUTE.fullmatch(scope["path"]):
                return int(runtime.settings.analytics.max_batch_bytes)
        return self.max_body_bytes

    async def _reject_body(self, scope: Scope, send: Send, request_id: str, limit: int) -> None:
        body = json.dumps(
            {
                "type": PROBLEM_BASE + "payload-too-large",
                "title": "Request body too large",
                "status": 413,
                "detail": f"the request body is larger than the limit of {limit} bytes",
                "instance": scope["path"],
                "request_id": request_id,
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(body)).encode()),
                    (REQUEST_ID_HEADER.encode(), request_id.encode()),
                    (b"connection", b"close"),
                    *SECURITY_HEADERS,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    def _observe(
        self, scope: Scope, status: int, started: float, address: str | None, request_id: str, span: Any
    ) -> None:
        elapsed = time.perf_counter() - started
        route = scope.get("route")
        template = getattr(route, "path", None) or ("static" if scope["method"] == "GET" else "unmatched")
        HTTP_REQUEST_SECONDS.labels(scope["method"], template, str(status)).observe(elapsed)
        if span is not None:
            span.update_name(f"{scope['method']} {template}")
            span.set_attribute("http.route", template)
            span.set_attribute("http.response.status_code", status)
        if template not in ("/healthz", "/metrics"):
            log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                route=template,
                status=status,
                duration_ms=round(elapsed * 1000, 2),
                client=address,
                request_id=request_id,
            )
