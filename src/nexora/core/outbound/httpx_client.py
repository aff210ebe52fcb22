"""httpx clients whose connections go through the guard (an httpcore network backend)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import anyio.to_thread
import httpcore
import httpx

from nexora.core.outbound.guard import DestinationRefused, Network, OutboundGuard, as_guard

DEFAULT_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)


class GuardedBackend(httpcore.NetworkBackend):
    """An httpcore backend that connects to the guard's checked addresses.

    httpcore passes the origin's host name to ``start_tls`` separately (``server_hostname``), so SNI
    and certificate verification still use the name, not the address connected to.
    """

    def __init__(self, guard: OutboundGuard, backend: httpcore.NetworkBackend | None = None) -> None:
        self.guard = guard
        self.backend = backend or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = self.guard.addresses(host, port)
        except OSError as error:
            raise httpcore.ConnectError(f"'{host}' cannot be resolved ({error})") from error
        failure: Exception | None = None
        for address in addresses:
            try:
                return self.backend.connect_tcp(str(address), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None
    ) -> httpcore.NetworkStream:
        raise DestinationRefused("outbound calls go to TCP destinations only")

    def sleep(self, seconds: float) -> None:
        self.backend.sleep(seconds)


class AsyncGuardedBackend(httpcore.AsyncNetworkBackend):
    """:class:`GuardedBackend` for async clients (resolution runs in a worker thread)."""

    def __init__(self, guard: OutboundGuard, backend: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.guard = guard
        self.backend = backend or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await anyio.to_thread.run_sync(self.guard.addresses, host, port)
        except OSError as error:
            raise httpcore.ConnectError(f"'{host}' cannot be resolved ({error})") from error
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self.backend.connect_tcp(str(address), port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise DestinationRefused("outbound calls go to TCP destinations only")

    async def sleep(self, seconds: float) -> None:
        await self.backend.sleep(seconds)


def _pool_options(verify: Any, cert: Any, limits: httpx.Limits, http2: bool) -> dict[str, Any]:
    """The httpcore pool settings httpx's own transports would use (TLS, limits, HTTP versions)."""
    return {
        "ssl_context": httpx.create_ssl_context(verify=verify, cert=cert, trust_env=False),
        "max_connections": limits.max_connections,
        "max_keepalive_connections": limits.max_keepalive_connections,
        "keepalive_expiry": limits.keepalive_expiry,
        "http1": True,
        "http2": http2,
    }


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with its connection pool built on :class:`GuardedBackend` (no proxies)."""

    def __init__(
        self,
        guard: OutboundGuard,
        *,
        verify: Any = True,
        cert: Any = None,
        limits: httpx.Limits = DEFAULT_LIMITS,
        http2: bool = False,
    ) -> None:
        super().__init__(verify=verify, cert=cert, trust_env=False, limits=limits, http2=http2)
        # HTTPTransport takes no network backend: replace its (still unused) pool by an equivalent one.
        self._pool = httpcore.ConnectionPool(
            **_pool_options(verify, cert, limits, http2), network_backend=GuardedBackend(guard)
        )


class AsyncGuardedTransport(httpx.AsyncHTTPTransport):
    """:class:`GuardedTransport` for ``httpx.AsyncClient``."""

    def __init__(
        self,
        guard: OutboundGuard,
        *,
        verify: Any = True,
        cert: Any = None,
        limits: httpx.Limits = DEFAULT_LIMITS,
        http2: bool = False,
    ) -> None:
        super().__init__(verify=verify, cert=cert, trust_env=False, limits=limits, http2=http2)
        self._pool = httpcore.AsyncConnectionPool(
            **_pool_options(verify, cert, limits, http2), network_backend=AsyncGuardedBackend(guard)
        )


def outbound_client(
    guard: OutboundGuard | Iterable[Network],
    *,
    follow_redirects: bool = False,
    verify: Any = True,
    **options: Any,
) -> httpx.Client:
    """An ``httpx.Client`` whose every connection (redirects included) goes through ``guard``.

    Environment proxies, ``.netrc`` and ``SSL_CERT_FILE`` are ignored (``trust_env=False``). Other
    ``options`` (``headers``, ``timeout``, ``base_url`` …) are passed to the client.
    """
    transport = GuardedTransport(as_guard(guard), verify=verify)
    return httpx.Client(transport=transport, trust_env=False, follow_redirects=follow_redirects, **options)


def async_outbound_client(
    guard: OutboundGuard | Iterable[Network],
    *,
    follow_redirects: bool = False,
    verify: Any = True,
    **options: Any,
) -> httpx.AsyncClient:
    """:func:`outbound_client` for async code."""
    transport = AsyncGuardedTransport(as_guard(guard), verify=verify)
    return httpx.AsyncClient(transport=transport, trust_env=False, follow_redirects=follow_redirects, **options)
