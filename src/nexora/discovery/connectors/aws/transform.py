"""``transform_*``: raw AWS payloads into Nexora records (pure; unit-tested on recorded payloads)."""

from __future__ import annotations

from typing import Any

from nexora.discovery.connectors.aws.policies import Evaluation, evaluate, trust_statements
from nexora.discovery.records import (
    NEVER,
    Collection,
    EdgeRecord,
    NhiRecord,
    infer_environment,
    infer_owner,
    parse_time,
    tags_of,
)

PROVIDER = "aws"


def _policy_documents(policies: dict[str, dict[str, Any]], attached: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    documents = []
    for item in attached:
        policy = policies.get(item.get("PolicyArn", ""))
        if policy is None:
            continue
        for version in policy.get("PolicyVersionList", []):
            if version.get("IsDefaultVersion"):
                documents.append((item.get("PolicyName", policy.get("Arn", "")), version.get("Document")))
    return documents


def _unlisted_managed(policies: dict[str, dict[str, Any]], attached: list[dict[str, Any]]) -> list[str]:
    return [item.get("PolicyName", "") for item in attached if item.get("PolicyArn", "") not in policies]


def _evaluate_principal(
    inline: list[dict[str, Any]],
    attached: list[dict[str, Any]],
    policies: dict[str, dict[str, Any]],
    extra: list[tuple[str, Any]] | None = None,
    extra_managed: list[str] | None = None,
) -> Evaluation:
    documents = [(p.get("PolicyName", "inline"), p.get("PolicyDocument")) for p in inline]
    documents += _policy_documents(policies, attached)
    documents += extra or []
    return evaluate(documents, _unlisted_managed(policies, attached) + (extra_managed or []))


def _group_policies(
    details: dict[str, Any], policies: dict[str, dict[str, Any]]
) -> dict[str, tuple[list[tuple[str, Any]], list[str]]]:
    groups: dict[str, tuple[list[tuple[str, Any]], list[str]]] = {}
    for group in details.get("GroupDetailList", []):
        inline = [(p.get("PolicyName", "inline"), p.get("PolicyDocument")) for p in group.get("GroupPolicyList", [])]
        attached = group.get("AttachedManagedPolicies", [])
        groups[group["GroupName"]] = (
            inline + _policy_documents(policies, attached),
            _unlisted_managed(policies, attached),
        )
    return groups


def transform(raw: dict[str, Any]) -> Collection:
    """IAM users, access keys, roles (with trust), OIDC providers, instance profiles and secrets."""
    collection = Collection()
    account = str(raw.get("account") or "")
    details = raw.get("details") or {}
    policies = {p["Arn"]: p for p in details.get("Policies", [])}
    groups = _group_policies(details, policies)
    report = {row.get("user"): row for row in raw.get("credential_report") or []}
    evaluations: dict[str, Evaluation] = {}
    roles_by_arn = {role["Arn"]: role for role in details.get("RoleDetailList", [])}

    for user in details.get("UserDetailList", []):
        evaluation = _transform_user(collection, user, account, raw.get("credentials", {}), report, policies, groups)
        evaluations[user["Arn"]] = evaluation

    for role in details.get("RoleDetailList", []):
        evaluations[role["Arn"]] = _transform_role(collection, role, account, policies)
        for trust in trust_statements(role.get("AssumeRolePolicyDocument")):
            principal = trust.get("principal", "")
            if trust["kind"] == "account" and (principal in roles_by_arn or ":user/" in principal):
                collection.edges.append(EdgeRecord(principal, role["Arn"], "can_assume", {"via": "trust policy"}))
            if trust["kind"] == "oidc":
                collection.edges.append(EdgeRecord(role["Arn"], trust["principal"], "trusts", {"kind": "oidc"}))
        for profile in role.get("InstanceProfileList", []):
            collection.nhis.append(
                NhiRecord(
                    provider=PROVIDER,
                    kind="instance_profile",
                    external_id=profile["Arn"],
                    name=profile.get("InstanceProfileName", profile["Arn"]),
                    account=account,
                    created_at=parse_time(profile.get("CreateDate")),
                    privilege_level="none",
                )
            )
            collection.edges.append(EdgeRecord(profile["Arn"], role["Arn"], "can_assume", {"via": "instance profile"}))

    # Identity policies allowing sts:AssumeRole on a named role add can_assume edges.
    for principal_arn, evaluation in evaluations.items():
        for role_arn in roles_by_arn:
            if role_arn != principal_arn and _names_resource(evaluation, "sts:AssumeRole", role_arn):
                collection.edges.append(EdgeRecord(principal_arn, role_arn, "can_assume", {"via": "identity policy"}))

    for provider in raw.get("oidc_providers") or []:
        url = str(provider.get("Url") or provider["Arn"].split(":oidc-provider/")[-1])
        collection.nhis.append(
            NhiRecord(
                provider=PROVIDER,
                kind="oidc_provider",
                external_id=provider["Arn"],
                name=url,
                account=account,
                privilege_level="none",
                attributes={"url": url, "audiences": provider.get("ClientIDList", [])},
            )
        )

    for secret in raw.get("secrets") or []:
        _transform_secret(collection, secret, account, raw.get("region", ""), evaluations)
    return collection


def _names_resource(evaluation: Evaluation, action: str, resource: str) -> bool:
    # Only explicit resources count: "*" would connect every principal to every role.
    for statement in evaluation.statements:
        if statement.not_action or "*" in statement.resources:
            continue
        if resource in statement.resources and evaluation.allows(action, resource):
            return True
    return False


def _transform_user(
    collection: Collection,
    user: dict[str, Any],
    account: str,
    credentials: dict[str, Any],
    report: dict[str, dict[str, str]],
    policies: dict[str, dict[str, Any]],
    groups: dict[str, tuple[list[tuple[str, Any]], list[str]]],
) -> Evaluation:
    name = user["UserName"]
    tags = tags_of(user.get("Tags"))
    extra: list[tuple[str, Any]] = []
    extra_managed: list[str] = []
    for group in user.get("GroupList", []):
        documents, managed = groups.get(group, ([], []))
        extra += documents
        extra_managed += managed
    evaluation = _evaluate_principal(
        user.get("UserPolicyList", []), user.get("AttachedManagedPolicies", []), policies, extra, extra_managed
    )
    found = credentials.get(name, {})
    row = report.get(name, {})
    keys = found.get("keys", [])
    active = [key for key in keys if key.get("Status") == "Active"]
    console = found.get("login_profile") is not None or row.get("password_enabled") == "true"
    password_used = parse_time(row.get("password_last_used"))
    environment = infer_environment(tags, name, user.get("Path"))
    owner = infer_owner(tags)
    key_uses = [parse_time(key.get("LastUsed", {}).get("LastUsedDate")) for key in keys]
    last_used = max([moment for moment in [*key_uses, password_used] if moment is not None], default=None)
    collection.nhis.append(
        NhiRecord(
            provider=PROVIDER,
            kind="iam_user",
            external_id=user["Arn"],
            name=name,
            account=account,
            environment=environment,
            owner=owner,
            owner_source="tag" if owner else None,
            created_at=parse_time(user.get("CreateDate")),
            last_used_at=last_used,
            privilege_level=evaluation.privilege_level,
            permissions=evaluation.summary(),
            attributes={
                "path": user.get("Path", "/"),
                "groups": user.get("GroupList", []),
                "tags": tags,
                "console_access": console,
                "mfa": bool(found.get("mfa")) or row.get("mfa_active") == "true",
                "password_last_used_at": password_used.isoformat() if password_used else None,
                "keys": len(keys),
                "active_keys": len(active),
            },
        )
    )
    for key, used in zip(keys, key_uses, strict=True):
        key_id = key["AccessKeyId"]
        last = key.get("LastUsed", {})
        collection.nhis.append(
            NhiRecord(
                provider=PROVIDER,
                kind="access_key",
                external_id=key_id,
                name=f"{name}/{key_id}",
                account=account,
                environment=environment,
                owner=owner,
                owner_source="holder" if owner else None,
                created_at=parse_time(key.get("CreateDate")),
                last_rotated_at=parse_time(key.get("CreateDate")),
                last_used_at=used,
                privilege_level=evaluation.privilege_level,
                permissions={"inherited_from": user["Arn"]},
                status="active" if key.get("Status") == "Active" else "inactive",
                attributes={
                    "user": name,
                    "usage_tracked": True,
                    "last_used_service": None if last.get("ServiceName") in NEVER else last.get("ServiceName"),
                    "last_used_region": None if last.get("Region") in NEVER else last.get("Region"),
                },
            )
        )
        collection.edges.append(EdgeRecord(user["Arn"], key_id, "has_credential"))
    return evaluation


def _transform_role(
    collection: Collection, role: dict[str, Any], account: str, policies: dict[str, dict[str, Any]]
) -> Evaluation:
    tags = tags_of(role.get("Tags"))
    evaluation = _evaluate_principal(role.get("RolePolicyList", []), role.get("AttachedManagedPolicies", []), policies)
    trust = trust_statements(role.get("AssumeRolePolicyDocument"))
    owner = infer_owner(tags)
    last_used = role.get("RoleLastUsed") or {}
    collection.nhis.append(
        NhiRecord(
            provider=PROVIDER,
            kind="iam_role",
            external_id=role["Arn"],
            name=role["RoleName"],
            account=account,
            environment=infer_environment(tags, role["RoleName"], role.get("Path")),
            owner=owner,
            owner_source="tag" if owner else None,
            created_at=parse_time(role.get("CreateDate")),
            last_used_at=parse_time(last_used.get("LastUsedDate")),
            privilege_level=evaluation.privilege_level,
            permissions=evaluation.summary(),
            attributes={
                "path": role.get("Path", "/"),
                "tags": tags,
                "trust": trust,
                "service_role": bool(trust) and all(t["kind"] == "service" for t in trust),
                "instance_profiles": [p.get("InstanceProfileName") for p in role.get("InstanceProfileList", [])],
            },
        )
    )
    return evaluation


def _transform_secret(
    collection: Collection, secret: dict[str, Any], account: str, region: str, evaluations: dict[str, Evaluation]
) -> None:
    tags = tags_of(secret.get("Tags"))
    owner = infer_owner(tags)
    arn = secret["ARN"]
    rules = secret.get("RotationRules") or {}
    collection.nhis.append(
        NhiRecord(
            provider=PROVIDER,
            kind="managed_secret",
            external_id=arn,
            name=secret.get("Name", arn),
            account=account,
            environment=infer_environment(tags, secret.get("Name")),
            owner=owner,
            owner_source="tag" if owner else None,
            created_at=parse_time(secret.get("CreatedDate")),
            last_rotated_at=parse_time(secret.get("LastRotatedDate")),
            last_used_at=parse_time(secret.get("LastAccessedDate")),
            privilege_level="none",
            attributes={
                "region": region,
                "tags": tags,
                "rotation_enabled": bool(secret.get("RotationEnabled")),
                "rotation_days": rules.get("AutomaticallyAfterDays"),
            },
        )
    )
    for principal_arn, evaluation in evaluations.items():
        if evaluation.allows("secretsmanager:GetSecretValue", arn):
            collection.edges.append(EdgeRecord(principal_arn, arn, "grants_access_to", {"action": "GetSecretValue"}))
