"""The discovery API: demo data, listing and paging, overrides, graph, overview, CSV, roles and isolation."""

from __future__ import annotations

import csv
import io
import time
import uuid

import httpx
import pytest

from nexora.core.runtime import Runtime
from nexora.discovery import service
from tests.discovery.fixtures import Api
from tests.fixtures.app import SignedIn, TenantFactory

PROBLEM = "application/problem+json"


async def _demo(client: httpx.AsyncClient, admin: SignedIn) -> dict:
    response = await client.post("/api/v1/demo", headers=admin.headers)
    assert response.status_code == 201, response.text
    return response.json()


async def _user(client: httpx.AsyncClient, admin: SignedIn, role: str) -> dict[str, str]:
    email = f"{role}-{uuid.uuid4().hex[:8]}@example.com"
    created = await client.post(
        "/api/v1/users", headers=admin.headers, json={"email": email, "password": "a-long-password-1", "roles": [role]}
    )
    assert created.status_code == 201, created.text
    login = await client.post("/api/v1/auth/login", json={"email": email, "password": "a-long-password-1"})
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


@pytest.fixture(scope="module")
async def demo_api(client: httpx.AsyncClient, new_tenant: TenantFactory) -> Api:
    """A tenant filled with the demo once, shared by the tests that only read it."""
    admin = await new_tenant()
    await _demo(client, admin)
    return Api(client, admin)


async def test_demo_load_fills_a_tenant_quickly_with_inventory_and_findings(api: Api) -> None:
    started = time.monotonic()
    demo = await _demo(api.client, api.admin)
    elapsed = time.monotonic() - started

    assert elapsed < 30
    assert demo["run"]["status"] == "succeeded"
    overview = await api.get("/api/v1/overview", window_days=7)
    assert overview["total"] > 300
    assert {row["provider"] for row in overview["by_provider"]} == {"aws", "kubernetes", "github", "code", "vault"}
    categories = {row["category"] for row in overview["open_findings"]}
    assert {"NHI1", "NHI2", "NHI3", "NHI5", "NHI6", "NHI7", "NHI8", "NHI9", "NHI10"} <= categories
    assert overview["orphaned"] > 0
    assert overview["with_findings"] > 0
    assert len(overview["trend"]) == 7
    assert overview["trend"][-1]["open"] == sum(r["count"] for r in overview["open_findings"])
    again = await _demo(api.client, api.admin)
    assert again["connector_id"] == demo["connector_id"]
    assert again["run"]["counts"]["discovered"] == 0


async def test_list_pages_with_a_stable_cursor_in_risk_order_and_filters(demo_api: Api) -> None:
    api = demo_api
    everything = await api.nhis()
    seen: list[dict] = []
    cursor = None
    while True:
        params = {"limit": 37, **({"cursor": cursor} if cursor else {})}
        page = (await api.client.get("/api/v1/nhis", headers=api.admin.headers, params=params)).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert [n["id"] for n in seen] == [n["id"] for n in everything]
    assert len({n["id"] for n in seen}) == len(seen)
    scores = [n["risk_score"] for n in seen]
    assert scores == sorted(scores, reverse=True)

    keys = await api.nhis(provider="aws", kind="access_key", risk_min=20, sort="name")
    assert keys
    assert all(n["kind"] == "access_key" and n["risk_score"] >= 20 for n in keys)
    assert [n["name"] for n in keys] == sorted(n["name"] for n in keys)
    unowned = await api.nhis(owner="none", kind="iam_role")
    assert unowned
    assert all(n["owner"] is None for n in unowned)
    found = await api.nhis(q="vendor-monitoring")
    assert {n["name"] for n in found} == {"vendor-monitoring"}

    def haystack(nhi: dict) -> str:
        return "\x01".join([nhi["name"], nhi["external_id"], nhi["owner"] or ""]).lower()

    for text in ("PAYMENTS", "ay"):  # through the trigram index, and too short for it
        expected = [n["id"] for n in everything if text.lower() in haystack(n)]
        assert expected
        assert [n["id"] for n in await api.nhis(q=text)] == expected, text
    assert await api.nhis(q="%") == [], "wildcards in the search text are literal"
    assert await api.nhis(q="vendor-monitoringarn:aws") == [], "a match never spans two fields"
    with_findings = await api.nhis(has_findings="true")
    assert with_findings
    assert all(n["open_findings"] > 0 for n in with_findings)


