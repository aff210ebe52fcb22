"""A synthetic but realistic environment for ``nexora demo load`` (deterministic; no I/O).

Three AWS accounts, two Kubernetes clusters, a GitHub organisation, Vault and a few leaked secrets,
with the usual problems: old and unused keys, admin roles, cross-account trust without ExternalId,
GitHub OIDC without ``sub``, shared service accounts and secrets leaked into code.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from pydantic import Field

from nexora.discovery.connectors.base import CollectContext, ConfigModel, ConnectorType
from nexora.discovery.records import Collection, EdgeRecord, NhiRecord

ACCOUNTS = {"prod": "111111111111", "staging": "222222222222", "dev": "333333333333"}
TEAMS = ["payments", "platform", "data", "identity", "growth", None]
SERVICES = ["billing", "checkout", "ledger", "search", "ingest", "reports", "notifier", "auth", "catalog", "etl"]


class DemoConfig(ConfigModel):
    seed: int = 7
    scale: int = Field(default=3, ge=1, le=50)


def _key_id(rng: random.Random) -> str:
    return "AKIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))


def _aws(collection: Collection, rng: random.Random, now: datetime, scale: int) -> list[str]:
    key_ids: list[str] = []
    for environment, account in ACCOUNTS.items():
        admin_arn = f"arn:aws:iam::{account}:role/OrganizationAdmin"
        collection.nhis.append(
            NhiRecord(
                "aws",
                "iam_role",
                admin_arn,
                "OrganizationAdmin",
                account,
                environment,
                "platform",
                "tag",
                created_at=now - timedelta(days=900),
                privilege_level="admin",
                permissions={"admin_sources": ["AdministratorAccess"]},
                attributes={
                    "trust": [
                        {
                            "kind": "account",
                            "principal": f"arn:aws:iam::{account}:root",
                            "account": account,
                            "external_id": False,
                            "sub_condition": False,
                        }
                    ]
                },
            )
        )
        vendor = f"arn:aws:iam::{account}:role/vendor-monitoring"
        collection.nhis.append(
            NhiRecord(
                "aws",
                "iam_role",
                vendor,
                "vendor-monitoring",
                account,
                environment,
                None,
                None,
                created_at=now - timedelta(days=400),
                privilege_level="medium",
                attributes={
                    "trust": [
                        {
                            "kind": "account",
                            "principal": "arn:aws:iam::999988887777:root",
                            "account": "999988887777",
                            "external_id": environment != "prod",
                            "sub_condition": False,
                        }
                    ]
                },
            )
        )
        deploy = f"arn:aws:iam::{account}:role/github-deploy"
        collection.nhis.append(
            NhiRecord(
                "aws",
                "iam_role",
                deploy,
                "github-deploy",
                account,
                environment,
                "platform",
                "tag",
                created_at=now - timedelta(days=200),
                privilege_level="high",
                permissions={"escalation_actions": ["iam:PassRole"], "wildcard_actions": ["ecs:*"]},
                attributes={
                    "trust": [
                        {
                            "kind": "oidc",
                            "principal": "oidc",
                            "provider": "token.actions.githubusercontent.com",
                            "account": None,
                            "external_id": False,
                            "sub_condition": environment == "prod",
                        }
                    ]
                },
            )
        )
        collection.edges.append(EdgeRecord(deploy, admin_arn, "can_assume", {"via": "identity policy"}))
        for index in range(12 * scale):
            service = SERVICES[index % len(SERVICES)]
            name = f"svc-{service}-{environment}-{index}"
            user_arn = f"arn:aws:iam::{account}:user/{name}"
            team = rng.choice(TEAMS)
            level = rng.choices(["low", "medium", "high", "admin"], weights=[5, 8, 3, 1])[0]
            console = rng.random() < 0.12
            keys = rng.choices([0, 1, 2], weights=[1, 6, 2])[0]
            collection.nhis.append(
                NhiRecord(
                    "aws",
                    "iam_user",
                    user_arn,
                    name,
                    account,
                    environment,
                    team,
                    "tag" if team else None,
                    created_at=now - timedelta(days=rng.randint(30, 1200)),
                    privilege_level=level,
                    permissions={"escalation_actions": ["iam:CreateAccessKey"]} if level == "high" else {},
                    attributes={"console_access": console, "active_keys": keys, "mfa": False},
                )
            )
            role_arn = f"arn:aws:iam::{account}:role/{service}-{index}"
            collection.nhis.append(
                NhiRecord(
                    "aws",
                    "iam_role",
                    role_arn,
                    f"{service}-{index}",
                    account,
                    environment,
                    team,
                    "tag" if team else None,
                    created_at=now - timedelta(days=rng.randint(10, 800)),
                    privilege_level=rng.choice(["low", "medium"]),
                    attributes={"trust": [{"kind": "service", "principal": "ecs-tasks.amazonaws.com"}]},
                )
            )
            collection.edges.append(EdgeRecord(user_arn, role_arn, "can_assume", {"via": "identity policy"}))
            if level == "admin":
                collection.edges.append(EdgeRecord(user_arn, admin_arn, "can_assume", {"via": "identity policy"}))
            for _ in range(keys):
                key_id = _key_id(rng)
                key_ids.append(key_id)
                created = now - timedelta(days=rng.choice([5, 40, 120, 400, 700]))
                used = rng.choice([None, created + timedelta(days=1), now - timedelta(days=rng.randint(0, 90))])
                collection.nhis.append(
                    NhiRecord(
                        "aws",
                        "access_key",
                        key_id,
                        f"{name}/{key_id}",
                        account,
                        environment,
                        team,
                        "holder" if team else None,
                        created_at=created,
                        last_rotated_at=created,
                        last_used_at=used if used is None or used <= now else now,
                        privilege_level=level,
                        attributes={"user": name, "usage_tracked": True},
                    )
                )
                collection.edges.append(EdgeRecord(user_arn, key_id, "has_credential"))
        for index in range(4 * scale):
            secret_name = f"{SERVICES[index % len(SERVICES)]}-{index}-db-{environment}"
            arn = f"arn:aws:secretsmanager:us-east-1:{account}:secret:{secret_name}"
            collection.nhis.append(
                NhiRecord(
                    "aws",
                    "managed_secret",
                    arn,
                    secret_name,
                    account,
                    environment,
                    rng.choice(TEAMS),
                    "tag",
                    created_at=now - timedelta(days=rng.randint(20, 500)),
                    privilege_level="none",
                    attributes={"rotation_enabled": rng.random() < 0.5},
                )
            )
            collection.edges.append(EdgeRecord(admin_arn, arn, "grants_access_to", {"action": "GetSecretValue"}))
    return key_ids


def _kubernetes(collection: Collection, rng: random.Random, now: datetime, scale: int) -> None:
    for cluster, environment in (("prod-eu", "prod"), ("dev-us", "dev")):
        for namespace in ("payments", "platform", "data"):
            for index in range(3 * scale):
                sa = f"{cluster}/{namespace}/sa-{index}"
                collection.nhis.append(
                    NhiRecord(
                        "kubernetes",
                        "k8s_service_account",
                        sa,
                        f"{namespace}/sa-{index}",
                        cluster,
                        environment,
                        namespace if index else None,
                        "label" if index else None,
                        created_at=now - timedelta(days=rng.randint(5, 600)),
                        privilege_level="admin" if index == 0 and namespace == "platform" else "low",
                        attributes={"automount_token": index % 2 == 0},
                    )
                )
                for workload in range(1 + (index == 1) * 2):
                    wid = f"{cluster}/{namespace}/deploy/app-{index}-{workload}"
                    collection.nhis.append(
                        NhiRecord(
                            "kubernetes",
                            "workload",
                            wid,
                            f"{namespace}/app-{index}-{workload}",
                            cluster,
                            environment,
                            privilege_level="none",
                        )
                    )
                    collection.edges.append(EdgeRecord(sa, wid, "used_by"))


def _github(collection: Collection, rng: random.Random, now: datetime, scale: int, key_ids: list[str]) -> None:
    org = "acme"
    for index, (app, selection) in enumerate((("renovate", "all"), ("ci-bot", "selected"), ("docs-sync", "all"))):
        collection.nhis.append(
            NhiRecord(
                "github",
                "github_app",
                f"{org}/app/{app}",
                app,
                org,
                "unknown",
                "platform" if index else None,
                "codeowners" if index else None,
                created_at=now - timedelta(days=300),
                permissions={"grants": {"contents": "write", "pull_requests": "write"}},
                attributes={"repository_selection": selection},
            )
        )
    for index in range(8 * scale):
        repo = f"{org}/service-{index}"
        collection.nhis.append(NhiRecord("github", "repository", repo, repo, org, privilege_level="none"))
        collection.nhis.append(
            NhiRecord(
                "github",
                "deploy_key",
                f"{repo}/keys/{index}",
                f"{repo} deploy key",
                org,
                "unknown",
                created_at=now - timedelta(days=rng.randint(10, 900)),
                privilege_level="medium",
                attributes={"read_only": index % 3 != 0, "repository": repo},
            )
        )
        secret = f"{repo}/actions/AWS_ACCESS_KEY_ID"
        collection.nhis.append(
            NhiRecord(
                "github",
                "ci_secret",
                secret,
                f"{repo}: AWS_ACCESS_KEY_ID",
                org,
                "unknown",
                created_at=now - timedelta(days=rng.randint(10, 400)),
                last_rotated_at=now - timedelta(days=rng.randint(10, 400)),
                privilege_level="none",
            )
        )
        collection.edges.append(EdgeRecord(secret, repo, "used_by"))
    if key_ids:
        shared = key_ids[0]
        collection.edges.append(EdgeRecord(shared, f"{org}/service-0", "used_by"))
        collection.edges.append(EdgeRecord(shared, "prod-eu/payments/deploy/app-1-0", "used_by"))
        collection.edges.append(EdgeRecord(shared, "dev-us/payments/deploy/app-1-0", "used_by"))


def _leaks(collection: Collection, rng: random.Random, now: datetime, key_ids: list[str]) -> None:
    for index, key_id in enumerate(key_ids[1:4]):
        leak = f"leak:demo:{index}"
        collection.nhis.append(
            NhiRecord(
                "code",
                "leaked_secret",
                leak,
                f"acme/service-{index}/config/settings.py:{10 + index}",
                "acme/service",
                created_at=now - timedelta(days=rng.randint(1, 30)),
                privilege_level="none",
                attributes={
                    "rule": "aws-access-key-id",
                    "location": f"acme/service-{index}/config/settings.py",
                    "line": 10 + index,
                    "preview": key_id[:4] + "…" + key_id[-4:],
                },
            )
        )
        collection.edges.append(EdgeRecord(key_id, leak, "exposed_in"))
    collection.nhis.append(
        NhiRecord(
            "code",
            "leaked_secret",
            "leak:demo:slack",
            "acme/service-5/.env:3",
            "acme/service",
            created_at=now - timedelta(days=3),
            privilege_level="none",
            attributes={
                "rule": "slack-bot-token",
                "location": "acme/service-5/.env",
                "line": 3,
                "preview": "xoxb…Q2a9",
            },
        )
    )


def _vault(collection: Collection, rng: random.Random, now: datetime) -> None:
    for name, ttl in (("ci", 0), ("billing", 3600), ("etl", 0)):
        collection.nhis.append(
            NhiRecord(
                "vault",
                "vault_approle",
                f"vault/approle/{name}",
                f"approle/{name}",
                "vault",
                "prod",
                None if name == "etl" else "platform",
                None if name == "etl" else "metadata",
                privilege_level="high" if name == "ci" else "low",
                attributes={"secret_id_ttl": ttl},
            )
        )


def collect(config: DemoConfig, credentials: None, context: CollectContext) -> Collection:
    """The whole demo environment as one collection (same input always gives the same records)."""
    rng = random.Random(config.seed)  # noqa: S311 - demo data, not secrets
    now = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    collection = Collection()
    key_ids = _aws(collection, rng, now, config.scale)
    _kubernetes(collection, rng, now, config.scale)
    _github(collection, rng, now, config.scale, key_ids)
    _leaks(collection, rng, now, key_ids)
    _vault(collection, rng, now)
    return collection


def test(config: DemoConfig, credentials: None, context: CollectContext) -> str:
    return "the demo connector needs no connection"


TYPE = ConnectorType(
    kind="demo",
    provider="demo",
    description="A synthetic environment for trying Nexora",
    config_model=DemoConfig,
    credentials_model=None,
    collect=collect,
    test=test,
)
