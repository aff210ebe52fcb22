"""Access tokens end when access ends, on every API process; refresh replays are idempotent or alarming.

Two API processes share the database and Redis: process A runs in the test (its own runtime and
caches), process B is a real ``nexora api`` subprocess. Changes are made through A and checked on B.

Tokens never appear in assertions (a failing one would print them): statuses and digests do.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pytest

from nexora.assembly import create_api, open_runtime
from nexora.auth import service as auth_service
from nexora.auth.service.authentication import REVOKED_ACCESS
from nexora.auth.versions import TokenVersions
from nexora.core.config import DatabaseSettings, Settings
from nexora.core.db import Database
from nexora.core.runtime import Runtime
from tests.fixtures.app import ADMIN_PASSWORD
from tests.fixtures.audit import AuditLogs
from tests.fixtures.live import free_port, process_env, wait_until_healthy

REDIS_URL = os.environ.get("NEXORA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CACHE_SECONDS = 1.0
# How long a change may take to reach the other process: its local copy, plus room for a slow host.
REACH_SECONDS = CACHE_SECONDS + 4
ADDRESS = "203.0.113.50"
USER_PASSWORD = "a-long-password-for-users"


@dataclass
class ProcessA:
    runtime: Runtime
    http: httpx.AsyncClient


@dataclass
class Session:
    """A signed-in session (its tokens stay out of reprs, hence out of test reports)."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)

    @classmethod
    def of(cls, response: httpx.Response) -> Session:
        assert response.status_code == 200, response.json()["detail"]
        return cls(response.json()["access_token"], response.json()["refresh_token"])


@dataclass
class Account:
    tenant_id: uuid.UUID
    id: uuid.UUID
    email: str
    session: Session


class Tokens(set[str]):
    """Tokens a test saw, to look for in events; shown only as a count."""

    def __repr__(self) -> str:
        return f"<{len(self)} tokens>"


@pytest.fixture(scope="module")
def shared_settings(settings: Settings) -> Settings:
    auth = settings.auth.model_copy(update={"token_version_cache_seconds": CACHE_SECONDS})
    return settings.model_copy(update={"redis_url": REDIS_URL, "auth": auth})


@pytest.fixture(scope="module")
async def process_a(shared_settings: Settings) -> AsyncIterator[ProcessA]:
    async with open_runtime(shared_settings) as runtime:
        app = create_api(shared_settings, runtime=runtime)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app, client=(ADDRESS, 50000))
            async with httpx.AsyncClient(transport=transport, base_url="http://a.nexora.test") as http:
                yield ProcessA(runtime, http)


