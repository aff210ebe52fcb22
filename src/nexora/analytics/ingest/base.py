"""What every parser shares: the ``Skip`` marker, the parser type, and readers for one field of a record.

A parser takes one record (a JSON object as read) and its position and returns an
:class:`~nexora.analytics.activity.ActivityEvent`, a :class:`~nexora.analytics.activity.Reject` (the record is
wrong: a missing field, a wrong type) or a :class:`Skip` (the record is fine but is not an activity, such as a
Kubernetes audit event at a stage other than ``ResponseComplete``). Inside a parser the field readers raise
:class:`FieldError`; the parser turns it into a ``Reject`` whose reason names the field and never its value.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from nexora.analytics.activity import ActivityEvent, Reject

MAX_TEXT = 1024  # longest string kept in an event field (user agents, resources, names); longer ones are cut
_EPOCH_MILLISECONDS_FROM = 100_000_000_000  # a number this large is milliseconds (as seconds it is year 5138)


@dataclass(slots=True, frozen=True)
class Skip:
    """A well-formed record that is not an activity to keep; callers count skips apart from rejects."""

    position: str
    reason: str


ParseResult = ActivityEvent | Reject | Skip
Parser = Callable[[dict[str, Any], str], ParseResult]


class FieldError(ValueError):
    """A field is missing or has the wrong type; the message names the field, never its value."""


_JSON_TYPES = {
    dict: "an object",
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


def json_type(value: Any) -> str:
    """How JSON names the type of ``value``: "an object", "a string", "null"..."""
    return _JSON_TYPES.get(type(value), type(value).__name__)


def bounded(value: str, limit: int = MAX_TEXT) -> str:
    return value if len(value) <= limit else value[:limit]


def text(record: dict[str, Any], key: str, label: str | None = None, *, limit: int = MAX_TEXT) -> str | None:
    """The string at ``key`` (cut to ``limit``), or None when absent, null or empty."""
    value = record.get(key)
    if type(value) is str:
        return (value if len(value) <= limit else value[:limit]) or None
    if value is None:
        return None
    raise FieldError(f"{label or key} is {json_type(value)}, expected a string")


def texts(record: dict[str, Any], keys: tuple[str, ...], prefix: str = "") -> list[str | None]:
    """The strings at ``keys`` in order, as :func:`text` reads each (one call for many fields: parsers are hot)."""
    values: list[str | None] = []
    for key in keys:
        value = record.get(key)
        if type(value) is str:
            values.append((value if len(value) <= MAX_TEXT else value[:MAX_TEXT]) or None)
        elif value is None:
            values.append(None)
        else:
            raise FieldError(f"{prefix}{key} is {json_type(value)}, expected a string")
    return values


def required_text(record: dict[str, Any], key: str, label: str | None = None) -> str:
    value = text(record, key, label)
    if value is None:
        raise FieldError(f"{label or key} is missing")
    return value


def mapping(record: dict[str, Any], key: str, label: str | None = None) -> dict[str, Any] | None:
    """The object at ``key``, or None when absent or null."""
    value = record.get(key)
    if value is None or type(value) is dict:
        return value
    raise FieldError(f"{label or key} is {json_type(value)}, expected an object")


def sequence(record: dict[str, Any], key: str, label: str | None = None) -> list[Any] | None:
    """The array at ``key``, or None when absent or null."""
    value = record.get(key)
    if value is None or type(value) is list:
        return value
    raise FieldError(f"{label or key} is {json_type(value)}, expected an array")


def flag(record: dict[str, Any], key: str, label: str | None = None) -> bool | None:
    """A boolean, also written as the strings "true"/"false" (CloudTrail writes both); None when absent."""
    value = record.get(key)
    if value is None or type(value) is bool:
        return value
    if type(value) is str and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise FieldError(f"{label or key} is {json_type(value)}, expected a boolean")


def moment(value: Any, label: str) -> datetime:
    """An RFC 3339 time or a Unix epoch in seconds or milliseconds, as an aware UTC datetime."""
    if type(value) is str:
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise FieldError(f"{label} is not an RFC 3339 time") from None
        if parsed.tzinfo is None:
            raise FieldError(f"{label} has no time zone offset")
        return parsed if parsed.tzinfo is UTC else parsed.astimezone(UTC)
    if type(value) is int or type(value) is float:
        seconds = value / 1000 if abs(value) >= _EPOCH_MILLISECONDS_FROM else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (ValueError, OverflowError, OSError):
            raise FieldError(f"{label} is out of range") from None
    if value is None:
        raise FieldError(f"{label} is missing")
    raise FieldError(f"{label} is {json_type(value)}, expected an RFC 3339 string or epoch number")


def ip_address(value: str | None) -> str | None:
    """``value`` as a normalised IP address, or None when it is not one ("AWS Internal", a host name)."""
    if value is None or len(value) > 64:
        return None
    return _normal_ip(value)


@lru_cache(maxsize=65536)  # the same few addresses recur in a log; parsing one costs a microsecond
def _normal_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def compact(details: dict[str, Any]) -> dict[str, Any]:
    """``details`` without the keys whose value is None, so stored events carry only what the record said."""
    return {key: value for key, value in details.items() if value is not None}
