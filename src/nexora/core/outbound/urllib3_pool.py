"""urllib3 connections through the guard: requests sessions (hvac) and the kubernetes client."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterable
from typing import Any, NoReturn

import requests
import requests.adapters
from urllib3 import PoolManager
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util.connection import create_connection

from nexora.core.errors import ValidationFailed
from nexora.core.outbound.guard import SCHEMES, Network, OutboundGuard, _no_proxy, as_guard


class GuardedConnectionMixin(HTTPConnection):
    """Opens the socket to the guard's checked addresses; the TLS layer above still uses ``self.host``."""

    def __init__(self, *args: Any, outbound_guard: OutboundGuard, **kwargs: Any) -> None:
        self.outbound_guard = outbound_guard
        super().__init__(*args, **kwargs)

    def _new_conn(self) -> socket.socket:
        try:
            addresses = self.outbound_guard.addresses(self._dns_host, self.port)
        except socket.gaierror as error:
            raise NameResolutionError(self.host, self, error) from error
        failure: OSError | None = None
        for address in addresses:
            try:
                # A literal address: no second resolution happens here.
                sock = create_connection(
                    (str(address), self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except OSError as error:
                failure = error
                continue
            sys.audit("http.client.connect", self, self.host, self.port)
            return sock
        if isinstance(failure, TimeoutError):
            raise ConnectTimeoutError(
                self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
            ) from failure
        raise NewConnectionError(self, f"Failed to establish a new connection: {failure}") from failure


class GuardedHTTPConnection(GuardedConnectionMixin, HTTPConnection):
    pass


class GuardedHTTPSConnection(GuardedConnectionMixin, HTTPSConnection):
    pass


class GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


class GuardedPoolManager(PoolManager):
    """A urllib3 pool manager whose pools open guarded connections (redirects to new hosts included).

    The pool classes must use a connection class built on :class:`GuardedConnectionMixin`; any other
    fails on the ``outbound_guard`` argument rather than connecting unguarded.
    """

    def __init__(
        self,
        guard: OutboundGuard,
        num_pools: int = 10,
        headers: dict[str, str] | None = None,
        *,
        pool_classes: dict[str, type[HTTPConnectionPool]] | None = None,
        **connection_pool_kw: Any,
    ) -> None:
        super().__init__(num_pools, headers, **connection_pool_kw)
        self.guard = guard
        self.pool_classes_by_scheme = dict(
            pool_classes or {"http": GuardedHTTPConnectionPool, "https": GuardedHTTPSConnectionPool}
        )

    def _new_pool(
        self, scheme: str, host: str, port: int, request_context: dict[str, Any] | None = None
    ) -> HTTPConnectionPool:
        if scheme not in SCHEMES:
            raise ValidationFailed("the URL must be an absolute http:// or https:// URL")
        # The guard goes to the connections only: it is not part of the pool key.
        context = dict(self.connection_pool_kw if request_context is None else request_context)
        context["outbound_guard"] = self.guard
        return super()._new_pool(scheme, host, port, context)


class GuardedHTTPAdapter(requests.adapters.HTTPAdapter):
    """A requests adapter on a :class:`GuardedPoolManager`; proxies are refused."""

    def __init__(self, guard: OutboundGuard, **options: Any) -> None:
        self.guard = guard  # set first: the base class builds the pool manager in its __init__
        super().__init__(**options)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = requests.adapters.DEFAULT_POOLBLOCK, **pool_kwargs: Any
    ) -> None:
        self._pool_connections = connections
        self._pool_maxsize = maxsize
        self._pool_block = block
        self.poolmanager = GuardedPoolManager(
            self.guard, num_pools=connections, maxsize=maxsize, block=block, **pool_kwargs
        )

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> NoReturn:
        _no_proxy()


class _CredentialSafeSession(requests.Session):
    """Drops the named credential headers when a redirect leaves the host, as requests does for
    ``Authorization`` (it knows nothing of headers such as ``X-Vault-Token``)."""

    def __init__(self, credential_headers: tuple[str, ...]) -> None:
        super().__init__()
        self.credential_headers = credential_headers

    def rebuild_auth(self, prepared_request: requests.PreparedRequest, response: requests.Response) -> None:
        super().rebuild_auth(prepared_request, response)
        if self.should_strip_auth(response.request.url or "", prepared_request.url or ""):
            for name in self.credential_headers:
                prepared_request.headers.pop(name, None)


def guarded_requests_session(
    guard: OutboundGuard | Iterable[Network], *, credential_headers: tuple[str, ...] = ()
) -> requests.Session:
    """A ``requests.Session`` (for hvac's ``session=``) whose every connection, redirects included, is guarded.

    ``trust_env`` is off: no environment proxies, ``.netrc`` credentials or CA bundle overrides.
    ``credential_headers`` are dropped from a redirect to another host (with ``Authorization``).
    """
    session = _CredentialSafeSession(credential_headers)
    session.trust_env = False
    adapter = GuardedHTTPAdapter(as_guard(guard))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


_PROXY_POOL_KEYS = ("_proxy", "_proxy_headers", "_proxy_config", "_socks_options")


def guard_kubernetes_client(api_client: Any, guard: OutboundGuard | Iterable[Network]) -> Any:
    """Route a kubernetes ``ApiClient``'s connections through ``guard``; returns the client.

    The REST client's pool manager is replaced by a :class:`GuardedPoolManager` with the same TLS and
    pool settings (CA, client certificate, server name, socket options, size). A proxy, from the
    environment or the kubeconfig's ``proxy-url``, is not used: connections go straight to the API server.
    """
    rest = api_client.rest_client
    previous: PoolManager = rest.pool_manager
    settings = {key: value for key, value in previous.connection_pool_kw.items() if key not in _PROXY_POOL_KEYS}
    rest.pool_manager = GuardedPoolManager(as_guard(guard), **settings)
    previous.clear()
    return api_client
