"""The AWS scenario: a moto account populated through boto3 with every condition the checks look for."""

from __future__ import annotations

import json
from typing import Any

from tests.fixtures.moto import ACCOUNT, MotoServer

GITHUB_OIDC = "token.actions.githubusercontent.com"


def _trust(principal: dict[str, Any], action: str = "sts:AssumeRole", condition: dict | None = None) -> str:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": action}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _tags(**values: str) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in values.items()]


def populate(moto: MotoServer) -> dict[str, Any]:
    """Create the scenario; returns the ids the tests refer to (key ids, ARNs)."""
    iam = moto.client("iam")
    ids: dict[str, Any] = {}

    iam.create_user(UserName="ci-deployer", Tags=_tags(owner="team-platform", env="prod"))
    iam.put_user_policy(
        UserName="ci-deployer",
        PolicyName="artifacts",
        PolicyDocument=_policy(
            {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "arn:aws:s3:::artifacts/*"}
        ),
    )
    ids["ci_keys"] = [iam.create_access_key(UserName="ci-deployer")["AccessKey"]["AccessKeyId"] for _ in range(2)]

    iam.create_user(UserName="legacy-batch", Tags=_tags(owner="team-data"))
    ids["legacy_key"] = iam.create_access_key(UserName="legacy-batch")["AccessKey"]["AccessKeyId"]

    iam.create_user(UserName="report-runner")
    ids["report_key"] = iam.create_access_key(UserName="report-runner")["AccessKey"]["AccessKeyId"]

    iam.create_user(UserName="alice-svc", Tags=_tags(owner="team-payments"))
    iam.create_login_profile(UserName="alice-svc", Password="Console-Passw0rd!")
    ids["alice_key"] = iam.create_access_key(UserName="alice-svc")["AccessKey"]["AccessKeyId"]

    iam.create_user(UserName="escalator", Tags=_tags(owner="team-identity"))
    iam.put_user_policy(
        UserName="escalator",
        PolicyName="self-service",
        PolicyDocument=_policy(
            {"Effect": "Allow", "Action": ["iam:PassRole", "iam:CreateAccessKey"], "Resource": "*"},
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{ACCOUNT}:role/admin-role"},
        ),
    )

    iam.create_user(UserName="to-be-deleted", Tags=_tags(owner="team-gone"))

    admin = iam.create_policy(
        PolicyName="FullAdmin", PolicyDocument=_policy({"Effect": "Allow", "Action": "*", "Resource": "*"})
    )
    iam.create_role(
        RoleName="admin-role",
        AssumeRolePolicyDocument=_trust({"Service": "ec2.amazonaws.com"}),
        Tags=_tags(owner="team-platform"),
    )
    iam.attach_role_policy(RoleName="admin-role", PolicyArn=admin["Policy"]["Arn"])

    iam.create_role(
        RoleName="partner-access",
        AssumeRolePolicyDocument=_trust({"AWS": "arn:aws:iam::999999999999:root"}),
        Tags=_tags(owner="team-partners"),
    )
    iam.put_role_policy(
        RoleName="partner-access",
        PolicyName="read-reports",
        PolicyDocument=_policy({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::reports/*"}),
    )

    provider = iam.create_open_id_connect_provider(
        Url=f"https://{GITHUB_OIDC}", ClientIDList=["sts.amazonaws.com"], ThumbprintList=["a" * 40]
    )
    federated = {"Federated": provider["OpenIDConnectProviderArn"]}
    audience = {"StringEquals": {f"{GITHUB_OIDC}:aud": "sts.amazonaws.com"}}
    iam.create_role(
        RoleName="gha-deploy",
        AssumeRolePolicyDocument=_trust(federated, "sts:AssumeRoleWithWebIdentity", audience),
        Tags=_tags(owner="team-platform"),
    )
    scoped = {**audience, "StringLike": {f"{GITHUB_OIDC}:sub": "repo:acme/app:ref:refs/heads/main"}}
    iam.create_role(
        RoleName="gha-scoped",
        AssumeRolePolicyDocument=_trust(federated, "sts:AssumeRoleWithWebIdentity", scoped),
        Tags=_tags(owner="team-platform"),
    )
    iam.create_role(RoleName="lambda-exec", AssumeRolePolicyDocument=_trust({"Service": "lambda.amazonaws.com"}))

    secrets = moto.client("secretsmanager")
    created = secrets.create_secret(
        Name="prod/db-password", SecretString="s3cr3t-db-password-value", Tags=_tags(owner="team-payments")
    )
    ids["secret_arn"] = created["ARN"]
    ids["oidc_arn"] = provider["OpenIDConnectProviderArn"]
    return ids


def expected_now(ids: dict[str, Any]) -> set[tuple[str, str]]:
    """Exactly the findings the scenario must raise when evaluated now."""
    ci1, ci2 = ids["ci_keys"]
    return {
        ("ci-deployer", "rotation.multiple_active_keys"),
        (f"ci-deployer/{ci1}", "credential.static_long_lived"),
        (f"ci-deployer/{ci2}", "credential.static_long_lived"),
        (f"legacy-batch/{ids['legacy_key']}", "credential.static_long_lived"),
        ("report-runner", "owner.missing"),
        (f"report-runner/{ids['report_key']}", "credential.static_long_lived"),
        ("alice-svc", "human.console_on_service_identity"),
        (f"alice-svc/{ids['alice_key']}", "credential.static_long_lived"),
        ("escalator", "privilege.escalation"),
        ("admin-role", "privilege.admin"),
        ("partner-access", "trust.cross_account_without_external_id"),
        ("gha-deploy", "trust.oidc_without_sub"),
        ("lambda-exec", "owner.missing"),
        ("prod/db-password", "rotation.disabled"),
    }
