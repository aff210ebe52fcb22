"""Privilege checks: excessive privileges (NHI5) and human use of service identities (NHI10)."""

from __future__ import annotations

from collections.abc import Iterator

from nexora.discovery.posture.model import Context, Issue, Node

PRINCIPAL_KINDS = frozenset(
    {
        "iam_user",
        "iam_role",
        "service_account",
        "k8s_service_account",
        "vault_approle",
        "vault_token",
        "deploy_key",
        "api_token",
        "github_app",
    }
)


def excessive_privilege(node: Node, context: Context) -> Iterator[Issue]:
    if node.kind not in PRINCIPAL_KINDS:
        return
    permissions = node.permissions
    if node.privilege_level == "admin":
        yield Issue(
            "privilege.admin",
            "NHI5",
            "critical",
            "Administrator privileges",
            {"sources": permissions.get("admin_sources", [])},
            "Replace administrator access with a policy granting only the actions this identity uses "
            "(IAM Access Analyzer policy generation helps).",
        )
        return
    wildcard = permissions.get("wildcard_actions", [])
    if wildcard:
        yield Issue(
            "privilege.wildcard",
            "NHI5",
            "high",
            "Wildcard permissions",
            {"actions": wildcard[:20], "wildcard_resources": permissions.get("wildcard_resources", False)},
            "Replace wildcard actions with the specific actions needed, on specific resources.",
        )
    escalation = permissions.get("escalation_actions", [])
    if escalation:
        yield Issue(
            "privilege.escalation",
            "NHI5",
            "high",
            "Can escalate its own privileges",
            {"actions": escalation},
            "Remove privilege-escalation actions (iam:PassRole, iam:CreateAccessKey, iam:Attach*Policy, ...) "
            "or constrain them to specific resources with conditions.",
        )
    if permissions.get("secrets_access"):
        yield Issue(
            "privilege.secrets_access",
            "NHI5",
            "high",
            "Can read secrets",
            {"rules": permissions.get("secrets_rules", [])},
            "Grant read access only to the named secrets the workload needs.",
        )
    if node.kind == "deploy_key" and node.attributes.get("read_only") is False:
        yield Issue(
            "privilege.write_deploy_key",
            "NHI5",
            "medium",
            "Deploy key with write access",
            {"repository": node.attributes.get("repository")},
            "Make the deploy key read-only unless the automation must push.",
        )


def human_use(node: Node, context: Context) -> Iterator[Issue]:
    if node.kind != "iam_user":
        return
    if node.attributes.get("console_access") and int(node.attributes.get("active_keys", 0)) > 0:
        yield Issue(
            "human.console_on_service_identity",
            "NHI10",
            "high",
            "Console password on an identity that also uses access keys",
            {
                "console_access": True,
                "mfa": bool(node.attributes.get("mfa")),
                "password_last_used_at": node.attributes.get("password_last_used_at"),
                "active_keys": node.attributes.get("active_keys"),
            },
            "Split human and machine use: remove the console password from the service identity and give the "
            "person their own SSO login.",
        )


CHECKS = (excessive_privilege, human_use)
