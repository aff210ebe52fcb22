"""Activity-log parsing: CloudTrail records read and parsed per second on one core, no database.

Generates N realistic CloudTrail records (assumed-role S3 data events, IAM users' API calls with long-lived keys,
STS AssumeRole with the session's credentials in the response, console sign-ins, AWS service calls, AccessDenied
failures) into a temporary gzip-compressed ``{"Records": [...]}`` file, then times:

1. reading alone (``read_records``: gunzip, layout detection, record splitting, JSON parsing);
2. reading with ijson's C backend for every record, the engine the reader falls back on (baseline);
3. reading and parsing (``read_events``: also scrubbing, identity keys, details), the figure that counts.

Goal: read + parse at about 10 µs per record (>= 100,000 records/s), a fifth of the 20,000 events/s budget of
the whole pipeline (storage and detectors included).
Figures are CPU time of the process (best of ``--repeat`` runs), so other work on the machine inflates them less.
Run: .venv/bin/python benchmarks/analytics_parse_bench.py [--records 200000] [--layout records|lines] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gzip
import random
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from nexora.analytics.activity import ActivityEvent
from nexora.analytics.ingest import read_events, read_records
from nexora.analytics.ingest.arrays import read_with_ijson
from nexora.analytics.ingest.streams import DEFAULT_MAX_RECORD_BYTES

ACCOUNT = "111122223333"
START = datetime(2026, 3, 1, tzinfo=UTC)
ROLES = ["app-backend", "ci-deployer", "etl-runner", "lambda-exec-orders"]
USERS = ["svc-reporting", "svc-backup", "alice", "terraform"]
AGENTS = [
    "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/s3#1.58.2",
    "Boto3/1.34.144 md/Botocore#1.34.144 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.12.4 cfg/retry-mode#legacy",
    "aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/macos#23.5.0 md/arch#arm64 lang/python#3.11.9 command/s3.cp",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
]


def _key(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))


def _assumed_role(rng: random.Random) -> dict[str, Any]:
    role = rng.choice(ROLES)
    session = f"{role}-{rng.randrange(10**6)}"
    return {
        "type": "AssumedRole",
        "principalId": f"AROAEXAMPLEROLEID{ROLES.index(role)}:{session}",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}",
        "accountId": ACCOUNT,
        "accessKeyId": _key(rng, "ASIA"),
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": f"AROAEXAMPLEROLEID{ROLES.index(role)}",
                "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
                "accountId": ACCOUNT,
                "userName": role,
            },
            "attributes": {"creationDate": "2026-03-01T00:00:00Z", "mfaAuthenticated": "false"},
            "ec2RoleDelivery": "2.0",
        },
    }


def _iam_user(rng: random.Random) -> dict[str, Any]:
    user = rng.choice(USERS)
    return {
        "type": "IAMUser",
        "principalId": f"AIDAEXAMPLEUSERID{USERS.index(user)}",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/{user}",
        "accountId": ACCOUNT,
        "accessKeyId": f"AKIAEXAMPLEKEY000{USERS.index(user)}",
        "userName": user,
    }


def _record(rng: random.Random, index: int) -> dict[str, Any]:
    when = START + timedelta(milliseconds=index * 37)
    base: dict[str, Any] = {
        "eventVersion": "1.09",
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "awsRegion": rng.choice(["us-east-1", "eu-west-1"]),
        "sourceIPAddress": f"203.0.113.{rng.randrange(1, 255)}",
        "userAgent": rng.choice(AGENTS),
        "requestID": uuid.UUID(int=rng.getrandbits(128)).hex.upper()[:16],
        "eventID": str(uuid.UUID(int=rng.getrandbits(128))),
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
        "tlsDetails": {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": "sts.amazonaws.com",
        },
    }
    kind = rng.random()
    if kind < 0.45:  # S3 data event from a role session, two resources
        bucket = rng.choice(["orders-data", "ml-features", "app-logs"])
        key = f"2026/03/01/part-{rng.randrange(10**5):05d}.parquet"
        base |= {
            "userIdentity": _assumed_role(rng),
            "eventSource": "s3.amazonaws.com",
            "eventName": rng.choice(["GetObject", "PutObject", "HeadObject"]),
            "requestParameters": {"bucketName": bucket, "Host": f"{bucket}.s3.us-east-1.amazonaws.com", "key": key},
            "responseElements": None,
            "additionalEventData": {
                "SignatureVersion": "SigV4",
                "CipherSuite": "TLS_AES_128_GCM_SHA256",
                "bytesTransferredIn": 0,
                "AuthenticationMethod": "AuthHeader",
                "x-amz-id-2": "Ez2v1iR3vKp0Mne8ZLhv7bFJ3k0uMuC6Q4nF8s5hN0w=",
                "bytesTransferredOut": rng.randrange(10**7),
            },
            "readOnly": True,
            "resources": [
                {"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
                {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"},
            ],
            "managementEvent": False,
            "eventCategory": "Data",
        }
    elif kind < 0.7:  # an IAM user's long-lived key describing things
        base |= {
            "userIdentity": _iam_user(rng),
            "eventSource": "ec2.amazonaws.com",
            "eventName": rng.choice(["DescribeInstances", "DescribeSecurityGroups", "DescribeVolumes"]),
            "requestParameters": {"maxResults": 1000, "filterSet": {}},
            "responseElements": None,
            "readOnly": True,
        }
    elif kind < 0.85:  # AssumeRole: the response carries the new session's credentials
        role = rng.choice(ROLES)
        base |= {
            "userIdentity": _assumed_role(rng),
            "eventSource": "sts.amazonaws.com",
            "eventName": "AssumeRole",
            "requestParameters": {
                "roleArn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
                "roleSessionName": f"{role}-{rng.randrange(10**6)}",
                "durationSeconds": 3600,
            },
            "responseElements": {
                "credentials": {
                    "accessKeyId": _key(rng, "ASIA"),
                    "sessionToken": "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD" + "x" * 200,
                    "expiration": "Mar 1, 2026, 1:00:00 PM",
                },
                "assumedRoleUser": {
                    "assumedRoleId": f"AROAEXAMPLEROLEID0:{role}",
                    "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/session",
                },
            },
            "readOnly": True,
            "resources": [
                {"accountId": ACCOUNT, "type": "AWS::IAM::Role", "ARN": f"arn:aws:iam::{ACCOUNT}:role/{role}"}
            ],
        }
    elif kind < 0.92:  # an AWS service acting (KMS decrypt for S3)
        base |= {
            "userIdentity": {"type": "AWSService", "invokedBy": "s3.amazonaws.com"},
            "eventSource": "kms.amazonaws.com",
            "eventName": "Decrypt",
            "sourceIPAddress": "s3.amazonaws.com",
            "userAgent": "s3.amazonaws.com",
            "requestParameters": {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"},
            "responseElements": None,
            "readOnly": True,
            "resources": [
                {"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234"}
            ],
        }
    elif kind < 0.95:  # a console sign-in
        base |= {
            "userIdentity": {
                "type": "IAMUser",
                "principalId": "AIDAEXAMPLEUSERID2",
                "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
                "accountId": ACCOUNT,
                "userName": "alice",
            },
            "eventSource": "signin.amazonaws.com",
            "eventName": "ConsoleLogin",
            "eventType": "AwsConsoleSignIn",
            "requestParameters": None,
            "responseElements": {"ConsoleLogin": "Success"},
            "additionalEventData": {
                "LoginTo": "https://console.aws.amazon.com/console/home",
                "MobileVersion": "No",
                "MFAIdentifier": f"arn:aws:iam::{ACCOUNT}:mfa/alice",
                "MFAUsed": "Yes",
            },
            "readOnly": False,
        }
    else:  # a denied write
        base |= {
            "userIdentity": _iam_user(rng),
            "eventSource": "iam.amazonaws.com",
            "eventName": rng.choice(["CreateAccessKey", "AttachUserPolicy", "PutUserPolicy"]),
            "errorCode": "AccessDenied",
            "errorMessage": "User is not authorized to perform: iam:CreateAccessKey on resource: user bob",
            "requestParameters": {"userName": "bob"},
            "responseElements": None,
            "readOnly": False,
        }
    return base


def _write(path: Path, count: int, layout: str, seed: int = 7) -> int:
    rng = random.Random(seed)
    with gzip.open(path, "wb", compresslevel=6) as out:
        if layout == "records":
            out.write(b'{"Records":[')
        for index in range(count):
            data = orjson.dumps(_record(rng, index))
            if layout == "records":
                out.write(data if index == 0 else b"," + data)
            else:
                out.write(data + b"\n")
        if layout == "records":
            out.write(b"]}")
    return path.stat().st_size


def _time(label: str, count: int, run: Callable[[], Iterator[Any]], repeat: int) -> float:
    """The best of ``repeat`` runs in CPU seconds of this process: the figure that holds on a busy machine."""
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        produced = sum(1 for _ in run())
        best = min(best, time.process_time() - started)
        assert produced == count, f"{label}: {produced} results for {count} records"
    print(f"{label:<42} {count / best:>10,.0f} records/s  {best / count * 1e6:6.2f} µs/record")
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--layout", choices=["records", "lines"], default="records")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the best is shown")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("bench.json.gz" if args.layout == "records" else "bench.jsonl.gz")
        size = _write(path, args.records, args.layout)
        print(f"{args.records:,} CloudTrail records, {args.layout} layout, {size / 1e6:.1f} MB gzip-compressed")

        def read_only() -> Iterator[Any]:
            with path.open("rb") as stream:
                yield from read_records(stream, path.name)

        def ijson_only() -> Iterator[Any]:
            with gzip.open(path, "rb") as stream:
                path_in_file = "Records.item" if args.layout == "records" else ""
                yield from read_with_ijson(stream, path.name, path_in_file, max_record_bytes=DEFAULT_MAX_RECORD_BYTES)

        def read_and_parse() -> Iterator[Any]:
            with path.open("rb") as stream:
                for result in read_events(stream, path.name, "cloudtrail"):
                    assert isinstance(result, ActivityEvent), result
                    yield result

        _time("read (gunzip + split + orjson)", args.records, read_only, args.repeat)
        _time("read with ijson yajl2_c (baseline)", args.records, ijson_only, args.repeat)
        _time("read + parse (read_events)", args.records, read_and_parse, args.repeat)


if __name__ == "__main__":
    main()
