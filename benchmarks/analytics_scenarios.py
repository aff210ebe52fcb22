"""Labelled activity for the analytics benchmarks: weeks of machine-identity activity with attacks injected.

``generate(seed, identities, days)`` plans a population of identities of one AWS organisation and one
Kubernetes cluster (IAM users with long-lived keys, CI roles, Lambda and EC2 roles, a provisioning role,
service accounts, a few people who sign in to the console, identities that fall dormant), each with its
own networks, user agent, calls and daily/weekly rhythm, occasional benign errors and occasional benign
new things (a new network or provider, an action never called before, a trip, a busy hour), then
injects attacks of every detector family (``analytics_attacks.TEMPLATES``) on chosen victims.

The scenario is produced a day at a time, so weeks of activity never sit in memory at once:

    scenario = generate(seed=7, identities=300, days=36)
    for source, record in scenario.records():         # ("cloudtrail" | "k8s-audit", record) in time order
        ...
    for event, context in scenario.events():          # parsed by nexora.analytics.ingest, with geo and inventory
        ...
    scenario.labels                                    # event id -> attack id
    scenario.attacks                                   # InjectedAttack(id, template, expected detectors, ...)
    write_cloudtrail(directory, scenario)              # CloudTrail log files ({"Records": [...]}, .json.gz)
    write_k8s_audit(directory, scenario)               # audit.k8s.io events, one JSON per line, .jsonl.gz

``synthetic_geo(ip)`` is a tiny stand-in for a MaxMind database: country, ASN, organisation and a
location for every address the scenario uses (None for private addresses).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from nexora.analytics.activity import ActivityEvent
from nexora.analytics.detectors.base import Context, Geo
from nexora.analytics.ingest import parse_cloudtrail, parse_k8s_audit

EPOCH = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
ACCOUNTS = ("111122223333", "222233334444", "333344445555")
FOREIGN_ACCOUNT = "999900001111"
Record = tuple[str, dict[str, Any]]  # (source, record)


# ---------------------------------------------------------------------------------------------- geo


@dataclass(frozen=True, slots=True)
class Place:
    country: str
    asn: int
    org: str
    latitude: float
    longitude: float


# Address plan by first one or two octets. AWS and Azure ranges are located at their regions; offices and
# home ISPs at their cities; attacker infrastructure at its hosting country.
PLACES: dict[str, Place] = {
    "3.80": Place("US", 14618, "AMAZON-AES", 39.04, -77.49),
    "3.91": Place("US", 14618, "AMAZON-AES", 39.04, -77.49),
    "54.210": Place("US", 14618, "AMAZON-AES", 39.04, -77.49),
    "52.23": Place("US", 16509, "AMAZON-02", 39.04, -77.49),
    "34.240": Place("IE", 16509, "AMAZON-02", 53.35, -6.26),
    "18.194": Place("DE", 16509, "AMAZON-02", 50.11, 8.68),
    "20.42": Place("US", 8075, "MICROSOFT-CORP-MSN-AS-BLOCK", 36.67, -78.39),  # GitHub-hosted runners
    "40.84": Place("US", 8075, "MICROSOFT-CORP-MSN-AS-BLOCK", 36.67, -78.39),
    "62.157": Place("DE", 3320, "Deutsche Telekom AG", 50.11, 8.68),  # office Frankfurt
    "12.34": Place("US", 7018, "AT&T Services", 40.71, -74.01),  # office New York
    "81.2": Place("GB", 2856, "British Telecommunications PLC", 51.51, -0.13),  # office London
    "91.64": Place("DE", 3209, "Vodafone GmbH", 52.52, 13.40),  # home ISPs
    "73.12": Place("US", 7922, "Comcast Cable", 39.95, -75.17),
    "86.160": Place("GB", 5607, "Sky UK", 53.48, -2.24),
    "88.99": Place("FR", 3215, "Orange S.A.", 48.86, 2.35),  # benign travel
    "77.224": Place("ES", 12479, "Orange Espagne", 40.42, -3.70),
    "185.220": Place("NL", 208294, "VPS hosting", 52.37, 4.89),  # attacker infrastructure
    "91.240": Place("RU", 44477, "Stark Industries", 55.75, 37.62),
    "200.147": Place("BR", 28573, "Claro S.A.", -23.55, -46.63),
    "122.224": Place("CN", 4134, "Chinanet", 30.27, 120.15),
    "159.89": Place("SG", 14061, "DigitalOcean", 1.29, 103.85),
}
CLOUD_ASNS = frozenset({14618, 16509, 8075, 14061})
ATTACKER_PREFIXES = ("185.220", "91.240", "200.147", "122.224", "159.89")
HOME_ISP = {"DE": "91.64", "US": "73.12", "GB": "86.160"}
TRAVEL = {"DE": "88.99", "US": "86.160", "GB": "77.224"}  # benign trips: Paris, Manchester, Madrid


@lru_cache(maxsize=65536)
def synthetic_geo(ip: str | None) -> Geo | None:
    """Country, ASN, organisation and location of a scenario address; None for private or unknown ones."""
    if not ip or ip.startswith(("10.", "172.", "192.168.")):
        return None
    first, _, rest = ip.partition(".")
    place = PLACES.get(f"{first}.{rest.partition('.')[0]}")
    if place is None:
        return None
    # Geo databases hold cloud providers' ranges as large blocks; other networks fall back to the /24.
    network = f"{first}.{rest.partition('.')[0]}.0.0/16" if place.asn in CLOUD_ASNS else None
    return Geo(
        country=place.country,
        asn=place.asn,
        as_org=place.org,
        network=network,
        latitude=place.latitude,
        longitude=place.longitude,
    )


def address(rng: random.Random, prefix: str, third: int | None = None) -> str:
    """An address in ``prefix`` ("62.157"), in /24 ``third`` if given."""
    return f"{prefix}.{rng.randrange(256) if third is None else third}.{rng.randrange(1, 255)}"


# ------------------------------------------------------------------------------------------ records


def event_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def cloudtrail_record(
    rng: random.Random,
    actor: Actor,
    at: datetime,
    event_name: str,
    source: str,
    *,
    request: dict[str, Any] | None = None,
    response: dict[str, Any] | None = None,
    additional: dict[str, Any] | None = None,
    error: str | None = None,
    ip: str | None = None,
    agent: str | None = None,
    identity: dict[str, Any] | None = None,
    region: str | None = None,
) -> dict[str, Any]:
    """A CloudTrail record as AWS writes it."""
    who = identity or actor.identity
    body: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": who,
        "eventTime": iso(at),
        "eventSource": f"{source}.amazonaws.com",
        "eventName": event_name,
        "awsRegion": region or actor.region,
        "sourceIPAddress": ip or rng.choice(actor.ips),
        "userAgent": agent or actor.agent,
        "requestParameters": request,
        "responseElements": response,
        "requestID": event_id(rng),
        "eventID": event_id(rng),
        "readOnly": event_name.startswith(("Get", "List", "Describe")),
        "eventType": "AwsConsoleSignIn" if event_name == "ConsoleLogin" else "AwsApiCall",
        "managementEvent": source != "s3" or not event_name.endswith("Object"),
        "recipientAccountId": who.get("accountId", ACCOUNTS[0]),
        "eventCategory": "Management",
    }
    if additional is not None:
        body["additionalEventData"] = additional
    if error:
        body["errorCode"] = error
        body["errorMessage"] = f"User: {who.get('arn')} is not authorized to perform: {source}:{event_name}"
    return body


def k8s_record(
    rng: random.Random,
    actor: Actor,
    at: datetime,
    verb: str,
    resource: str,
    *,
    name: str | None = None,
    subresource: str | None = None,
    namespace: str | None = None,
    code: int = 200,
    agent: str | None = None,
    ip: str | None = None,
) -> dict[str, Any]:
    """A Kubernetes audit event (audit.k8s.io/v1, stage ResponseComplete)."""
    namespace = namespace or actor.namespace
    reference = {"resource": resource, "namespace": namespace, "apiVersion": "v1"}
    if name:
        reference["name"] = name
    if subresource:
        reference["subresource"] = subresource
    stamp = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Metadata",
        "auditID": event_id(rng),
        "stage": "ResponseComplete",
        "requestURI": f"/api/v1/namespaces/{namespace}/{resource}" + (f"/{name}" if name else ""),
        "verb": verb,
        "user": {"username": actor.identity["username"], "groups": ["system:serviceaccounts"]},
        "sourceIPs": [ip or rng.choice(actor.ips)],
        "userAgent": agent or actor.agent,
        "objectRef": reference,
        "responseStatus": {"metadata": {}, "code": code},
        "requestReceivedTimestamp": stamp,
        "stageTimestamp": stamp,
    }


# ------------------------------------------------------------------------------------------ actors

Call = Callable[[random.Random, "Actor", datetime], Record]


@dataclass(slots=True)
class Actor:
    """One identity of the population and how it behaves."""

    index: int
    kind: str  # user_key | ci_role | lambda_role | ec2_role | provisioner | k8s_sa | human | dormant
    name: str
    key: str  # the identity key the parser gives its events
    identity: dict[str, Any]  # CloudTrail userIdentity, or {"username": ...} for Kubernetes
    ips: list[str]
    agent: str
    calls: list[Call]
    hours: list[float]  # weight of each hour of the day (UTC)
    per_day: float
    weekend: float = 1.0  # activity factor on Saturday and Sunday
    error_rate: float = 0.01
    region: str = "us-east-1"
    namespace: str = "default"
    country: str = "US"
    attributed: bool = True  # an inventoried machine identity
    active_days: tuple[int, int] | None = None  # (first, last) day with activity; None for every day
    extras: list[Call] = field(default_factory=list)  # benign calls it makes rarely (new things)


def business_hours(start: int, end: int, night: float = 0.02) -> list[float]:
    return [1.0 if start <= hour < end else night for hour in range(24)]


def around_the_clock(peak_start: int = 8, peak_end: int = 20) -> list[float]:
    return [1.0 if peak_start <= hour < peak_end else 0.4 for hour in range(24)]


def nightly(hour: int) -> list[float]:
    return [1.0 if hour <= h < hour + 2 else 0.0 for h in range(24)]


@dataclass(slots=True)
class InjectedAttack:
    id: str
    template: str
    expected: tuple[str, ...]  # detectors that should report it
    victim: str  # identity key
    start: datetime
    event_ids: list[str]


@dataclass(slots=True)
class Scenario:
    seed: int
    days: int
    start: datetime
    actors: list[Actor]
    attacks: list[InjectedAttack]
    labels: dict[str, str]  # event id -> attack id
    nhi_keys: set[str]  # identity keys of inventoried machine identities
    _attack_records: dict[int, list[Record]]  # day -> records

    def day_records(self, day: int) -> list[Record]:
        """Every record of ``day`` in time order (benign and injected)."""
        records = [record for actor in self.actors for record in benign_day(self, actor, day)]
        records.extend(self._attack_records.get(day, ()))
        records.sort(key=lambda item: _time_of(item))
        return records

    def records(self) -> Iterator[Record]:
        for day in range(self.days):
            yield from self.day_records(day)

    def context(self, event: ActivityEvent) -> Context:
        """What the service would know about the event's source and identity (geo, inventory)."""
        attributed = event.identity.key in self.nhi_keys
        return Context(
            geo=synthetic_geo(event.source_ip),
            attributed=attributed,
            nhi_kind=event.identity.kind if attributed else None,
        )

    def day_events(self, day: int) -> list[tuple[ActivityEvent, Context]]:
        """The records of ``day`` as the ingest parsers make them into events, with their contexts."""
        events = []
        for source, body in self.day_records(day):
            parsed = parse_cloudtrail(body, "scenario") if source == "cloudtrail" else parse_k8s_audit(body, "scenario")
            if isinstance(parsed, ActivityEvent):
                events.append((parsed, self.context(parsed)))
        return events

    def events(self) -> Iterator[tuple[ActivityEvent, Context]]:
        """Every event with its context, in time order."""
        for day in range(self.days):
            yield from self.day_events(day)


