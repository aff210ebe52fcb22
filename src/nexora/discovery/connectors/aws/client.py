"""AWS clients for one connector run, with Nexora's timeouts, retries and circuit breaker around each call."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from nexora.core.errors import UpstreamUnavailable, ValidationFailed
from nexora.core.outbound import guard_botocore_client
from nexora.core.resilience import Throttled
from nexora.discovery.connectors.base import CollectContext

THROTTLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "SlowDown",
    }
)
DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess"})


def error_code(error: BaseException) -> str | None:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code", ""))
    return None


def classify(error: Exception) -> Exception:
    code = error_code(error)
    if code in THROTTLE_CODES:
        return Throttled(f"AWS throttled the request ({code})")
    if isinstance(error, EndpointConnectionError):
        return UpstreamUnavailable("the AWS endpoint cannot be reached; check the endpoint URL and network")
    return error


_SESSION_LOCK = threading.Lock()
_SESSION: list[botocore.session.Session] = []


def _client(service: str, **options: Any) -> Any:
    """A new client from one process-wide botocore session.

    The session caches the parsed service models (a fresh session re-reads and parses them, about
    0.2 s per service), and its client factory is not thread-safe, hence the lock. Credentials are
    passed per client, so connectors never share them.
    """
    with _SESSION_LOCK:
        if not _SESSION:
            _SESSION.append(botocore.session.Session())
        return _SESSION[0].create_client(service, **options)


class AwsClients:
    """The clients of one connector run (created once per service); every call goes through :meth:`call`."""

    def __init__(self, config: Any, credentials: Any, context: CollectContext) -> None:
        if config.endpoint_url:
            context.check_url(config.endpoint_url)
        self.context = context
        self.region = config.region
        self.endpoint_url = config.endpoint_url
        self._credentials: dict[str, Any] = {}
        if credentials is None and not context.connector.allow_host_credentials:
            # botocore's default chain would act as the Nexora host (its instance profile, its environment).
            raise ValidationFailed(
                "this AWS connector has no credentials; give an access key (the Nexora host's own AWS identity "
                "is not lent to connectors: NEXORA_CONNECTOR_ALLOW_HOST_CREDENTIALS)"
            )
        if credentials is not None:
            self._credentials = {
                "aws_access_key_id": credentials.access_key_id,
                "aws_secret_access_key": credentials.secret_access_key.get_secret_value(),
                "aws_session_token": (
                    credentials.session_token.get_secret_value() if credentials.session_token else None
                ),
            }
        self.botocore_config = Config(
            connect_timeout=context.timeout,
            read_timeout=context.timeout,
            retries={"total_max_attempts": 1},  # Nexora retries throttling itself, with jitter
            proxies={},  # no proxy from the environment: the guard must see each destination
            max_pool_connections=max(10, context.settings.provider_concurrency),
            user_agent_extra="nexora-discovery",
        )
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                client = _client(
                    service,
                    region_name=self.region,
                    endpoint_url=self.endpoint_url,
                    config=self.botocore_config,
                    **self._credentials,
                )
                # Requests are sent by a guarded session: every connection goes to a checked address.
                self._clients[service] = guard_botocore_client(client, self.context.guard)
            return self._clients[service]

    def call(self, service: str, operation: str, **kwargs: Any) -> Any:
        method: Callable[..., Any] = getattr(self.client(service), operation)
        endpoint = f"aws:{self.endpoint_url or self.region}:{service}"
        return self.context.call(endpoint, lambda: method(**kwargs), classify)

    def pages(self, service: str, operation: str, token_in: str, token_out: str, **kwargs: Any) -> Iterator[Any]:
        """Each page of a paginated operation, each page retried on its own."""
        marker: str | None = None
        while True:
            arguments = dict(kwargs)
            if marker:
                arguments[token_in] = marker
            page = self.call(service, operation, **arguments)
            yield page
            marker = page.get(token_out)
            truncated = page.get("IsTruncated", bool(marker))
            if not marker or not truncated:
                return


__all__ = ["DENIED_CODES", "AwsClients", "BotoCoreError", "ClientError", "error_code"]
