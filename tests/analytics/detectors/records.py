"""Real-shaped CloudTrail and Kubernetes audit records, and the activity events the parsers make of them.

``record`` builds a CloudTrail record as AWS documents it (userIdentity, eventSource, requestParameters …);
``to_event`` fills an :class:`ActivityEvent` the way ``nexora.analytics.ingest`` does (service = eventSource
prefix, identity key per :class:`IdentityKeys`, ``details`` with the record's blocks and the derived session
fields), so the detector tests replay records, not hand-made events.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from nexora.analytics.activity import ActivityEvent, IdentityKeys
from nexora.analytics.detectors import Context, Detection, Engine, Geo
from nexora.analytics.profiles import Profile

ACCOUNT = "111122223333"
FOREIGN_ACCOUNT = "444455556666"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
CLI = "aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64.amzn.2 prompt/off command/iam.create-access-key"
BOTO = "Boto3/1.34.11 md/Botocore#1.34.11 ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.12.1 cfg/retry-mode#legacy"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0 Safari/537.36"
KUBECTL = "kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819"
CLIENT_GO = "argocd-application-controller/v0.0.0 (linux/amd64) kubernetes/$Format"

EVENT_SOURCES = {
    **dict.fromkeys(
        [
            "CreateAccessKey",
            "CreateLoginProfile",
            "UpdateLoginProfile",
            "CreateUser",
            "AttachUserPolicy",
            "AttachRolePolicy",
            "AttachGroupPolicy",
            "PutUserPolicy",
            "PutRolePolicy",
            "PutGroupPolicy",
            "CreatePolicyVersion",
            "UpdateAssumeRolePolicy",
            "ListUsers",
            "GetUser",
            "ListRoles",
            "ListAttachedUserPolicies",
            "ListAccessKeys",
        ],
        "iam.amazonaws.com",
    ),
    **dict.fromkeys(["GetFederationToken", "GetCallerIdentity", "AssumeRole"], "sts.amazonaws.com"),
    "ConsoleLogin": "signin.amazonaws.com",
    "CreateTrustAnchor": "rolesanywhere.amazonaws.com",
    **dict.fromkeys(
        ["AddPermission20150331v2", "UpdateFunctionCode20150331v2", "ListFunctions20150331"], "lambda.amazonaws.com"
    ),
    **dict.fromkeys(["GetSecretValue", "ListSecrets"], "secretsmanager.amazonaws.com"),
    **dict.fromkeys(
        ["GetParameter", "GetParameters", "SendCommand", "StartSession", "DescribeParameters"], "ssm.amazonaws.com"
    ),
    **dict.fromkeys(
        [
            "GetPasswordData",
            "DeleteFlowLogs",
            "ModifyImageAttribute",
            "ModifySnapshotAttribute",
            "AuthorizeSecurityGroupIngress",
            "ModifyInstanceAttribute",
            "RunInstances",
            "DescribeInstances",
            "DescribeVpcs",
            "DescribeSecurityGroups",
            "DescribeSnapshots",
            "DescribeImages",
            "DescribeRegions",
        ],
        "ec2.amazonaws.com",
    ),
    **dict.fromkeys(
        ["StopLogging", "DeleteTrail", "PutEventSelectors", "PutInsightSelectors", "DescribeTrails"],
        "cloudtrail.amazonaws.com",
    ),
    **dict.fromkeys(
        ["DeleteResolverQueryLogConfig", "DisassociateResolverQueryLogConfig"], "route53resolver.amazonaws.com"
    ),
    "LeaveOrganization": "organizations.amazonaws.com",
    **dict.fromkeys(["ModifyDBSnapshotAttribute"], "rds.amazonaws.com"),
    **dict.fromkeys(["GetObject", "PutObject", "ListBuckets"], "s3.amazonaws.com"),
    **dict.fromkeys(["Decrypt"], "kms.amazonaws.com"),
}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def user(name: str = "svc-backup", key: str | None = "AKIAIOSFODNN7BACKUP1", account: str = ACCOUNT) -> dict[str, Any]:
    """userIdentity of an IAM user, with a long-lived key (AKIA…) or, for the console, without one."""
    identity: dict[str, Any] = {
        "type": "IAMUser",
        "principalId": "AIDAJQABLZS4A3QDU576Q",
        "arn": f"arn:aws:iam::{account}:user/{name}",
        "accountId": account,
        "userName": name,
    }
    if key:
        identity["accessKeyId"] = key
    return identity


def role(
    name: str = "app",
    session: str = "botocore-session-1700000000",
    account: str = ACCOUNT,
    ec2_role_delivery: str | None = None,
    mfa: bool = False,
) -> dict[str, Any]:
    """userIdentity of an assumed-role session (an instance profile when ``ec2_role_delivery`` is set)."""
    context: dict[str, Any] = {
        "sessionIssuer": {
            "type": "Role",
            "principalId": "AROAEXAMPLEROLEID0001",
            "arn": f"arn:aws:iam::{account}:role/{name}",
            "accountId": account,
            "userName": name,
        },
        "attributes": {"creationDate": "2026-03-02T08:00:00Z", "mfaAuthenticated": "true" if mfa else "false"},
    }
    if ec2_role_delivery:
        context["ec2RoleDelivery"] = ec2_role_delivery
    return {
        "type": "AssumedRole",
        "principalId": f"AROAEXAMPLEROLEID0001:{session}",
        "arn": f"arn:aws:sts::{account}:assumed-role/{name}/{session}",
        "accountId": account,
        "accessKeyId": "ASIAEXAMPLESESSION01",
        "sessionContext": context,
    }


def root(account: str = ACCOUNT) -> dict[str, Any]:
    return {"type": "Root", "principalId": account, "arn": f"arn:aws:iam::{account}:root", "accountId": account}


def record(
    event_name: str,
    *,
    at: datetime = START,
    identity: dict[str, Any] | None = None,
    source: str | None = None,
    region: str = "us-east-1",
    ip: str = "198.51.100.7",
    agent: str = CLI,
    request: dict[str, Any] | None = None,
    response: dict[str, Any] | None = None,
    additional: dict[str, Any] | None = None,
    error: str | None = None,
    event_type: str | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """A CloudTrail record (the items of a log file's ``Records``)."""
    identity = identity if identity is not None else user()
    account = identity.get("accountId", ACCOUNT)
    body: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": iso(at),
        "eventSource": source or EVENT_SOURCES[event_name],
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": ip,
        "userAgent": agent,
        "requestParameters": request,
        "responseElements": response,
        "requestID": str(uuid.uuid4()),
        "eventID": event_id or str(uuid.uuid4()),
        "readOnly": event_name.startswith(("List", "Get", "Describe")),
        "eventType": event_type or ("AwsConsoleSignIn" if event_name == "ConsoleLogin" else "AwsApiCall"),
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
    }
    if additional is not None:
        body["additionalEventData"] = additional
    if error:
        body["errorCode"] = error
        body["errorMessage"] = f"User: {identity.get('arn')} is not authorized to perform: {event_name}"
    return body