def _time_of(item: Record) -> str:
    source, body = item
    stamp: str = body["eventTime"] if source == "cloudtrail" else body["stageTimestamp"][:19] + "Z"
    return stamp


def day_rng(seed: int, *parts: object) -> random.Random:
    digest = hashlib.blake2b(repr((seed, *parts)).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def generate(seed: int = 7, identities: int = 300, days: int = 36, attacks_per_template: int = 3) -> Scenario:
    """Plan the population and the attacks; records are produced later, a day at a time."""
    from analytics_attacks import inject

    actors = population(random.Random(seed), identities)
    nhi_keys = {actor.key for actor in actors if actor.attributed}
    nhi_keys |= {
        f"aws:user/{actor.identity['accountId']}/{actor.name}"
        for actor in actors
        if actor.kind in ("user_key", "dormant")
    }
    scenario = Scenario(seed, days, EPOCH, actors, [], {}, nhi_keys, {})
    inject(scenario, random.Random(seed + 1), attacks_per_template)
    return scenario


# -------------------------------------------------------------------------------------- population

BOTO = "Boto3/1.34.{v} md/Botocore#1.34.{v} ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.12.1 cfg/retry-mode#legacy"
AGENTS = {
    "boto": BOTO,
    "cli": "aws-cli/2.15.{v} Python/3.11.6 Linux/6.1 exe/x86_64.amzn.2 prompt/off command/s3.cp",
    "go": "aws-sdk-go-v2/1.24.{v} os/linux lang/go#1.21.6 md/GOOS#linux md/GOARCH#amd64",
    "terraform": "Terraform/1.7.{v} (+https://www.terraform.io) terraform-provider-aws/5.38.0 (+https://registry.terraform.io)",
    "lambda": BOTO + " exec-env/AWS_Lambda_python3.12",
    "console": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_3) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 "
    "Safari/605.1.15",
}
K8S_AGENTS = (
    "kube-controller-manager/v1.29.2 (linux/amd64) kubernetes/4b8e819/system:serviceaccount:kube-system",
    "argocd-application-controller/v0.0.0 (linux/amd64) kubernetes/$Format",
    "cert-manager-cainjector/v1.14.2 (linux/amd64) cert-manager/1.14.2",
    "prometheus/2.50.1",
    "external-secrets/v0.9.13 (linux/amd64) kubernetes/$Format",
)
OFFICES = {"DE": "62.157", "US": "12.34", "GB": "81.2"}
OFFICE_HOURS_UTC = {"DE": (7, 17), "US": (13, 23), "GB": (8, 18)}


