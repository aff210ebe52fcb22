"""The FastAPI application factory: the HTTP edge around the routers the assembly hands in.

``create_app(settings, routers=...)`` builds the app. Its lifespan uses the runtime it is handed, or
opens one with ``open_runtime`` (then it also runs the bus's relay side, consuming nothing: workers are
separate, see :mod:`nexora.assembly`). Processes build it through :func:`nexora.assembly.create_api`.
"""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.convertors import Convertor, register_url_convertor

from nexora import __version__
from nexora.api import problems
from nexora.api.middleware import EdgeMiddleware
from nexora.auth.deps import CurrentPrincipal, bearer_token
from nexora.core.config import ApiSettings, Settings
from nexora.core.errors import NotFound, PermissionDenied, Unauthenticated
from nexora.core.observability import configure_tracing, get_logger
from nexora.core.runtime import Runtime
from nexora.ops import migrate

STATIC_DIR = Path(__file__).parent / "static"
log = get_logger("nexora.api")

NOT_BUILT_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Nexora</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:4em auto"><h1>Nexora API is running</h1>
<p>The web console has not been built into this installation. Run <code>make web</code> (or
<code>make run</code>, which builds it) from a source checkout. The API is at
<a href="/api/v1/docs">/api/v1/docs</a>.</p></body></html>"""


def docs_access(settings: Settings) -> str:
    """Who may read the OpenAPI document: the setting, or `open` on a laptop (embedded database)."""
    return settings.api.docs or ("open" if settings.embedded_database else "authenticated")


def metrics_access(settings: Settings) -> str:
    """Who may read `/metrics`: the setting, or `open` on a laptop (embedded database)."""
    return settings.api.metrics or ("open" if settings.embedded_database else "token")


RuntimeOpener = Callable[[Settings], AbstractAsyncContextManager[Runtime]]


async def _nothing(runtime: Runtime) -> None:
    return None


def create_app(
    settings: Settings,
    *,
    routers: Sequence[Any] = (),
    runtime: Runtime | None = None,
    open_runtime: RuntimeOpener | None = None,
    on_stop: Callable[[Runtime], Awaitable[None]] = _nothing,
    static_dir: Path = STATIC_DIR,
) -> FastAPI:
    """The API for ``settings``, serving ``routers``, on ``runtime`` or one it opens with ``open_runtime``."""
    tracing = configure_tracing(settings.observability.service_name)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            owned = runtime is None
            if runtime is not None:
                active = runtime
            elif open_runtime is not None:
                active = await stack.enter_async_context(open_runtime(settings))
            else:
                raise RuntimeError("create_app needs a runtime or a way to open one")
            app.state.runtime = active
            app.state.schema_head = migrate.status(active.db.url).head
            if owned and active.bus is not None:
                await active.bus.start(consume=False)
            try:
                yield
            finally:
                await on_stop(active)
                if owned and active.bus is not None:
                    await active.bus.stop()

    docs = docs_access(settings)
    app = FastAPI(
        title="Nexora",
        version=__version__,
        description="Security for non-human identities: discovery, posture, secret scanning, audit.",
        openapi_url="/api/v1/openapi.json" if docs == "open" else None,
        docs_url="/api/v1/docs" if docs == "open" else None,
        redoc_url=None,
        lifespan=lifespan,
    )
    problems.install(app)
    _document_problems(app)
    for router in routers:
        app.include_router(router)
    if docs == "authenticated":
        _add_authenticated_openapi(app)
    _add_operations_routes(app, settings.api, metrics_access(settings))
    _add_web_ui(app, static_dir)
    if settings.api.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.api.cors_origins,
            allow_methods=["*"],
            allow_headers=["authorization", "content-type", "x-request-id"],
            expose_headers=["x-request-id"],
        )
    app.add_middleware(
        EdgeMiddleware,
        max_body_bytes=settings.api.max_body_bytes,
        trusted_proxies=settings.api.trusted_proxies,
        tracing=tracing,
    )
    return app


def _document_problems(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problems.document_problems(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _add_authenticated_openapi(app: FastAPI) -> None:
    @app.get("/api/v1/openapi.json", include_in_schema=False)
    async def openapi_document(principal: CurrentPrincipal) -> JSONResponse:
        """The OpenAPI document, for any signed-in caller (`NEXORA_API_DOCS=authenticated`)."""
        return JSONResponse(app.openapi())


def _check_metrics_token(api: ApiSettings, request: Request) -> None:
    if api.metrics_token is None:
        raise PermissionDenied(
            "metrics need a token on this server: set NEXORA_API_METRICS_TOKEN (or NEXORA_API_METRICS)"
        )
    try:
        presented = bearer_token(request)
    except Unauthenticated:
        raise Unauthenticated("send 'Authorization: Bearer <NEXORA_API_METRICS_TOKEN>' to read metrics") from None
    if not hmac.compare_digest(presented.encode(), api.metrics_token.get_secret_value().encode()):
        raise Unauthenticated("the metrics token is not valid")


def _add_operations_routes(app: FastAPI, api: ApiSettings, metrics: str) -> None:
    @app.get("/healthz", tags=["operations"], include_in_schema=True)
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], responses={503: {"description": "Not ready"}})
    async def readyz(request: Request) -> JSONResponse:
        """Readiness: the database answers with the current schema and the bus is reachable."""
        runtime: Runtime = request.app.state.runtime
        checks: dict[str, str] = {}
        try:
            await runtime.db.ping()
            current = await _schema_revision(runtime)
            checks["database"] = "ok"
            checks["schema"] = "ok" if current == request.app.state.schema_head else f"at {current}, needs upgrade"
        except Exception as error:
            checks["database"] = f"unavailable: {type(error).__name__}"
        bus = runtime.bus
        checks["bus"] = "ok" if bus is not None and await bus.ready() else "unavailable"
        ready = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {
                "status": "ready" if ready else "not ready",
                "checks": checks,
                "bus_backend": bus.backend if bus else None,
            },
            status_code=200 if ready else 503,
        )

    @app.get("/metrics", tags=["operations"], include_in_schema=False)
    async def metrics_page(request: Request) -> Response:
        if metrics == "off":
            raise NotFound("metrics are off on this server (NEXORA_API_METRICS)")
        if metrics == "token":
            _check_metrics_token(api, request)
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


async def _schema_revision(runtime: Runtime) -> str | None:
    from sqlalchemy import text

    async with runtime.db.unit_of_work() as session:
        value = await session.scalar(text("SELECT version_num FROM alembic_version"))
        return str(value) if value is not None else None


class _WebPath(Convertor[str]):
    """Any path outside the API, so unknown API paths stay 404 (not 405) for every method."""

    regex = r"(?!api/|\.well-known/).*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("webpath", _WebPath())


def _add_web_ui(app: FastAPI, static_dir: Path) -> None:
    root = static_dir.resolve()

    @app.get("/{path:webpath}", include_in_schema=False)
    async def web_ui(path: str) -> Response:
        index = static_dir / "index.html"
        if not index.exists():
            return HTMLResponse(NOT_BUILT_PAGE)
        candidate = (static_dir / path).resolve()
        if path and candidate.is_file() and root in candidate.parents:
            cache = "public, max-age=31536000, immutable" if path.startswith("assets/") else "no-cache"
            return FileResponse(candidate, headers={"Cache-Control": cache})
        # Client-side routes (/inventory, /nhis/:id, ...) all load the app.
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
