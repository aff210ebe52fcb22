"""Reading what CloudTrail records carry: request parameters, IAM policy documents, principals, accounts."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

from nexora.analytics.activity import ActivityEvent, IdentityKeys

_ACCOUNT_IN_ARN = re.compile(r"^arn:aws[\w-]*:(?:iam|sts)::(\d{12}):")
_ACCOUNT = re.compile(r"^\d{12}$")
# eventName carries an API version for some services: "AddPermission20150331v2", "UpdateFunctionCode20150331v2".
_VERSIONED = re.compile(r"^([A-Za-z]+?)(\d{8}(?:v\d+)?)$")


def request(event: ActivityEvent) -> dict[str, Any]:
    """The record's requestParameters (an empty dict when there are none)."""
    parameters = event.details.get("requestParameters")
    return parameters if isinstance(parameters, dict) else {}


def response(event: ActivityEvent) -> dict[str, Any]:
    elements = event.details.get("responseElements")
    return elements if isinstance(elements, dict) else {}


def additional(event: ActivityEvent) -> dict[str, Any]:
    data = event.details.get("additionalEventData")
    return data if isinstance(data, dict) else {}


def outcome(event: ActivityEvent) -> dict[str, str | None]:
    """The event's outcome and error code, for an explanation."""
    return {"outcome": event.outcome, "error_code": event.error_code}


def base_action(action: str) -> str:
    """The action without the API version some services append: "AddPermission20150331v2" -> "AddPermission"."""
    match = _VERSIONED.match(action)
    return match.group(1) if match else action


def versioned(*actions: str, versions: tuple[str, ...] = ("20150331", "20150331v2")) -> list[str]:
    """Every eventName a Lambda action is recorded under (with and without its API version)."""
    return [f"{action}{version}" for action in actions for version in ("", *versions)]


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def policy_document(value: Any) -> dict[str, Any] | None:
    """A policy document from requestParameters: a JSON string (URL-encoded or not) or an object."""
    if isinstance(value, dict):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.startswith("%7B") or text.startswith("%7b"):
        text = unquote(text)
    try:
        document = json.loads(text)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [statement for statement in as_list(document.get("Statement")) if isinstance(statement, dict)]


def admin_statement(document: dict[str, Any] | None) -> dict[str, Any] | None:
    """The statement allowing every action on every resource, if the document has one."""
    if document is None:
        return None
    for statement in statements(document):
        if statement.get("Effect") != "Allow" or "NotAction" in statement or "NotResource" in statement:
            continue
        actions = as_list(statement.get("Action"))
        resources = as_list(statement.get("Resource"))
        if any(action in ("*", "*:*") for action in actions) and "*" in resources:
            return statement
    return None


def principal_accounts(principal: Any) -> list[str]:
    """Accounts named by a policy principal: "*" for anyone, the 12-digit id for an account, role or user."""
    if principal == "*":
        return ["*"]
    values: list[Any] = []
    if isinstance(principal, dict):
        values = as_list(principal.get("AWS"))
    elif isinstance(principal, str | list):
        values = as_list(principal)
    accounts = []
    for value in values:
        if not isinstance(value, str):
            continue
        if value == "*":
            accounts.append("*")
        elif _ACCOUNT.match(value):
            accounts.append(value)
        elif match := _ACCOUNT_IN_ARN.match(value):
            accounts.append(match.group(1))
    return accounts


def trust_grants(document: dict[str, Any] | None) -> list[tuple[str, bool]]:
    """(account or "*", conditioned) for each principal an assume-role policy allows."""
    if document is None:
        return []
    grants: list[tuple[str, bool]] = []
    for statement in statements(document):
        if statement.get("Effect") != "Allow":
            continue
        conditioned = bool(statement.get("Condition"))
        grants.extend((account, conditioned) for account in principal_accounts(statement.get("Principal")))
    return grants


def foreign(account: str, own: str | None, trusted: frozenset[str]) -> bool:
    """Whether ``account`` (or "*") is outside the identity's own account and the tenant's trusted ones."""
    return account == "*" or (account != own and account not in trusted)


def caller_user(identity: IdentityKeys) -> str | None:
    """The IAM user name behind the caller, None for roles, services and Kubernetes identities."""
    if identity.kind not in ("iam_user", "access_key"):
        return None
    arn = identity.principal_arn or ""
    if ":user/" in arn:
        return arn.rsplit("/", 1)[-1]
    return identity.name


def account_of(identity: IdentityKeys) -> str | None:
    if identity.account:
        return identity.account
    for arn in (identity.principal_arn, identity.session_issuer_arn):
        if arn and (match := _ACCOUNT_IN_ARN.match(arn)):
            return match.group(1)
    return None
