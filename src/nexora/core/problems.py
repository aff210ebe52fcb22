"""RFC 9457 problem+json responses for every error the API can produce."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from nexora.core.errors import PROBLEM_BASE, NexoraError, RateLimited
from nexora.core.observability import get_logger

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = get_logger("nexora.api")

_HTTP_TITLES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("permission-denied", "Permission denied"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation-failed", "Invalid request"),
    429: ("rate-limited", "Too many requests"),
}


def problem_response(error: NexoraError, request: Request | None = None) -> JSONResponse:
    """Render ``error`` as problem+json (also used by routes that must commit before failing)."""
    headers = {}
    if isinstance(error, RateLimited):
        headers["Retry-After"] = str(error.retry_after)
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="nexora"'
    body = error.problem(instance=request.url.path if request else None)
    if request is not None and getattr(request.state, "request_id", None):
        body["request_id"] = request.state.request_id
    return JSONResponse(body, status_code=error.status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def generic_problem(status: int, detail: str, request: Request, **extra: Any) -> JSONResponse:
    slug, title = _HTTP_TITLES.get(status, ("error", "Error"))
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        **extra,
    }
    if getattr(request.state, "request_id", None):
        body["request_id"] = request.state.request_id
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE)


def _validation_errors(error: RequestValidationError) -> list[dict[str, Any]]:
    # Never echo the submitted value ("input") back: it may be a password or a token.
    errors = []
    for item in error.errors():
        location = [str(part) for part in item.get("loc", ())]
        errors.append({"location": location, "message": str(item.get("msg", "invalid")), "type": item.get("type")})
    return errors


def install(app: FastAPI) -> None:
    @app.exception_handler(NexoraError)
    async def _nexora_error(request: Request, error: NexoraError) -> JSONResponse:
        return problem_response(error, request)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(error)
        body_problem = any(e["type"] == "json_invalid" for e in errors)
        detail = "the request body is not valid JSON" if body_problem else "the request does not match the schema"
        return generic_problem(422, detail, request, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        detail = error.detail if isinstance(error.detail, str) else "request failed"
        if error.status_code == 404 and detail == "Not Found":
            detail = f"no such resource: {request.url.path}"
        response = generic_problem(error.status_code, detail, request)
        for name, value in (error.headers or {}).items():
            response.headers[name] = value
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        log.error("unhandled error", path=request.url.path, error_type=type(error).__name__, exc_info=error)
        return generic_problem(500, "an internal error occurred; the request id identifies it in the logs", request)
