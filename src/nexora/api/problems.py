"""RFC 9457 problem+json responses for every error the API can produce."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
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


def _database_problem(sqlstate: str) -> tuple[int, str]:
    """Map a PostgreSQL error class to what the caller can do about it."""
    if sqlstate.startswith("22"):
        return 422, "a value in the request cannot be stored (for example a NUL character or an out-of-range number)"
    if sqlstate.startswith("23"):
        return 409, "the request conflicts with existing data"
    if sqlstate in ("40001", "40P01", "55P03", "57014"):
        return 503, "the database was busy; retry the request"
    return 500, "an internal error occurred; the request id identifies it in the logs"


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

    @app.exception_handler(DBAPIError)
    async def _database_error(request: Request, error: DBAPIError) -> JSONResponse:
        sqlstate = str(getattr(error.orig, "sqlstate", "") or "")
        status, detail = _database_problem(sqlstate)
        if status >= 500:
            log.error("database error", path=request.url.path, sqlstate=sqlstate, error_type=type(error.orig).__name__)
        return generic_problem(status, detail, request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        log.error("unhandled error", path=request.url.path, error_type=type(error).__name__, exc_info=error)
        return generic_problem(500, "an internal error occurred; the request id identifies it in the logs", request)


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "An RFC 9457 problem document.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
        "retry_after": {"type": "integer"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "location": {"type": "array", "items": {"type": "string"}},
                    "message": {"type": "string"},
                    "type": {"type": ["string", "null"]},
                },
            },
        },
    },
    "additionalProperties": True,
}


def document_problems(schema: dict[str, Any]) -> dict[str, Any]:
    """Rewrite an OpenAPI document so every error response is problem+json, as the API sends them.

    Declared 4xx/5xx responses get the Problem schema, and every operation gets a ``default``
    Problem response (a 413 or a 500 can come from any operation).
    """
    problem = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    schemas["Problem"] = PROBLEM_SCHEMA
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for code, response in responses.items():
                if code[0] in "45":
                    response["content"] = problem
                    response.setdefault("description", "Error")
            responses.setdefault("422", {"description": "The request does not match the schema", "content": problem})
            responses["default"] = {"description": "Error (RFC 9457 problem)", "content": problem}
    return schema
