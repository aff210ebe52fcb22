"""The audit API: who may read what, search and pages, proofs (checked by an independent RFC 9162
implementation), signed heads and keys, NDJSON export, verification, and bad input."""

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nexora.audit import encoding
from tests.audit import rfc9162
from tests.fixtures.app import ADMIN_PASSWORD, SignedIn, TenantFactory
from tests.fixtures.audit import AuditLogs, tampering

SYNTHETIC = 37  # logout events added to the proof tenant's log through the bus


async def _user(client: httpx.AsyncClient, admin: SignedIn, role: str) -> dict[str, str]:
    email = f"{role}-{uuid.uuid4().hex[:8]}@roles.example"
    created = await client.post(
        "/api/v1/users", headers=admin.headers, json={"email": email, "password": ADMIN_PASSWORD, "roles": [role]}
    )
    assert created.status_code == 201, created.text
    login = await client.post("/api/v1/auth/login", json={"email": email, "password": ADMIN_PASSWORD})
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def _all_entries(client: httpx.AsyncClient, headers: dict[str, str], **params: object) -> list[dict]:
    response = await client.get("/api/v1/audit/entries", headers=headers, params={"limit": 500, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


@pytest.fixture(scope="module")
async def proof_tenant(new_tenant: TenantFactory, runtime, audit_consumer) -> SignedIn:
    """A tenant whose log holds its own history plus synthetic entries, oldest first."""
    admin = await new_tenant()
    logs = AuditLogs(runtime, audit_consumer)
    await logs.catch_up_all()
    size = await logs.size(admin.tenant_id)
    await logs.publish(admin.tenant_id, SYNTHETIC)
    await logs.catch_up(admin.tenant_id, size + SYNTHETIC)
    return admin


@pytest.fixture(scope="module")
async def proof_log(proof_tenant: SignedIn, client: httpx.AsyncClient) -> tuple[SignedIn, list[bytes]]:
    admin = proof_tenant
    entries = list(reversed(await _all_entries(client, admin.headers)))
    return admin, [bytes.fromhex(e["leaf_hash"]) for e in entries]


async def test_only_admins_and_auditors_read_the_log(
    client: httpx.AsyncClient, tenant_admin: SignedIn, audit_logs: AuditLogs
) -> None:
    auditor = await _user(client, tenant_admin, "auditor")
    await audit_logs.catch_up_all()
    paths = [
        ("GET", "/api/v1/audit/entries"),
        ("GET", "/api/v1/audit/entries/0"),
        ("GET", "/api/v1/audit/entries/0/proof?tree_size=1"),
        ("GET", "/api/v1/audit/consistency?first=1&second=1"),
        ("GET", "/api/v1/audit/tree-heads"),
        ("POST", "/api/v1/audit/tree-heads"),
        ("GET", "/api/v1/audit/export"),
        ("GET", "/api/v1/audit/bundle"),
        ("GET", "/api/v1/audit/verify"),
    ]
    for role in ("viewer", "analyst", "approver"):
        headers = await _user(client, tenant_admin, role)
        for method, path in paths:
            response = await client.request(method, path, headers=headers)
            assert response.status_code == 403, (role, path)
            assert response.headers["content-type"] == "application/problem+json"
        assert (await client.get("/api/v1/audit/public-key", headers=headers)).status_code == 200
        assert (await client.post("/api/v1/audit/keys/rotate", headers=headers)).status_code == 403
    for headers in (auditor, tenant_admin.headers):
        for method, path in paths:
            response = await client.request(method, path, headers=headers)
            assert response.status_code in (200, 201), (path, response.text)
    assert (await client.post("/api/v1/audit/keys/rotate", headers=auditor)).status_code == 403
    assert (await client.get("/api/v1/audit/entries")).status_code == 401


async def test_a_tenant_never_sees_another_tenants_entries(
    client: httpx.AsyncClient, new_tenant: TenantFactory, audit_logs: AuditLogs
) -> None:
    a, b = await new_tenant(), await new_tenant()
    await audit_logs.catch_up_all()
    a_entries = await _all_entries(client, a.headers)
    b_entries = await _all_entries(client, b.headers)
    assert {e["log"] for e in a_entries} == {str(a.tenant_id)}
    assert {e["log"] for e in b_entries} == {str(b.tenant_id)}
    assert {e["event_id"] for e in a_entries}.isdisjoint({e["event_id"] for e in b_entries})


async def test_search_filters_and_pages_cover_every_match_once_newest_first(
    client: httpx.AsyncClient, proof_tenant
) -> None:
    admin = proof_tenant
    everything = await _all_entries(client, admin.headers)
    assert [e["seq"] for e in everything] == sorted((e["seq"] for e in everything), reverse=True)

    seen: list[int] = []
    cursor = None
    while True:
        params = {"limit": 7, "action": "auth.logout", **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/audit/entries", headers=admin.headers, params=params)).json()
        seen.extend(e["seq"] for e in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    logouts = [e["seq"] for e in everything if e["action"] == "auth.logout"]
    assert seen == logouts
    assert len(seen) == SYNTHETIC

    actor = f"user:{uuid.UUID(int=5)}"
    [by_actor] = await _all_entries(client, admin.headers, actor=actor)
    assert by_actor["target"] == "user-5"
    assert [e["seq"] for e in await _all_entries(client, admin.headers, target="user-5")] == [by_actor["seq"]]
    assert await _all_entries(client, admin.headers, outcome="failure") == []
    successes = await _all_entries(client, admin.headers, outcome="success")
    assert len(successes) == len(everything)

    middle = datetime.fromisoformat(by_actor["occurred_at"])
    before = await _all_entries(client, admin.headers, until=middle.isoformat())
    after = await _all_entries(client, admin.headers, since=middle.isoformat())
    assert len(before) + len(after) == len(everything)
    assert all(datetime.fromisoformat(e["occurred_at"]) < middle for e in before)
    assert by_actor in after


async def test_an_entry_is_shown_with_its_leaf_hash_over_its_fields(client: httpx.AsyncClient, proof_tenant) -> None:
    admin = proof_tenant
    entry = (await client.get("/api/v1/audit/entries/3", headers=admin.headers)).json()
    fields = {**entry, "payload": encoding.canonical_json(entry["payload"]).decode()}
    assert rfc9162.leaf(encoding.leaf_document(fields)).hex() == entry["leaf_hash"]
    missing = await client.get("/api/v1/audit/entries/99999", headers=admin.headers)
    assert missing.status_code == 404
    assert missing.json()["detail"] == "the log has no entry 99999"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
async def test_inclusion_proofs_match_the_independent_reference(client: httpx.AsyncClient, proof_log, data) -> None:
    admin, leaves = proof_log
    tree_size = data.draw(st.integers(1, len(leaves)))
    seq = data.draw(st.integers(0, tree_size - 1))
    response = await client.get(
        f"/api/v1/audit/entries/{seq}/proof", headers=admin.headers, params={"tree_size": tree_size}
    )
    assert response.status_code == 200, response.text
    proof = response.json()
    path = [bytes.fromhex(h) for h in proof["audit_path"]]
    assert path == rfc9162.path(seq, leaves[:tree_size])
    assert bytes.fromhex(proof["root_hash"]) == rfc9162.mth(leaves[:tree_size])
    assert rfc9162.root_from_path(seq, tree_size, leaves[seq], path) == rfc9162.mth(leaves[:tree_size])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
async def test_consistency_proofs_match_the_independent_reference(client: httpx.AsyncClient, proof_log, data) -> None:
    admin, leaves = proof_log
    second = data.draw(st.integers(1, len(leaves)))
    first = data.draw(st.integers(1, second))
    response = await client.get(
        "/api/v1/audit/consistency", headers=admin.headers, params={"first": first, "second": second}
    )
    assert response.status_code == 200, response.text
    proof = response.json()
    assert [bytes.fromhex(h) for h in proof["proof"]] == rfc9162.proof(first, leaves[:second])
    assert bytes.fromhex(proof["first_root"]) == rfc9162.mth(leaves[:first])
    assert bytes.fromhex(proof["second_root"]) == rfc9162.mth(leaves[:second])


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/audit/entries/5/proof", {"tree_size": 5}),
        ("/api/v1/audit/entries/0/proof", {"tree_size": 10**9}),
        ("/api/v1/audit/entries/-1/proof", {"tree_size": 3}),
        ("/api/v1/audit/entries/0/proof", {"tree_size": "lots"}),
        ("/api/v1/audit/entries/0/proof", {}),
        ("/api/v1/audit/entries/99999999999999999999999", {}),
        ("/api/v1/audit/consistency", {"first": 4, "second": 3}),
        ("/api/v1/audit/consistency", {"first": 1, "second": 10**9}),
        ("/api/v1/audit/entries", {"outcome": "exploded"}),
        ("/api/v1/audit/entries", {"since": "2026-01-02T00:00:00Z", "until": "2026-01-01T00:00:00Z"}),
        ("/api/v1/audit/entries", {"since": "yesterday-ish"}),
        ("/api/v1/audit/entries", {"cursor": "not-a-cursor"}),
        ("/api/v1/audit/entries", {"cursor": "eyJiZWZvcmUiOiAieCJ9"}),
        ("/api/v1/audit/entries", {"limit": 0}),
        ("/api/v1/audit/entries", {"actor": "x" * 600}),
        ("/api/v1/audit/entries", {"log": "everyone"}),
        ("/api/v1/audit/tree-heads", {"cursor": "eyJ0IjogMX0"}),
    ],
)
async def test_bad_parameters_get_a_problem_and_change_nothing(
    client: httpx.AsyncClient, proof_tenant, path: str, params: dict
) -> None:
    admin = proof_tenant
    before = await _all_entries(client, admin.headers)
    response = await client.get(path, headers=admin.headers, params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert "x" * 600 not in response.text
    assert await _all_entries(client, admin.headers) == before


async def test_signed_heads_verify_with_the_published_key_and_survive_rotation(
    client: httpx.AsyncClient, tenant_admin: SignedIn, audit_logs: AuditLogs
) -> None:
    headers = tenant_admin.headers
    assert (await client.get("/api/v1/audit/tree-heads/latest", headers=headers)).status_code == 404
    await audit_logs.catch_up_all()
    first = (await client.post("/api/v1/audit/tree-heads", headers=headers)).json()
    keys = (await client.get("/api/v1/audit/public-key", headers=headers)).json()
    [key] = keys["keys"]
    assert key["status"] == "current"
    assert key["retired_at"] is None
    assert key["key_id"] == first["key_id"] == encoding.key_id(base64.b64decode(key["public_key"]))
    assert key["public_key_pem"].startswith("-----BEGIN PUBLIC KEY-----")
    message = encoding.tree_head_message(
        first["log"], first["tree_size"], bytes.fromhex(first["root_hash"]), first["timestamp"], first["key_id"]
    )
    Ed25519PublicKey.from_public_bytes(base64.b64decode(key["public_key"])).verify(
        base64.b64decode(first["signature"]), message
    )

    rotated = await client.post("/api/v1/audit/keys/rotate", headers=headers)
    assert rotated.status_code == 201
    new_key = rotated.json()["key"]
    assert new_key["key_id"] != key["key_id"]
    keys = (await client.get("/api/v1/audit/public-key", headers=headers)).json()["keys"]
    assert [k["key_id"] for k in keys] == [new_key["key_id"], key["key_id"]]
    assert [k["status"] for k in keys] == ["current", "retired"]
    assert keys[1]["retired_at"] == new_key["created_at"]

    latest = (await client.get("/api/v1/audit/tree-heads/latest", headers=headers)).json()
    assert latest["key_id"] == new_key["key_id"]
    heads = (await client.get("/api/v1/audit/tree-heads", headers=headers, params={"limit": 1})).json()
    older = (
        await client.get("/api/v1/audit/tree-heads", headers=headers, params={"cursor": heads["next_cursor"]})
    ).json()
    assert [h["key_id"] for h in heads["items"] + older["items"]] == [new_key["key_id"], key["key_id"]]
    verdict = (await client.get("/api/v1/audit/verify", headers=headers)).json()
    assert verdict["ok"] is True
    assert verdict["heads"] == 2


async def test_ndjson_export_streams_a_time_range_oldest_first(client: httpx.AsyncClient, proof_tenant) -> None:
    admin = proof_tenant
    everything = list(reversed(await _all_entries(client, admin.headers)))
    start = datetime.fromisoformat(everything[5]["occurred_at"])
    end = datetime.fromisoformat(everything[12]["occurred_at"]) + timedelta(microseconds=1)
    response = await client.get(
        "/api/v1/audit/export", headers=admin.headers, params={"since": start.isoformat(), "until": end.isoformat()}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in response.text.splitlines()]
    expected = [e for e in everything if start <= datetime.fromisoformat(e["occurred_at"]) < end]
    assert lines == expected
    assert len(lines) >= 8
    empty = await client.get(
        "/api/v1/audit/export",
        headers=admin.headers,
        params={"since": (datetime.now(UTC) + timedelta(days=1)).isoformat()},
    )
    assert empty.text == ""


async def test_the_verify_endpoint_reports_tampering_for_the_console(
    client: httpx.AsyncClient, tenant_admin: SignedIn, audit_logs: AuditLogs, database
) -> None:
    await audit_logs.catch_up_all()
    await client.post("/api/v1/audit/tree-heads", headers=tenant_admin.headers)
    assert (await client.get("/api/v1/audit/verify", headers=tenant_admin.headers)).json()["ok"] is True
    with tampering(database, "audit.entry") as connection:
        connection.execute(
            "UPDATE audit.entry SET actor = 'user:nobody' WHERE tenant_id = %s AND seq = 1", (tenant_admin.tenant_id,)
        )
    verdict = (await client.get("/api/v1/audit/verify", headers=tenant_admin.headers)).json()
    assert verdict["ok"] is False
    assert verdict["first_bad_seq"] == 1
    assert verdict["problems"][0]["kind"] == "modified"


async def test_a_filter_postgresql_refuses_is_a_problem_before_the_export_streams(
    client: httpx.AsyncClient, proof_tenant
) -> None:
    # A NUL character cannot reach PostgreSQL; once a stream has started such an error could only cut
    # the connection, so the export runs its first query before it answers.
    response = await client.get("/api/v1/audit/export", headers=proof_tenant.headers, params={"action": "\x00"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 422
