"""Logs (structlog, JSON), Prometheus metrics and OpenTelemetry traces.

Logs carry the request id and trace id of the work they describe. A redaction processor removes
anything that looks like a credential (Nexora API keys, JWTs, refresh tokens, bearer headers,
password/secret/token fields) before a line is written, as a last line of defence.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from bisect import bisect_left
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

import structlog
from prometheus_client import Counter, Gauge, Histogram

from nexora.core import context as request_context

REDACTED = "[redacted]"
_SENSITIVE_KEY = re.compile(r"pass(word)?|secret|token|authorization|api_?key|credential|cookie", re.I)
_SENSITIVE_TEXT: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"nxr_[0-9A-Za-z]{38}"), REDACTED),
    (re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"), REDACTED),
    (re.compile(r"rt1\.[0-9a-f]{32}\.[A-Za-z0-9_-]{20,}"), REDACTED),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 " + REDACTED),
    (re.compile(r"(://[^/\s:@]+:)[^@\s/]+@"), r"\1" + REDACTED + "@"),
]

HTTP_REQUEST_SECONDS = Histogram(
    "nexora_http_request_duration_seconds",
    "HTTP request latency by route template.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
BUS_EVENTS = Counter("nexora_bus_events_total", "Events handled by consumers.", ["group", "outcome"])
BUS_HANDLE_SECONDS = Histogram(
    "nexora_bus_handle_seconds",
    "Time from publish to handled, per consumer group.",
    ["group"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
BUS_LAG = Gauge("nexora_bus_consumer_lag", "Events published but not yet handled, per group.", ["group"])
BUS_DEAD_LETTERS = Counter("nexora_bus_dead_letters_total", "Events moved to the dead letters.", ["group"])


# Cheap first look: every pattern above contains one of these, so most strings skip the substitutions.
_TRIGGER = re.compile(r"nxr_|eyJ|rt1\.|bearer|basic|://", re.I)


def scrub_text(value: str) -> str:
    """Replace credential-shaped substrings of ``value``."""
    if not _TRIGGER.search(value):
        return value
    for pattern, replacement in _SENSITIVE_TEXT:
        value = pattern.sub(replacement, value)
    return value


def _scrub(value: Any, key: str | None = None) -> Any:
    if key is not None and _SENSITIVE_KEY.search(key) and value not in (None, "", [], {}):
        if not isinstance(value, bool | int | float):
            return REDACTED
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, Mapping):
        return {k: _scrub(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item) for item in value]
    return value


def redact_processor(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        event_dict[key] = _scrub(event_dict[key], None if key == "event" else key)
    return event_dict


def _add_request_context(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    ctx = request_context.current()
    if ctx.request_id and "request_id" not in event_dict:
        event_dict["request_id"] = ctx.request_id
    try:
        from opentelemetry import trace

        span_context = trace.get_current_span().get_span_context()
        if span_context.is_valid:
            event_dict.setdefault("trace_id", format(span_context.trace_id, "032x"))
            event_dict.setdefault("span_id", format(span_context.span_id, "016x"))
    except ImportError:  # pragma: no cover - opentelemetry is a dependency
        pass
    return event_dict


def configure_logging(level: str = "info", fmt: str = "json", stream: Any = None) -> None:
    """Route structlog and the standard library (uvicorn, alembic) through one redacting JSON pipeline."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_request_context,
        structlog.processors.format_exc_info,
        redact_processor,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "aiokafka", "kafka", "pgserver", "alembic.runtime.plugins"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True


def get_logger(name: str) -> Any:
    return structlog.stdlib.get_logger(name)


_tracing_configured = False


def configure_tracing(service_name: str) -> bool:
    """Export traces over OTLP/HTTP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set. Returns True if on."""
    global _tracing_configured
    if _tracing_configured:
        return True
    if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return False
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(timeout=5)))
    trace.set_tracer_provider(provider)
    _tracing_configured = True
    return True


def shutdown_tracing() -> None:
    from opentelemetry import trace

    provider = trace.get_tracer_provider()
    shutdown = getattr(provider, "shutdown", None)
    if callable(shutdown):
        shutdown()


def observe_many(histogram: Any, values: Iterable[float]) -> None:
    """Record ``values`` in a labelled histogram: the same samples as ``observe`` on each, with one
    counter update per bucket instead of a locked update per value (consumers observe every event).
    """
    bounds = getattr(histogram, "_upper_bounds", None)
    buckets = getattr(histogram, "_buckets", None)
    total = getattr(histogram, "_sum", None)
    if bounds is None or buckets is None or total is None:  # another prometheus_client layout
        for value in values:
            histogram.observe(value)
        return
    counts = [0] * len(bounds)
    amount = 0.0
    for value in values:
        counts[bisect_left(bounds, value)] += 1
        amount += value
    total.inc(amount)
    for index, count in enumerate(counts):
        if count:
            buckets[index].inc(count)
