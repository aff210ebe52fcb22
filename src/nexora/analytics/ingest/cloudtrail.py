"""AWS CloudTrail records (the ``Records`` items of CloudTrail's log files) as activity events.

Required: ``eventID``, ``eventTime`` (RFC 3339), ``eventName``, ``userIdentity`` (an object). The service is the
first label of ``eventSource`` ("iam.amazonaws.com" gives "iam"); ``errorCode`` makes the outcome a failure, as
does a ``ConsoleLogin`` whose ``responseElements.ConsoleLogin`` is "Failure". ``sourceIPAddress`` is kept as the
source IP only when it is an address (CloudTrail also writes a service host name or "AWS Internal" there).

The identity key follows ``userIdentity``: a long-lived access key (AKIA...) is ``aws:key/<id>`` whoever holds
it; an assumed-role session is ``aws:role/<account>/<role name>``; an IAM user otherwise (console, temporary
keys) is ``aws:user/<account>/<name>``; ``aws:root/<account>``; ``aws:service/<invokedBy or eventSource>``. Types
the identity contract does not name get keys of the same shape: ``aws:federated/<account>/<name>``,
``aws:account/<account>/<principal id>``, ``aws:identity-center/<user id>``, else ``aws:principal/<arn or id>``.

``details`` (keys present only when the record has them), with the record's own blocks under their CloudTrail
names: ``requestParameters``, ``responseElements``, ``additionalEventData``, ``eventType`` (AwsApiCall,
AwsConsoleSignIn, AwsServiceEvent...), ``eventCategory``, ``recipientAccountId``, ``vpcEndpointId``,
``errorMessage``, ``sourceIPAddress`` (only when it is not an address); and what is derived from them:
``identity_type`` (userIdentity.type), ``mfa_authenticated`` (bool: the session's attributes, or
``MFAUsed == "Yes"`` on a console sign-in), ``session_credential_from_console`` (bool), ``ec2_role_delivery``
("1.0"/"2.0": the instance metadata service version), ``session_name``, ``source_identity``, ``invoked_by``,
``console_login`` ("Success"/"Failure"). Everything comes from the scrubbed record, so no secret reaches them.
"""

from __future__ import annotations

from typing import Any

from nexora.analytics.activity import ActivityEvent, IdentityKeys, Reject
from nexora.analytics.ingest.base import (
    FieldError,
    bounded,
    compact,
    flag,
    ip_address,
    json_type,
    mapping,
    moment,
    sequence,
    text,
    texts,
)
from nexora.analytics.ingest.scrub import scrub

_TARGET_PARAMETERS = ("userName", "roleName", "groupName", "bucketName", "secretId", "policyArn")
# Fields AWS documents as metadata about the call and its caller, never request or response data: kept without a
# look inside when scrubbing. requestParameters, responseElements, additionalEventData, serviceEventDetails and
# any field not listed here are scrubbed.
TRUSTED_FIELDS = frozenset(
    {
        "eventVersion",
        "userIdentity",
        "eventTime",
        "eventSource",
        "eventName",
        "awsRegion",
        "sourceIPAddress",
        "userAgent",
        "errorCode",
        "errorMessage",
        "requestID",
        "eventID",
        "readOnly",
        "resources",
        "eventType",
        "apiVersion",
        "managementEvent",
        "recipientAccountId",
        "sharedEventID",
        "vpcEndpointId",
        "vpcEndpointAccountId",
        "eventCategory",
        "tlsDetails",
        "sessionCredentialFromConsole",
        "addendum",
        "edgeDeviceDetails",
    }
)


def parse_cloudtrail(record: dict[str, Any], position: str) -> ActivityEvent | Reject:
    """One CloudTrail record as an event, or a ``Reject`` naming the missing or mistyped field."""
    try:
        return _event(scrub(record, TRUSTED_FIELDS))
    except FieldError as error:
        return Reject(position, str(error))


_EVENT_TEXTS = (
    "eventID",
    "eventName",
    "eventSource",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "errorCode",
    "errorMessage",
    "eventType",
    "eventCategory",
    "recipientAccountId",
    "vpcEndpointId",
)
_IDENTITY_TEXTS = ("type", "arn", "accountId", "accessKeyId", "userName", "principalId", "invokedBy")
_ISSUER_TEXTS = ("arn", "accountId", "userName")
_SESSION_TEXTS = ("sourceIdentity", "ec2RoleDelivery")


