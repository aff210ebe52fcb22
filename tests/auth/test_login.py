import asyncio
import hashlib
import os
import time

import httpx
import psycopg
import pytest

from nexora.core.errors import RateLimited
from nexora.core.ratelimit import LoginThrottle
from tests.fixtures.app import SignedIn


async def test_login_returns_tokens_and_me_describes_the_caller(
    client: httpx.AsyncClient, tenant_admin: SignedIn
) -> None:
    response = await client.post(
        "/api/v1/auth/login", json={"email": tenant_admin.email.upper(), "password": tenant_admin.password}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["refresh_token"].startswith("rt1.")

    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json() == {
        "id": str(tenant_admin.user_id),
        "email": tenant_admin.email,
        "tenant_id": str(tenant_admin.tenant_id),
        "roles": ["admin"],
        "is_platform_admin": False,
        "auth_method": "user",
    }


async def test_wrong_password_and_unknown_email_get_the_same_answer(
    client: httpx.AsyncClient, tenant_admin: SignedIn
) -> None:
    wrong = await client.post("/api/v1/auth/login", json={"email": tenant_admin.email, "password": "nope-nope"})
    unknown = await client.post("/api/v1/auth/login", json={"email": "ghost@nowhere.example", "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.headers["content-type"] == "application/problem+json"
    assert wrong.json()["detail"] == unknown.json()["detail"] == "the e-mail or password is wrong"


async def test_refresh_rotates_and_the_old_token_stops_working(
    client: httpx.AsyncClient, tenant_admin: SignedIn
) -> None:
    first = await client.post("/api/v1/auth/refresh", json={"refresh_token": tenant_admin.refresh_token})
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != tenant_admin.refresh_token
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {rotated['access_token']}"})
    assert me.status_code == 200


async def _refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/v1/auth/refresh", json={"refresh_token": token})


async def test_reusing_a_token_the_client_has_moved_on_from_revokes_the_whole_family(
    client: httpx.AsyncClient, tenant_admin: SignedIn
) -> None:
    rotated = (await _refresh(client, tenant_admin.refresh_token)).json()
    newest = (await _refresh(client, rotated["refresh_token"])).json()

    # What a thief holding the first token looks like: the session has moved on and used its successor.
    reuse = await _refresh(client, tenant_admin.refresh_token)
    assert reuse.status_code == 401
    assert reuse.json()["detail"] == "the refresh token was already used; this session was revoked, sign in again"

    # The legitimate newest token of the same family is dead too.
    after = await _refresh(client, newest["refresh_token"])
    assert after.status_code == 401
    assert after.json()["detail"] == "the refresh token was revoked; sign in again"


def _digest(token: str) -> str:
    # Tokens are compared by digest, so a failing assertion never prints one.
    return hashlib.sha256(token.encode()).hexdigest()


async def test_a_replay_within_the_grace_gets_the_same_successor_and_a_new_access_token(
    client: httpx.AsyncClient, tenant_admin: SignedIn
) -> None:
    lost = (await _refresh(client, tenant_admin.refresh_token)).json()  # a reload cut this answer off

    replay = await _refresh(client, tenant_admin.refresh_token)
    assert replay.status_code == 200, replay.json()["detail"]
    again = replay.json()
    assert _digest(again["refresh_token"]) == _digest(lost["refresh_token"])
    assert _digest(again["access_token"]) != _digest(lost["access_token"])
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {again['access_token']}"})
    assert me.status_code == 200

    # Asking once more is just as idempotent; the client then carries on with the successor.
    assert _digest((await _refresh(client, tenant_admin.refresh_token)).json()["refresh_token"]) == _digest(
        lost["refresh_token"]
    )
    carried_on = await _refresh(client, again["refresh_token"])
    assert carried_on.status_code == 200
    # Now the successor was used: the old token is an ordinary reuse, and it takes the whole session down.
    reuse = await _refresh(client, tenant_admin.refresh_token)
    assert reuse.status_code == 401
    assert "already used" in reuse.json()["detail"]
    assert (await _refresh(client, carried_on.json()["refresh_token"])).status_code == 401


async def test_a_replay_after_the_grace_revokes_the_session(
    client: httpx.AsyncClient, tenant_admin: SignedIn, database, runtime
) -> None:
    grace = runtime.services["auth"].settings.refresh_reuse_grace_seconds
    assert grace == 10
    rotated = (await _refresh(client, tenant_admin.refresh_token)).json()
    with psycopg.connect(database.superuser_url) as connection:
        moved = connection.execute(
            "UPDATE auth.refresh_token SET used_at = used_at - make_interval(secs => %s)"
            " WHERE user_id = %s AND used_at IS NOT NULL",
            (grace + 1, tenant_admin.user_id),
        ).rowcount
    assert moved == 1

    reuse = await _refresh(client, tenant_admin.refresh_token)
    assert reuse.status_code == 401
    assert "already used" in reuse.json()["detail"]
    assert (await _refresh(client, rotated["refresh_token"])).status_code == 401


async def test_with_no_grace_every_replay_revokes_the_session(
    client: httpx.AsyncClient, tenant_admin: SignedIn, runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    components = runtime.services["auth"]
    monkeypatch.setattr(
        components, "settings", components.settings.model_copy(update={"refresh_reuse_grace_seconds": 0})
    )
    rotated = (await _refresh(client, tenant_admin.refresh_token)).json()

    reuse = await _refresh(client, tenant_admin.refresh_token)
    assert reuse.status_code == 401
    assert "already used" in reuse.json()["detail"]
    assert (await _refresh(client, rotated["refresh_token"])).status_code == 401


async def test_logout_ends_the_session(client: httpx.AsyncClient, tenant_admin: SignedIn) -> None:
    response = await client.post("/api/v1/auth/logout", json={"refresh_token": tenant_admin.refresh_token})
    assert response.status_code == 204
    again = await client.post("/api/v1/auth/refresh", json={"refresh_token": tenant_admin.refresh_token})
    assert again.status_code == 401


async def test_malformed_refresh_token_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": "rt1.not-a-token"})
    assert response.status_code == 401


async def test_repeated_failures_lock_the_address_out_even_for_the_right_password_then_it_unlocks(
    client: httpx.AsyncClient, tenant_admin: SignedIn, runtime
) -> None:
    components = runtime.services["auth"]
    original = components.throttle
    components.throttle = LoginThrottle(None, max_failures=3, window_seconds=2, ip_limit="1000/minute")
    try:
        for _ in range(3):
            failed = await client.post(
                "/api/v1/auth/login", json={"email": tenant_admin.email, "password": "bad-guess"}
            )
            assert failed.status_code == 401
        locked = await client.post(
            "/api/v1/auth/login", json={"email": tenant_admin.email, "password": tenant_admin.password}
        )
        assert locked.status_code == 429
        assert int(locked.headers["retry-after"]) >= 1
        assert "locked for this address" in locked.json()["detail"]

        deadline = time.monotonic() + 10
        while True:
            response = await client.post(
                "/api/v1/auth/login", json={"email": tenant_admin.email, "password": tenant_admin.password}
            )
            if response.status_code == 200 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        assert response.status_code == 200
    finally:
        components.throttle = original


async def test_a_successful_login_resets_the_failure_count(
    client: httpx.AsyncClient, tenant_admin: SignedIn, runtime
) -> None:
    components = runtime.services["auth"]
    original = components.throttle
    components.throttle = LoginThrottle(None, max_failures=3, window_seconds=60, ip_limit="1000/minute")
    body_ok = {"email": tenant_admin.email, "password": tenant_admin.password}
    body_bad = {"email": tenant_admin.email, "password": "bad-guess"}
    try:
        for _ in range(2):
            assert (await client.post("/api/v1/auth/login", json=body_bad)).status_code == 401
        assert (await client.post("/api/v1/auth/login", json=body_ok)).status_code == 200
        for _ in range(2):
            assert (await client.post("/api/v1/auth/login", json=body_bad)).status_code == 401
        assert (await client.post("/api/v1/auth/login", json=body_ok)).status_code == 200
    finally:
        components.throttle = original


async def test_source_address_limit_applies_across_accounts(
    client: httpx.AsyncClient, tenant_admin: SignedIn, runtime
) -> None:
    components = runtime.services["auth"]
    original = components.throttle
    components.throttle = LoginThrottle(None, max_failures=100, window_seconds=60, ip_limit="4/minute")
    try:
        statuses = [
            (await client.post("/api/v1/auth/login", json={"email": f"user{i}@x.example", "password": "p"})).status_code
            for i in range(5)
        ]
        assert statuses == [401, 401, 401, 401, 429]
    finally:
        components.throttle = original


async def test_throttle_state_lives_in_redis_when_configured() -> None:
    redis_url = os.environ.get("NEXORA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    first = LoginThrottle(redis_url, max_failures=2, window_seconds=30, ip_limit="100/minute")
    second = LoginThrottle(redis_url, max_failures=2, window_seconds=30, ip_limit="100/minute")
    email = f"redis-{time.time_ns()}@x.example"
    await first.record_failure(email, "198.51.100.1")
    await first.record_failure(email, "198.51.100.1")
    # Another process (a second API replica) sees the lockout of that address.
    with pytest.raises(RateLimited):
        await second.check(email, "198.51.100.1")
    await second.reset(email, "198.51.100.1")
    await first.check(email, "198.51.100.1")