def _identity(identity: dict[str, Any], event_source: str) -> IdentityKeys:
    kind = identity.get("type")
    account = identity.get("accountId")
    key_id = identity.get("accessKeyId")
    arn: str = identity.get("arn") or ""
    issuer = (identity.get("sessionContext") or {}).get("sessionIssuer") or {}
    common = {"access_key_id": key_id, "principal_arn": arn, "session_issuer_arn": issuer.get("arn")}
    if key_id and key_id.startswith("AKIA"):
        return IdentityKeys(
            f"aws:key/{key_id}", identity.get("userName") or key_id, "access_key", account=account, **common
        )
    if kind == "AssumedRole":
        name = issuer.get("userName") or arn.split(":assumed-role/")[1].split("/")[0]
        return IdentityKeys(f"aws:role/{account}/{name}", name, "assumed_role", account=account, **common)
    if kind == "IAMUser":
        name = identity.get("userName") or arn.rsplit("/", 1)[-1]
        return IdentityKeys(f"aws:user/{account}/{name}", name, "iam_user", account=account, **common)
    if kind == "Root":
        return IdentityKeys(f"aws:root/{account}", "root", "root", account=account, **common)
    service = identity.get("invokedBy") or event_source
    return IdentityKeys(f"aws:service/{service}", service, "aws_service", account=account, **common)


