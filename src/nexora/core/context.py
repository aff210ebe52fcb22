"""Who is acting and for which request: carried in context variables into logs and events."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str | None = None
    actor: str | None = None  # "user:<id>", "api_key:<id>", "system:<component>"
    source_address: str | None = None


_current: ContextVar[RequestContext] = ContextVar("nexora_request_context", default=RequestContext())  # noqa: B039 - frozen


def current() -> RequestContext:
    return _current.get()


def bind(**changes: str | None) -> None:
    """Update the current context (request id, actor, source address) for this task."""
    values = {**current().__dict__, **changes}
    _current.set(RequestContext(**values))


def reset() -> None:
    _current.set(RequestContext())
