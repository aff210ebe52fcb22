"""The objects a running process shares: created once at startup and handed down, never imported."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nexora.core.config import Settings
from nexora.core.crypto import EnvelopeCipher
from nexora.core.db import Database

if TYPE_CHECKING:
    from nexora.core.bus import EventBus
    from nexora.core.security import Principal

Authenticator = Callable[[str], Awaitable["Principal"]]


@dataclass
class Runtime:
    settings: Settings
    db: Database
    cipher: EnvelopeCipher
    bus: EventBus | None = None
    authenticator: Authenticator | None = None
    services: dict[str, Any] = field(default_factory=dict)  # per-domain singletons (signers, throttles)