def ct(
    event_name: str,
    source: str,
    request: Callable[[random.Random, Actor], dict[str, Any] | None] | None = None,
    **fields: Any,
) -> Call:
    """A benign CloudTrail call: ``request`` builds its parameters."""

    def call(rng: random.Random, actor: Actor, at: datetime) -> Record:
        parameters = request(rng, actor) if request is not None else None
        return "cloudtrail", cloudtrail_record(rng, actor, at, event_name, source, request=parameters, **fields)

    return call


def kube(verb: str, resource: str, names: tuple[str, ...] = ()) -> Call:
    def call(rng: random.Random, actor: Actor, at: datetime) -> Record:
        return "k8s-audit", k8s_record(rng, actor, at, verb, resource, name=rng.choice(names) if names else None)

    return call


def _object(rng: random.Random, actor: Actor) -> dict[str, Any]:
    return {"bucketName": f"{actor.name}-data", "key": f"{rng.randrange(10_000)}.json"}


def _secret(rng: random.Random, actor: Actor) -> dict[str, Any]:
    return {"secretId": f"prod/{actor.name}/{rng.randrange(2)}"}


def _parameter(rng: random.Random, actor: Actor) -> dict[str, Any]:
    return {"name": f"/{actor.name}/config/{rng.randrange(3)}", "withDecryption": True}


