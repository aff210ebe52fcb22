"""Kubernetes audit events (``audit.k8s.io/v1``, kind ``Event``) as activity events.

Required: ``auditID``, ``stageTimestamp`` or ``requestReceivedTimestamp``, ``verb``, ``user.username``. The API
server can log one request at several stages; only ``ResponseComplete`` (or an event without a stage) is an
activity, any other stage is a :class:`~nexora.analytics.ingest.base.Skip` (counted, not rejected), so a
request logged twice is counted once.

``system:serviceaccount:<namespace>:<name>`` is the service account ``k8s:sa/<namespace>/<name>``; any other user
is ``k8s:user/<name>``. The action is the verb, with the subresource when there is one ("create/exec",
"get/log"); the service is ``k8s:<resource>`` ("k8s:pods"; "k8s" for a non-resource URL such as /healthz); the
resource is "namespace/resource/name" without the parts the request lacks ("nodes/node-1" is cluster-wide,
"default/pods" is a list). A response code of 400 or more is a failure whose error code is the code.

``details``: ``verb``, ``subresource``, ``namespace``, ``resource``, ``name``, ``api_group``, ``api_version``,
``request_uri``, ``groups`` (the user's), ``impersonated_user``, ``decision`` and ``authorization_reason`` (the
authorizer's annotations), ``status_reason``, ``level``, ``source_ip`` (the first of ``sourceIPs`` when it is not
an address). The bodies of requests on Secrets
(``requestObject``/``responseObject``) are redacted from ``raw`` whatever their keys.
"""

from __future__ import annotations

from typing import Any

from nexora.analytics.activity import ActivityEvent, IdentityKeys, Reject
from nexora.analytics.ingest.base import (
    FieldError,
    Skip,
    bounded,
    compact,
    ip_address,
    json_type,
    mapping,
    moment,
    required_text,
    sequence,
    text,
)
from nexora.analytics.ingest.scrub import REDACTED, scrub

_READ_VERBS = frozenset({"get", "list", "watch"})
_SERVICE_ACCOUNT = "system:serviceaccount:"
_BODIES = ("requestObject", "responseObject")


def parse_k8s_audit(record: dict[str, Any], position: str) -> ActivityEvent | Reject | Skip:
    """One audit event as an activity, a ``Skip`` for a stage other than ResponseComplete, or a ``Reject``."""
    try:
        stage = text(record, "stage", limit=40)
        if stage is not None and stage != "ResponseComplete":
            return Skip(position, f"stage {stage} is not ResponseComplete")
        return _event(scrub(record))
    except FieldError as error:
        return Reject(position, str(error))


def _event(record: dict[str, Any]) -> ActivityEvent:
    kind = record.get("kind")
    if kind is not None and kind != "Event":
        raise FieldError("kind is not Event: not a Kubernetes audit event")
    audit_id = required_text(record, "auditID")
    stamp_key = "stageTimestamp" if record.get("stageTimestamp") is not None else "requestReceivedTimestamp"
    if record.get(stamp_key) is None:
        raise FieldError("stageTimestamp and requestReceivedTimestamp are missing")
    time = moment(record[stamp_key], stamp_key)
    verb = required_text(record, "verb")
    user = mapping(record, "user")
    if user is None:
        raise FieldError("user is missing")
    username = required_text(user, "username", "user.username")

    object_ref = mapping(record, "objectRef") or {}
    resource_kind = text(object_ref, "resource", "objectRef.resource")
    namespace = text(object_ref, "namespace", "objectRef.namespace")
    name = text(object_ref, "name", "objectRef.name")
    subresource = text(object_ref, "subresource", "objectRef.subresource")
    status = mapping(record, "responseStatus") or {}
    code = status.get("code")
    if code is not None and type(code) is not int:
        raise FieldError(f"responseStatus.code is {json_type(code)}, expected an integer")
    annotations = mapping(record, "annotations") or {}
    impersonated = mapping(record, "impersonatedUser") or {}
    groups = sequence(user, "groups", "user.groups")

    if resource_kind == "secrets" and any(record.get(body) is not None for body in _BODIES):
        record = dict(record) | {body: REDACTED for body in _BODIES if record.get(body) is not None}
    parts = [part for part in (namespace, resource_kind, name) if part]
    details = {
        "verb": verb,
        "subresource": subresource,
        "namespace": namespace,
        "resource": resource_kind,
        "name": name,
        "api_group": text(object_ref, "apiGroup", "objectRef.apiGroup"),
        "api_version": text(object_ref, "apiVersion", "objectRef.apiVersion"),
        "request_uri": text(record, "requestURI"),
        "groups": [bounded(group) for group in groups if type(group) is str] if groups else None,
        "impersonated_user": text(impersonated, "username", "impersonatedUser.username"),
        "decision": _annotation(annotations, "authorization.k8s.io/decision"),
        "authorization_reason": _annotation(annotations, "authorization.k8s.io/reason"),
        "status_reason": text(status, "reason", "responseStatus.reason"),
        "level": text(record, "level"),
    }
    address = _first_address(record)
    source_ip = ip_address(address)
    if source_ip is None and address is not None:
        details["source_ip"] = address  # kept as sent when it is not an address
    failed = code is not None and code >= 400
    return ActivityEvent(
        time=time,
        source="k8s-audit",
        source_event_id=audit_id,
        identity=_identity(username),
        action=f"{verb}/{subresource}" if subresource else verb,
        service=f"k8s:{resource_kind}" if resource_kind else "k8s",
        resource=bounded("/".join(parts)) if parts else None,
        source_ip=source_ip,
        user_agent=text(record, "userAgent"),
        outcome="failure" if failed else "success",
        error_code=str(code) if failed else None,
        read_only=verb in _READ_VERBS,
        details=compact(details),
        raw=record,
    )


def _identity(username: str) -> IdentityKeys:
    if username.startswith(_SERVICE_ACCOUNT):
        namespace, _, name = username[len(_SERVICE_ACCOUNT) :].partition(":")
        if namespace and name:
            return IdentityKeys(
                key=f"k8s:sa/{namespace}/{name}",
                name=f"{namespace}/{name}",
                kind="k8s_service_account",
                k8s_username=username,
            )
    return IdentityKeys(key=f"k8s:user/{username}", name=username, kind="k8s_user", k8s_username=username)


def _first_address(record: dict[str, Any]) -> str | None:
    addresses = sequence(record, "sourceIPs")
    if not addresses:
        return None
    first = addresses[0]
    if type(first) is not str:
        raise FieldError(f"sourceIPs[0] is {json_type(first)}, expected a string")
    return bounded(first)


def _annotation(annotations: dict[str, Any], key: str) -> str | None:
    return text(annotations, key, f"annotations.{key}")
