"""CloudTrail records as activity events: identity keys, outcomes, details, resources and refusals."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from nexora.analytics.activity import ActivityEvent, IdentityKeys, Reject
from nexora.analytics.ingest import parse_cloudtrail

RECORDS: list[dict[str, Any]] = json.loads((Path(__file__).parent / "data" / "cloudtrail.json").read_bytes())["Records"]
ALICE_KEY, ASSUMED_ROLE, ROOT_WITH_MFA, ROOT_WITHOUT_MFA, AWS_SERVICE, DENIED, CONSOLE_SESSION, FAILED_LOGIN = range(8)


def parse(index: int, **changes: Any) -> ActivityEvent:
    record = copy.deepcopy(RECORDS[index]) | changes
    event = parse_cloudtrail(record, f"cloudtrail.json:record {index + 1}")
    assert isinstance(event, ActivityEvent), event
    return event


def refuse(record: dict[str, Any]) -> str:
    result = parse_cloudtrail(record, "log:record 1")
    assert isinstance(result, Reject), result
    assert result.position == "log:record 1"
    return result.reason


def test_an_iam_users_long_lived_key_is_the_identity() -> None:
    event = parse(ALICE_KEY)

    assert event.identity == IdentityKeys(
        key="aws:key/AKIA4TESTKEYALICE001",
        name="alice",
        kind="access_key",
        access_key_id="AKIA4TESTKEYALICE001",
        principal_arn="arn:aws:iam::111122223333:user/ops/alice",
        account="111122223333",
    )
    assert event.details["identity_type"] == "IAMUser"


def test_the_call_itself_is_read_from_the_record() -> None:
    event = parse(ALICE_KEY)

    assert event.time == datetime(2026, 3, 2, 9, 15, 27, tzinfo=UTC)
    assert event.source == "cloudtrail"
    assert event.source_event_id == "0b1d6f0e-1c9a-4d6b-9f00-3a2e4c5d6e01"
    assert (event.action, event.service, event.region) == ("CreateAccessKey", "iam", "us-east-1")
    assert event.source_ip == "81.2.69.160"
    assert str(event.user_agent).startswith("aws-cli/2.17.20")
    assert (event.outcome, event.error_code, event.read_only) == ("success", None, False)
    assert event.resource == "bob"  # no resources[]: the user the request names
    assert event.details["requestParameters"] == {"userName": "bob"}
    assert event.details["eventType"] == "AwsApiCall"
    assert event.details["recipientAccountId"] == "111122223333"


def test_an_assumed_role_session_is_keyed_by_its_role() -> None:
    event = parse(ASSUMED_ROLE)

    assert event.identity == IdentityKeys(
        key="aws:role/111122223333/etl-runner",
        name="etl-runner",
        kind="assumed_role",
        access_key_id="ASIA4TESTSESSION0001",
        principal_arn="arn:aws:sts::111122223333:assumed-role/etl-runner/etl-run-4411",
        session_issuer_arn="arn:aws:iam::111122223333:role/service/etl-runner",
        account="111122223333",
    )
    assert event.details["session_name"] == "etl-run-4411"
    assert event.details["mfa_authenticated"] is False
    assert event.details["ec2_role_delivery"] == "2.0"
    assert event.details["vpcEndpointId"] == "vpce-0a1b2c3d4e5f67890"


def test_the_first_resource_arn_is_the_resource() -> None:
    event = parse(ASSUMED_ROLE)

    assert event.resource == "arn:aws:s3:::orders-data/2026/03/02/orders.parquet"
    assert (event.service, event.read_only, event.source_ip) == ("s3", True, "2a02:ec0:1::15")


def test_an_assumed_role_without_session_issuer_takes_the_role_from_its_arn() -> None:
    identity = copy.deepcopy(RECORDS[ASSUMED_ROLE]["userIdentity"])
    del identity["sessionContext"]

    event = parse(ASSUMED_ROLE, userIdentity=identity)

    assert event.identity.key == "aws:role/111122223333/etl-runner"
    assert event.identity.session_issuer_arn is None


def test_a_root_console_sign_in_with_mfa() -> None:
    event = parse(ROOT_WITH_MFA)

    assert event.identity == IdentityKeys(
        key="aws:root/111122223333",
        name="root",
        kind="root",
        principal_arn="arn:aws:iam::111122223333:root",
        account="111122223333",
    )
    assert (event.action, event.service, event.outcome) == ("ConsoleLogin", "signin", "success")
    assert event.details["console_login"] == "Success"
    assert event.details["mfa_authenticated"] is True
    assert event.details["eventType"] == "AwsConsoleSignIn"


def test_a_root_console_sign_in_without_mfa() -> None:
    event = parse(ROOT_WITHOUT_MFA)

    assert event.identity.key == "aws:root/111122223333"
    assert event.details["mfa_authenticated"] is False
    assert event.outcome == "success"


def test_a_failed_console_sign_in_is_a_failure() -> None:
    event = parse(FAILED_LOGIN)

    assert event.outcome == "failure"
    assert event.error_code is None  # CloudTrail gives a message, not a code, for a failed sign-in
    assert event.details["console_login"] == "Failure"
    assert event.details["errorMessage"] == "Failed authentication"
    assert event.identity.key == "aws:user/111122223333/dave"  # the empty accessKeyId is no key


def test_an_aws_service_is_keyed_by_the_service_that_invoked() -> None:
    event = parse(AWS_SERVICE)

    assert event.identity.key == "aws:service/secretsmanager.amazonaws.com"
    assert event.identity.kind == "aws_service"
    assert event.service == "kms"
    assert event.source_ip is None
    assert event.details["sourceIPAddress"] == "secretsmanager.amazonaws.com"
    assert event.details["eventType"] == "AwsServiceEvent"
    assert event.resource == "arn:aws:kms:us-east-1:111122223333:key/5f2e0c1a-7b3d-4e8f-9a0b-1c2d3e4f5a6b"


def test_an_aws_service_without_invoked_by_is_keyed_by_the_event_source() -> None:
    event = parse(AWS_SERVICE, userIdentity={"type": "AWSService"})

    assert event.identity.key == "aws:service/kms.amazonaws.com"


def test_access_denied_is_a_failure_with_its_code() -> None:
    event = parse(DENIED)

    assert (event.outcome, event.error_code) == ("failure", "AccessDenied")
    assert event.details["errorMessage"].startswith("User: arn:aws:sts::111122223333:assumed-role/ci-deployer/")
    assert event.identity.key == "aws:role/111122223333/ci-deployer"
    assert event.details["source_identity"] == "octo-bot"
    assert event.resource is None


def test_an_iam_user_with_temporary_credentials_is_keyed_by_the_user() -> None:
    event = parse(CONSOLE_SESSION)

    assert event.identity.key == "aws:user/111122223333/alice"
    assert event.identity.kind == "iam_user"
    assert event.identity.access_key_id == "ASIA4TESTCONSOLE0001"
    assert event.details["session_credential_from_console"] is True
    assert event.details["mfa_authenticated"] is True


def test_a_source_that_is_not_an_address_is_kept_in_details_only() -> None:
    event = parse(CONSOLE_SESSION)

    assert event.source_ip is None
    assert event.details["sourceIPAddress"] == "AWS Internal"


@pytest.mark.parametrize(
    ("identity", "key", "kind"),
    [
        (
            {"type": "Root", "accountId": "111122223333", "accessKeyId": "AKIA4TESTROOTKEY0001"},
            "aws:key/AKIA4TESTROOTKEY0001",
            "access_key",
        ),
        (
            {
                "type": "FederatedUser",
                "arn": "arn:aws:sts::111122223333:federated-user/erin",
                "accountId": "111122223333",
            },
            "aws:federated/111122223333/erin",
            "other",
        ),
        (
            {"type": "AWSAccount", "accountId": "444455556666", "principalId": "AIDA4TESTOTHER000001"},
            "aws:account/444455556666/AIDA4TESTOTHER000001",
            "other",
        ),
        (
            {
                "type": "IdentityCenterUser",
                "accountId": "111122223333",
                "onBehalfOf": {"userId": "94482488-3041-7026-18f3-be45837cd0e4"},
            },
            "aws:identity-center/94482488-3041-7026-18f3-be45837cd0e4",
            "other",
        ),
        ({"type": "Unknown", "principalId": "P1"}, "aws:principal/P1", "other"),
    ],
    ids=["root-key", "federated", "other-account", "identity-center", "unknown"],
)
def test_every_kind_of_caller_gets_a_key(identity: dict[str, Any], key: str, kind: str) -> None:
    event = parse(ALICE_KEY, userIdentity=identity)

    assert (event.identity.key, event.identity.kind) == (key, kind)


def test_a_root_access_key_is_named_root() -> None:
    event = parse(ALICE_KEY, userIdentity={"type": "Root", "accountId": "1", "accessKeyId": "AKIA4TESTROOTKEY0001"})

    assert event.identity.name == "root"


def test_a_time_with_an_offset_is_converted_to_utc() -> None:
    event = parse(ALICE_KEY, eventTime="2026-03-02T11:15:27+02:00")

    assert event.time == datetime(2026, 3, 2, 9, 15, 27, tzinfo=UTC)
    assert event.time.tzinfo is UTC


@pytest.mark.parametrize("field", ["eventID", "eventTime", "eventName", "userIdentity"])
def test_a_missing_required_field_is_refused_by_name(field: str) -> None:
    record = copy.deepcopy(RECORDS[ALICE_KEY])
    del record[field]

    assert refuse(record) == f"{field} is missing"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"eventTime": "yesterday"}, "eventTime is not an RFC 3339 time"),
        ({"eventTime": "2026-03-02T09:15:27"}, "eventTime has no time zone offset"),
        ({"eventTime": ["2026"]}, "eventTime is an array, expected an RFC 3339 string or epoch number"),
        ({"eventName": 7}, "eventName is a number, expected a string"),
        ({"userIdentity": "alice"}, "userIdentity is a string, expected an object"),
        ({"requestParameters": ["userName", "bob"]}, "requestParameters is an array, expected an object"),
        ({"readOnly": "maybe"}, "readOnly is a string, expected a boolean"),
        ({"resources": {"ARN": "x"}}, "resources is an object, expected an array"),
        ({"resources": ["arn:aws:s3:::b"]}, "resources[0] is a string, expected an object"),
        (
            {"userIdentity": {"type": "IAMUser", "accountId": 111122223333}},
            "userIdentity.accountId is a number, expected a string",
        ),
        (
            {"userIdentity": {"type": "IAMUser", "sessionContext": []}},
            "userIdentity.sessionContext is an array, expected an object",
        ),
        ({"userIdentity": {}}, "userIdentity names no principal (no type, arn, principalId or accessKeyId)"),
        ({"userIdentity": {"type": "Root"}}, "userIdentity names no account for the root user"),
    ],
)
def test_a_wrong_type_is_refused_naming_the_field_and_the_type_expected(changes: dict[str, Any], reason: str) -> None:
    assert refuse(copy.deepcopy(RECORDS[ALICE_KEY]) | changes) == reason


def test_long_strings_are_cut() -> None:
    event = parse(ALICE_KEY, userAgent="a" * 5000, eventName="b" * 2000)

    assert event.user_agent == "a" * 1024
    assert event.action == "b" * 1024


def test_the_raw_record_is_kept() -> None:
    event = parse(ASSUMED_ROLE)

    assert event.raw == RECORDS[ASSUMED_ROLE]


def test_an_unknown_event_source_is_kept_whole() -> None:
    assert parse(ALICE_KEY, eventSource="partner.example").service == "partner.example"
    record = copy.deepcopy(RECORDS[ALICE_KEY])
    del record["eventSource"]
    result = parse_cloudtrail(record, "x")
    assert isinstance(result, ActivityEvent)
    assert result.service == "unknown"
