"""The posture engine: OWASP Non-Human Identities Top 10 checks and a 0-100 risk score per NHI.

Pure functions over :class:`Node` values: the service loads the nodes, calls :func:`evaluate`
with an ``as_of`` time and the thresholds, and persists (or just reports) what comes back.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from nexora.discovery.posture import exposure, lifecycle, privilege, trust
from nexora.discovery.posture.model import (
    CATEGORIES,
    SEVERITIES,
    SEVERITY_POINTS,
    Check,
    Context,
    Issue,
    Neighbour,
    Node,
    Thresholds,
)

__all__ = [
    "CATEGORIES",
    "CHECKS",
    "SEVERITIES",
    "Assessment",
    "Issue",
    "Neighbour",
    "Node",
    "Thresholds",
    "evaluate",
    "risk",
]

CHECKS: tuple[Check, ...] = (*lifecycle.CHECKS, *exposure.CHECKS, *trust.CHECKS, *privilege.CHECKS)
_PRIVILEGE_POINTS = {"admin": 20, "high": 10, "medium": 4}
_ENVIRONMENT_FACTOR = {"prod": 1.25, "staging": 1.0, "dev": 0.8, "unknown": 1.0}


@dataclass(frozen=True)
class Assessment:
    issues: list[Issue]
    score: int
    factors: list[dict[str, Any]]


def risk(node: Node, issues: Iterable[Issue]) -> tuple[int, list[dict[str, Any]]]:
    """The 0-100 score of ``node`` and the factors behind it (each with its points).

    Each finding adds its severity's points; privilege adds weight when something is already wrong;
    production scales the total up, development down.
    """
    factors: list[dict[str, Any]] = [
        {"factor": issue.check_id, "category": issue.category, "points": SEVERITY_POINTS[issue.severity]}
        for issue in issues
    ]
    if factors and node.privilege_level in _PRIVILEGE_POINTS:
        factors.append(
            {"factor": f"privilege:{node.privilege_level}", "points": _PRIVILEGE_POINTS[node.privilege_level]}
        )
    total = float(sum(factor["points"] for factor in factors))
    multiplier = _ENVIRONMENT_FACTOR.get(node.environment, 1.0)
    if factors and multiplier != 1.0:
        factors.append({"factor": f"environment:{node.environment}", "multiplier": multiplier})
    return min(100, round(total * multiplier)), factors


def evaluate(nodes: Iterable[Node], *, as_of: datetime, thresholds: Thresholds) -> dict[uuid.UUID, Assessment]:
    """Every check on every node, as of ``as_of``: the issues, score and factors of each node."""
    context = Context(as_of=as_of, thresholds=thresholds)
    results: dict[uuid.UUID, Assessment] = {}
    for node in nodes:
        issues = [issue for check in CHECKS for issue in check(node, context)]
        score, factors = risk(node, issues)
        results[node.id] = Assessment(issues, score, factors)
    return results
