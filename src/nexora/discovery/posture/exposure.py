"""Exposure checks: leaked secrets (NHI2), environment isolation (NHI8) and reuse (NHI9)."""

from __future__ import annotations

from collections.abc import Iterator

from nexora.discovery.posture.model import Context, Issue, Node

NON_PROD = frozenset({"dev", "staging"})


def leaked(node: Node, context: Context) -> Iterator[Issue]:
    if node.kind == "leaked_secret" and node.status == "active":
        attributes = node.attributes
        yield Issue(
            "secret.leaked",
            "NHI2",
            "critical",
            f"Secret ({attributes.get('rule', 'unknown rule')}) found in {attributes.get('location', 'code')}",
            {
                "rule": attributes.get("rule"),
                "location": attributes.get("location"),
                "line": attributes.get("line"),
                "preview": attributes.get("preview"),
                "matches_inventoried": [n.name for n in node.exposed_in],
            },
            "Revoke and rotate the secret at its provider, then remove it from the code and its history.",
        )
    elif node.exposed_in:
        yield Issue(
            "credential.exposed",
            "NHI2",
            "critical",
            f"Credential exposed in {len(node.exposed_in)} place(s) in code",
            {"locations": sorted(n.name for n in node.exposed_in)},
            "Deactivate this credential now, issue a replacement, and purge the leaked copy from the repository.",
        )


def cross_environment(node: Node, context: Context) -> Iterator[Issue]:
    users = node.used_by + node.same_secret_as
    environments = {n.environment for n in users if n.environment != "unknown"}
    if node.environment != "unknown":
        environments.add(node.environment)
    if "prod" in environments and environments & NON_PROD:
        yield Issue(
            "environment.shared",
            "NHI8",
            "high",
            f"Used in production and in {', '.join(sorted(environments & NON_PROD))}",
            {"environments": sorted(environments), "used_by": sorted(n.name for n in users)},
            "Issue a separate credential per environment so a non-production compromise cannot reach production.",
        )


def reused(node: Node, context: Context) -> Iterator[Issue]:
    consumers = {n.id: n for n in node.used_by if n.kind in ("workload", "repository")}
    if len(consumers) > 1:
        yield Issue(
            "reuse.shared_identity",
            "NHI9",
            "medium",
            f"Shared by {len(consumers)} workloads or repositories",
            {"used_by": sorted(n.name for n in consumers.values())},
            "Give each workload or repository its own identity so that access can be scoped and revoked separately.",
        )


CHECKS = (leaked, cross_environment, reused)
