"""HTTP verifiers: one small request per provider, through the outbound network guard, read into an :class:`Outcome`.

Every request goes through :func:`nexora.core.outbound.outbound_client`: the host is resolved once, an
internal, loopback, link-local or metadata address is refused unless its network was allowed
(``--verify-allow-network``), and the connection goes to the address that was checked. Redirects are
never followed, answers are read up to :data:`MAX_BODY` bytes, and nothing raised by the network or
the provider escapes: it becomes ``unknown`` with a short reason that never contains the key.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from nexora import __version__
from nexora.core.errors import NexoraError
from nexora.core.outbound import DestinationRefused, Network, OutboundGuard, outbound_client
from nexora.scanner.model import Verification
from nexora.scanner.verify.limits import Limits
from nexora.scanner.verify.outcome import Outcome, identity_from
from nexora.scanner.verify.providers import PROVIDERS, Provider

__all__ = ["MAX_BODY", "PROVIDERS", "USER_AGENT", "HTTPVerifier", "Provider", "check", "interpret", "pluck"]

USER_AGENT = f"nexora-scan/{__version__}"
# Identity answers are small; a provider (or a proxy in its place) cannot make the scanner buffer more.
MAX_BODY = 1024 * 1024
_PARAM = re.compile(r"[a-z0-9-]{1,40}")
_RETRY_AFTER = re.compile(r"[0-9]{1,10}|[A-Za-z0-9 ,:]{1,40}")
_MAX_VALUES_PER_FIELD = 10


class _NotSent(Exception):
    """The check stops before any request: the reason is the message."""


class HTTPVerifier:
    """Checks keys against :data:`PROVIDERS` through one guarded client (thread-safe; close it when done)."""

    def __init__(
        self,
        *,
        timeout: float = 5.0,
        allowed_networks: Iterable[Network] = (),
        limits: Limits | None = None,
        guard: OutboundGuard | None = None,
        providers: Mapping[str, Provider] | None = None,
    ) -> None:
        self.guard = guard or OutboundGuard(tuple(allowed_networks))
        self.limits = limits or Limits(concurrency=2, interval=0.0)
        self.providers = PROVIDERS if providers is None else providers
        self.client = outbound_client(
            self.guard,
            follow_redirects=False,
            timeout=httpx.Timeout(timeout),
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> HTTPVerifier:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def check(self, name: str, token: str, endpoint: str | None = None) -> Outcome:
        """One live check of ``token`` with verifier ``name``; ``endpoint`` replaces the provider's base URL."""
        provider = self.providers.get(name)
        if provider is None:
            return Outcome.unknown(f"no verifier named {name!r}")
        try:
            request = self._request(provider, token, endpoint)
        except _NotSent as reason:
            return Outcome.unknown(str(reason)).scrubbed(token)
        with self.limits(name).slot():
            outcome = self._send(provider, request)
        return outcome.scrubbed(token)

    def _request(self, provider: Provider, token: str, endpoint: str | None) -> httpx.Request:
        for prefix, reason in provider.unsupported:
            if token.startswith(prefix):
                raise _NotSent(reason)
        if not token or not token.isascii() or not token.isprintable():
            raise _NotSent("not a printable ASCII key: not sent")
        base = endpoint or provider.base
        if "{param}" in base:
            found = re.search(provider.base_param_pattern or r"(?!)", token)
            if found is None or not _PARAM.fullmatch(found.group(1)):
                raise _NotSent(f"the key does not say which {provider.title} host to ask")
            base = base.replace("{param}", found.group(1))
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise _NotSent("the endpoint must be an absolute http:// or https:// base URL")
        headers = {key: _fill(value, token) for key, value in provider.headers.items()}
        if provider.basic is not None:
            user, password = (_fill(part, token) for part in provider.basic)
            headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        url = base.rstrip("/") + provider.path.replace("{token}", quote(token, safe=":"))
        try:
            return self.client.build_request(
                provider.method,
                url,
                headers=headers,
                params={key: _fill(value, token) for key, value in provider.query.items()} or None,
                json=_fill_json(provider.body, token) if provider.body is not None else None,
            )
        except (httpx.InvalidURL, ValueError):
            raise _NotSent("the endpoint is not a valid URL") from None

    def _send(self, provider: Provider, request: httpx.Request) -> Outcome:
        try:
            response = self.client.send(request, stream=True)
            try:
                body = _read(response)
            finally:
                response.close()
        except DestinationRefused as error:
            reason = error.message.split(";", 1)[0]
            return Outcome.unknown(
                f"refused by the outbound network guard: {reason} (allow it with --verify-allow-network)"
            )
        except httpx.TimeoutException as error:
            return Outcome.unknown(f"timed out ({type(error).__name__})")
        except httpx.HTTPError as error:
            return Outcome.unknown(type(error).__name__)
        except NexoraError as error:
            return Outcome.unknown(error.message)
        except (OSError, ValueError) as error:
            return Outcome.unknown(type(error).__name__)
        return interpret(provider, response.status_code, response.headers, body)


