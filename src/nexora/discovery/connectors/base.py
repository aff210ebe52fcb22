"""What every connector gets and gives: its settings models, a run context, and the registry entry."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict

from nexora.core.config import ConnectorSettings, DiscoverySettings, Settings
from nexora.core.errors import NexoraError
from nexora.core.observability import scrub_text
from nexora.core.outbound import OutboundGuard
from nexora.core.resilience import Network, Resilience, RetryPolicy, Throttled, parse_networks
from nexora.discovery.connectors.files import HostPaths
from nexora.discovery.records import Collection

MAX_ERROR_LENGTH = 300


class RunStopped(Exception):
    """The run was cancelled: the connector stops before its next provider call."""


def _http_url(value: str) -> str:
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValueError("must be an absolute http:// or https:// URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http:// or https:// URL")
    return value


# A provider URL in a connector's settings; where it leads is checked when connecting (outbound guard).
HttpUrl = Annotated[str, AfterValidator(_http_url)]


class ConfigModel(BaseModel):
    """Connector settings: strict (unknown fields are refused) and free of secrets."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CredentialsModel(BaseModel):
    """Connector credentials: envelope-encrypted at rest, never returned, logged or published."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)


@dataclass
class CollectContext:
    """What a run hands its connector: settings, the resilience wrapper and the tenant's fingerprint key."""

    tenant_id: uuid.UUID
    settings: DiscoverySettings
    resilience: Resilience
    fingerprint_key: bytes | None = None
    allowed: list[Network] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)  # set when the run is cancelled
    connector: ConnectorSettings = field(default_factory=ConnectorSettings)
    # Host folders the connector may read; nothing unless the caller sets them (HostPaths.of(settings)).
    host: HostPaths = field(default_factory=HostPaths)
    # An uploaded run's unpacked input, read instead of the configured host paths; a git repository when input_git.
    input_dir: Path | None = None
    input_git: bool = False

    @classmethod
    def create(cls, tenant_id: uuid.UUID, root: Settings, fingerprint_key: bytes | None = None) -> CollectContext:
        """The context of one run or test of a connector, from the process settings."""
        settings = root.discovery
        policy = RetryPolicy(
            attempts=settings.retry_attempts,
            backoff_seconds=settings.retry_backoff_ms / 1000,
            backoff_max_seconds=settings.retry_backoff_max_ms / 1000,
        )
        resilience = Resilience(
            policy,
            failure_threshold=settings.circuit_failure_threshold,
            reset_seconds=settings.circuit_reset_seconds,
        )
        allowed = parse_networks([*root.outbound.allowed_networks, *settings.allowed_networks])
        return cls(tenant_id, settings, resilience, fingerprint_key, allowed, connector=root.connector)

    @property
    def timeout(self) -> float:
        return self.settings.outbound_timeout_seconds

    @cached_property
    def guard(self) -> OutboundGuard:
        """The outbound guard of this run: every provider connection goes through it (SSRF guard)."""
        return OutboundGuard(self.allowed)

    def check_url(self, url: str) -> None:
        """Refuse URLs pointing at private networks that are not allow-listed: a clear early error.

        The real control is the guard on each connection (:attr:`guard`), which also covers DNS
        rebinding and redirects.
        """
        self.guard.check_url(url)

    def call(
        self,
        endpoint: str,
        operation: Callable[[], Any],
        classify: Callable[[Exception], Exception],
        answered: Callable[[Exception], bool] | None = None,
    ) -> Any:
        """``operation`` with retries on throttling and the endpoint's circuit breaker.

        A client error (HTTP 4xx, by default recognised with :func:`answered_with_client_error`)
        means the endpoint is up and does not count towards opening its circuit.
        """
        if self.stop.is_set():
            raise RunStopped("the run was cancelled")
        return self.resilience.call(
            endpoint, operation, classify=classify, answered=answered or answered_with_client_error
        )

    def gather(self, collection: Collection, reads: Sequence[Read]) -> list[Any]:
        """Run independent provider reads at once (at most ``provider_concurrency`` threads).

        Returns each read's value in order; a read that fails yields its default and adds a run
        error under its scope (in the order of ``reads``, whatever order they finish in).
        """
        if not reads:
            return []

        def attempt(read: Read) -> tuple[Any, str | None]:
            try:
                return read.operation(), None
            except Exception as error:
                return read.default, error_message(error)

        workers = min(self.settings.provider_concurrency, len(reads))
        if workers == 1:
            outcomes = [attempt(read) for read in reads]
        else:
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="nexora-connector") as pool:
                outcomes = list(pool.map(attempt, reads))
        for read, (_, message) in zip(reads, outcomes, strict=True):
            if message is not None:
                collection.error(read.scope, message)
        return [value for value, _ in outcomes]


@dataclass(frozen=True)
class Read:
    """One provider read for :meth:`CollectContext.gather`: its error scope, its fallback, the call."""

    scope: str
    default: Any
    operation: Callable[[], Any]


Collector = Callable[[Any, Any, CollectContext], Collection]
Tester = Callable[[Any, Any, CollectContext], str]


@dataclass(frozen=True)
class ConnectorType:
    """A registered connector kind: how to validate its settings, collect, and test the connection."""

    kind: str
    provider: str
    description: str
    config_model: type[ConfigModel]
    credentials_model: type[CredentialsModel] | None
    collect: Collector
    test: Tester


def error_message(error: BaseException) -> str:
    """A one-line description of a provider error, safe to store: no credential-shaped text, bounded length."""
    if isinstance(error, NexoraError):
        text = error.message
    else:
        detail = str(error).strip().splitlines()[0] if str(error).strip() else ""
        text = f"{type(error).__name__}: {detail}" if detail else type(error).__name__
    text = storable_text(scrub_text(text))
    return text if len(text) <= MAX_ERROR_LENGTH else text[: MAX_ERROR_LENGTH - 1] + "…"


def storable_text(text: str) -> str:
    """``text`` as PostgreSQL can store it: NUL characters and unpaired surrogates, which it refuses, replaced."""
    return text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def answered_with_client_error(error: Exception) -> bool:
    """Whether a provider answered with a 4xx status (botocore, httpx and Kubernetes client errors)."""
    status = getattr(error, "status", None)
    response = getattr(error, "response", None)
    if status is None and response is not None:
        if isinstance(response, dict):
            status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        else:
            status = getattr(response, "status_code", None)
    return isinstance(status, int) and 400 <= status < 500


def retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def http_classify(error: Exception) -> Exception:
    """Map httpx errors: 429 (and 403 rate-limit answers) are retried, the rest fail the call."""
    import httpx

    if isinstance(error, httpx.HTTPStatusError):
        response = error.response
        limited = response.status_code == 429 or (
            response.status_code == 403 and response.headers.get("x-ratelimit-remaining") == "0"
        )
        if limited:
            return Throttled("rate limited", retry_after(response.headers.get("retry-after")))
    return error
