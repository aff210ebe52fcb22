"""The outbound network guard: every connection to a provider goes to an address that was checked.

A client library that is handed a URL resolves the host itself when it connects, so checking the
URL beforehand is not enough: a name can resolve to a public address for the check and to
``169.254.169.254`` a moment later (DNS rebinding), and a redirect opens a connection that was never
checked at all. The guard therefore sits where each library opens its TCP connections: it resolves
the host once, refuses the connection if any resolved address is internal (unless allow-listed in
``NEXORA_OUTBOUND_ALLOWED_NETWORKS``), and connects to the address it checked. TLS still uses the
original host name for SNI and certificate verification.

Adapters: :func:`outbound_client` / :func:`async_outbound_client` (httpx, through an httpcore
network backend), :func:`guarded_requests_session` (requests, hence hvac),
:func:`guard_kubernetes_client` (the kubernetes client's urllib3 pool manager) and
:func:`guard_botocore_client` (botocore, through its ``before-send`` event). None of them uses a
proxy: a proxy resolves and reaches the destination itself, out of the guard's sight.
"""

from __future__ import annotations

from nexora.core.outbound.botocore_client import GuardedURLLib3Session, guard_botocore_client
from nexora.core.outbound.guard import (
    ALLOW_SETTING,
    METADATA,
    SCHEMES,
    Address,
    DestinationRefused,
    Network,
    OutboundGuard,
    Resolver,
    address_class,
    as_guard,
    host_addresses,
    parse_networks,
    resolve_host,
)
from nexora.core.outbound.httpx_client import (
    AsyncGuardedBackend,
    AsyncGuardedTransport,
    GuardedBackend,
    GuardedTransport,
    async_outbound_client,
    outbound_client,
)
from nexora.core.outbound.urllib3_pool import (
    GuardedConnectionMixin,
    GuardedHTTPAdapter,
    GuardedPoolManager,
    guard_kubernetes_client,
    guarded_requests_session,
)

__all__ = [
    "ALLOW_SETTING",
    "METADATA",
    "SCHEMES",
    "Address",
    "AsyncGuardedBackend",
    "AsyncGuardedTransport",
    "DestinationRefused",
    "GuardedBackend",
    "GuardedConnectionMixin",
    "GuardedHTTPAdapter",
    "GuardedPoolManager",
    "GuardedTransport",
    "GuardedURLLib3Session",
    "Network",
    "OutboundGuard",
    "Resolver",
    "address_class",
    "as_guard",
    "async_outbound_client",
    "guard_botocore_client",
    "guard_kubernetes_client",
    "guarded_requests_session",
    "host_addresses",
    "outbound_client",
    "parse_networks",
    "resolve_host",
]
