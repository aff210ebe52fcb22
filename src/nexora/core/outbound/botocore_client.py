"""botocore clients whose signed requests go through a guarded urllib3 pool."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NoReturn

import botocore.awsrequest
import botocore.httpsession
from botocore.exceptions import HTTPClientError
from urllib3.connectionpool import HTTPConnectionPool

from nexora.core.outbound.guard import DestinationRefused, Network, OutboundGuard, _no_proxy, as_guard
from nexora.core.outbound.urllib3_pool import GuardedConnectionMixin, GuardedPoolManager


class GuardedAWSHTTPConnection(GuardedConnectionMixin, botocore.awsrequest.AWSHTTPConnection):  # type: ignore[misc]
    pass


class GuardedAWSHTTPSConnection(GuardedConnectionMixin, botocore.awsrequest.AWSHTTPSConnection):  # type: ignore[misc]
    pass


class GuardedAWSHTTPConnectionPool(botocore.awsrequest.AWSHTTPConnectionPool):  # type: ignore[misc]
    ConnectionCls = GuardedAWSHTTPConnection


class GuardedAWSHTTPSConnectionPool(botocore.awsrequest.AWSHTTPSConnectionPool):  # type: ignore[misc]
    ConnectionCls = GuardedAWSHTTPSConnection


class GuardedURLLib3Session(botocore.httpsession.URLLib3Session):  # type: ignore[misc]
    """botocore's HTTP session on a :class:`GuardedPoolManager`; proxies are refused.

    A refusal is raised as :class:`DestinationRefused` (botocore would wrap it in ``HTTPClientError``).
    """

    def __init__(self, guard: OutboundGuard, **options: Any) -> None:
        super().__init__(proxies={}, **options)
        pools: dict[str, type[HTTPConnectionPool]] = {
            "http": GuardedAWSHTTPConnectionPool,
            "https": GuardedAWSHTTPSConnectionPool,
        }
        self._pool_classes_by_scheme = pools
        self._manager = GuardedPoolManager(guard, pool_classes=pools, **self._get_pool_manager_kwargs())

    def _get_proxy_manager(self, proxy_url: str) -> NoReturn:
        _no_proxy()

    def send(self, request: Any) -> Any:
        try:
            return super().send(request)
        except HTTPClientError as error:
            cause = error.kwargs.get("error")
            if isinstance(cause, DestinationRefused):
                raise cause from None
            raise


def guard_botocore_client(client: Any, guard: OutboundGuard | Iterable[Network]) -> Any:
    """Send a botocore client's requests through a :class:`GuardedURLLib3Session`; returns the client.

    botocore offers no setting for its HTTP session, but its ``before-send`` event lets a handler send
    the signed request and return the response, so the client's own (unguarded) session is never used.
    The timeouts, pool size and client certificate come from the client's ``Config``.
    """
    config = client.meta.config
    session = GuardedURLLib3Session(
        as_guard(guard),
        timeout=(config.connect_timeout, config.read_timeout),
        max_pool_connections=config.max_pool_connections,
        client_cert=config.client_cert,
    )

    def send(request: Any, **_: Any) -> Any:
        return session.send(request)

    client.meta.events.register("before-send", send, unique_id="nexora-outbound-guard")
    return client