def _item(rng: random.Random, actor: Actor) -> dict[str, Any]:
    return {"tableName": f"{actor.name}-table", "key": {"id": {"S": str(rng.randrange(10**6))}}}


def _key(rng: random.Random, actor: Actor) -> dict[str, Any]:
    return {"encryptionContext": {"app": actor.name}, "encryptionAlgorithm": "SYMMETRIC_DEFAULT"}


def _new_user(rng: random.Random, actor: Actor) -> dict[str, Any]:
    return {"userName": f"contractor-{rng.randrange(10_000)}"}


def _read_only(rng: random.Random, actor: Actor) -> dict[str, Any]:
    return {"userName": f"contractor-{rng.randrange(10_000)}", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}


def _function(rng: random.Random, actor: Actor) -> dict[str, Any]:
    return {
        "functionName": f"{actor.name}-api",
        "s3Bucket": "artifacts",
        "s3Key": f"{actor.name}/{rng.randrange(999)}.zip",
    }


DATA_CALLS = [ct("GetObject", "s3", _object), ct("GetObject", "s3", _object), ct("PutObject", "s3", _object)]
USER_CALLS = [
    *DATA_CALLS,
    ct("ListObjects", "s3", _object),
    ct("DescribeInstances", "ec2"),
    ct("GetCallerIdentity", "sts"),
    ct("DescribeDBInstances", "rds"),
    ct("Query", "dynamodb", _item),
]
LAMBDA_CALLS = [
    ct("GetItem", "dynamodb", _item),
    ct("GetItem", "dynamodb", _item),
    ct("PutItem", "dynamodb", _item),
    ct("Query", "dynamodb", _item),
    ct("SendMessage", "sqs"),
    ct("Decrypt", "kms", _key),
    ct("GetSecretValue", "secretsmanager", _secret),
    ct("GetParameter", "ssm", _parameter),
    *DATA_CALLS,
]
EC2_CALLS = [
    *DATA_CALLS,
    ct("PutMetricData", "monitoring"),
    ct("PutMetricData", "monitoring"),
    ct("UpdateInstanceInformation", "ssm"),
    ct("GetCallerIdentity", "sts"),
    ct("DescribeTags", "ec2"),
]
TERRAFORM_READS = [
    ("DescribeVpcs", "ec2"),
    ("DescribeSubnets", "ec2"),
    ("DescribeSecurityGroups", "ec2"),
    ("GetRole", "iam"),
    ("GetRolePolicy", "iam"),
    ("ListAttachedRolePolicies", "iam"),
    ("GetFunction20150331v2", "lambda"),
    ("GetPolicy20150331v2", "lambda"),
    ("GetBucketPolicy", "s3"),
    ("GetBucketVersioning", "s3"),
    ("DescribeLogGroups", "logs"),
    ("ListTagsForResource", "rds"),
    ("DescribeTable", "dynamodb"),
    ("GetQueueAttributes", "sqs"),
    ("DescribeKey", "kms"),
    ("DescribeServices", "ecs"),
    ("DescribeRepositories", "ecr"),
    ("GetCallerIdentity", "sts"),
]
CI_WRITES = [
    ct("UpdateFunctionCode20150331v2", "lambda", _function),
    ct("PutObject", "s3", _object),
    ct("UpdateService", "ecs"),
    ct("PutImage", "ecr"),
]
PROVISIONER_CALLS = [
    ct("ListUsers", "iam"),
    ct("CreateUser", "iam", _new_user),
    ct("CreateAccessKey", "iam", _new_user),
    ct("AttachUserPolicy", "iam", _read_only),
    ct("AddUserToGroup", "iam", _new_user),
]
EXTRAS = [
    ct("DescribeRegions", "ec2"),
    ct("GetBucketLocation", "s3", _object),
    ct("ListQueues", "sqs"),
    ct("DescribeAlarms", "monitoring"),
    ct("Decrypt", "kms", _key),
    ct("GetSessionToken", "sts"),
    ct("ListRoles", "iam"),
    ct("DescribeStacks", "cloudformation"),
    ct("ListTopics", "sns"),
]

