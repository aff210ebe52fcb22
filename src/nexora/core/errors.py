"""One error hierarchy, rendered by the API as RFC 9457 ``application/problem+json``.

Messages say what was wrong and what to do; they never echo a secret or a submitted value.
"""

from __future__ import annotations

from typing import Any, ClassVar

PROBLEM_BASE = "https://nexora.dev/problems/"


class NexoraError(Exception):
    """An expected failure with an HTTP status and a stable problem type."""

    status: ClassVar[int] = 400
    type_slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}

    @property
    def type(self) -> str:
        return PROBLEM_BASE + self.type_slug

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.message,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


class ValidationFailed(NexoraError):
    status = 422
    type_slug = "validation-failed"
    title = "Invalid request"


class Unauthenticated(NexoraError):
    status = 401
    type_slug = "unauthenticated"
    title = "Authentication required"


class PermissionDenied(NexoraError):
    status = 403
    type_slug = "permission-denied"
    title = "Permission denied"


class NotFound(NexoraError):
    status = 404
    type_slug = "not-found"
    title = "Not found"


class Conflict(NexoraError):
    status = 409
    type_slug = "conflict"
    title = "Conflict"


class PayloadTooLarge(NexoraError):
    status = 413
    type_slug = "payload-too-large"
    title = "Request body too large"


class RateLimited(NexoraError):
    status = 429
    type_slug = "rate-limited"
    title = "Too many requests"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, extra={"retry_after": retry_after})
        self.retry_after = retry_after


class UpstreamUnavailable(NexoraError):
    status = 503
    type_slug = "upstream-unavailable"
    title = "A dependency is unavailable"


class ConfigurationError(NexoraError):
    """Settings or installation state that prevents Nexora from starting."""

    status = 500
    type_slug = "configuration"
    title = "Configuration error"
