"""The web console in a real browser against a real ``nexora up``: each test runs one scenario from
``web/e2e/`` (screenshots in ``test-results/e2e/``) and then checks its effect through the API."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.e2e.console import Console, ScenarioResult, outcome

Scenarios = dict[str, ScenarioResult]

# The first test's setup builds the console if needed, starts the server and runs every scenario.
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(900)]


@pytest.mark.scenario("sign_in")
def test_sign_in_reload_and_sign_out_end_the_session_on_the_server(console: Console, scenarios: Scenarios) -> None:
    result = outcome(scenarios, "sign_in")

    assert result.facts["refresh_after_sign_out"] == 401
    assert {shot.name for shot in result.screenshots} >= {"sign-in-refused.png", "signed-out.png"}


@pytest.mark.scenario("api_keys")
def test_api_key_is_shown_once_then_revoked(console: Console, scenarios: Scenarios) -> None:
    result = outcome(scenarios, "api_keys")

    with console.sign_in() as api:
        keys = api.get("/api/v1/api-keys", params={"limit": 500}).json()["items"]
    created = [key for key in keys if key["name"] == result.facts["key_name"]]
    assert len(created) == 1
    assert created[0]["prefix"] == result.facts["key_prefix"]
    assert created[0]["revoked_at"] is not None
    assert "key" not in created[0]


@pytest.mark.scenario("session")
def test_refused_access_token_is_renewed_once_and_a_revoked_session_returns_to_sign_in(
    console: Console, scenarios: Scenarios
) -> None:
    result = outcome(scenarios, "session")

    assert result.facts == {"refreshes": 3, "reuse_status": 401}


@pytest.mark.scenario("reload_during_renewal")
def test_a_reload_that_cuts_a_renewal_off_keeps_the_session_and_is_audited(
    console: Console, scenarios: Scenarios
) -> None:
    result = outcome(scenarios, "reload_during_renewal")

    assert result.facts["lost_rotation"] == 200
    assert result.facts["same_successor"] is True
    assert result.facts["refreshes_after_reload"] in (0, 1)  # 0 when the released cut-off request answered first
    deadline = time.monotonic() + 15  # the audit worker writes entries from the bus
    with console.sign_in() as api:
        while True:
            entries = api.get("/api/v1/audit/entries", params={"action": "auth.refresh_replayed", "limit": 50})
            assert entries.status_code == 200, entries.text
            replays = entries.json()["items"]
            if replays or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    assert replays, "the replay is in the audit log"
    assert {entry["outcome"] for entry in replays} == {"success"}


@pytest.mark.scenario("routes")
def test_every_route_deep_links_into_the_shell_with_keyboard_and_theme(console: Console, scenarios: Scenarios) -> None:
    result = outcome(scenarios, "routes")

    assert result.facts["routes"] == 9
    assert any(shot.name == "settings-tenant-light.png" for shot in result.screenshots)


@pytest.mark.scenario("phone")
def test_phone_width_collapses_navigation_and_fits_the_screen(console: Console, scenarios: Scenarios) -> None:
    result = outcome(scenarios, "phone")

    assert result.facts["width"] == 390
    assert {shot.name for shot in result.screenshots} >= {
        "phone-navigation-open.png",
        "phone-settings-users.png",
        "phone-inventory.png",
        "phone-nhi-detail.png",
        "phone-nhi-graph.png",
    }


@pytest.mark.scenario("users")
def test_admin_manages_users_and_roles_limit_what_others_see(console: Console, scenarios: Scenarios) -> None:
    result = outcome(scenarios, "users")

    with console.sign_in() as api:
        users = api.get("/api/v1/users", params={"limit": 500}).json()["items"]
    user = next(user for user in users if user["email"] == result.facts["email"])
    assert user["roles"] == ["analyst", "auditor"]
    assert user["is_active"] is False


@pytest.mark.scenario("tenant")
def test_tenant_settings_refuse_bad_input_and_save_good_values(console: Console, scenarios: Scenarios) -> None:
    result = outcome(scenarios, "tenant")

    with console.sign_in() as api:
        tenant = api.get("/api/v1/tenant").json()
    assert tenant["settings"][result.facts["setting"]] == 30
    assert tenant["name"] == result.facts["name"]


def _all_pages(api: httpx.Client, path: str, params: dict[str, object]) -> list[dict[str, object]]:
    items: list[dict[str, object]] = []
    cursor = None
    while True:
        page = api.get(path, params={**params, "limit": 500, **({"cursor": cursor} if cursor else {})}).json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items


@pytest.mark.scenario("inventory")
def test_inventory_filters_sorts_and_exports_exactly_what_the_api_lists(console: Console, scenarios: Scenarios) -> None:
    result = outcome(scenarios, "inventory")

    filters = {"kind": "access_key", "provider": "aws", "sort": "name"}
    with console.sign_in() as api:
        first_page = api.get("/api/v1/nhis", params={**filters, "limit": 50}).json()
        matching = _all_pages(api, "/api/v1/nhis", filters)
    assert result.facts["first_page"] == [item["name"] for item in first_page["items"]]
    assert result.facts["has_next"] == (first_page["next_cursor"] is not None)
    assert result.facts["csv_rows"] == len(matching)
    assert "inventory-filtered.png" in {shot.name for shot in result.screenshots}


@pytest.mark.scenario("nhi_detail")
def test_identity_detail_graph_and_owner_override_match_the_api(console: Console, scenarios: Scenarios) -> None:
    result = outcome(scenarios, "nhi_detail")

    nhi_id = result.facts["nhi_id"]
    with console.sign_in() as api:
        nhi = api.get(f"/api/v1/nhis/{nhi_id}").json()
        depth_1 = api.get(f"/api/v1/nhis/{nhi_id}/graph", params={"depth": 1}).json()
        depth_3 = api.get(f"/api/v1/nhis/{nhi_id}/graph", params={"depth": 3}).json()
    assert (nhi["owner"], nhi["owner_source"]) == (result.facts["owner"], "override")
    assert result.facts["nodes_depth_1"] == len(depth_1["nodes"])
    assert result.facts["nodes_depth_3"] == len(depth_3["nodes"])
    assert {shot.name for shot in result.screenshots} >= {"nhi-detail.png", "nhi-graph.png"}


@pytest.mark.scenario("findings")
def test_a_finding_opens_with_its_evidence_and_fix(console: Console, scenarios: Scenarios) -> None:
    result = outcome(scenarios, "findings")

    with console.sign_in() as api:
        leaks = _all_pages(api, "/api/v1/findings", {"category": "NHI2", "status": "open"})
    opened = next(finding for finding in leaks if finding["id"] == result.facts["finding_id"])
    assert opened["title"] == result.facts["title"]
    assert opened["recommendation"]


@pytest.mark.scenario("connectors")
def test_invalid_endpoint_is_refused_and_a_failed_connection_test_reads_well(
    console: Console, scenarios: Scenarios
) -> None:
    result = outcome(scenarios, "connectors")

    with console.sign_in() as api:
        connectors = api.get("/api/v1/connectors").json()["items"]
        demo = next(connector for connector in connectors if connector["kind"] == "demo")
        runs = api.get("/api/v1/runs", params={"connector_id": demo["id"]}).json()["items"]
    added = [connector for connector in connectors if connector["name"] == result.facts["name"]]
    assert len(added) == 1, "the invalid endpoint was never sent; the corrected one was added once"
    assert added[0]["config"] == {"region": "us-east-1", "endpoint_url": "http://127.0.0.1:9/"}
    assert added[0]["has_credentials"] is False
    assert "could not connect" in str(result.facts["test_message"])
    assert any(run["trigger"] == "manual" and run["status"] == "succeeded" for run in runs)
    assert {shot.name for shot in result.screenshots} >= {
        "connector-invalid-endpoint.png",
        "connector-test-failed.png",
    }


@pytest.mark.scenario("audit")
def test_audit_log_verifies_in_the_console_and_exports_the_search(console: Console, scenarios: Scenarios) -> None:
    result = outcome(scenarios, "audit")

    with console.sign_in() as api:
        verification = api.get("/api/v1/audit/verify").json()
    assert verification["ok"] is True
    assert verification["heads"] >= 1
    assert int(str(result.facts["exported"])) > 0
    assert "audit-verified.png" in {shot.name for shot in result.screenshots}


@pytest.mark.scenario("alerts")
def test_an_alert_is_triaged_in_the_console_with_its_evidence(console: Console, scenarios: Scenarios) -> None:
    result = outcome(scenarios, "alerts")

    with console.sign_in() as api:
        alert = api.get(f"/api/v1/alerts/{result.facts['alert_id']}").json()
    assert alert["status"] == "acknowledged"
    assert alert["technique_id"] == "T1098.001"
    assert alert["nhi_id"] == result.facts["key_id"]
    assert result.facts["victim"] in str(alert["explanation"])
    assert {"alerts-list.png", "alert-detail.png", "nhi-activity.png"} <= {shot.name for shot in result.screenshots}
