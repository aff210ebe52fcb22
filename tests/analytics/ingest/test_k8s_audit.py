"""Kubernetes audit events as activity events."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from nexora.analytics.activity import ActivityEvent, IdentityKeys, Reject
from nexora.analytics.ingest import REDACTED, Skip, parse_k8s_audit

EVENTS: list[dict[str, Any]] = [
    json.loads(line) for line in (Path(__file__).parent / "data" / "k8s_audit.jsonl").read_text().splitlines()
]
EXEC, FORBIDDEN, RECEIVED, NODE_GET, SECRET_CREATE, HEALTHZ = range(6)


def parse(index: int, **changes: Any) -> ActivityEvent:
    event = parse_k8s_audit(EVENTS[index] | changes, f"audit.log:line {index + 1}")
    assert isinstance(event, ActivityEvent), event
    return event


def test_a_service_account_exec_into_a_pod() -> None:
    event = parse(EXEC)

    assert event.identity == IdentityKeys(
        key="k8s:sa/ci/deployer",
        name="ci/deployer",
        kind="k8s_service_account",
        k8s_username="system:serviceaccount:ci:deployer",
    )
    assert event.time == datetime(2026, 3, 2, 11, 0, 4, 513021, tzinfo=UTC)
    assert (event.source, event.source_event_id) == ("k8s-audit", "5c1f3b7a-8d2e-4f60-9a11-2b3c4d5e6f01")
    assert (event.action, event.service, event.resource) == ("create/exec", "k8s:pods", "payments/pods/api-7d9f8-x2k4q")
    assert (event.outcome, event.error_code, event.read_only) == ("success", None, False)
    assert event.source_ip == "10.42.3.17"
    assert event.user_agent == "kubectl/v1.30.2 (linux/amd64) kubernetes/3968350"
    assert event.details["subresource"] == "exec"
    assert event.details["decision"] == "allow"
    assert event.details["groups"] == ["system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"]


def test_a_forbidden_list_is_a_failure_with_the_code() -> None:
    event = parse(FORBIDDEN)

    assert (event.outcome, event.error_code) == ("failure", "403")
    assert (event.action, event.service, event.resource) == ("list", "k8s:secrets", "kube-system/secrets")
    assert event.read_only is True
    assert event.source_ip == "203.0.113.77"  # the first of sourceIPs
    assert event.details["decision"] == "forbid"
    assert event.details["status_reason"] == "Forbidden"


def test_a_stage_other_than_response_complete_is_skipped() -> None:
    result = parse_k8s_audit(EVENTS[RECEIVED], "audit.log:line 3")

    assert result == Skip("audit.log:line 3", "stage RequestReceived is not ResponseComplete")


def test_a_user_and_a_cluster_wide_resource() -> None:
    event = parse(NODE_GET)

    assert event.identity == IdentityKeys(
        key="k8s:user/alice@example.com", name="alice@example.com", kind="k8s_user", k8s_username="alice@example.com"
    )
    assert (event.action, event.service, event.resource) == ("get", "k8s:nodes", "nodes/node-1")
    assert event.details["impersonated_user"] == "system:serviceaccount:kube-system:node-controller"


def test_secret_bodies_are_redacted() -> None:
    event = parse(SECRET_CREATE)

    assert event.raw["requestObject"] == REDACTED
    assert event.raw["responseObject"] == REDACTED
    assert "cG9zdGdyZXM6" not in json.dumps(event.raw)
    assert EVENTS[SECRET_CREATE]["requestObject"]["data"]  # the record as read is untouched


def test_a_non_resource_request_has_no_resource() -> None:
    event = parse(HEALTHZ)

    assert (event.action, event.service, event.resource) == ("get", "k8s", None)
    assert event.details["request_uri"] == "/healthz"
    assert event.identity.key == "k8s:user/system:anonymous"


def test_a_source_that_is_not_an_address_is_kept_in_details() -> None:
    event = parse(EXEC, sourceIPs=["unix-socket"])

    assert event.source_ip is None
    assert event.details["source_ip"] == "unix-socket"


def test_an_event_without_stage_is_kept() -> None:
    record = {key: value for key, value in EVENTS[EXEC].items() if key != "stage"}

    assert isinstance(parse_k8s_audit(record, "x"), ActivityEvent)


def test_the_received_timestamp_stands_in_for_a_missing_stage_timestamp() -> None:
    record = {key: value for key, value in EVENTS[EXEC].items() if key != "stageTimestamp"}

    event = parse_k8s_audit(record, "x")

    assert isinstance(event, ActivityEvent)
    assert event.time == datetime(2026, 3, 2, 11, 0, 0, 120000, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"auditID": None}, "auditID is missing"),
        ({"verb": None}, "verb is missing"),
        ({"user": None}, "user is missing"),
        ({"user": {"groups": []}}, "user.username is missing"),
        (
            {"stageTimestamp": None, "requestReceivedTimestamp": None},
            "stageTimestamp and requestReceivedTimestamp are missing",
        ),
        ({"stage": 3}, "stage is a number, expected a string"),
        ({"kind": "EventList"}, "kind is not Event: not a Kubernetes audit event"),
        ({"sourceIPs": "10.0.0.1"}, "sourceIPs is a string, expected an array"),
        ({"sourceIPs": [10]}, "sourceIPs[0] is a number, expected a string"),
        ({"responseStatus": {"code": "403"}}, "responseStatus.code is a string, expected an integer"),
        ({"objectRef": {"resource": ["pods"]}}, "objectRef.resource is an array, expected a string"),
        ({"stageTimestamp": "2026-03-02 11:00"}, "stageTimestamp has no time zone offset"),
    ],
)
def test_a_wrong_or_missing_field_is_refused(changes: dict[str, Any], reason: str) -> None:
    result = parse_k8s_audit(EVENTS[EXEC] | changes, "audit.log:line 1")

    assert result == Reject("audit.log:line 1", reason)
