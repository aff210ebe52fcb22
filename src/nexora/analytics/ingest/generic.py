"""Generic JSON activity records, for sources Nexora has no parser for: one JSON object per activity.

The form (JSON lines, a JSON array, or ``{"Records": [...]}``)::

    {
      "time": "2026-03-01T12:00:00Z",   required: RFC 3339 with an offset, or Unix epoch seconds or milliseconds
      "id": "evt-0001",                 required: a string or integer, unique within this source
      "identity": "ci-deployer",        required: who acted; the profile key is "generic:<identity>"
      "action": "deploy",               required: what was done, as the source names it
      "identity_kind": "other",         one of iam_user, access_key, assumed_role, root, aws_service,
                                        k8s_service_account, k8s_user, github_token, github_user, other
                                        (default other)
      "identity_name": "CI deployer",   what a person reads (default: identity)
      "service": "ci",                  default "generic"
      "resource": "prod/web",           what was acted on
      "source_ip": "203.0.113.7",       kept as the source IP only when it is an IP address
      "user_agent": "deployer/2.1",
      "outcome": "success",             "success" (default) or "failure"
      "error_code": "Forbidden",
      "region": "eu-west-1",
      "read_only": false,               true for reads
      "access_key_id": "AKIA...",       the access key used, for attribution to an inventoried key
      "principal_arn": "arn:aws:iam::123456789012:role/deployer",
      "k8s_username": "system:serviceaccount:ci:deployer",
      "details": {}                     anything else, kept as given (secret-looking keys redacted)
    }

Strings are cut to 1,024 characters. A wrong type is a ``Reject`` naming the field and the type expected; an
unknown ``identity_kind`` or ``outcome`` is a ``Reject`` too. A ``source_ip`` that is not an address is kept in
``details.source_ip`` and the event has no source IP.
"""

from __future__ import annotations

from typing import Any

from nexora.analytics.activity import ActivityEvent, IdentityKeys, Outcome, Reject
from nexora.analytics.ingest.base import (
    FieldError,
    flag,
    ip_address,
    json_type,
    mapping,
    moment,
    required_text,
    text,
)
from nexora.analytics.ingest.scrub import scrub

IDENTITY_KINDS = frozenset(
    {
        "iam_user",
        "access_key",
        "assumed_role",
        "root",
        "aws_service",
        "k8s_service_account",
        "k8s_user",
        "github_token",
        "github_user",
        "other",
    }
)


def parse_generic(record: dict[str, Any], position: str) -> ActivityEvent | Reject:
    """One generic record as an activity, or a ``Reject`` naming the missing or mistyped field."""
    try:
        return _event(scrub(record))
    except FieldError as error:
        return Reject(position, str(error))


def _event(record: dict[str, Any]) -> ActivityEvent:
    if record.get("time") is None:
        raise FieldError("time is missing")
    time = moment(record["time"], "time")
    event_id = _identifier(record.get("id"))
    identity = required_text(record, "identity")
    action = required_text(record, "action")
    kind = text(record, "identity_kind") or "other"
    if kind not in IDENTITY_KINDS:
        raise FieldError(f"identity_kind is not one of {', '.join(sorted(IDENTITY_KINDS))}")
    outcome_text = text(record, "outcome") or "success"
    if outcome_text not in ("success", "failure"):
        raise FieldError('outcome is not "success" or "failure"')
    outcome: Outcome = "failure" if outcome_text == "failure" else "success"
    details = dict(mapping(record, "details") or {})
    address = text(record, "source_ip")
    source_ip = ip_address(address)
    if address is not None and source_ip is None:
        details["source_ip"] = address

    return ActivityEvent(
        time=time,
        source="generic",
        source_event_id=event_id,
        identity=IdentityKeys(
            key=f"generic:{identity}",
            name=text(record, "identity_name") or identity,
            kind=kind,
            access_key_id=text(record, "access_key_id"),
            principal_arn=text(record, "principal_arn"),
            k8s_username=text(record, "k8s_username"),
        ),
        action=action,
        service=text(record, "service") or "generic",
        resource=text(record, "resource"),
        source_ip=source_ip,
        user_agent=text(record, "user_agent"),
        outcome=outcome,
        error_code=text(record, "error_code"),
        region=text(record, "region"),
        read_only=flag(record, "read_only"),
        details=details,
        raw=record,
    )


def _identifier(value: Any) -> str:
    if type(value) is str and value:
        return value[:1024]
    if type(value) is int:
        return str(value)
    if value is None or value == "":
        raise FieldError("id is missing")
    raise FieldError(f"id is {json_type(value)}, expected a string or integer")