K8S_EXTRAS = [kube("list", "secrets"), kube("get", "nodes"), kube("list", "namespaces"), kube("list", "deployments")]


def _user_identity(account: str, name: str, key: str | None) -> dict[str, Any]:
    identity: dict[str, Any] = {
        "type": "IAMUser",
        "principalId": "AIDA" + key[4:] if key else "AIDAHUMAN",
        "arn": f"arn:aws:iam::{account}:user/{name}",
        "accountId": account,
        "userName": name,
    }
    if key:
        identity["accessKeyId"] = key
    return identity


def role_identity(account: str, role: str, session: str, ec2: bool = False) -> dict[str, Any]:
    context: dict[str, Any] = {
        "sessionIssuer": {
            "type": "Role",
            "principalId": "AROA" + role.upper()[:16].ljust(16, "X"),
            "arn": f"arn:aws:iam::{account}:role/{role}",
            "accountId": account,
            "userName": role,
        },
        "attributes": {"creationDate": "2026-01-05T00:00:00Z", "mfaAuthenticated": "false"},
    }
    if ec2:
        context["ec2RoleDelivery"] = "2.0"
    return {
        "type": "AssumedRole",
        "principalId": f"AROA{role.upper()[:16]}:{session}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{role}/{session}",
        "accountId": account,
        "accessKeyId": "ASIA" + role.upper()[:16].ljust(16, "Y"),
        "sessionContext": context,
    }


