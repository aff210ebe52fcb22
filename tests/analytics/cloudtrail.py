"""CloudTrail records for the service and API tests, shaped as the AWS documentation describes them."""

from __future__ import annotations

import gzip
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

ACCOUNT = "111122223333"
CLI_AGENT = "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64.ubuntu.22 prompt/off command/iam.list-users"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def user_call(
    event_name: str,
    *,
    user: str,
    key_id: str,
    at: datetime,
    source: str = "iam.amazonaws.com",
    ip: str = "198.51.100.7",
    agent: str = CLI_AGENT,
    request: dict[str, Any] | None = None,
    response: dict[str, Any] | None = None,
    error: str | None = None,
    event_id: str | None = None,
    account: str = ACCOUNT,
    region: str = "us-east-1",
) -> dict[str, Any]:
    """A call by an IAM user with a long-lived access key (AKIA…)."""
    record: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "IAMUser",
            "principalId": "AIDA" + key_id[4:],
            "arn": f"arn:aws:iam::{account}:user/{user}",
            "accountId": account,
            "accessKeyId": key_id,
            "userName": user,
        },
        "eventTime": iso(at),
        "eventSource": source,
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": ip,
        "userAgent": agent,
        "requestParameters": request,
        "responseElements": response,
        "requestID": str(uuid.uuid4()),
        "eventID": event_id or str(uuid.uuid4()),
        "readOnly": event_name.startswith(("List", "Get", "Describe")),
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }
    if error:
        record["errorCode"] = error
        record["errorMessage"] = f"User: arn:aws:iam::{account}:user/{user} is not authorized to perform this action"
    return record


def routine(
    user: str, key_id: str, start: datetime, count: int, *, step: timedelta = timedelta(minutes=7)
) -> list[dict[str, Any]]:
    """A user's everyday, read-only calls."""
    calls = [
        ("ListUsers", "iam.amazonaws.com"),
        ("DescribeInstances", "ec2.amazonaws.com"),
        ("GetCallerIdentity", "sts.amazonaws.com"),
    ]
    return [
        user_call(calls[i % 3][0], user=user, key_id=key_id, at=start + i * step, source=calls[i % 3][1])
        for i in range(count)
    ]


def cloudtrail_file(records: list[dict[str, Any]], *, compress: bool = True) -> bytes:
    """Records in a file as CloudTrail delivers it (``{"Records": [...]}``, gzip)."""
    body = json.dumps({"Records": records}).encode()
    return gzip.compress(body) if compress else body