def to_event(body: dict[str, Any]) -> ActivityEvent:
    """The activity event ``nexora.analytics.ingest`` makes of a CloudTrail record."""
    identity = body["userIdentity"]
    session = identity.get("sessionContext") or {}
    details: dict[str, Any] = {
        "identity_type": identity.get("type"),
        "requestParameters": body.get("requestParameters"),
        "responseElements": body.get("responseElements"),
        "additionalEventData": body.get("additionalEventData"),
        "eventType": body.get("eventType"),
    }
    attributes = session.get("attributes") or {}
    if "mfaAuthenticated" in attributes:
        details["mfa_authenticated"] = attributes["mfaAuthenticated"] == "true"
    if session.get("ec2RoleDelivery"):
        details["ec2_role_delivery"] = session["ec2RoleDelivery"]
    if identity.get("type") == "AssumedRole":
        details["session_name"] = identity["arn"].rsplit("/", 1)[-1]
    failed = "errorCode" in body
    if body["eventName"] == "ConsoleLogin":
        outcome = (body.get("responseElements") or {}).get("ConsoleLogin")
        details["console_login"] = outcome
        failed = failed or outcome == "Failure"
        used = (body.get("additionalEventData") or {}).get("MFAUsed")
        if used is not None:
            details["mfa_authenticated"] = used == "Yes"
    address: str = body.get("sourceIPAddress") or ""
    is_address = bool(address) and (address[0].isdigit() or ":" in address)
    request: dict[str, Any] = body.get("requestParameters") or {}
    resource = next(
        (
            request[k]
            for k in ("userName", "roleName", "groupName", "bucketName", "secretId", "policyArn")
            if isinstance(request.get(k), str)
        ),
        None,
    )
    return ActivityEvent(
        time=datetime.strptime(body["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC),
        source="cloudtrail",
        source_event_id=body["eventID"],
        identity=_identity(identity, body["eventSource"]),
        action=body["eventName"],
        service=body["eventSource"].split(".amazonaws.com")[0],
        resource=resource,
        source_ip=address if is_address else None,
        user_agent=body.get("userAgent"),
        outcome="failure" if failed else "success",
        error_code=body.get("errorCode"),
        region=body.get("awsRegion"),
        read_only=body.get("readOnly"),
        details={key: value for key, value in details.items() if value is not None},
        raw=body,
    )


def cloudtrail(event_name: str, **fields: Any) -> ActivityEvent:
    """A CloudTrail record (see :func:`record`) as the parser turns it into an event."""
    return to_event(record(event_name, **fields))


def k8s_record(
    verb: str,
    resource: str,
    *,
    subresource: str | None = None,
    namespace: str = "payments",
    name: str | None = None,
    service_account: str | None = "payments/api",
    username: str | None = None,
    agent: str = CLIENT_GO,
    ip: str = "10.42.3.17",
    at: datetime = START,
    code: int = 200,
    event_id: str | None = None,
) -> dict[str, Any]:
    """A Kubernetes audit event (audit.k8s.io/v1) at stage ResponseComplete."""
    if username is None:
        sa_namespace, sa_name = (service_account or "default/default").split("/")
        username = f"system:serviceaccount:{sa_namespace}:{sa_name}"
    object_ref = {"resource": resource, "namespace": namespace, "name": name, "apiVersion": "v1"}
    if subresource:
        object_ref["subresource"] = subresource
    path = f"/api/v1/namespaces/{namespace}/{resource}" + (f"/{name}" if name else "")
    return {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "level": "Metadata",
        "auditID": event_id or str(uuid.uuid4()),
        "stage": "ResponseComplete",
        "requestURI": path + (f"/{subresource}?command=sh&stdin=true&tty=true" if subresource else ""),
        "verb": verb,
        "user": {"username": username, "groups": ["system:serviceaccounts", "system:authenticated"]},
        "sourceIPs": [ip],
        "userAgent": agent,
        "objectRef": {key: value for key, value in object_ref.items() if value is not None},
        "responseStatus": {"metadata": {}, "code": code},
        "requestReceivedTimestamp": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "stageTimestamp": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "annotations": {"authorization.k8s.io/decision": "allow" if code < 400 else "forbid"},
    }


def k8s_to_event(body: dict[str, Any]) -> ActivityEvent:
    """The activity event ``nexora.analytics.ingest`` makes of a Kubernetes audit event."""
    username = body["user"]["username"]
    if username.startswith("system:serviceaccount:"):
        namespace, name = username.split(":")[2:4]
        identity = IdentityKeys(
            f"k8s:sa/{namespace}/{name}", f"{namespace}/{name}", "k8s_service_account", k8s_username=username
        )
    else:
        identity = IdentityKeys(f"k8s:user/{username}", username, "k8s_user", k8s_username=username)
    ref = body["objectRef"]
    code = body["responseStatus"]["code"]
    subresource = ref.get("subresource")
    parts = [part for part in (ref.get("namespace"), ref.get("resource"), ref.get("name")) if part]
    return ActivityEvent(
        time=datetime.strptime(body["stageTimestamp"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC),
        source="k8s-audit",
        source_event_id=body["auditID"],
        identity=identity,
        action=f"{body['verb']}/{subresource}" if subresource else body["verb"],
        service=f"k8s:{ref['resource']}",
        resource="/".join(parts),
        source_ip=body["sourceIPs"][0],
        user_agent=body["userAgent"],
        outcome="failure" if code >= 400 else "success",
        error_code=str(code) if code >= 400 else None,
        read_only=body["verb"] in ("get", "list", "watch"),
        details={
            "verb": body["verb"],
            "subresource": subresource,
            "namespace": ref.get("namespace"),
            "resource": ref["resource"],
            "name": ref.get("name"),
        },
        raw=body,
    )


def k8s(verb: str, resource: str, **fields: Any) -> ActivityEvent:
    return k8s_to_event(k8s_record(verb, resource, **fields))


def located(
    country: str = "DE",
    asn: int = 3320,
    latitude: float = 50.11,
    longitude: float = 8.68,
    network: str | None = None,
    as_org: str = "Deutsche Telekom AG",
    attributed: bool = True,
) -> Context:
    """What the service knows about a source: its geo-IP location, and whether the identity is an inventoried NHI."""
    geo = Geo(country=country, asn=asn, as_org=as_org, network=network, latitude=latitude, longitude=longitude)
    return Context(geo=geo, attributed=attributed, nhi_kind="access_key" if attributed else None)


HOME = located()  # Frankfurt, Deutsche Telekom


def replay(
    engine: Engine,
    profile: Profile,
    events: Iterable[ActivityEvent | tuple[ActivityEvent, Context | None]],
) -> list[Detection]:
    """Run events through the engine as the service does: detect against the profile, then update it."""
    found: list[Detection] = []
    for item in events:
        event, context = item if isinstance(item, tuple) else (item, HOME)
        found.extend(engine.process(event, profile, context))
        profile.update(event, context)
    return found


def history(
    profile: Profile,
    make: Callable[[datetime, int], ActivityEvent],
    *,
    days: int = 10,
    per_day: int = 12,
    start: datetime = START - timedelta(days=10),
    context: Context | None = HOME,
    engine: Engine | None = None,
) -> datetime:
    """``days`` of routine activity (``per_day`` events between 09:00 and 17:00); returns when it ended."""
    moment = start
    for day in range(days):
        for index in range(per_day):
            moment = start + timedelta(days=day, minutes=index * (480 // per_day))
            event = make(moment, day * per_day + index)
            if engine is not None:
                engine.process(event, profile, context)
            profile.update(event, context)
    return moment


def routine_call(at: datetime, index: int) -> ActivityEvent:
    """The usual calls of svc-backup: reads of its bucket and the instances it backs up."""
    name = ("GetObject", "PutObject", "DescribeInstances", "GetCallerIdentity")[index % 4]
    request = {"bucketName": "backups", "key": f"db/{index}.dump"} if name.endswith("Object") else {}
    return cloudtrail(name, at=at, agent=BOTO, request=request)


def only(detections: list[Detection], detector: str) -> list[Detection]:
    return [detection for detection in detections if detection.detector == detector]