@pytest.fixture(scope="module")
def process_b_url(settings: Settings, runtime: Runtime) -> Iterator[str]:
    """A real ``nexora api`` process on the same database and Redis."""
    port = free_port()
    log_path = Path(tempfile.mkdtemp(prefix="nexora-process-b-")) / "api.log"
    env = process_env(settings, NEXORA_REDIS_URL=REDIS_URL, NEXORA_AUTH_TOKEN_VERSION_CACHE_SECONDS=str(CACHE_SECONDS))
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "nexora", "api", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
async def process_b(process_b_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=process_b_url, timeout=15) as http:
        yield http


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _me(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.get("/api/v1/auth/me", headers=_bearer(token))


async def _refresh(http: httpx.AsyncClient, token: str) -> httpx.Response:
    return await http.post("/api/v1/auth/refresh", json={"refresh_token": token})


async def _new_tenant(a: ProcessA) -> Account:
    suffix = uuid.uuid4().hex[:10]
    email = f"admin-{suffix}@tokens-{suffix}.example"
    async with a.runtime.db.unit_of_work() as session:
        tenant, user = await auth_service.create_tenant(
            session,
            a.runtime.services["auth"],
            name=f"tokens-{suffix}",
            admin_email=email,
            admin_password=ADMIN_PASSWORD,
        )
    signed_in = await a.http.post("/api/v1/auth/login", json={"email": email, "password": ADMIN_PASSWORD})
    return Account(tenant.id, user.id, email, Session.of(signed_in))


async def _sign_in(a: ProcessA, email: str) -> Session:
    return Session.of(await a.http.post("/api/v1/auth/login", json={"email": email, "password": USER_PASSWORD}))


async def _new_user(a: ProcessA, admin: Account, roles: list[str]) -> Account:
    email = f"user-{uuid.uuid4().hex[:10]}@tokens.example"
    created = await a.http.post(
        "/api/v1/users",
        headers=_bearer(admin.session.access_token),
        json={"email": email, "password": USER_PASSWORD, "roles": roles},
    )
    assert created.status_code == 201, created.json()["detail"]
    return Account(admin.tenant_id, uuid.UUID(created.json()["id"]), email, await _sign_in(a, email))


async def _change(a: ProcessA, admin: Account, user: Account, change: dict[str, object]) -> int:
    response = await a.http.patch(f"/api/v1/users/{user.id}", headers=_bearer(admin.session.access_token), json=change)
    return response.status_code


async def _me_until_refused(http: httpx.AsyncClient, token: str) -> tuple[httpx.Response, float]:
    """Ask who the token belongs to until it is refused or the change had time to arrive."""
    started = time.monotonic()
    while True:
        response = await _me(http, token)
        elapsed = time.monotonic() - started
        if response.status_code != 200 or elapsed > REACH_SECONDS:
            return response, elapsed
        await asyncio.sleep(0.05)


# ---- access tokens end with access ---------------------------------------------------------------


async def test_a_deactivated_users_access_token_is_refused_by_another_api_process(
    process_a: ProcessA, process_b: httpx.AsyncClient
) -> None:
    admin = await _new_tenant(process_a)
    user = await _new_user(process_a, admin, ["analyst"])
    before = await _me(process_b, user.session.access_token)
    assert before.status_code == 200

    assert await _change(process_a, admin, user, {"is_active": False}) == 200

    refused, elapsed = await _me_until_refused(process_b, user.session.access_token)
    assert refused.status_code == 401
    assert refused.json()["detail"] == REVOKED_ACCESS
    assert elapsed <= REACH_SECONDS
    on_a = await _me(process_a.http, user.session.access_token)
    assert on_a.status_code == 401


async def test_a_role_change_ends_the_old_access_token_on_another_process_and_a_refresh_brings_the_new_roles(
    process_a: ProcessA, process_b: httpx.AsyncClient
) -> None:
    admin = await _new_tenant(process_a)
    user = await _new_user(process_a, admin, ["analyst"])
    before = await _me(process_b, user.session.access_token)
    assert before.json()["roles"] == ["analyst"]

    assert await _change(process_a, admin, user, {"roles": ["viewer"]}) == 200

    refused, _ = await _me_until_refused(process_b, user.session.access_token)
    assert refused.status_code == 401
    renewed = Session.of(await _refresh(process_b, user.session.refresh_token))
    after = await _me(process_b, renewed.access_token)
    assert after.status_code == 200
    assert after.json()["roles"] == ["viewer"]


async def test_logout_ends_every_access_token_of_the_user_on_another_process_and_other_sessions_renew(
    process_a: ProcessA, process_b: httpx.AsyncClient
) -> None:
    admin = await _new_tenant(process_a)
    user = await _new_user(process_a, admin, ["viewer"])
    laptop, phone = user.session, await _sign_in(process_a, user.email)
    for session in (laptop, phone):
        before = await _me(process_b, session.access_token)
        assert before.status_code == 200

    signed_out = await process_a.http.post("/api/v1/auth/logout", json={"refresh_token": laptop.refresh_token})
    assert signed_out.status_code == 204

    for session in (laptop, phone):
        refused, _ = await _me_until_refused(process_b, session.access_token)
        assert refused.status_code == 401
    ended = await _refresh(process_b, laptop.refresh_token)
    assert ended.status_code == 401
    renewed = Session.of(await _refresh(process_b, phone.refresh_token))
    after = await _me(process_b, renewed.access_token)
    assert after.status_code == 200


async def test_a_password_change_ends_access_tokens_on_another_process(
    process_a: ProcessA, process_b: httpx.AsyncClient
) -> None:
    admin = await _new_tenant(process_a)
    user = await _new_user(process_a, admin, ["viewer"])
    before = await _me(process_b, user.session.access_token)
    assert before.status_code == 200

    assert await _change(process_a, admin, user, {"password": "a-brand-new-long-password"}) == 200

    refused, _ = await _me_until_refused(process_b, user.session.access_token)
    assert refused.status_code == 401


async def test_a_deleted_users_access_token_is_refused_by_another_api_process(
    process_a: ProcessA, process_b: httpx.AsyncClient
) -> None:
    admin = await _new_tenant(process_a)
    user = await _new_user(process_a, admin, ["viewer"])
    before = await _me(process_b, user.session.access_token)
    assert before.status_code == 200

    deleted = await process_a.http.delete(f"/api/v1/users/{user.id}", headers=_bearer(admin.session.access_token))
    assert deleted.status_code == 204

    refused, _ = await _me_until_refused(process_b, user.session.access_token)
    assert refused.status_code == 401


async def test_bump_token_version_is_the_hook_that_ends_a_users_access_tokens(
    process_a: ProcessA, process_b: httpx.AsyncClient
) -> None:
    admin = await _new_tenant(process_a)
    before = await _me(process_b, admin.session.access_token)
    assert before.status_code == 200

    async with process_a.runtime.db.unit_of_work(admin.tenant_id) as session:
        version = await auth_service.bump_token_version(session, admin.tenant_id, admin.id, "mfa_reset")

    assert version == 1
    refused, _ = await _me_until_refused(process_b, admin.session.access_token)
    assert refused.status_code == 401
    renewed = Session.of(await _refresh(process_b, admin.session.refresh_token))
    after = await _me(process_b, renewed.access_token)
    assert after.status_code == 200


async def test_a_bump_that_rolled_back_leaves_the_users_tokens_working(
    process_a: ProcessA, process_b: httpx.AsyncClient
) -> None:
    admin = await _new_tenant(process_a)

    async def bump_then_fail() -> None:
        async with process_a.runtime.db.unit_of_work(admin.tenant_id) as session:
            await auth_service.bump_token_version(session, admin.tenant_id, admin.id, "test")
            raise RuntimeError("the unit of work failed")

    with pytest.raises(RuntimeError, match="the unit of work failed"):
        await bump_then_fail()

    # Redis was told of the bump before the rollback; the database, which never saw it, has the last word.
    deadline = time.monotonic() + REACH_SECONDS
    while time.monotonic() < deadline:
        for http in (process_a.http, process_b):
            response = await _me(http, admin.session.access_token)
            assert response.status_code == 200
        await asyncio.sleep(0.2)


async def test_a_version_shared_through_redis_is_read_without_the_database() -> None:
    # The reading process's database is unreachable: an answer can only come from Redis.
    unreachable = Database("postgresql://nobody@127.0.0.1:9/none", DatabaseSettings(pool_size=1, max_overflow=0))
    writer = TokenVersions(REDIS_URL, local_seconds=CACHE_SECONDS)
    reader = TokenVersions(REDIS_URL, local_seconds=CACHE_SECONDS)
    tenant_id, user_id = uuid.uuid4(), uuid.uuid4()
    try:
        await writer.bumped(tenant_id, user_id, 7)

        assert await reader.is_current(unreachable, tenant_id, user_id, 7)
    finally:
        await writer.close()
        await reader.close()
        await unreachable.dispose()


async def test_token_versions_fall_back_to_the_database_when_redis_is_down(process_a: ProcessA) -> None:
    admin = await _new_tenant(process_a)
    db = process_a.runtime.db
    versions = TokenVersions("redis://127.0.0.1:1/0", local_seconds=0)
    try:
        assert await versions.is_current(db, admin.tenant_id, admin.id, 0)
        assert not await versions.is_current(db, admin.tenant_id, admin.id, 1)
        assert not await versions.is_current(db, admin.tenant_id, uuid.uuid4(), 0)
    finally:
        await versions.close()


async def test_an_api_key_stops_working_when_its_owner_is_disabled(
    process_a: ProcessA, process_b: httpx.AsyncClient
) -> None:
    admin = await _new_tenant(process_a)
    user = await _new_user(process_a, admin, ["analyst"])
    created = await process_a.http.post(
        "/api/v1/api-keys", headers=_bearer(user.session.access_token), json={"name": "ci", "scopes": ["read"]}
    )
    key = created.json()["key"]
    before = await _me(process_b, key)
    assert before.status_code == 200

    assert await _change(process_a, admin, user, {"is_active": False}) == 200

    refused = await _me(process_b, key)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "the API key's owner is disabled"


# ---- refresh replays -----------------------------------------------------------------------------


def _events(database, tenant_id: uuid.UUID) -> list[tuple[str, str]]:
    with psycopg.connect(database.superuser_url) as connection:
        rows = connection.execute(
            "SELECT type, envelope::text FROM core.outbox WHERE tenant_id = %s ORDER BY id", (tenant_id,)
        ).fetchall()
    return [(row[0], row[1]) for row in rows]


def _family(database, user_id: uuid.UUID) -> str:
    with psycopg.connect(database.superuser_url) as connection:
        families = connection.execute(
            "SELECT DISTINCT family_id FROM auth.refresh_token WHERE user_id = %s", (user_id,)
        ).fetchall()
    assert len(families) == 1
    return str(families[0][0])


def _audited(database, tenant_id: uuid.UUID) -> list[str]:
    with psycopg.connect(database.superuser_url) as connection:
        entries = connection.execute(
            "SELECT row_to_json(e)::text FROM audit.entry e WHERE tenant_id = %s", (tenant_id,)
        ).fetchall()
        stream = connection.execute(
            "SELECT envelope::text FROM core.outbox WHERE topic = 'audit.entry' AND tenant_id = %s", (tenant_id,)
        ).fetchall()
    return [row[0] for row in entries + stream]


async def _assert_reuse_was_alarmed(
    database, audit_logs: AuditLogs, admin: Account, reason: str, tokens: Tokens
) -> None:
    events = _events(database, admin.tenant_id)
    kinds = [kind for kind, _ in events]
    assert kinds.count("auth.refresh_reuse_detected") == 1
    alerts = [json.loads(envelope) for kind, envelope in events if kind == "auth.security_alert"]
    assert len(alerts) == 1
    assert alerts[0]["data"] == {
        "severity": "high",
        "reason": reason,
        "user_id": str(admin.id),
        "family_id": _family(database, admin.id),
        "source_address": ADDRESS,
    }
    assert alerts[0]["actor"] == "system:auth"
    await audit_logs.catch_up_all()
    audited = _audited(database, admin.tenant_id)
    assert any('"auth.security_alert"' in text for text in audited)
    assert any('"auth.refresh_reuse_detected"' in text for text in audited)
    texts = [envelope for _, envelope in events] + audited
    leaked = {_digest(token) for token in tokens for text in texts if token in text}
    assert leaked == set()


async def test_a_replay_within_the_grace_on_another_process_gets_the_same_successor(
    process_a: ProcessA, process_b: httpx.AsyncClient, database
) -> None:
    admin = await _new_tenant(process_a)
    lost = Session.of(await _refresh(process_a.http, admin.session.refresh_token))

    replay = Session.of(await _refresh(process_b, admin.session.refresh_token))

    assert _digest(replay.refresh_token) == _digest(lost.refresh_token)
    assert _digest(replay.access_token) != _digest(lost.access_token)
    me = await _me(process_b, replay.access_token)
    assert me.status_code == 200
    events = [kind for kind, _ in _events(database, admin.tenant_id)]
    assert "auth.refresh_replayed" in events
    assert "auth.security_alert" not in events
    assert "auth.refresh_reuse_detected" not in events


async def test_a_replay_after_the_grace_revokes_the_family_and_raises_an_audited_security_alert(
    process_a: ProcessA, database, audit_logs: AuditLogs
) -> None:
    admin = await _new_tenant(process_a)
    grace = process_a.runtime.settings.auth.refresh_reuse_grace_seconds
    rotated = Session.of(await _refresh(process_a.http, admin.session.refresh_token))
    with psycopg.connect(database.superuser_url) as connection:
        connection.execute(
            "UPDATE auth.refresh_token SET used_at = used_at - make_interval(secs => %s)"
            " WHERE user_id = %s AND used_at IS NOT NULL",
            (grace + 1, admin.id),
        )

    reuse = await _refresh(process_a.http, admin.session.refresh_token)

    assert reuse.status_code == 401
    assert "revoked" in reuse.json()["detail"]
    successor = await _refresh(process_a.http, rotated.refresh_token)
    assert successor.status_code == 401
    tokens = Tokens({admin.session.access_token, admin.session.refresh_token})
    tokens |= {rotated.access_token, rotated.refresh_token}
    await _assert_reuse_was_alarmed(database, audit_logs, admin, "refresh_reuse_after_grace", tokens)


async def test_a_replay_after_the_successor_was_used_revokes_the_family_and_raises_an_audited_security_alert(
    process_a: ProcessA, process_b: httpx.AsyncClient, database, audit_logs: AuditLogs
) -> None:
    admin = await _new_tenant(process_a)
    rotated = Session.of(await _refresh(process_a.http, admin.session.refresh_token))
    newest = Session.of(await _refresh(process_b, rotated.refresh_token))

    # Within the grace still, but the client has moved on: this is what a thief holding the old token looks like.
    reuse = await _refresh(process_a.http, admin.session.refresh_token)

    assert reuse.status_code == 401
    assert "revoked" in reuse.json()["detail"]
    after = await _refresh(process_b, newest.refresh_token)
    assert after.status_code == 401
    tokens = Tokens({admin.session.access_token, admin.session.refresh_token})
    tokens |= {rotated.access_token, rotated.refresh_token, newest.access_token, newest.refresh_token}
    await _assert_reuse_was_alarmed(database, audit_logs, admin, "refresh_reuse_after_successor_used", tokens)
