from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from nexora.api.app import NOT_BUILT_PAGE
from nexora.assembly import create_api
from nexora.core.config import Settings
from nexora.core.runtime import Runtime
from tests.fixtures.app import METRICS_TOKEN, SignedIn

METRICS_HEADERS = {"Authorization": f"Bearer {METRICS_TOKEN}"}


@asynccontextmanager
async def app_client(settings: Settings, runtime: Runtime, **options: object) -> AsyncIterator[httpx.AsyncClient]:
    """A second app on the same runtime, built with other settings or options."""
    app = create_api(settings, runtime=runtime, **options)  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.8", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://nexora.test") as http:
            yield http


def request_count(text: str, route: str, status: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if sample.name.endswith("_count") and labels.get("route") == route and labels.get("status") == status:
                return sample.value
    return 0.0


async def test_healthz_and_readyz_report_database_and_bus(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "checks": {"database": "ok", "schema": "ok", "bus": "ok"},
        "bus_backend": "postgres",
    }


async def test_every_response_carries_a_request_id_and_security_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Request-ID": "trace-me-123"})
    assert response.headers["x-request-id"] == "trace-me-123"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    generated = await client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert generated.headers["x-request-id"] != "bad id with spaces"
    assert len(generated.headers["x-request-id"]) == 32


async def test_api_responses_are_not_cached_and_errors_name_the_request(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/auth/me")
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["request_id"] == response.headers["x-request-id"]


async def test_metrics_count_each_request_by_route_and_status(
    client: httpx.AsyncClient, tenant_admin: SignedIn
) -> None:
    before = (await client.get("/metrics", headers=METRICS_HEADERS)).text
    for _ in range(3):
        await client.get("/api/v1/auth/me", headers=tenant_admin.headers)
    await client.get("/api/v1/auth/me")  # no token: a 401

    after = (await client.get("/metrics", headers=METRICS_HEADERS)).text

    assert request_count(after, "/api/v1/auth/me", "200") - request_count(before, "/api/v1/auth/me", "200") == 3
    assert request_count(after, "/api/v1/auth/me", "401") - request_count(before, "/api/v1/auth/me", "401") == 1


async def test_metrics_need_the_metrics_token_outside_a_laptop(client: httpx.AsyncClient) -> None:
    missing = await client.get("/metrics")
    wrong = await client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    right = await client.get("/metrics", headers=METRICS_HEADERS)

    assert missing.status_code == 401
    assert missing.headers["content-type"] == "application/problem+json"
    assert wrong.status_code == 401
    assert right.status_code == 200
    assert "nexora_http_request_duration_seconds" in right.text


async def test_metrics_and_docs_can_be_turned_off(settings: Settings, runtime: Runtime) -> None:
    closed = settings.model_copy(update={"api": settings.api.model_copy(update={"metrics": "off", "docs": "off"})})
    async with app_client(closed, runtime) as http:
        metrics = await http.get("/metrics", headers=METRICS_HEADERS)
        document = await http.get("/api/v1/openapi.json")
        docs = await http.get("/api/v1/docs")

    assert metrics.status_code == 404
    assert document.status_code == 404
    assert docs.status_code == 404


async def test_the_openapi_document_needs_a_signed_in_caller_outside_a_laptop(
    client: httpx.AsyncClient, tenant_admin: SignedIn
) -> None:
    anonymous = await client.get("/api/v1/openapi.json")
    signed_in = await client.get("/api/v1/openapi.json", headers=tenant_admin.headers)
    docs_page = await client.get("/api/v1/docs")

    assert anonymous.status_code == 401
    assert signed_in.status_code == 200
    assert "/api/v1/auth/login" in signed_in.json()["paths"]
    assert docs_page.status_code == 404


async def test_metrics_and_docs_are_open_on_a_laptop(settings: Settings, runtime: Runtime) -> None:
    laptop = settings.model_copy(update={"database": settings.database.model_copy(update={"url": None})})
    async with app_client(laptop, runtime) as http:
        metrics = await http.get("/metrics")
        document = await http.get("/api/v1/openapi.json")

    assert metrics.status_code == 200
    assert document.status_code == 200


async def test_openapi_document_lists_the_auth_routes(client: httpx.AsyncClient, tenant_admin: SignedIn) -> None:
    document = (await client.get("/api/v1/openapi.json", headers=tenant_admin.headers)).json()
    for path in (
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/auth/me",
        "/api/v1/tenants",
        "/api/v1/users",
        "/api/v1/api-keys",
        "/healthz",
        "/readyz",
    ):
        assert path in document["paths"], path


async def test_deep_links_load_the_web_app_and_assets_stay_inside_it(
    settings: Settings, runtime: Runtime, tmp_path: Path
) -> None:
    static = tmp_path / "static"
    (static / "assets").mkdir(parents=True)
    (static / "index.html").write_text('<!doctype html><div id="root" data-build="console-42"></div>')
    (static / "assets" / "app-1234.js").write_text("console.log('app')")
    (tmp_path / "outside.txt").write_text("not part of the console")

    async with app_client(settings, runtime, static_dir=static) as http:
        pages = [await http.get(path) for path in ("/", "/inventory", "/nhis/123", "/login")]
        asset = await http.get("/assets/app-1234.js")
        escape = await http.get("/..%2Foutside.txt")
        unknown_api = await http.get("/api/v1/no-such-route")

    for page in pages:
        assert page.status_code == 200
        assert 'data-build="console-42"' in page.text
        assert page.headers["cache-control"] == "no-cache"
    assert asset.text == "console.log('app')"
    assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "not part of the console" not in escape.text
    assert unknown_api.status_code == 404


async def test_without_a_built_console_the_root_says_how_to_build_it(
    settings: Settings, runtime: Runtime, tmp_path: Path
) -> None:
    async with app_client(settings, runtime, static_dir=tmp_path / "empty") as http:
        page = await http.get("/inventory")

    assert page.status_code == 200
    assert page.text == NOT_BUILT_PAGE
