import httpx

from tests.fixtures.app import SignedIn


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


async def test_metrics_expose_request_latency_by_route(client: httpx.AsyncClient, tenant_admin: SignedIn) -> None:
    await client.get("/api/v1/auth/me", headers=tenant_admin.headers)
    text = (await client.get("/metrics")).text
    assert (
        'nexora_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/api/v1/auth/me",status="200"}'
        in text
    )
    assert "nexora_bus_consumer_lag" in text or "nexora_bus_events_total" in text


async def test_openapi_document_lists_the_auth_routes(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/v1/openapi.json")).json()
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


async def test_deep_links_load_the_web_app(client: httpx.AsyncClient) -> None:
    for path in ("/", "/inventory", "/nhis/123", "/login"):
        response = await client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
