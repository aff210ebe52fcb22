"""Secret-looking values never reach a stored event; identifiers next to them do."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from nexora.analytics.activity import ActivityEvent
from nexora.analytics.ingest import REDACTED, parse_cloudtrail, parse_generic, parse_github, scrub

RECORDS: list[dict[str, Any]] = json.loads((Path(__file__).parent / "data" / "cloudtrail.json").read_bytes())["Records"]
CREATE_ACCESS_KEY, CREATE_LOGIN_PROFILE = RECORDS[0], RECORDS[6]


def cloudtrail(record: dict[str, Any]) -> ActivityEvent:
    event = parse_cloudtrail(record, "x")
    assert isinstance(event, ActivityEvent), event
    return event


def test_a_password_in_request_parameters_is_redacted() -> None:
    event = cloudtrail(CREATE_LOGIN_PROFILE)

    assert event.raw["requestParameters"] == {"userName": "carol", "password": REDACTED, "passwordResetRequired": True}
    assert event.details["requestParameters"]["password"] == REDACTED
    assert "Tr0ub4dor" not in json.dumps(event.raw) + json.dumps(event.details)


def test_a_secret_access_key_in_response_elements_is_redacted_and_the_key_id_kept() -> None:
    event = cloudtrail(CREATE_ACCESS_KEY)

    access_key = event.raw["responseElements"]["accessKey"]
    assert access_key["secretAccessKey"] == REDACTED
    assert access_key["accessKeyId"] == "AKIA4TESTKEYBOB00002"
    assert event.details["responseElements"]["accessKey"]["secretAccessKey"] == REDACTED
    assert "c2VjcmV0LWtleS1mb3ItdGVzdHMtb25seS0wMDAx" not in json.dumps(event.raw) + json.dumps(event.details)


def test_the_record_as_read_is_not_changed() -> None:
    record = copy.deepcopy(CREATE_ACCESS_KEY)

    cloudtrail(record)

    assert record == CREATE_ACCESS_KEY


def test_a_session_token_inside_credentials_is_redacted_and_its_key_id_kept() -> None:
    response = {
        "credentials": {
            "accessKeyId": "ASIA4TESTSESSION0009",
            "sessionToken": "IQoJb3JpZ2luX2VjEXAMPLE-not-a-token",
            "expiration": "Mar 2, 2026, 11:00:00 AM",
        },
        "assumedRoleUser": {"assumedRoleId": "AROA4TESTROLEETL0001:s", "arn": "arn:aws:sts::1:assumed-role/r/s"},
    }

    event = cloudtrail(copy.deepcopy(CREATE_ACCESS_KEY) | {"eventName": "AssumeRole", "responseElements": response})

    assert event.raw["responseElements"] == {
        "credentials": {
            "accessKeyId": "ASIA4TESTSESSION0009",
            "sessionToken": REDACTED,
            "expiration": "Mar 2, 2026, 11:00:00 AM",
        },
        "assumedRoleUser": response["assumedRoleUser"],
    }


def test_every_value_inside_a_secret_looking_object_is_redacted_except_identifiers() -> None:
    record = {"clientSecret": {"value": "hunter2", "version": 3, "secretId": "prod/db", "enabled": True, "tags": ["a"]}}

    assert scrub(record) == {
        "clientSecret": {
            "value": REDACTED,
            "version": REDACTED,
            "secretId": "prod/db",
            "enabled": True,
            "tags": [REDACTED],
        }
    }


def test_secret_keys_are_found_at_any_depth_and_in_any_case() -> None:
    record = {
        "requestParameters": {
            "environment": {"variables": [{"name": "DB_PASSWORD", "DB_PASSWORD": "p4ss"}]},
            "headers": {"Authorization": "Bearer abc", "Cookie": "session=1", "X-Amz-Security-Token": "t"},
            "PrivateKey": "-----BEGIN PRIVATE KEY-----",
            "private_key_id": "identifier",
            "API_KEY": "k",
            "credentials": "user:pass",
        }
    }

    assert scrub(record) == {
        "requestParameters": {
            "environment": {"variables": [{"name": "DB_PASSWORD", "DB_PASSWORD": REDACTED}]},
            "headers": {"Authorization": REDACTED, "Cookie": REDACTED, "X-Amz-Security-Token": REDACTED},
            "PrivateKey": REDACTED,
            "private_key_id": "identifier",
            "API_KEY": REDACTED,
            "credentials": REDACTED,
        }
    }


def test_a_record_with_nothing_to_redact_is_returned_as_is() -> None:
    record = copy.deepcopy(RECORDS[1])

    assert scrub(record) is record


def test_github_token_identifiers_are_kept() -> None:
    record = {
        "@timestamp": 1772445600000,
        "_document_id": "d1",
        "action": "git.clone",
        "actor": "octo-bot",
        "hashed_token": "k5TEST1xZ0pQd7lA3m9VbC2rN8sWfY6uJ4hE0gT1oIk=",
        "token_id": 1234567,
        "programmatic_access_type": "Fine-grained personal access token",
        "token_scopes": "repo",
        "token": "ghp_not_a_real_token_0000000000000000",
    }

    event = parse_github(record, "x")

    assert isinstance(event, ActivityEvent)
    assert {
        key: event.raw[key] for key in ("hashed_token", "token_id", "programmatic_access_type", "token_scopes")
    } == {
        "hashed_token": "k5TEST1xZ0pQd7lA3m9VbC2rN8sWfY6uJ4hE0gT1oIk=",
        "token_id": 1234567,
        "programmatic_access_type": "Fine-grained personal access token",
        "token_scopes": "repo",
    }
    assert event.raw["token"] == REDACTED


def test_generic_details_are_scrubbed_too() -> None:
    record = {"time": 1, "id": "1", "identity": "x", "action": "y", "details": {"api_token": "t0k", "step": "build"}}

    event = parse_generic(record, "x")

    assert isinstance(event, ActivityEvent)
    assert event.details == {"api_token": REDACTED, "step": "build"}
    assert event.raw["details"] == {"api_token": REDACTED, "step": "build"}


def test_unlisted_cloudtrail_fields_are_scrubbed() -> None:
    record = copy.deepcopy(CREATE_ACCESS_KEY) | {
        "serviceEventDetails": {"password": "p"},
        "someNewField": {"secret": "s"},
    }

    event = cloudtrail(record)

    assert event.raw["serviceEventDetails"] == {"password": REDACTED}
    assert event.raw["someNewField"] == {"secret": REDACTED}
