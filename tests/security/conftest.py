"""Security tests run as a hostile tenant on a Nexora whose operator allowed no internal network.

The process settings are shared by the whole session (discovery tests allow loopback for their
peers), so each test here starts from an empty allow-list and gets the previous one back after.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nexora.core.config import Settings


@pytest.fixture(autouse=True)
def no_internal_network_allowed(settings: Settings) -> Iterator[None]:
    discovery, outbound = settings.discovery, settings.outbound
    settings.discovery = discovery.model_copy(update={"allowed_networks": []})
    settings.outbound = outbound.model_copy(update={"allowed_networks": []})
    yield
    settings.discovery, settings.outbound = discovery, outbound


@pytest.fixture
def allow_loopback(settings: Settings) -> None:
    """For tests whose stand-in peer listens on 127.0.0.1 (what is refused is then elsewhere)."""
    settings.outbound = settings.outbound.model_copy(update={"allowed_networks": ["127.0.0.0/8"]})
