"""GitHub organisation audit-log events as activity events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from nexora.analytics.activity import ActivityEvent, IdentityKeys, Reject
from nexora.analytics.ingest import parse_github

EVENTS: list[dict[str, Any]] = json.loads((Path(__file__).parent / "data" / "github_audit.json").read_bytes())
CLONE, ADD_MEMBER, BRANCH_DESTROY, TOKEN_REQUEST = range(4)


def parse(index: int, **changes: Any) -> ActivityEvent:
    event = parse_github(EVENTS[index] | changes, f"audit.json:record {index + 1}")
    assert isinstance(event, ActivityEvent), event
    return event


def test_an_event_made_with_a_token_is_keyed_by_the_token() -> None:
    event = parse(CLONE)

    assert event.identity == IdentityKeys(
        key="github:token/k5TEST1xZ0pQd7lA3m9VbC2rN8sWfY6uJ4hE0gT1oIk=",
        name="octo-bot",
        kind="github_token",
        token_fingerprint="k5TEST1xZ0pQd7lA3m9VbC2rN8sWfY6uJ4hE0gT1oIk=",
    )
    assert event.time == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert (event.source, event.source_event_id) == ("github", "Xq3pTEST-doc-0001")
    assert (event.action, event.service, event.resource) == ("git.clone", "github", "example-org/payments-api")
    assert (event.source_ip, event.user_agent, event.read_only) == ("81.2.69.160", "git/2.45.2", True)
    assert event.details == {
        "action_category": "git",
        "actor": "octo-bot",
        "actor_id": 90000001,
        "org": "example-org",
        "repo": "example-org/payments-api",
        "business": "example-enterprise",
        "operation_type": "access",
        "programmatic_access_type": "Fine-grained personal access token",
        "token_id": 1234567,
        "country_code": "GB",
    }


def test_an_event_without_a_token_is_keyed_by_the_actor() -> None:
    event = parse(ADD_MEMBER)

    assert event.identity == IdentityKeys(key="github:actor/alice-admin", name="alice-admin", kind="github_user")
    assert (event.action, event.resource, event.read_only) == ("org.add_member", "example-org", False)
    assert event.details["user"] == "new-hire"
    assert event.details["action_category"] == "org"
    assert event.source_ip == "2a02:ec0:1::15"


def test_an_app_token_destroying_branch_protection() -> None:
    event = parse(BRANCH_DESTROY)

    assert event.identity.kind == "github_token"
    assert event.action == "protected_branch.destroy"
    assert event.resource == "example-org/payments-api"
    assert event.details["programmatic_access_type"] == "GitHub App server-to-server token"


def test_created_at_as_rfc_3339_is_accepted() -> None:
    event = parse(TOKEN_REQUEST)

    assert event.time == datetime(2026, 3, 2, 10, 3, tzinfo=UTC)
    assert event.details["action_category"] == "personal_access_token"
    assert event.details["token_scopes"] == "contents:read,metadata:read"
    assert event.source_ip is None


def test_an_actor_ip_that_is_not_an_address_is_kept_in_details() -> None:
    event = parse(ADD_MEMBER, actor_ip="unknown")

    assert event.source_ip is None
    assert event.details["actor_ip"] == "unknown"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"_document_id": None}, "_document_id is missing"),
        ({"action": None}, "action is missing"),
        ({"@timestamp": None, "created_at": None}, "@timestamp and created_at are missing"),
        ({"@timestamp": "last tuesday"}, "@timestamp is not an RFC 3339 time"),
        ({"@timestamp": True}, "@timestamp is a boolean, expected an RFC 3339 string or epoch number"),
        ({"actor": None, "hashed_token": None}, "actor and hashed_token are missing"),
        ({"actor": {"login": "x"}}, "actor is an object, expected a string"),
        ({"token_id": [1]}, "token_id is an array, expected a number or string"),
        ({"actor_location": "GB"}, "actor_location is a string, expected an object"),
    ],
)
def test_a_wrong_or_missing_field_is_refused(changes: dict[str, Any], reason: str) -> None:
    assert parse_github(EVENTS[CLONE] | changes, "a:record 1") == Reject("a:record 1", reason)
