"""The AWS connector against a real moto_server: inventory, exact findings, fixes, removals, partial runs."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest

from tests.discovery.aws_scenario import expected_now, populate
from tests.discovery.fault_proxy import FaultProxy
from tests.discovery.fixtures import Api, finding_pairs
from tests.fixtures.app import TenantFactory
from tests.fixtures.moto import ACCOUNT, MotoServer

CREDENTIALS = {"access_key_id": "AKIAMOTOADMIN0000000", "secret_access_key": "moto-admin-secret"}


async def _aws_connector(api: Api, endpoint: str, name: str = "aws-main") -> dict:
    return await api.create_connector(name, "aws", {"region": "us-east-1", "endpoint_url": endpoint}, CREDENTIALS)


@dataclass
class Scenario:
    api: Api
    ids: dict[str, Any]
    run: dict[str, Any]


@pytest.fixture(scope="module")
async def scenario(moto_server: MotoServer, client: httpx.AsyncClient, new_tenant: TenantFactory) -> Scenario:
    """The scenario in moto, inventoried once by a fresh tenant, for the tests that only read the result."""
    moto_server.reset()
    ids = populate(moto_server)
    api = Api(client, await new_tenant())
    connector = await _aws_connector(api, moto_server.url)
    return Scenario(api, ids, await api.run(connector["id"]))


async def test_every_nhi_is_inventoried_with_its_attributes(scenario: Scenario) -> None:
    api, ids, run = scenario.api, scenario.ids, scenario.run

    assert run["status"] == "succeeded", run["errors"]
    assert run["is_baseline"] is True
    nhis = {(n["kind"], n["name"]): n for n in await api.nhis()}
    users = {name for kind, name in nhis if kind == "iam_user"}
    assert users == {"ci-deployer", "legacy-batch", "report-runner", "alice-svc", "escalator", "to-be-deleted"}
    roles = {name for kind, name in nhis if kind == "iam_role"}
    assert roles == {"admin-role", "partner-access", "gha-deploy", "gha-scoped", "lambda-exec"}
    keys = {n["external_id"] for n in nhis.values() if n["kind"] == "access_key"}
    assert keys == {*ids["ci_keys"], ids["legacy_key"], ids["report_key"], ids["alice_key"]}
    assert {name for kind, name in nhis if kind == "managed_secret"} == {"prod/db-password"}
    assert {name for kind, name in nhis if kind == "oidc_provider"} == {"token.actions.githubusercontent.com"}

    deployer = nhis[("iam_user", "ci-deployer")]
    assert deployer["account"] == ACCOUNT
    assert deployer["owner"] == "team-platform"
    assert deployer["owner_source"] == "tag"
    assert deployer["environment"] == "prod"
    assert deployer["privilege_level"] == "medium"
    assert nhis[("iam_role", "admin-role")]["privilege_level"] == "admin"
    assert nhis[("iam_user", "escalator")]["privilege_level"] == "high"
    assert nhis[("iam_user", "report-runner")]["owner"] is None

    detail = await api.get(f"/api/v1/nhis/{deployer['id']}")
    assert detail["attributes"]["active_keys"] == 2
    assert detail["attributes"]["console_access"] is False
    alice = await api.get(f"/api/v1/nhis/{nhis[('iam_user', 'alice-svc')]['id']}")
    assert alice["attributes"]["console_access"] is True
    escalator = await api.get(f"/api/v1/nhis/{nhis[('iam_user', 'escalator')]['id']}")
    assert escalator["permissions"]["escalation_actions"] == ["iam:CreateAccessKey", "iam:PassRole", "sts:AssumeRole"]
    key = nhis[("access_key", f"ci-deployer/{ids['ci_keys'][0]}")]
    assert key["created_at"] is not None
    assert key["last_used_at"] is None
    assert key["owner"] == "team-platform"
    assert key["status"] == "active"
    gha = await api.get(f"/api/v1/nhis/{nhis[('iam_role', 'gha-deploy')]['id']}")
    assert gha["attributes"]["trust"][0]["kind"] == "oidc"
    assert gha["attributes"]["trust"][0]["sub_condition"] is False
    secret = await api.get(f"/api/v1/nhis/{nhis[('managed_secret', 'prod/db-password')]['id']}")
    assert secret["attributes"]["rotation_enabled"] is False


async def test_exactly_the_expected_findings_appear_now_and_later(scenario: Scenario) -> None:
    api, ids = scenario.api, scenario.ids

    stored = await api.findings()

    assert finding_pairs(stored) == expected_now(ids)
    assert {f["category"] for f in stored} == {"NHI1", "NHI3", "NHI4", "NHI5", "NHI6", "NHI7", "NHI10"}
    assert all(f["recommendation"] and f["severity"] in ("critical", "high", "medium", "low") for f in stored)

    later = (datetime.now(UTC) + timedelta(days=100)).isoformat()
    projected = finding_pairs(await api.findings(as_of=later))
    active_keys = [
        f"ci-deployer/{ids['ci_keys'][0]}",
        f"ci-deployer/{ids['ci_keys'][1]}",
        f"legacy-batch/{ids['legacy_key']}",
        f"report-runner/{ids['report_key']}",
        f"alice-svc/{ids['alice_key']}",
    ]
    aged = {(key, check) for key in active_keys for check in ("usage.stale", "rotation.key_age")}
    assert projected == expected_now(ids) | aged | {("prod/db-password", "rotation.key_age")}
    assert finding_pairs(await api.findings()) == expected_now(ids), "a what-if report must store nothing"


async def test_fixing_conditions_resolves_findings_and_deleting_removes(api: Api, moto: MotoServer) -> None:
    ids = populate(moto)
    connector = await _aws_connector(api, moto.url)
    await api.run(connector["id"])
    iam = moto.client("iam")
    iam.delete_access_key(UserName="ci-deployer", AccessKeyId=ids["ci_keys"][1])
    iam.update_assume_role_policy(
        RoleName="partner-access",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
                        "Action": "sts:AssumeRole",
                        "Condition": {"StringEquals": {"sts:ExternalId": "agreed-value"}},
                    }
                ],
            }
        ),
    )
    iam.delete_user(UserName="to-be-deleted")

    run = await api.run(connector["id"])

    assert run["status"] == "succeeded"
    assert run["counts"]["removed"] == 2
    fixed = {
        ("ci-deployer", "rotation.multiple_active_keys"),
        (f"ci-deployer/{ids['ci_keys'][1]}", "credential.static_long_lived"),
        ("partner-access", "trust.cross_account_without_external_id"),
    }
    assert finding_pairs(await api.findings()) == expected_now(ids) - fixed
    assert fixed <= finding_pairs(await api.findings(status="resolved"))
    names = {n["name"] for n in await api.nhis()}
    assert "to-be-deleted" not in names
    assert f"ci-deployer/{ids['ci_keys'][1]}" not in names
    changes = (await api.get(f"/api/v1/connectors/{connector['id']}/changes"))["items"]
    assert {(c["name"], c["change"]) for c in changes} >= {
        ("to-be-deleted", "removed"),
        (f"ci-deployer/{ids['ci_keys'][1]}", "removed"),
        ("partner-access", "changed"),
    }


async def test_a_denied_api_makes_the_run_partial_and_removes_nothing(api: Api, moto: MotoServer) -> None:
    populate(moto)
    with FaultProxy(moto.url) as proxy:
        connector = await _aws_connector(api, proxy.url)
        await api.run(connector["id"])
        before = {n["id"] for n in await api.nhis()}
        iam = moto.client("iam")
        iam.delete_user(UserName="to-be-deleted")
        proxy.denied.add("ListSecrets")

        run = await api.run(connector["id"])

    assert run["status"] == "partial"
    assert [e["scope"] for e in run["errors"]] == ["secretsmanager:ListSecrets"]
    assert "AccessDenied" in run["errors"][0]["message"]
    assert run["counts"].get("removed", 0) == 0
    assert {n["id"] for n in await api.nhis()} == before


async def test_throttling_is_retried_with_backoff_until_it_succeeds(api: Api, moto: MotoServer) -> None:
    populate(moto)
    with FaultProxy(moto.url) as proxy:
        proxy.throttled["GetAccountAuthorizationDetails"] = 2
        proxy.throttled["ListSecrets"] = 1
        connector = await _aws_connector(api, proxy.url)

        run = await api.run(connector["id"])

        assert proxy.seen["GetAccountAuthorizationDetails"] == 3
        assert proxy.seen["ListSecrets"] == 2
    assert run["status"] == "succeeded", run["errors"]
    assert run["counts"]["discovered"] > 10


async def test_endless_throttling_is_a_clear_run_error_not_an_empty_inventory(api: Api, moto: MotoServer) -> None:
    populate(moto)
    with FaultProxy(moto.url) as proxy:
        proxy.throttled["GetAccountAuthorizationDetails"] = 1000
        connector = await _aws_connector(api, proxy.url)

        run = await api.run(connector["id"])

    assert run["status"] == "partial"
    assert {e["scope"] for e in run["errors"]} == {"iam:GetAccountAuthorizationDetails"}
    assert "kept throttling" in run["errors"][0]["message"]


async def test_connector_credentials_are_encrypted_and_never_returned(api: Api, moto: MotoServer, database) -> None:
    connector = await _aws_connector(api, moto.url)

    listed = await api.get("/api/v1/connectors")
    shown = await api.get(f"/api/v1/connectors/{connector['id']}")

    assert shown["has_credentials"] is True
    for body in (json.dumps(listed), json.dumps(shown), json.dumps(connector)):
        assert CREDENTIALS["secret_access_key"] not in body
    with psycopg.connect(database.superuser_url) as connection:
        stored = connection.execute(
            "SELECT credentials, config::text FROM discovery.connector WHERE id = %s", (connector["id"],)
        ).fetchone()
        outbox = connection.execute("SELECT string_agg(envelope::text, '') FROM core.outbox").fetchone()[0]
    assert CREDENTIALS["secret_access_key"] not in stored[0]
    assert CREDENTIALS["secret_access_key"] not in stored[1]
    assert CREDENTIALS["secret_access_key"] not in outbox
    tested = await api.client.post(f"/api/v1/connectors/{connector['id']}/test", headers=api.admin.headers)
    assert tested.json() == {"ok": True, "message": f"connected to AWS account {ACCOUNT}"}
