"""No secret value or password ever reaches the log (entries or the audit.entry stream)."""

import uuid

import httpx
import psycopg

from tests.fixtures.app import ADMIN_PASSWORD, TenantFactory
from tests.fixtures.audit import AuditLogs


async def test_no_password_token_key_or_connector_secret_reaches_an_entry(
    client: httpx.AsyncClient, new_tenant: TenantFactory, audit_logs: AuditLogs, database
) -> None:
    admin = await new_tenant()
    known = {ADMIN_PASSWORD, admin.access_token, admin.refresh_token}

    for _ in range(3):
        wrong = f"wrong-password-{uuid.uuid4().hex}"
        known.add(wrong)
        response = await client.post("/api/v1/auth/login", json={"email": admin.email, "password": wrong})
        assert response.status_code == 401
    stranger = f"typo-{uuid.uuid4().hex}"
    known.add(stranger)
    await client.post("/api/v1/auth/login", json={"email": f"{uuid.uuid4().hex}@x.example", "password": stranger})

    user_password, new_password = f"first-{uuid.uuid4().hex}", f"second-{uuid.uuid4().hex}"
    known |= {user_password, new_password}
    user = await client.post(
        "/api/v1/users",
        headers=admin.headers,
        json={"email": f"u-{uuid.uuid4().hex[:8]}@s.example", "password": user_password, "roles": ["viewer"]},
    )
    assert user.status_code == 201
    changed = await client.patch(
        f"/api/v1/users/{user.json()['id']}", headers=admin.headers, json={"password": new_password}
    )
    assert changed.status_code == 200

    created = await client.post("/api/v1/api-keys", headers=admin.headers, json={"name": "ci", "scopes": ["admin"]})
    api_key = created.json()["key"]
    known |= {api_key, api_key[4:36]}
    assert (await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {api_key}"})).status_code == 200

    # A replay within the grace (a lost answer), then the client moves on and the old token is reused.
    for token in (admin.refresh_token, admin.refresh_token):
        refreshed = await client.post("/api/v1/auth/refresh", json={"refresh_token": token})
        assert refreshed.status_code == 200
        known |= {refreshed.json()["access_token"], refreshed.json()["refresh_token"]}
    moved_on = await client.post("/api/v1/auth/refresh", json={"refresh_token": refreshed.json()["refresh_token"]})
    known |= {moved_on.json()["access_token"], moved_on.json()["refresh_token"]}
    reused = await client.post("/api/v1/auth/refresh", json={"refresh_token": admin.refresh_token})
    assert reused.status_code == 401

    secret_key, session_token = f"wJalrXUtnFEMI/{uuid.uuid4().hex}", f"IQoJb3JpZ2luX2VjE{uuid.uuid4().hex}"
    known |= {secret_key, session_token}
    connector = await client.post(
        "/api/v1/connectors",
        headers=admin.headers,
        json={
            "name": "prod-aws",
            "kind": "aws",
            "config": {"region": "eu-west-1"},
            "credentials": {
                "access_key_id": "AKIAIOSFODNN7EXAMPLE",
                "secret_access_key": secret_key,
                "session_token": session_token,
            },
        },
    )
    assert connector.status_code == 201, connector.text

    await audit_logs.catch_up_all()
    with psycopg.connect(database.superuser_url) as connection:
        entries = [row[0] for row in connection.execute("SELECT row_to_json(e)::text FROM audit.entry e")]
        stream = [
            row[0] for row in connection.execute("SELECT envelope::text FROM core.outbox WHERE topic = 'audit.entry'")
        ]
        actions = {
            row[0]
            for row in connection.execute("SELECT action FROM audit.entry WHERE tenant_id = %s", (admin.tenant_id,))
        }
    assert {
        "auth.login_failed",
        "auth.user_updated",
        "auth.api_key_created",
        "auth.refresh_replayed",
        "auth.refresh_reuse_detected",
        "discovery.connector_created",
    } <= actions
    leaked = {secret for secret in known for text in entries + stream if secret in text}
    assert leaked == set()
