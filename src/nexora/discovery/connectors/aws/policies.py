"""IAM policy documents evaluated into a privilege level and a permissions summary (pure)."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

# Actions that let a principal grant itself (or a principal it controls) more access.
ESCALATION_ACTIONS = (
    "iam:PassRole",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:UpdateLoginProfile",
    "iam:AttachUserPolicy",
    "iam:AttachRolePolicy",
    "iam:AttachGroupPolicy",
    "iam:PutUserPolicy",
    "iam:PutRolePolicy",
    "iam:PutGroupPolicy",
    "iam:CreatePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:AddUserToGroup",
    "iam:UpdateAssumeRolePolicy",
    "lambda:UpdateFunctionCode",
    "sts:AssumeRole",
)
READ_PREFIXES = ("get", "list", "describe", "view", "lookup", "search", "batchget", "select", "head", "scan", "query")
# AWS managed policies known by name, for accounts where their documents are not listed.
KNOWN_MANAGED = {"AdministratorAccess": "admin", "PowerUserAccess": "high", "IAMFullAccess": "high"}


@dataclass
class Statement:
    actions: list[str]
    resources: list[str]
    not_action: bool = False
    conditions: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Evaluation:
    privilege_level: str
    admin_sources: list[str]
    wildcard_actions: list[str]
    wildcard_resources: bool
    escalation_actions: list[str]
    policies: list[str]
    statements: list[Statement]

    def summary(self) -> dict[str, Any]:
        return {
            "admin_sources": self.admin_sources,
            "wildcard_actions": self.wildcard_actions,
            "wildcard_resources": self.wildcard_resources,
            "escalation_actions": self.escalation_actions,
            "policies": self.policies,
        }

    def allows(self, action: str, resource: str) -> bool:
        """Whether some Allow statement covers ``action`` on ``resource`` (conditions are ignored)."""
        lowered = action.lower()
        for statement in self.statements:
            matched = any(fnmatch.fnmatchcase(lowered, pattern.lower()) for pattern in statement.actions)
            if statement.not_action:
                matched = not matched
            if matched and any(fnmatch.fnmatchcase(resource, pattern) for pattern in statement.resources):
                return True
        return False


def document(value: Any) -> dict[str, Any]:
    """A policy document from a dict, a JSON string or a URL-encoded JSON string; ``{}`` if unreadable."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str):
        for candidate in (value, unquote(value)):
            try:
                parsed = json.loads(candidate)
            except ValueError:
                continue
            if isinstance(parsed, dict):
                return parsed
    return {}


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value]


def statements(policy: Mapping[str, Any]) -> list[dict[str, Any]]:
    raw = policy.get("Statement", [])
    return [s for s in ([raw] if isinstance(raw, dict) else raw) if isinstance(s, dict)]


def allow_statements(policy: Mapping[str, Any]) -> list[Statement]:
    found = []
    for statement in statements(policy):
        if statement.get("Effect") != "Allow":
            continue
        not_action = "NotAction" in statement
        actions = _as_list(statement.get("NotAction") if not_action else statement.get("Action"))
        resources = _as_list(statement.get("Resource", "*")) or ["*"]
        if "NotResource" in statement:
            resources = ["*"]
        found.append(Statement(actions, resources, not_action, statement.get("Condition") or {}))
    return found


def _is_write(action: str) -> bool:
    verb = action.split(":", 1)[-1].lower()
    return verb == "*" or not verb.startswith(READ_PREFIXES)


def evaluate(named_documents: Iterable[tuple[str, Any]], managed_names: Iterable[str] = ()) -> Evaluation:
    """Summarise what the policies allow: admin, wildcard actions, escalation paths, privilege level."""
    admin_sources: list[str] = []
    wildcard: set[str] = set()
    escalation: set[str] = set()
    wildcard_resources = False
    any_write = False
    any_allow = False
    policies: list[str] = []
    all_statements: list[Statement] = []
    for name, raw in named_documents:
        policies.append(name)
        for statement in allow_statements(document(raw)):
            all_statements.append(statement)
            any_allow = True
            everywhere = "*" in statement.resources
            if statement.not_action:
                wildcard.add("NotAction:" + ",".join(statement.actions))
                any_write = True
                if everywhere:
                    admin_sources.append(name)
                continue
            for action in statement.actions:
                if action in ("*", "*:*"):
                    if everywhere:
                        admin_sources.append(name)
                    wildcard.add("*")
                elif "*" in action:
                    wildcard.add(action)
                if _is_write(action):
                    any_write = True
                    wildcard_resources = wildcard_resources or everywhere
                for candidate in ESCALATION_ACTIONS:
                    if fnmatch.fnmatchcase(candidate.lower(), action.lower()):
                        escalation.add(candidate)
    for name in managed_names:
        level = KNOWN_MANAGED.get(name)
        if level == "admin":
            admin_sources.append(name)
        elif level == "high":
            wildcard.add(f"{name}:*")
            any_write = any_allow = True
        policies.append(name)
    admin_sources = sorted(set(admin_sources))
    if admin_sources:
        level = "admin"
    elif escalation or wildcard:
        level = "high"
    elif any_write:
        level = "medium"
    elif any_allow:
        level = "low"
    else:
        level = "none"
    return Evaluation(
        privilege_level=level,
        admin_sources=admin_sources,
        wildcard_actions=sorted(wildcard),
        wildcard_resources=wildcard_resources,
        escalation_actions=sorted(escalation),
        policies=sorted(set(policies)),
        statements=all_statements,
    )


def trust_statements(policy: Any) -> list[dict[str, Any]]:
    """A role's trust policy as a list of normalised statements the posture checks read.

    Each entry has ``kind`` (account, service, oidc, saml, any), ``principal``, ``account`` and
    whether the conditions pin ``sts:ExternalId`` or an OIDC ``sub`` claim.
    """
    found: list[dict[str, Any]] = []
    for statement in statements(document(policy)):
        if statement.get("Effect") != "Allow":
            continue
        conditions = statement.get("Condition") or {}
        keys = sorted({key for block in conditions.values() if isinstance(block, dict) for key in block})
        lowered = [key.lower() for key in keys]
        common = {
            "conditions": keys,
            "external_id": any(key.endswith("sts:externalid") for key in lowered),
            "sub_condition": any(key.endswith(":sub") for key in lowered),
        }
        principal = statement.get("Principal")
        if principal == "*" or (isinstance(principal, dict) and "*" in _as_list(principal.get("AWS"))):
            found.append({"kind": "any", "principal": "*", "account": None, **common})
            continue
        if not isinstance(principal, dict):
            continue
        for arn in _as_list(principal.get("AWS")):
            account = arn if arn.isdigit() else (arn.split(":")[4] if arn.count(":") >= 5 else None)
            found.append({"kind": "account", "principal": arn, "account": account, **common})
        for service in _as_list(principal.get("Service")):
            found.append({"kind": "service", "principal": service, "account": None, **common})
        for federated in _as_list(principal.get("Federated")):
            if ":oidc-provider/" in federated:
                provider = federated.split(":oidc-provider/", 1)[1]
                found.append({"kind": "oidc", "principal": federated, "provider": provider, "account": None, **common})
            else:
                found.append({"kind": "saml", "principal": federated, "account": None, **common})
    return found