def _access_key(rng: random.Random) -> str:
    return "AKIA" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))


def population(rng: random.Random, size: int) -> list[Actor]:
    """``size`` identities: keys, CI/Lambda/EC2 roles, a provisioner, service accounts, people, dormant keys."""
    shares = [
        ("user_key", 0.24),
        ("ci_role", 0.12),
        ("lambda_role", 0.15),
        ("ec2_role", 0.15),
        ("k8s_sa", 0.22),
        ("human", 0.05),
        ("dormant", 0.04),
        ("provisioner", 0.01),
    ]
    kinds = [kind for kind, share in shares for _ in range(max(1, round(share * size)))][:size]
    kinds += ["user_key"] * (size - len(kinds))
    actors = []
    for index, kind in enumerate(kinds):
        account = rng.choice(ACCOUNTS)
        country = rng.choice(("DE", "US", "US", "GB"))
        name = f"{kind.split('_')[0]}-{index:03d}"
        version = rng.randrange(10, 40)
        if kind in ("user_key", "dormant"):
            key = _access_key(rng)
            prefix = OFFICES[country]
            networks = [rng.randrange(256) for _ in range(rng.choice((1, 1, 2)))]
            nightly_job = rng.random() < 0.3
            start, end = OFFICE_HOURS_UTC[country]
            actor = Actor(
                index,
                kind,
                f"svc-{name}",
                f"aws:key/{key}",
                _user_identity(account, f"svc-{name}", key),
                [address(rng, prefix, third) for third in networks for _ in range(3)],
                AGENTS[rng.choice(("boto", "cli", "go", "boto"))].format(v=version),
                rng.sample(USER_CALLS, 5),
                nightly(rng.randrange(0, 5)) if nightly_job else business_hours(start, end),
                rng.uniform(10, 60),
                weekend=rng.choice((0.1, 1.0)),
                country=country,
                active_days=(0, 2) if kind == "dormant" else None,
            )
        elif kind == "ci_role":
            role = f"gha-deploy-{index:03d}"
            actor = Actor(
                index,
                kind,
                role,
                f"aws:role/{account}/{role}",
                role_identity(account, role, "GitHubActions"),
                [address(rng, rng.choice(("20.42", "40.84"))) for _ in range(40)],
                AGENTS[rng.choice(("terraform", "cli"))].format(v=version % 8),
                rng.sample(CI_WRITES, 2),
                business_hours(8, 18, 0.0),
                rng.uniform(1, 4),
                weekend=0.0,
                error_rate=0.005,
            )
        elif kind in ("lambda_role", "ec2_role"):
            role = f"{name}-{'exec' if kind == 'lambda_role' else 'instance'}"
            if kind == "lambda_role":
                session, ips, calls = (
                    role.removesuffix("-exec"),
                    [address(rng, "3.80") for _ in range(30)],
                    LAMBDA_CALLS,
                )
            else:
                session, ips, calls = f"i-0{rng.getrandbits(64):016x}", [address(rng, "54.210")], EC2_CALLS
            actor = Actor(
                index,
                kind,
                role,
                f"aws:role/{account}/{role}",
                role_identity(account, role, session, ec2=kind == "ec2_role"),
                ips,
                AGENTS["lambda" if kind == "lambda_role" else "boto"].format(v=version),
                rng.sample(calls, 5),
                around_the_clock(),
                rng.uniform(20, 90),
                weekend=0.7,
            )
        elif kind == "provisioner":
            role = "identity-provisioner"
            actor = Actor(
                index,
                kind,
                role,
                f"aws:role/{account}/{role}",
                role_identity(account, role, "provision"),
                [address(rng, "3.80") for _ in range(5)],
                AGENTS["boto"].format(v=version),
                PROVISIONER_CALLS,
                business_hours(9, 11, 0.0),
                6,
                weekend=0.0,
            )
        elif kind == "k8s_sa":
            namespace = rng.choice(("payments", "search", "platform", "monitoring", "argocd"))
            sa = f"{name}-sa"
            verbs = [
                kube("get", "configmaps", ("app-config",)),
                kube("list", "pods"),
                kube("watch", "endpoints"),
                kube("update", "leases", (f"{sa}-leader",)),
                kube("get", "secrets", (f"{sa}-token",)),
                kube("create", "events"),
                kube("list", "services"),
            ]
            actor = Actor(
                index,
                kind,
                sa,
                f"k8s:sa/{namespace}/{sa}",
                {"username": f"system:serviceaccount:{namespace}:{sa}"},
                [f"10.42.{rng.randrange(256)}.{rng.randrange(1, 255)}" for _ in range(4)],
                rng.choice(K8S_AGENTS),
                rng.sample(verbs, 4),
                around_the_clock(0, 24),
                rng.uniform(20, 120),
                namespace=namespace,
            )
        else:  # a person: signs in to the console with MFA and looks around
            person = f"{rng.choice(('anna', 'ben', 'chen', 'dara', 'eli'))}.{index}"
            start, end = OFFICE_HOURS_UTC[country]
            identity = _user_identity(account, person, None)
            identity["accessKeyId"] = "ASIA" + person.upper().replace(".", "")[:16].ljust(16, "Z")
            actor = Actor(
                index,
                kind,
                person,
                f"aws:user/{account}/{person}",
                identity,
                [address(rng, OFFICES[country], 7)],
                AGENTS["console"],
                [ct("DescribeInstances", "ec2"), ct("ListBuckets", "s3"), ct("LookupEvents", "cloudtrail")],
                business_hours(start, end, 0.0),
                8,
                weekend=0.0,
                attributed=False,
                country=country,
            )
        actor.extras = K8S_EXTRAS if kind == "k8s_sa" else EXTRAS
        actors.append(actor)
    return actors


