"""Every authenticated request counts against its principal's and its tenant's rate limits."""

from __future__ import annotations

import contextlib
import io
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx

from nexora.assembly import create_api, open_runtime
from nexora.auth import service as auth_service
from nexora.core.config import Settings
from nexora.core.runtime import Runtime
from tests.fixtures.app import ADMIN_PASSWORD

REDIS_URL = os.environ.get("NEXORA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@dataclass
class Api:
    runtime: Runtime
    http: httpx.AsyncClient


@dataclass
class Caller:
    tenant_id: uuid.UUID
    token: str = field(repr=False)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@contextlib.asynccontextmanager
async def _api(settings: Settings, redis_url: str | None, **auth: object) -> AsyncIterator[Api]:
    """An API process of its own, with the given auth settings."""
    dedicated = settings.model_copy(update={"redis_url": redis_url, "auth": settings.auth.model_copy(update=auth)})
    async with open_runtime(dedicated) as runtime:
        app = create_api(dedicated, runtime=runtime)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=("203.0.113.80", 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://limited.nexora.test") as http:
                yield Api(runtime, http)


async def _admin(runtime: Runtime, signs_in: httpx.AsyncClient) -> Caller:
    suffix = uuid.uuid4().hex[:10]
    email = f"admin-{suffix}@limits.example"
    async with runtime.db.unit_of_work() as session:
        tenant, _ = await auth_service.create_tenant(
            session, runtime.services["auth"], name=f"limits-{suffix}", admin_email=email, admin_password=ADMIN_PASSWORD
        )
    response = await signs_in.post("/api/v1/auth/login", json={"email": email, "password": ADMIN_PASSWORD})
    assert response.status_code == 200, response.json()["detail"]
    return Caller(tenant.id, response.json()["access_token"])


async def _api_key(api: Api, owner: Caller) -> Caller:
    created = await api.http.post("/api/v1/api-keys", headers=owner.headers, json={"name": "ci", "scopes": ["read"]})
    assert created.status_code == 201, created.json()["detail"]
    return Caller(owner.tenant_id, created.json()["key"])


async def _statuses(api: Api, caller: Caller, count: int) -> list[int]:
    return [(await api.http.get("/api/v1/auth/me", headers=caller.headers)).status_code for _ in range(count)]


async def test_a_principal_over_its_limit_is_refused_with_retry_after_while_others_go_on(settings: Settings) -> None:
    async with _api(settings, REDIS_URL, rate_limit_per_principal="3/minute") as api:
        admin = await _admin(api.runtime, api.http)
        assert await _statuses(api, admin, 3) == [200, 200, 200]

        refused = await api.http.get("/api/v1/auth/me", headers=admin.headers)
        key = await _api_key(api, await _admin(api.runtime, api.http))

        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["detail"] == "too many requests for this user or API key; wait and try again"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.json()["retry_after"] == int(refused.headers["retry-after"])
        assert await _statuses(api, key, 1) == [200]


async def test_a_tenant_over_its_limit_is_refused_for_every_caller_while_other_tenants_go_on(
    settings: Settings,
) -> None:
    async with _api(settings, None, rate_limit_per_principal="100/minute", rate_limit_per_tenant="4/minute") as api:
        admin = await _admin(api.runtime, api.http)
        key = await _api_key(api, admin)  # the tenant's first request
        assert await _statuses(api, admin, 1) + await _statuses(api, key, 2) == [200, 200, 200]

        refused = await api.http.get("/api/v1/auth/me", headers=admin.headers)
        other_tenant = await _admin(api.runtime, api.http)

        assert refused.status_code == 429
        assert refused.json()["detail"] == "too many requests for this tenant; wait and try again"
        assert await _statuses(api, key, 1) == [429]
        assert await _statuses(api, other_tenant, 1) == [200]


async def test_requests_go_through_and_a_warning_is_logged_when_the_rate_limit_store_is_down(
    settings: Settings, client: httpx.AsyncClient, captured_logs: io.StringIO
) -> None:
    # Nothing listens on port 1: every call to this "Redis" fails at once.
    async with _api(settings, "redis://127.0.0.1:1/0", rate_limit_per_principal="1/minute") as api:
        admin = await _admin(api.runtime, client)  # signed in on a process whose throttle works

        statuses = await _statuses(api, admin, 3)

    assert statuses == [200, 200, 200]
    assert "rate-limit store unavailable; letting requests through" in captured_logs.getvalue()
