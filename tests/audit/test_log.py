"""Events become entries: through the real bus, from real API actions, with who, what, where and outcome."""

import json
import uuid

import httpx
from sqlalchemy import text

from nexora.audit import service, worker
from nexora.audit.encoding import PLATFORM_LOG
from nexora.core.bus import publish
from nexora.core.events import Event, catalogue, topics
from tests.fixtures.app import SignedIn, TenantFactory
from tests.fixtures.audit import AuditLogs


async def _entries(client: httpx.AsyncClient, who: SignedIn, **params: str) -> list[dict]:
    response = await client.get("/api/v1/audit/entries", headers=who.headers, params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_the_consumer_audits_every_catalogued_topic_but_its_own_and_the_activity_data() -> None:
    subscription = worker.subscriptions(None)[0]  # type: ignore[arg-type]
    assert subscription.group == "audit"
    assert set(subscription.topics) == set(topics()) - {"audit.entry", "nhi.activity"}
    assert {entry.topic for entry in catalogue().values()} - set(subscription.topics) == {"audit.entry", "nhi.activity"}
    assert subscription.types is None


async def test_a_failed_sign_in_is_recorded_with_actor_target_outcome_address_and_request_id(
    client: httpx.AsyncClient, tenant_admin: SignedIn, audit_logs: AuditLogs
) -> None:
    response = await client.post(
        "/api/v1/auth/login",
        json={"email": tenant_admin.email, "password": "not-the-password"},
        headers={"x-request-id": "req-audit-wrong-password"},
    )
    assert response.status_code == 401
    await audit_logs.catch_up_all()

    [entry] = await _entries(client, tenant_admin, action="auth.login_failed")
    assert entry["log"] == str(tenant_admin.tenant_id)
    assert entry["actor"] == f"user:{tenant_admin.user_id}"
    assert entry["target"] == str(tenant_admin.user_id)
    assert entry["outcome"] == "failure"
    assert entry["source"] == "nexora.auth"
    assert entry["source_address"] == "203.0.113.7"
    assert entry["request_id"] == "req-audit-wrong-password"
    assert entry["payload"] == {
        "email": tenant_admin.email,
        "reason": "bad_credentials",
        "user_id": str(tenant_admin.user_id),
    }


async def test_a_tenants_history_is_recorded_in_order_with_consecutive_sequence_numbers(
    client: httpx.AsyncClient, tenant_admin: SignedIn, audit_logs: AuditLogs
) -> None:
    created = await client.post(
        "/api/v1/api-keys", headers=tenant_admin.headers, json={"name": "ci", "scopes": ["read"]}
    )
    assert created.status_code == 201
    await audit_logs.catch_up_all()

    entries = list(reversed(await _entries(client, tenant_admin)))
    assert [e["seq"] for e in entries] == list(range(len(entries)))
    assert [e["action"] for e in entries] == [
        "auth.tenant_created",
        "auth.user_created",
        "auth.login_succeeded",
        "auth.api_key_created",
    ]
    key_entry = entries[-1]
    assert key_entry["actor"] == f"user:{tenant_admin.user_id}"
    assert key_entry["target"] == created.json()["id"]
    assert key_entry["outcome"] == "success"


async def test_a_sign_in_for_an_unknown_email_goes_to_the_platform_log_only_platform_admins_read(
    client: httpx.AsyncClient, new_tenant: TenantFactory, tenant_admin: SignedIn, audit_logs: AuditLogs
) -> None:
    email = f"nobody-{uuid.uuid4().hex[:8]}@nowhere.example"
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": "whatever-it-is"})
    assert response.status_code == 401
    await audit_logs.catch_up_all()

    platform_admin = await new_tenant(platform_admin=True)
    entries = await _entries(client, platform_admin, log="platform", action="auth.login_failed")
    [entry] = [e for e in entries if e["payload"]["email"] == email]
    assert entry["log"] == str(PLATFORM_LOG)
    assert entry["actor"] == "anonymous"
    assert entry["outcome"] == "failure"
    assert all(email not in json.dumps(e) for e in await _entries(client, tenant_admin))

    refused = await client.get("/api/v1/audit/entries", headers=tenant_admin.headers, params={"log": "platform"})
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"


async def test_every_entry_is_published_to_the_audit_entry_topic_and_never_audited_again(
    runtime, tenant_admin: SignedIn, audit_logs: AuditLogs, client: httpx.AsyncClient
) -> None:
    await audit_logs.catch_up_all()
    entries = await _entries(client, tenant_admin)
    async with runtime.db.unit_of_work() as session:
        rows = await session.execute(
            text("SELECT envelope FROM core.outbox WHERE topic = 'audit.entry' AND tenant_id = :t"),
            {"t": tenant_admin.tenant_id},
        )
        published = {row.envelope["data"]["seq"]: row.envelope for row in rows}
        audited_entries = await session.scalar(text("SELECT count(*) FROM core.outbox WHERE topic = 'audit.entry'"))
    assert sorted(published) == sorted(e["seq"] for e in entries)
    for entry in entries:
        envelope = published[entry["seq"]]
        assert envelope["type"] == "audit.entry"
        assert envelope["source"] == "nexora.audit"
        assert envelope["data"]["leaf_hash"] == entry["leaf_hash"]
        assert json.loads(envelope["data"]["payload"]) == entry["payload"]
    assert audited_entries > 0
    for log in (tenant_admin.tenant_id, PLATFORM_LOG):
        async with runtime.db.unit_of_work(log) as session:
            own = await session.scalar(text("SELECT count(*) FROM audit.entry WHERE action = 'audit.entry'"))
        assert own == 0


async def test_appending_an_event_twice_records_it_once(runtime) -> None:
    log = uuid.uuid4()
    event = Event(type="auth.logout", data={"user_id": "u-1"}, source="tests", tenant_id=log, subject="u-1")
    draft = service.draft_from_event(event)
    async with runtime.db.unit_of_work(log) as session:
        first = await service.append(session, log, [draft, draft])
    async with runtime.db.unit_of_work(log) as session:
        second = await service.append(session, log, [draft])
        size = await service.log_size(session, log)
    assert [d["seq"] for d in first] == [0]
    assert second == []
    assert size == 1


def test_outcome_comes_from_the_event_or_its_type() -> None:
    assert service.outcome_of("auth.login_failed", {}) == "failure"
    assert service.outcome_of("auth.refresh_reuse_detected", {}) == "denied"
    assert service.outcome_of("remediation.approval_denied", {}) == "denied"
    assert service.outcome_of("auth.login_succeeded", {}) == "success"
    assert service.outcome_of("discovery.run_finished", {"outcome": "failure"}) == "failure"
    assert service.outcome_of("discovery.run_finished", {"outcome": "exploded"}) == "success"


def test_secret_named_fields_and_credential_shaped_values_are_redacted_before_hashing() -> None:
    api_key = "nxr_" + "A" * 32 + "000000"
    data = {
        "password": "hunter2-hunter2",
        "nested": {"client_secret": "s3cr3t", "api_key_id": "kept", "items": [{"token": "t0k3n"}]},
        "note": f"pasted {api_key} by mistake",
        "secret_access_key": None,
        "count": float("nan"),
    }
    draft = service.draft_from_event(Event(type="auth.logout", data=data, source="tests"))
    payload = json.loads(draft.payload)
    assert payload["password"] == "[redacted]"
    assert payload["nested"] == {
        "client_secret": "[redacted]",
        "api_key_id": "kept",
        "items": [{"token": "[redacted]"}],
    }
    assert api_key not in draft.payload
    assert payload["note"].startswith("pasted nxr_")
    assert payload["secret_access_key"] is None
    assert payload["count"] == "nan"
    assert draft.log == PLATFORM_LOG
    assert draft.actor == "system:tests"


async def test_hostile_envelope_text_is_recorded_safely_instead_of_stalling_the_consumer(
    runtime, audit_logs: AuditLogs
) -> None:
    log = uuid.uuid4()
    async with runtime.db.unit_of_work() as session:
        await publish(session, "auth.logout", {"user_id": "u"}, source="tests", subject="s" * 5000, tenant_id=log)
    await audit_logs.catch_up(log, 1)
    # NUL cannot pass the PostgreSQL outbox (JSONB), but other backends carry it: it must not fail a batch.
    hostile = Event(
        type="auth.logout", data={"user_id": "nul\x00inside"}, source="tests", tenant_id=log, actor="user:\x00"
    )
    async with runtime.db.unit_of_work(log) as session:
        await service.append(session, log, [service.draft_from_event(hostile)], publish=False)
    async with runtime.db.unit_of_work(log) as session:
        long_target = await service.get_entry(session, log, 0)
        nul = await service.get_entry(session, log, 1)
    assert long_target.target == "s" * 2047 + "…"
    assert nul.actor == "user:\ufffd"
    assert json.loads(nul.payload) == {"user_id": "nul\x00inside"}
    assert (await audit_logs.verify(log)).ok