def _event(record: dict[str, Any]) -> ActivityEvent:
    (
        event_id,
        action,
        event_source,
        region,
        address,
        user_agent,
        error_code,
        error_message,
        event_type,
        event_category,
        recipient_account,
        vpc_endpoint,
    ) = texts(record, _EVENT_TEXTS)
    if event_id is None:
        raise FieldError("eventID is missing")
    if action is None:
        raise FieldError("eventName is missing")
    time = moment(record.get("eventTime"), "eventTime")
    user_identity = mapping(record, "userIdentity")
    if user_identity is None:
        raise FieldError("userIdentity is missing")
    request = mapping(record, "requestParameters")
    response = mapping(record, "responseElements")
    additional = mapping(record, "additionalEventData")
    source_ip = ip_address(address)
    identity, details = _identity(user_identity, event_source)
    details.update(
        requestParameters=request,
        responseElements=response,
        additionalEventData=additional,
        eventType=event_type,
        eventCategory=event_category,
        recipientAccountId=recipient_account,
        vpcEndpointId=vpc_endpoint,
        errorMessage=error_message,
        sourceIPAddress=address if source_ip is None else None,
        session_credential_from_console=flag(record, "sessionCredentialFromConsole"),
    )
    failed = error_code is not None
    if action == "ConsoleLogin":
        console_login = text(response, "ConsoleLogin", "responseElements.ConsoleLogin") if response else None
        details["console_login"] = console_login
        failed = failed or console_login == "Failure"
        used = text(additional, "MFAUsed", "additionalEventData.MFAUsed") if additional else None
        if used is not None:
            details["mfa_authenticated"] = used == "Yes"

    return ActivityEvent(
        time=time,
        source="cloudtrail",
        source_event_id=event_id,
        identity=identity,
        action=action,
        service=_service(event_source),
        resource=_resource(record, request),
        source_ip=source_ip,
        user_agent=user_agent,
        outcome="failure" if failed else "success",
        error_code=error_code,
        region=region,
        read_only=flag(record, "readOnly"),
        details=compact(details),
        raw=record,
    )


def _service(event_source: str | None) -> str:
    if event_source is None:
        return "unknown"
    name, separator, _ = event_source.partition(".amazonaws.com")
    return name if separator else event_source


def _resource(record: dict[str, Any], request: dict[str, Any] | None) -> str | None:
    resources = sequence(record, "resources")
    for index, item in enumerate(resources or ()):
        if type(item) is not dict:
            raise FieldError(f"resources[{index}] is {json_type(item)}, expected an object")
        arn = text(item, "ARN", f"resources[{index}].ARN")
        if arn is not None:
            return arn
    if request:
        for key in _TARGET_PARAMETERS:
            value = request.get(key)
            if type(value) is str and value:
                return bounded(value)
    return None


