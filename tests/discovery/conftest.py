"""Discovery tests reach their peers on 127.0.0.1, so they allow-list loopback explicitly (SSRF guard)."""

from __future__ import annotations

import pytest

from nexora.core.config import DiscoverySettings, Settings
from tests.discovery.fixtures import api

__all__ = ["api"]


@pytest.fixture(scope="session", autouse=True)
def _discovery_settings(settings: Settings) -> None:
    settings.discovery = DiscoverySettings(
        allowed_networks=["127.0.0.0/8"],
        retry_backoff_ms=5,
        retry_backoff_max_ms=50,
        outbound_timeout_seconds=5,
        circuit_failure_threshold=50,
    )
