"""Lifecycle checks: ownership and staleness (NHI1), static long-lived credentials (NHI4), rotation (NHI7)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from nexora.discovery.posture.model import Context, Issue, Node, iso

# Identities a person must answer for; credentials inherit the owner of the identity holding them.
OWNED_KINDS = frozenset(
    {"iam_user", "iam_role", "service_account", "k8s_service_account", "github_app", "oauth_app", "vault_approle"}
)
# Credentials whose age means "not rotated".
ROTATED_KINDS = frozenset({"access_key", "service_account_key", "api_token", "ci_secret", "managed_secret"})
# Static secrets that could be replaced by federation (IAM roles, OIDC, workload identity).
FEDERATABLE_KINDS = frozenset({"access_key", "service_account_key"})
EXPIRING_KINDS = frozenset(
    {"api_token", "vault_token", "vault_approle", "k8s_secret", "service_account_key", "certificate"}
)


def owner_missing(node: Node, context: Context) -> Iterator[Issue]:
    if node.kind in OWNED_KINDS and not node.owner:
        yield Issue(
            "owner.missing",
            "NHI1",
            "medium",
            "No owner: nobody is accountable for this identity",
            {"owner": None, "kind": node.kind},
            "Tag the identity with an owner (owner/team tag, CODEOWNERS) or set one in Nexora; "
            "decommission it if nobody claims it.",
        )


def unused(node: Node, context: Context) -> Iterator[Issue]:
    if not node.attributes.get("usage_tracked") or node.status != "active":
        return
    limit = context.thresholds.unused_days
    last = node.last_used_at
    idle = context.days_since(last if last is not None else node.created_at)
    if idle is not None and idle >= limit:
        yield Issue(
            "usage.stale",
            "NHI1",
            "medium",
            f"Not used for {idle} days (limit {limit})" if last else f"Never used in {idle} days (limit {limit})",
            {"last_used_at": iso(last), "created_at": iso(node.created_at), "idle_days": idle, "limit_days": limit},
            "Disable the credential, wait for complaints, then delete it; unused NHIs are pure risk.",
        )


def static_long_lived(node: Node, context: Context) -> Iterator[Issue]:
    if node.kind in FEDERATABLE_KINDS and node.status == "active" and node.expires_at is None:
        yield Issue(
            "credential.static_long_lived",
            "NHI4",
            "medium",
            "Static long-lived key where short-lived federated credentials are possible",
            {"kind": node.kind, "expires_at": None},
            "Replace the key with federation: an IAM role (instance profile, IRSA, OIDC from CI) or workload "
            "identity, then delete the key.",
        )


def key_age(node: Node, context: Context) -> Iterator[Issue]:
    if node.kind not in ROTATED_KINDS or node.status != "active":
        return
    rotated = node.last_rotated_at or node.created_at
    age = context.days_since(rotated)
    limit = context.thresholds.key_max_age_days
    if age is not None and age > limit:
        yield Issue(
            "rotation.key_age",
            "NHI7",
            "high",
            f"Not rotated for {age} days (limit {limit})",
            {"last_rotated_at": iso(rotated), "age_days": age, "limit_days": limit},
            "Rotate the credential now and automate rotation (Secrets Manager rotation, short-lived tokens).",
        )


def rotation_disabled(node: Node, context: Context) -> Iterator[Issue]:
    if node.kind == "managed_secret" and node.attributes.get("rotation_enabled") is False:
        yield Issue(
            "rotation.disabled",
            "NHI7",
            "medium",
            "Automatic rotation is disabled",
            {"rotation_enabled": False},
            "Turn on automatic rotation with a rotation function and a schedule of 90 days or less.",
        )


def multiple_active_keys(node: Node, context: Context) -> Iterator[Issue]:
    active = int(node.attributes.get("active_keys", 0))
    if active > 1:
        yield Issue(
            "rotation.multiple_active_keys",
            "NHI7",
            "medium",
            f"{active} active keys at once",
            {"active_keys": active},
            "Keep a single active key; a second one should exist only during a rotation.",
        )


def expiry(node: Node, context: Context) -> Iterator[Issue]:
    if node.kind not in EXPIRING_KINDS or node.status != "active":
        return
    if node.expires_at is None:
        if node.attributes.get("expiry_applies", True):
            yield Issue(
                "rotation.no_expiry",
                "NHI7",
                "low",
                "Never expires",
                {"expires_at": None},
                "Give the credential a lifetime (TTL, expiry date) so a leaked copy stops working on its own.",
            )
        return
    warning = timedelta(days=context.thresholds.expiry_warning_days)
    if node.expires_at <= context.as_of:
        yield Issue(
            "rotation.expired",
            "NHI7",
            "medium",
            "Expired but still present",
            {"expires_at": iso(node.expires_at)},
            "Delete the expired credential, or renew it if something still depends on it.",
        )
    elif node.expires_at - context.as_of <= warning:
        yield Issue(
            "rotation.expiring",
            "NHI7",
            "low",
            "Expires soon",
            {"expires_at": iso(node.expires_at), "warning_days": context.thresholds.expiry_warning_days},
            "Renew or rotate the credential before it expires to avoid an outage.",
        )


CHECKS = (owner_missing, unused, static_long_lived, key_age, rotation_disabled, multiple_active_keys, expiry)