def _identity(user_identity: dict[str, Any], event_source: str | None) -> tuple[IdentityKeys, dict[str, Any]]:
    """The identity keys of ``userIdentity`` and the details it gives (type, MFA, session name...)."""
    kind, arn, account, key_id, user_name, principal_id, invoked_by = texts(
        user_identity, _IDENTITY_TEXTS, "userIdentity."
    )
    details: dict[str, Any] = {"identity_type": kind, "invoked_by": invoked_by}
    issuer_arn = issuer_account = issuer_name = None
    session = mapping(user_identity, "sessionContext", "userIdentity.sessionContext")
    if session is not None:
        issuer = mapping(session, "sessionIssuer", "userIdentity.sessionContext.sessionIssuer")
        if issuer is not None:
            issuer_arn, issuer_account, issuer_name = texts(
                issuer, _ISSUER_TEXTS, "userIdentity.sessionContext.sessionIssuer."
            )
        attributes = mapping(session, "attributes", "userIdentity.sessionContext.attributes")
        if attributes is not None:
            details["mfa_authenticated"] = flag(
                attributes, "mfaAuthenticated", "userIdentity.sessionContext.attributes.mfaAuthenticated"
            )
        details["source_identity"], details["ec2_role_delivery"] = texts(
            session, _SESSION_TEXTS, "userIdentity.sessionContext."
        )

    if key_id is not None and key_id.startswith("AKIA"):
        key, identity_kind = f"aws:key/{key_id}", "access_key"
        name = user_name or ("root" if kind == "Root" else key_id)
    elif kind == "AssumedRole":
        account = issuer_account or account
        role = issuer_name or _role_from_arn(arn)
        if role is None and principal_id is not None:
            role = principal_id.partition(":")[0]  # the role's unique id (AROA...)
        if role is None or account is None:
            raise FieldError("userIdentity names no role (no sessionIssuer, assumed-role arn or principalId)")
        if arn is not None and ":assumed-role/" in arn:
            details["session_name"] = arn.rpartition("/")[2]
        key, name, identity_kind = f"aws:role/{account}/{role}", role, "assumed_role"
    else:
        key, name, identity_kind, account = _other_principal(
            user_identity, kind, arn, account, user_name, principal_id, key_id, invoked_by or event_source
        )
    identity = IdentityKeys(
        key=key,
        name=name,
        kind=identity_kind,
        access_key_id=key_id,
        principal_arn=arn,
        session_issuer_arn=issuer_arn,
        account=account,
    )
    return identity, details


def _other_principal(
    user_identity: dict[str, Any],
    kind: str | None,
    arn: str | None,
    account: str | None,
    user_name: str | None,
    principal_id: str | None,
    key_id: str | None,
    service: str | None,
) -> tuple[str, str, str, str | None]:
    """(key, name, kind, account) of a caller that is neither a long-lived key nor an assumed role."""
    if kind == "IAMUser":
        user = user_name or _last_part(arn) or principal_id
        if user is None or account is None:
            raise FieldError("userIdentity names no IAM user (userName, arn) or account")
        return f"aws:user/{account}/{user}", user, "iam_user", account
    if kind == "Root":
        account = account or _account_from_arn(arn)
        if account is None:
            raise FieldError("userIdentity names no account for the root user")
        return f"aws:root/{account}", "root", "root", account
    if kind == "AWSService":
        if service is None:
            raise FieldError("userIdentity names no service (invokedBy, eventSource)")
        return f"aws:service/{service}", service, "aws_service", account
    if kind == "FederatedUser":
        federated = _last_part(arn) or principal_id
        if federated is None or account is None:
            raise FieldError("userIdentity names no federated user (arn) or account")
        return f"aws:federated/{account}/{federated}", federated, "other", account
    if kind == "AWSAccount" and account is not None:
        suffix = f"/{principal_id}" if principal_id else ""
        return f"aws:account/{account}{suffix}", principal_id or account, "other", account
    if kind == "IdentityCenterUser":
        behalf = mapping(user_identity, "onBehalfOf", "userIdentity.onBehalfOf")
        user_id = text(behalf, "userId", "userIdentity.onBehalfOf.userId") if behalf else None
        if user_id is not None:
            return f"aws:identity-center/{user_id}", user_name or user_id, "other", account
    principal = arn or principal_id or key_id
    if principal is None:
        raise FieldError("userIdentity names no principal (no type, arn, principalId or accessKeyId)")
    return f"aws:principal/{principal}", user_name or principal, "other", account


def _last_part(arn: str | None) -> str | None:
    """The name at the end of an ARN's resource ("arn:aws:iam::1:user/path/bob" gives "bob")."""
    if arn is None or not arn.startswith("arn:"):
        return None
    return arn.rpartition("/")[2] or None


def _role_from_arn(arn: str | None) -> str | None:
    """The role of an assumed-role ARN ("arn:aws:sts::1:assumed-role/app/session" gives "app")."""
    if arn is None:
        return None
    _, marker, rest = arn.partition(":assumed-role/")
    if not marker:
        return None
    return rest.partition("/")[0] or None


def _account_from_arn(arn: str | None) -> str | None:
    """The account of an ARN ("arn:aws:iam::123456789012:root" gives "123456789012")."""
    parts = arn.split(":", 5) if arn else []
    if len(parts) < 6:
        return None
    return parts[4] or None
