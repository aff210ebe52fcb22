"""Kubernetes, GitHub and Vault against local peers serving recorded API responses; cloud export parsers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import psycopg
import yaml

from tests.discovery.fixtures import Api, finding_pairs
from tests.discovery.recorded_api import DATA, RecordedApi, recorded

AS_OF = "2026-12-01T00:00:00+00:00"


def _kubeconfig(url: str) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "prod-eu", "cluster": {"server": url}}],
            "users": [{"name": "reader", "user": {"token": "kube-reader-token-value"}}],
            "contexts": [{"name": "prod-eu", "context": {"cluster": "prod-eu", "user": "reader"}}],
            "current-context": "prod-eu",
        }
    )


K8S_EXPECTED = {
    ("payments/payments-api", "privilege.secrets_access"),
    ("payments/payments-api", "reuse.shared_identity"),
    ("payments/payments-api", "k8s.automounted_token"),
    ("build/ci-runner", "privilege.admin"),
    ("build/ci-runner", "k8s.automounted_token"),
    ("payments/default", "owner.missing"),
    ("payments/reporter", "owner.missing"),
    ("build/ci-runner-token", "rotation.no_expiry"),
}


async def test_kubernetes_live_inventory_through_a_kubeconfig(api: Api, database) -> None:
    with RecordedApi(recorded("kubernetes.json")) as server:
        connector = await api.create_connector(
            "k8s-prod", "kubernetes", {"mode": "live", "cluster": "prod-eu"}, {"kubeconfig": _kubeconfig(server.url)}
        )
        run = await api.run(connector["id"])
        assert server.headers_seen[0]["authorization"] == "Bearer kube-reader-token-value"

    assert run["status"] == "succeeded", run["errors"]
    nhis = {(n["kind"], n["name"]): n for n in await api.nhis()}
    accounts = {name for kind, name in nhis if kind == "k8s_service_account"}
    assert accounts == {"payments/payments-api", "build/ci-runner", "payments/default", "payments/reporter"}
    assert {name for kind, name in nhis if kind == "k8s_secret"} == {"build/ci-runner-token"}
    workloads = {name for kind, name in nhis if kind == "workload"}
    assert workloads == {
        "payments/payments-api",
        "payments/reporting",
        "payments/ledger",
        "payments/debug-shell",
        "build/nightly-build",
    }
    assert nhis[("k8s_service_account", "build/ci-runner")]["privilege_level"] == "admin"
    assert nhis[("k8s_service_account", "payments/payments-api")]["owner"] == "payments"
    assert nhis[("k8s_service_account", "payments/payments-api")]["environment"] == "prod"
    assert finding_pairs(await api.findings()) == K8S_EXPECTED
    with psycopg.connect(database.superuser_url) as connection:
        dump = connection.execute("SELECT string_agg(t::text, '') FROM discovery.nhi t").fetchone()[0]
    assert "ZXlKaGJH" not in dump, "secret values must never be stored"
    assert "c3VwZXIt" not in dump, "secret values must never be stored"


async def test_kubernetes_offline_manifests_feed_the_same_transform(api: Api) -> None:
    connector = await api.create_connector(
        "k8s-offline", "kubernetes", {"mode": "offline", "cluster": "prod-eu", "path": str(DATA / "k8s-manifests")}
    )

    run = await api.run(connector["id"])

    assert run["status"] == "succeeded", run["errors"]
    nhis = {(n["kind"], n["name"]) for n in await api.nhis()}
    assert {("k8s_service_account", "payments/payments-api"), ("k8s_service_account", "build/ci-runner")} <= nhis
    assert ("k8s_secret", "build/ci-runner-token") in nhis
    admin = [n for n in await api.nhis(kind="k8s_service_account") if n["name"] == "build/ci-runner"]
    assert admin[0]["privilege_level"] == "admin"


async def test_malformed_manifests_are_run_errors_and_nothing_is_removed(api: Api, tmp_path: Path) -> None:
    shutil.copytree(DATA / "k8s-manifests", tmp_path / "manifests")
    connector = await api.create_connector(
        "k8s-bad", "kubernetes", {"mode": "offline", "cluster": "prod-eu", "path": str(tmp_path / "manifests")}
    )
    await api.run(connector["id"])
    before = {n["id"] for n in await api.nhis()}
    (tmp_path / "manifests" / "service-accounts.yaml").write_text("kind: ServiceAccount\nmetadata: [unclosed\n")
    (tmp_path / "manifests" / "odd.yaml").write_text("just: a mapping\n")

    run = await api.run(connector["id"])

    assert run["status"] == "partial"
    messages = {Path(e["scope"]).name: e["message"] for e in run["errors"]}
    assert messages["service-accounts.yaml"].startswith("not valid YAML")
    assert "not a Kubernetes object" in messages["odd.yaml"]
    assert {n["id"] for n in await api.nhis()} == before


GITHUB_EXPECTED = {
    ("renovate", "third_party.broad_access"),
    ("renovate", "owner.missing"),
    ("docs-bot", "owner.missing"),
    ("fine-grained PAT of octo-dev", "rotation.no_expiry"),
    ("fine-grained PAT of octo-dev", "rotation.key_age"),
    ("Legacy CI (octo-dev)", "usage.stale"),
    ("webhook to ci.example.com", "deployment.insecure_webhook"),
    ("acme: NPM_TOKEN", "rotation.key_age"),
    ("acme: NPM_TOKEN", "reuse.shared_identity"),
    ("acme: NPM_TOKEN", "environment.shared"),
    ("acme: PROD_DEPLOY_KEY", "rotation.key_age"),
    ("acme/payments-prod: deploy-prod", "privilege.write_deploy_key"),
    ("acme/payments-prod: AWS_SECRET_ACCESS_KEY", "rotation.key_age"),
}


async def test_github_org_inventory_with_pagination_and_throttling(api: Api, database) -> None:
    with RecordedApi(recorded("github.json")) as server:
        server.throttle["GET /orgs/acme/repos"] = 2
        connector = await api.create_connector(
            "github-acme", "github", {"org": "acme", "base_url": server.url}, {"token": "ghp_recordedtesttoken0000"}
        )
        run = await api.run(connector["id"])
        assert server.seen["GET /orgs/acme/repos"] == 3
        assert server.headers_seen[0]["authorization"] == "Bearer ghp_recordedtesttoken0000"

    assert run["status"] == "succeeded", run["errors"]
    nhis = {(n["kind"], n["name"]): n for n in await api.nhis()}
    assert {name for kind, name in nhis if kind == "github_app"} == {"renovate", "docs-bot"}
    assert nhis[("deploy_key", "acme/payments-prod: deploy-prod")]["owner"] == "@acme/payments-team"
    assert nhis[("deploy_key", "acme/payments-prod: deploy-prod")]["owner_source"] == "codeowners"
    assert ("oauth_app", "Legacy CI (octo-dev)") in nhis
    assert finding_pairs(await api.findings(as_of=AS_OF)) == GITHUB_EXPECTED
    with psycopg.connect(database.superuser_url) as connection:
        dump = connection.execute("SELECT string_agg(t::text, '') FROM discovery.nhi t").fetchone()[0]
    assert "should-not-be-stored" not in dump
    assert "abcd1234" not in dump


async def test_unreachable_github_is_a_failed_run_with_a_clear_error(api: Api) -> None:
    with RecordedApi({}) as server:
        url = server.url
    connector = await api.create_connector("github-down", "github", {"org": "acme", "base_url": url}, {"token": "t"})

    run = await api.run(connector["id"])

    assert run["status"] == "failed"
    assert run["errors"]
    assert all("cannot be reached" in e["message"] for e in run["errors"])
    assert await api.nhis(connector_id=connector["id"]) == []


async def test_vault_approles_token_roles_and_policies(api: Api) -> None:
    with RecordedApi(recorded("vault.json")) as server:
        connector = await api.create_connector(
            "vault-prod", "vault", {"url": server.url, "environment": "prod"}, {"token": "hvs.recorded-test-token"}
        )
        run = await api.run(connector["id"])
        assert server.headers_seen[0].get("x-vault-token") == "hvs.recorded-test-token"

    assert run["status"] == "succeeded", run["errors"]
    nhis = {(n["kind"], n["name"]): n for n in await api.nhis()}
    assert {name for kind, name in nhis if kind == "vault_approle"} == {"approle/ci", "approle/billing"}
    detail = await api.get(f"/api/v1/nhis/{nhis[('vault_approle', 'approle/ci')]['id']}")
    assert detail["attributes"]["secret_id_ttl"] == 0
    assert finding_pairs(await api.findings()) == {
        ("approle/ci", "privilege.wildcard"),
        ("approle/ci", "privilege.escalation"),
        ("approle/ci", "rotation.no_expiry"),
        ("approle/ci", "owner.missing"),
        ("token role ops", "privilege.admin"),
        ("token role ops", "rotation.no_expiry"),
    }


async def test_gcp_exports_are_parsed_into_accounts_keys_and_roles(api: Api) -> None:
    connector = await api.create_connector("gcp-shop", "gcp-export", {"path": str(DATA / "gcp")})

    run = await api.run(connector["id"])

    assert run["status"] == "succeeded", run["errors"]
    key = "deployer@shop-prod.iam.gserviceaccount.com/0123456789ab"
    assert finding_pairs(await api.findings(as_of=AS_OF)) == {
        ("deployer", "privilege.admin"),
        ("legacy", "privilege.escalation"),
        ("legacy", "owner.missing"),
        (key, "credential.static_long_lived"),
        (key, "rotation.key_age"),
        (key, "rotation.no_expiry"),
    }
    nhis = {n["name"]: n for n in await api.nhis()}
    assert nhis["deployer"]["owner"] == "team-platform"
    assert nhis["deployer"]["environment"] == "prod"
    assert nhis[key]["expires_at"] is None


async def test_azure_exports_never_keep_secret_hints(api: Api, database) -> None:
    connector = await api.create_connector("azure", "azure-export", {"path": str(DATA / "azure")})

    run = await api.run(connector["id"])

    assert run["status"] == "succeeded", run["errors"]
    assert finding_pairs(await api.findings(as_of=AS_OF)) == {
        ("billing-prod-sp: ci", "rotation.key_age"),
        ("billing-prod-sp", "rotation.multiple_active_keys"),
    }
    with psycopg.connect(database.superuser_url) as connection:
        dump = connection.execute("SELECT string_agg(t::text, '') FROM discovery.nhi t").fetchone()[0]
    assert '"Xy9"' not in dump


async def test_malformed_exports_give_clear_errors_not_an_empty_inventory(api: Api, tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text('[{"email": "a@b", ')
    (tmp_path / "other.json").write_text(json.dumps({"something": "else"}))
    connector = await api.create_connector("gcp-bad", "gcp-export", {"path": str(tmp_path)})

    run = await api.run(connector["id"])

    assert run["status"] == "failed"
    messages = {Path(e["scope"]).name: e["message"] for e in run["errors"]}
    assert messages == {
        "broken.json": "not valid JSON near line 1",
        "other.json": "not a recognised gcloud export (service accounts, keys or IAM policy)",
    }
    missing = await api.create_connector("gcp-missing", "gcp-export", {"path": str(tmp_path / "nope")})
    run = await api.run(missing["id"])
    assert run["status"] == "failed"
    assert "does not exist" in run["errors"][0]["message"]
