"""Passwords, hashes, tokens and API keys never reach a log line or an error body."""

import json

import httpx
import psycopg

from tests.fixtures.app import SignedIn


async def test_credentials_never_appear_in_logs_or_error_bodies(
    client: httpx.AsyncClient, tenant_admin: SignedIn, captured_logs, database
) -> None:
    wrong_password = "wrong-Password-that-must-not-leak"
    new_password = "brand-new-user-password-42"
    bodies: list[str] = []

    bodies.append(
        (await client.post("/api/v1/auth/login", json={"email": tenant_admin.email, "password": wrong_password})).text
    )
    bodies.append(
        (await client.post("/api/v1/auth/login", json={"email": "not-an-email", "password": wrong_password})).text
    )
    login = await client.post(
        "/api/v1/auth/login", json={"email": tenant_admin.email, "password": tenant_admin.password}
    )
    tokens = login.json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    user = {"email": f"logs-{tenant_admin.tenant_id.hex[:8]}@x.example", "password": new_password, "roles": ["viewer"]}
    bodies.append((await client.post("/api/v1/users", headers=headers, json=user)).text)
    bodies.append((await client.post("/api/v1/users", headers=headers, json={**user, "password": "short"})).text)
    key = (await client.post("/api/v1/api-keys", headers=headers, json={"name": "k", "scopes": ["read"]})).json()["key"]
    bodies.append((await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {key}"})).text)
    bodies.append((await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {key[:-2]}xx"})).text)
    refreshed = (await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})).json()
    # The client moves on, so presenting the first token again is a reuse (an error body), not a lost answer.
    moved_on = (await client.post("/api/v1/auth/refresh", json={"refresh_token": refreshed["refresh_token"]})).json()
    bodies.append((await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})).text)

    with psycopg.connect(database.superuser_url) as connection:
        hashes = [
            row[0]
            for row in connection.execute(
                'SELECT password_hash FROM auth."user" WHERE tenant_id = %s', (tenant_admin.tenant_id,)
            )
        ]
    secrets = [
        wrong_password,
        new_password,
        tenant_admin.password,
        key,
        key[4:],
        tokens["access_token"],
        tokens["refresh_token"],
        refreshed["access_token"],
        refreshed["refresh_token"],
        moved_on["access_token"],
        moved_on["refresh_token"],
        *hashes,
    ]
    logged = captured_logs.getvalue()
    assert logged.count('"event": "request"') >= 8, "log capture is not working"
    for line in logged.splitlines():
        json.loads(line)  # every line is JSON
    for secret in secrets:
        assert secret not in logged
        for body in bodies:
            assert secret not in body


async def test_log_lines_carry_the_request_id(client: httpx.AsyncClient, captured_logs) -> None:
    await client.get("/api/v1/auth/me", headers={"X-Request-ID": "req-abc-123"})
    lines = [json.loads(line) for line in captured_logs.getvalue().splitlines()]
    request_lines = [line for line in lines if line.get("event") == "request" and line.get("path") == "/api/v1/auth/me"]
    assert request_lines[-1]["request_id"] == "req-abc-123"
    assert request_lines[-1]["status"] == 401


def test_the_redaction_processor_scrubs_credential_shapes() -> None:
    from nexora.core.observability import REDACTED, redact_processor

    event = redact_processor(
        None,
        "info",
        {
            "event": "connecting postgresql://app:s3cret-pw@db/nexora with Bearer abcdefghijklmnop",
            "password": "plain",
            "headers": {"Authorization": "Bearer zzzzzzzzzzzz"},
            "count": 3,
        },
    )
    assert "s3cret-pw" not in event["event"]
    assert "abcdefghijklmnop" not in event["event"]
    assert event["password"] == REDACTED
    assert event["headers"]["Authorization"] == REDACTED
    assert event["count"] == 3