def benign_day(scenario: Scenario, actor: Actor, day: int) -> list[Record]:
    """One day of an identity's ordinary activity, the same for the same seed whatever is asked before it."""
    if actor.active_days is not None and not actor.active_days[0] <= day <= actor.active_days[1]:
        return []
    rng = day_rng(scenario.seed, actor.index, day)
    midnight = scenario.start + timedelta(days=day)
    weekend = midnight.weekday() >= 5
    volume = actor.per_day * (actor.weekend if weekend else 1.0) * rng.uniform(0.6, 1.4)
    if volume <= 0:
        return []
    ips = actor.ips
    roll = rng.random()
    if actor.kind not in ("k8s_sa", "lambda_role", "ec2_role", "ci_role") and roll < 0.004:
        ips = [address(rng, HOME_ISP.get(actor.country, "73.12"))]  # working from home: new network and ISP
    elif actor.kind in ("user_key", "human") and roll < 0.005:
        ips = [address(rng, TRAVEL.get(actor.country, "88.99"))]  # a trip
    records: list[Record] = []
    hours = rng.choices(range(24), weights=actor.hours, k=max(1, int(volume)))
    if actor.kind == "ci_role":  # deploys: a terraform plan and a few writes within minutes
        for _ in range(int(volume)):
            at = midnight + timedelta(hours=rng.choice(hours), minutes=rng.randrange(50))
            reads = rng.sample(TERRAFORM_READS, rng.randrange(6, 14))
            calls = [ct(name, source) for name, source in reads] + actor.calls
            ip = rng.choice(ips)
            for offset, call in enumerate(calls):
                records.append(_benign(rng, actor, call, at + timedelta(seconds=3 * offset), ip))
        return records
    busy = rng.random() < 0.003  # a backfill: one hour five times as busy
    if busy:
        hours += [hours[0]] * (4 * max(1, int(volume / max(1, sum(1 for w in actor.hours if w >= 1)))))
    for hour in hours:
        at = midnight + timedelta(hours=hour, seconds=rng.randrange(3600))
        call = rng.choice(actor.extras) if rng.random() < 0.0015 else rng.choice(actor.calls)
        records.append(_benign(rng, actor, call, at, rng.choice(ips)))
    if actor.kind == "human":
        at = midnight + timedelta(hours=hours[0], minutes=-5)
        records.append(
            (
                "cloudtrail",
                cloudtrail_record(
                    rng,
                    actor,
                    at,
                    "ConsoleLogin",
                    "signin",
                    response={"ConsoleLogin": "Success"},
                    additional={"LoginTo": "https://console.aws.amazon.com/", "MobileVersion": "No", "MFAUsed": "Yes"},
                    identity={key: value for key, value in actor.identity.items() if key != "accessKeyId"},
                ),
            )
        )
    return records


