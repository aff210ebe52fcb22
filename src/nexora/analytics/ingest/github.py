"""GitHub organisation audit-log events (``GET /orgs/{org}/audit-log``, the export, audit-log streaming).

Required: ``_document_id``, ``@timestamp`` or ``created_at`` (epoch milliseconds or RFC 3339), ``action``
("repo.create", "git.clone", "personal_access_token.request_created"), and ``hashed_token`` or ``actor``.
An event made with a token is keyed by the token, ``github:token/<hashed_token>`` (GitHub's fingerprint of it,
never the token), so each token has its own behaviour profile; otherwise by the login, ``github:actor/<actor>``.
The service is "github"; the resource is the repository ("org/repo") or else the organisation. ``read_only`` is
true for ``operation_type`` "access" (clones, fetches, views), unknown when the event has no operation type.

``details``: ``action_category`` (the action's prefix: "repo", "org", "git"), ``actor``, ``actor_id``, ``org``,
``repo``, ``business``, ``user`` (the member acted upon), ``team``, ``operation_type``,
``programmatic_access_type`` ("OAuth access token", "Fine-grained personal access token"...), ``token_id``,
``token_scopes``, ``country_code`` (``actor_location.country_code``), ``actor_ip`` (only when it is not an
address).
"""

from __future__ import annotations

from typing import Any

from nexora.analytics.activity import ActivityEvent, IdentityKeys, Reject
from nexora.analytics.ingest.base import (
    FieldError,
    compact,
    ip_address,
    json_type,
    mapping,
    moment,
    required_text,
    text,
)
from nexora.analytics.ingest.scrub import scrub


def parse_github(record: dict[str, Any], position: str) -> ActivityEvent | Reject:
    """One audit-log event as an activity, or a ``Reject`` naming the missing or mistyped field."""
    try:
        return _event(scrub(record))
    except FieldError as error:
        return Reject(position, str(error))


def _event(record: dict[str, Any]) -> ActivityEvent:
    document_id = required_text(record, "_document_id")
    stamp_key = "@timestamp" if record.get("@timestamp") is not None else "created_at"
    if record.get(stamp_key) is None:
        raise FieldError("@timestamp and created_at are missing")
    time = moment(record[stamp_key], stamp_key)
    action = required_text(record, "action")
    actor = text(record, "actor")
    hashed_token = text(record, "hashed_token")
    token_id = record.get("token_id")
    if token_id is not None and (type(token_id) is bool or type(token_id) not in (int, str)):
        raise FieldError(f"token_id is {json_type(token_id)}, expected a number or string")
    location = mapping(record, "actor_location") or {}
    repo = text(record, "repo") or text(record, "repository")
    org = text(record, "org")
    operation_type = text(record, "operation_type")
    address = text(record, "actor_ip")
    source_ip = ip_address(address)

    if hashed_token is not None:
        identity = IdentityKeys(
            key=f"github:token/{hashed_token}",
            name=actor or f"token {hashed_token}",
            kind="github_token",
            token_fingerprint=hashed_token,
        )
    elif actor is not None:
        identity = IdentityKeys(key=f"github:actor/{actor}", name=actor, kind="github_user")
    else:
        raise FieldError("actor and hashed_token are missing")

    details = {
        "action_category": action.partition(".")[0],
        "actor": actor,
        "actor_id": record.get("actor_id") if type(record.get("actor_id")) is int else None,
        "org": org,
        "repo": repo,
        "business": text(record, "business"),
        "user": text(record, "user"),
        "team": text(record, "team"),
        "operation_type": operation_type,
        "programmatic_access_type": text(record, "programmatic_access_type"),
        "token_id": token_id,
        "token_scopes": text(record, "token_scopes"),
        "country_code": text(location, "country_code", "actor_location.country_code"),
        "actor_ip": address if source_ip is None else None,
    }
    return ActivityEvent(
        time=time,
        source="github",
        source_event_id=document_id,
        identity=identity,
        action=action,
        service="github",
        resource=repo or org,
        source_ip=source_ip,
        user_agent=text(record, "user_agent"),
        read_only=operation_type == "access" if operation_type is not None else None,
        details=compact(details),
        raw=record,
    )