async def test_text_search_gives_the_same_rows_through_its_index_or_a_walk(demo_api: Api, runtime: Runtime) -> None:
    tenant_id = demo_api.admin.tenant_id
    filters = service.NhiFilters(q="Prod")
    async with runtime.db.unit_of_work(tenant_id) as session:
        indexed, _ = await service.list_nhis(session, tenant_id, filters, sort="name", limit=500)
        walked, _ = await service.list_nhis(session, tenant_id, filters, sort="name", limit=500, search_limit=5)

    assert len(indexed) > 5, "more matches than the search limit, so the second query walks"
    assert [row.id for row in walked] == [row.id for row in indexed]
    assert all("prod" in f"{row.name}\x01{row.external_id}\x01{row.owner or ''}".lower() for row in indexed)


async def test_a_what_if_report_pages_by_its_order_and_reads_only_the_nhi_asked_for(demo_api: Api) -> None:
    api, later = demo_api, "2030-01-01T00:00:00+00:00"
    whole = await api.findings(as_of=later)
    seen: list[dict] = []
    cursor = None
    while True:
        params = {"as_of": later, "limit": 37, **({"cursor": cursor} if cursor else {})}
        page = await api.get("/api/v1/findings", **params)
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    nhi_id = whole[0]["nhi_id"]

    one = await api.findings(as_of=later, nhi_id=nhi_id)

    assert len(whole) > 37 * 2
    assert [(f["nhi_id"], f["check_id"]) for f in seen] == [(f["nhi_id"], f["check_id"]) for f in whole]
    assert len({(f["nhi_id"], f["check_id"]) for f in seen}) == len(seen)
    assert one == [f for f in whole if f["nhi_id"] == nhi_id]
    chosen = await api.findings(as_of=later, category="NHI1", severity=["medium", "high"])
    assert chosen == [f for f in whole if f["category"] == "NHI1" and f["severity"] in ("medium", "high")]


async def test_owner_and_environment_overrides_survive_runs_and_resolve_findings(api: Api) -> None:
    await _demo(api.client, api.admin)
    role = next(n for n in await api.nhis(q="vendor-monitoring") if n["account"] == "111111111111")
    assert "owner.missing" in {f["check_id"] for f in (await api.get(f"/api/v1/nhis/{role['id']}"))["findings"]}

    patched = await api.client.patch(
        f"/api/v1/nhis/{role['id']}",
        headers=api.admin.headers,
        json={"owner": "team-vendors", "environment": "staging"},
    )
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert (body["owner"], body["owner_source"], body["environment"]) == ("team-vendors", "override", "staging")
    statuses = {f["check_id"]: f["status"] for f in body["findings"]}
    assert statuses["owner.missing"] == "resolved"

    await _demo(api.client, api.admin)
    after = await api.get(f"/api/v1/nhis/{role['id']}")
    assert (after["owner"], after["environment"], after["environment_overridden"]) == ("team-vendors", "staging", True)

    cleared = await api.client.patch(f"/api/v1/nhis/{role['id']}", headers=api.admin.headers, json={"owner": None})
    assert cleared.json()["owner"] is None
    assert {f["check_id"]: f["status"] for f in cleared.json()["findings"]}["owner.missing"] == "open"


async def test_blast_radius_follows_assume_chains_to_the_depth_asked(demo_api: Api) -> None:
    api = demo_api
    deploy = next(n for n in await api.nhis(q="github-deploy") if n["account"] == "111111111111")

    shallow = await api.get(f"/api/v1/nhis/{deploy['id']}/graph", depth=1)
    deep = await api.get(f"/api/v1/nhis/{deploy['id']}/graph", depth=2)

    assert {(n["name"], n["depth"]) for n in shallow["nodes"]} == {("github-deploy", 0), ("OrganizationAdmin", 1)}
    secrets = {n["name"] for n in deep["nodes"] if n["kind"] == "managed_secret"}
    assert len(secrets) == 12
    assert all(name.endswith("-prod") for name in secrets)
    assert {n["depth"] for n in deep["nodes"] if n["kind"] == "managed_secret"} == {2}
    assert {"can_assume", "grants_access_to"} <= {e["kind"] for e in deep["edges"]}
    assert deep["owners"][0]["owner"] == "platform"


