"""Trust checks: third-party and cross-account trust (NHI3), insecure deployment settings (NHI6)."""

from __future__ import annotations

from collections.abc import Iterator

from nexora.discovery.posture.model import Context, Issue, Node

BROAD_APP_PERMISSIONS = frozenset(
    {"administration", "contents", "workflows", "secrets", "members", "organization_administration"}
)


def cross_account_trust(node: Node, context: Context) -> Iterator[Issue]:
    for statement in node.attributes.get("trust", []):
        kind = statement.get("kind")
        if kind == "any":
            yield Issue(
                "trust.public",
                "NHI3",
                "critical",
                "Anyone can assume this role (Principal '*')",
                {"principal": statement.get("principal"), "conditions": statement.get("conditions", [])},
                "Restrict the trust policy to named accounts or roles, and require sts:ExternalId for third parties.",
            )
        elif kind == "account" and statement.get("account") not in (None, node.account):
            if not statement.get("external_id"):
                yield Issue(
                    "trust.cross_account_without_external_id",
                    "NHI3",
                    "high",
                    f"Trusted by account {statement.get('account')} without an ExternalId",
                    {"principal": statement.get("principal"), "account": statement.get("account")},
                    "Add a Condition on sts:ExternalId with a value agreed with the third party "
                    "(confused-deputy protection), or remove the trust.",
                )


def third_party_app(node: Node, context: Context) -> Iterator[Issue]:
    if node.kind not in ("github_app", "oauth_app"):
        return
    permissions = node.permissions.get("grants", {})
    broad = sorted(
        name for name, level in permissions.items() if name in BROAD_APP_PERMISSIONS and level in ("write", "admin")
    )
    all_repositories = node.attributes.get("repository_selection") == "all"
    if broad and all_repositories:
        yield Issue(
            "third_party.broad_access",
            "NHI3",
            "high",
            "Third-party app with write access to every repository",
            {"permissions": broad, "repository_selection": "all"},
            "Limit the installation to the repositories it needs and drop write permissions it does not use.",
        )


def oidc_without_subject(node: Node, context: Context) -> Iterator[Issue]:
    for statement in node.attributes.get("trust", []):
        if statement.get("kind") == "oidc" and not statement.get("sub_condition"):
            yield Issue(
                "trust.oidc_without_sub",
                "NHI6",
                "critical",
                f"OIDC trust of {statement.get('provider')} without a 'sub' condition",
                {"provider": statement.get("provider"), "conditions": statement.get("conditions", [])},
                "Add a condition on the token's 'sub' claim (e.g. repo:ORG/REPO:ref:refs/heads/main) so only "
                "your own pipelines can assume the role.",
            )


def automounted_token(node: Node, context: Context) -> Iterator[Issue]:
    if node.kind == "k8s_service_account" and node.attributes.get("automount_token") and node.used_by:
        yield Issue(
            "k8s.automounted_token",
            "NHI6",
            "medium",
            "Service-account token automounted into pods",
            {"workloads": sorted(n.name for n in node.used_by)},
            "Set automountServiceAccountToken: false on the service account or the pods that do not call the API.",
        )


def insecure_webhook(node: Node, context: Context) -> Iterator[Issue]:
    if node.kind != "webhook":
        return
    if not node.attributes.get("has_secret") or node.attributes.get("insecure_ssl"):
        yield Issue(
            "deployment.insecure_webhook",
            "NHI6",
            "medium",
            "Webhook without a signing secret or with TLS verification off",
            {"has_secret": node.attributes.get("has_secret"), "insecure_ssl": node.attributes.get("insecure_ssl")},
            "Configure a webhook secret and keep TLS verification on.",
        )


CHECKS = (cross_account_trust, third_party_app, oidc_without_subject, automounted_token, insecure_webhook)