def _benign(rng: random.Random, actor: Actor, call: Call, at: datetime, ip: str) -> Record:
    source, body = call(rng, actor, at)
    if source == "cloudtrail":
        body["sourceIPAddress"] = ip
        if rng.random() < actor.error_rate:
            body["errorCode"] = rng.choice(("AccessDenied", "ThrottlingException", "ThrottlingException"))
    elif rng.random() < actor.error_rate:
        body["responseStatus"]["code"] = rng.choice((403, 409, 404))
    return source, body


# ------------------------------------------------------------------------------------------ files


def write_cloudtrail(directory: Path | str, scenario: Scenario, records_per_file: int = 2000) -> list[Path]:
    """CloudTrail log files ({"Records": [...]}, gzip) under ``directory``, as the S3 delivery lays them out."""
    root = Path(directory)
    paths: list[Path] = []
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        if not batch:
            return
        stamp = datetime.strptime(batch[0]["eventTime"], "%Y-%m-%dT%H:%M:%SZ")
        folder = root / f"AWSLogs/{ACCOUNTS[0]}/CloudTrail/us-east-1/{stamp:%Y/%m/%d}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{ACCOUNTS[0]}_CloudTrail_us-east-1_{stamp:%Y%m%dT%H%MZ}_{len(paths):06d}.json.gz"
        path.write_bytes(gzip.compress(json.dumps({"Records": batch}).encode(), 6))
        paths.append(path)
        batch.clear()

    for source, body in scenario.records():
        if source == "cloudtrail":
            batch.append(body)
            if len(batch) >= records_per_file:
                flush()
    flush()
    return paths


def write_k8s_audit(directory: Path | str, scenario: Scenario) -> Path:
    """The Kubernetes audit events, one JSON object per line (gzip)."""
    path = Path(directory) / "k8s-audit.jsonl.gz"
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt") as stream:
        for source, body in scenario.records():
            if source == "k8s-audit":
                stream.write(json.dumps(body) + "\n")
    return path


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Write the labelled scenario as CloudTrail and audit files.")
    parser.add_argument("directory", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--identities", type=int, default=300)
    parser.add_argument("--days", type=int, default=36)
    arguments = parser.parse_args()
    planned = generate(arguments.seed, arguments.identities, arguments.days)
    files = write_cloudtrail(arguments.directory, planned)
    write_k8s_audit(arguments.directory, planned)
    (arguments.directory / "labels.json").write_text(
        json.dumps(
            {
                "labels": planned.labels,
                "attacks": [
                    {
                        "id": a.id,
                        "template": a.template,
                        "expected": a.expected,
                        "victim": a.victim,
                        "start": a.start.isoformat(),
                    }
                    for a in planned.attacks
                ],
            }
        )
    )
    print(f"{len(files)} CloudTrail files, {len(planned.attacks)} attacks under {arguments.directory}")
