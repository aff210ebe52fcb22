"""Generic JSON activity records, as the module docstring documents them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from nexora.analytics.activity import ActivityEvent, IdentityKeys, Reject
from nexora.analytics.ingest import REDACTED, parse_generic

RECORDS: list[dict[str, Any]] = [
    json.loads(line) for line in (Path(__file__).parent / "data" / "generic.jsonl").read_text().splitlines()
]
MINIMAL = {"time": "2026-03-02T12:00:00Z", "id": "e1", "identity": "job-runner", "action": "run"}


def parse(record: dict[str, Any]) -> ActivityEvent:
    event = parse_generic(record, "g:line 1")
    assert isinstance(event, ActivityEvent), event
    return event


def test_every_documented_field_is_read() -> None:
    event = parse(RECORDS[0])

    assert event == ActivityEvent(
        time=datetime(2026, 3, 2, 12, 0, tzinfo=UTC),
        source="generic",
        source_event_id="deploy-0001",
        identity=IdentityKeys(key="generic:ci-deployer", name="CI deployer", kind="other"),
        action="deploy",
        service="argo",
        resource="prod/web",
        source_ip="81.2.69.160",
        user_agent="argocd/2.11",
        outcome="success",
        region="eu-west-1",
        read_only=False,
        details={"revision": "4f2a9c1", "api_token": REDACTED},
        raw=RECORDS[0] | {"details": {"revision": "4f2a9c1", "api_token": REDACTED}},
    )


def test_epoch_seconds_an_integer_id_and_attribution_keys() -> None:
    event = parse(RECORDS[1])

    assert event.time == datetime(2026, 3, 2, 12, 1, tzinfo=UTC)
    assert event.source_event_id == "2"
    assert event.identity == IdentityKeys(
        key="generic:AKIA4TESTKEYALICE001",
        name="AKIA4TESTKEYALICE001",
        kind="access_key",
        access_key_id="AKIA4TESTKEYALICE001",
        principal_arn="arn:aws:iam::111122223333:user/ops/alice",
    )
    assert (event.outcome, event.error_code) == ("failure", "AccessDenied")
    assert event.source_ip is None
    assert event.details == {"source_ip": "vpn-gateway-3"}


def test_epoch_milliseconds_and_defaults() -> None:
    event = parse(RECORDS[2])

    assert event.time == datetime(2026, 3, 2, 12, 2, tzinfo=UTC)
    assert event.identity.k8s_username == "system:serviceaccount:payments:api"
    assert (event.service, event.outcome, event.read_only, event.details) == ("generic", "success", None, {})


def test_the_minimal_record_is_four_fields() -> None:
    event = parse(MINIMAL)

    assert (event.identity.key, event.identity.name, event.identity.kind) == (
        "generic:job-runner",
        "job-runner",
        "other",
    )


@pytest.mark.parametrize("field", ["time", "id", "identity", "action"])
def test_each_required_field_is_required(field: str) -> None:
    record = {key: value for key, value in MINIMAL.items() if key != field}

    assert parse_generic(record, "g:line 1") == Reject("g:line 1", f"{field} is missing")


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("time", {"at": 1}, "time is an object, expected an RFC 3339 string or epoch number"),
        ("time", "soon", "time is not an RFC 3339 time"),
        ("time", 1e300, "time is out of range"),
        ("id", 1.5, "id is a number, expected a string or integer"),
        ("id", ["e1"], "id is an array, expected a string or integer"),
        ("identity", 42, "identity is a number, expected a string"),
        ("action", True, "action is a boolean, expected a string"),
        ("identity_kind", 1, "identity_kind is a number, expected a string"),
        ("identity_name", [], "identity_name is an array, expected a string"),
        ("service", {}, "service is an object, expected a string"),
        ("resource", 5, "resource is a number, expected a string"),
        ("source_ip", 167772161, "source_ip is a number, expected a string"),
        ("user_agent", False, "user_agent is a boolean, expected a string"),
        ("outcome", 0, "outcome is a number, expected a string"),
        ("outcome", "partial", 'outcome is not "success" or "failure"'),
        ("error_code", 403, "error_code is a number, expected a string"),
        ("region", ["eu"], "region is an array, expected a string"),
        ("read_only", "sometimes", "read_only is a string, expected a boolean"),
        ("access_key_id", 1, "access_key_id is a number, expected a string"),
        ("principal_arn", {}, "principal_arn is an object, expected a string"),
        ("k8s_username", 2, "k8s_username is a number, expected a string"),
        ("details", "text", "details is a string, expected an object"),
    ],
)
def test_a_wrong_type_is_refused_naming_the_field_and_the_type_expected(field: str, value: Any, reason: str) -> None:
    assert parse_generic(MINIMAL | {field: value}, "g:line 1") == Reject("g:line 1", reason)


def test_an_unknown_identity_kind_is_refused() -> None:
    result = parse_generic(MINIMAL | {"identity_kind": "robot"}, "g:line 1")

    assert isinstance(result, Reject)
    assert result.reason.startswith("identity_kind is not one of access_key, assumed_role")