async def test_csv_export_streams_every_filtered_row(demo_api: Api) -> None:
    api = demo_api
    expected = await api.nhis(provider="aws")

    response = await api.client.get("/api/v1/nhis/export.csv", headers=api.admin.headers, params={"provider": "aws"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["id"] for row in rows] == [n["id"] for n in expected]


async def test_roles_viewers_read_analysts_edit_admins_manage(api: Api, client: httpx.AsyncClient) -> None:
    await _demo(client, api.admin)
    viewer, analyst = await _user(client, api.admin, "viewer"), await _user(client, api.admin, "analyst")
    nhi = (await api.nhis())[0]

    assert (await client.get("/api/v1/nhis", headers=viewer)).status_code == 200
    assert (await client.get("/api/v1/findings", headers=viewer)).status_code == 200
    assert (await client.patch(f"/api/v1/nhis/{nhi['id']}", headers=viewer, json={"owner": "x"})).status_code == 403
    assert (await client.patch(f"/api/v1/nhis/{nhi['id']}", headers=analyst, json={"owner": "x"})).status_code == 200
    create = {"name": "x", "kind": "gcp-export", "config": {"path": "/tmp"}}
    assert (await client.post("/api/v1/connectors", headers=analyst, json=create)).status_code == 403
    connector = (await client.get("/api/v1/connectors", headers=viewer)).json()["items"][0]
    assert (await client.post(f"/api/v1/connectors/{connector['id']}/runs", headers=analyst)).status_code == 403
    assert (await client.delete(f"/api/v1/connectors/{connector['id']}", headers=viewer)).status_code == 403


async def test_every_discovery_route_is_tenant_isolated(
    client: httpx.AsyncClient, new_tenant: TenantFactory, demo_api: Api
) -> None:
    b = await new_tenant()
    await _demo(client, b)
    a_api, b_api = demo_api, Api(client, b)
    connectors = (await a_api.get("/api/v1/connectors"))["items"]
    a_runs = (await a_api.get("/api/v1/runs"))["items"]
    a_nhis, b_nhis = await a_api.nhis(), await b_api.nhis()
    assert {n["id"] for n in a_nhis}.isdisjoint({n["id"] for n in b_nhis})
    a_findings = await a_api.findings()
    assert {f["id"] for f in a_findings}.isdisjoint({f["id"] for f in await b_api.findings()})
    assert (await b_api.get("/api/v1/overview"))["total"] == len(b_nhis)
    exported = (await client.get("/api/v1/nhis/export.csv", headers=b.headers)).text
    assert not any(n["id"] in exported for n in a_nhis[:50])
    assert not {c["id"] for c in connectors} & {c["id"] for c in (await b_api.get("/api/v1/connectors"))["items"]}
    assert not {r["id"] for r in a_runs} & {r["id"] for r in (await b_api.get("/api/v1/runs"))["items"]}
    searched = await b_api.nhis(q=a_nhis[0]["name"])
    assert searched, "B has its own demo identity of that name"
    assert not {n["id"] for n in searched} & {n["id"] for n in a_nhis}
    report = await b_api.findings(as_of="2030-01-01T00:00:00+00:00")
    assert report
    assert not {f["nhi_id"] for f in report} & {n["id"] for n in a_nhis}

    target, connector, run = a_nhis[0]["id"], connectors[0]["id"], a_runs[0]["id"]
    forbidden = [
        ("GET", f"/api/v1/nhis/{target}", None),
        ("PATCH", f"/api/v1/nhis/{target}", {"owner": "intruder"}),
        ("GET", f"/api/v1/nhis/{target}/graph", None),
        ("GET", f"/api/v1/connectors/{connector}", None),
        ("PATCH", f"/api/v1/connectors/{connector}", {"enabled": False}),
        ("POST", f"/api/v1/connectors/{connector}/test", None),
        ("POST", f"/api/v1/connectors/{connector}/runs", None),
        ("GET", f"/api/v1/connectors/{connector}/changes", None),
        ("DELETE", f"/api/v1/connectors/{connector}", None),
        ("GET", f"/api/v1/runs/{run}", None),
    ]
    for method, path, body in forbidden:
        response = await client.request(method, path, headers=b.headers, json=body)
        assert response.status_code == 404, (method, path, response.text)
        assert response.headers["content-type"] == PROBLEM
    assert (await client.get("/api/v1/findings", headers=b.headers, params={"nhi_id": target})).json()["items"] == []
    assert (await client.get("/api/v1/runs", headers=b.headers, params={"connector_id": connector})).json()[
        "items"
    ] == []
    assert (await a_api.get(f"/api/v1/nhis/{target}"))["owner"] != "intruder"
    assert (await a_api.get(f"/api/v1/connectors/{connector}"))["enabled"] is True


async def test_bad_connector_input_is_refused_clearly_and_creates_nothing(api: Api) -> None:
    secret = "wJalrXUtnFEMI-very-secret-value"
    cases = [
        {
            "name": "a",
            "kind": "aws",
            "config": {"region": "not a region"},
            "credentials": {"access_key_id": "AKIA0000000000000000", "secret_access_key": secret},
        },
        {
            "name": "b",
            "kind": "aws",
            "config": {},
            "credentials": {"access_key_id": "lower", "secret_access_key": secret},
        },
        {"name": "c", "kind": "aws", "config": {"unknown": 1}},
        {"name": "d", "kind": "nosuch", "config": {}},
        {"name": "e", "kind": "kubernetes", "config": {"mode": "sideways"}},
        {"name": "f" * 200, "kind": "code", "config": {"paths": ["/tmp"]}},
        {"name": "g", "kind": "code", "config": {"paths": "not-a-list"}},
    ]
    for body in cases:
        response = await api.client.post("/api/v1/connectors", headers=api.admin.headers, json=body)
        assert response.status_code == 422, (body["name"], response.text)
        assert response.headers["content-type"] == PROBLEM
        assert secret not in response.text
    assert (await api.get("/api/v1/connectors"))["items"] == []
    for params in ({"cursor": "!!!"}, {"sort": "bogus"}, {"kind": "spaceship"}, {"risk_min": 500}):
        response = await api.client.get("/api/v1/nhis", headers=api.admin.headers, params=params)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == PROBLEM


async def test_private_and_unreachable_endpoints_fail_the_run_with_a_clear_error(api: Api) -> None:
    credentials = {"access_key_id": "AKIA0000000000000000", "secret_access_key": "x"}
    metadata = await api.create_connector(
        "aws-metadata", "aws", {"endpoint_url": "http://169.254.169.254/latest"}, credentials
    )
    closed = await api.create_connector("aws-closed", "aws", {"endpoint_url": "http://127.0.0.1:9"}, credentials)

    refused = await api.run(metadata["id"])
    unreachable = await api.run(closed["id"])

    assert refused["status"] == "failed"
    assert "private, loopback or link-local" in refused["errors"][0]["message"]
    assert unreachable["status"] == "failed"
    assert all("cannot be reached" in e["message"] for e in unreachable["errors"])
    tested = await api.client.post(f"/api/v1/connectors/{metadata['id']}/test", headers=api.admin.headers)
    assert tested.json()["ok"] is False


async def test_a_filter_postgresql_refuses_is_a_problem_before_the_csv_streams(demo_api: Api) -> None:
    api = demo_api
    response = await api.client.get("/api/v1/nhis/export.csv", headers=api.admin.headers, params={"owner": "\x00"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    # The same filter on the list answers the same way.
    listed = await api.client.get("/api/v1/nhis", headers=api.admin.headers, params={"owner": "\x00"})
    assert listed.status_code == 422