def check(
    name: str,
    token: str,
    endpoint: str | None = None,
    timeout: float = 5.0,
    allowed_networks: Iterable[Network] = (),
) -> Outcome:
    """One live check with a client of its own (for one-off use; scans share an :class:`HTTPVerifier`)."""
    with HTTPVerifier(timeout=timeout, allowed_networks=allowed_networks) as verifier:
        return verifier.check(name, token, endpoint)


def interpret(provider: Provider, status: int, headers: Mapping[str, str], body: bytes | None) -> Outcome:
    """The outcome of an answer, before scrubbing: throttling first, then the provider's rules, then the status."""
    if status == 429 or (status == 403 and headers.get("x-ratelimit-remaining") == "0"):
        return Outcome.unknown(_rate_limited(headers))
    if 300 <= status < 400:
        return Outcome.unknown(f"HTTP {status}: redirect not followed")
    data = _json(body)
    for path, value in provider.throttled:
        if _holds(data, path, value):
            return Outcome.unknown(_rate_limited(headers))
    for path, value in provider.rejected:
        if _holds(data, path, value):
            return Outcome.invalid(f"HTTP {status}, {path}: {_show(value)}")
    if status in provider.invalid:
        return Outcome.invalid(f"HTTP {status}" + (f" ({provider.note})" if provider.note else ""))
    if 200 <= status < 300:
        if provider.valid_when is not None and not any(pluck(data, provider.valid_when)):
            return Outcome.unknown(f"HTTP {status}: unexpected answer")
        identity = identity_from(_identity(provider, data, headers))
        return Outcome(Verification.VALID, f"HTTP {status}", identity)
    return Outcome.unknown(f"HTTP {status}")


def pluck(data: Any, path: str) -> list[Any]:
    """The values at a dotted ``path`` of parsed JSON; ``*`` walks every element of a list."""
    nodes = [data]
    for part in path.split("."):
        found: list[Any] = []
        for node in nodes:
            if part == "*" and isinstance(node, list):
                found.extend(node)
            elif isinstance(node, dict) and part in node:
                found.append(node[part])
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                found.append(node[int(part)])
        nodes = found
    return nodes


def _identity(provider: Provider, data: Any, headers: Mapping[str, str]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for key, source in provider.identity:
        if source.startswith("@"):
            values = [headers.get(source[1:], "")]
        else:
            values = [text for value in pluck(data, source) for text in _scalars(value)]
        pairs.extend((key, value) for value in values[:_MAX_VALUES_PER_FIELD])
    return pairs


def _scalars(value: Any) -> list[str]:
    if isinstance(value, list):
        return [text for item in value if not isinstance(item, list) for text in _scalars(item)]
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, (str, int, float)):
        return [str(value)]
    return []


def _holds(data: Any, path: str, expected: object) -> bool:
    # Strict on type: a JSON false must not match 0, nor true match 1.
    return any(type(value) is type(expected) and value == expected for value in pluck(data, path))


def _show(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _json(body: bytes | None) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return None


def _read(response: httpx.Response) -> bytes | None:
    """The body, or ``None`` when it is larger than :data:`MAX_BODY` (the status still counts)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _rate_limited(headers: Mapping[str, str]) -> str:
    retry = headers.get("retry-after", "").strip()
    if retry and _RETRY_AFTER.fullmatch(retry):
        return f"rate limited (Retry-After: {retry})"
    return "rate limited"


def _fill(template: str, token: str) -> str:
    return template.replace("{token}", token)


def _fill_json(value: object, token: str) -> object:
    if isinstance(value, str):
        return _fill(value, token)
    if isinstance(value, Mapping):
        return {key: _fill_json(item, token) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill_json(item, token) for item in value]
    return value
