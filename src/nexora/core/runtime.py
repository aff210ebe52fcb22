"""The objects a running process shares: created once at startup and handed down, never imported."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nexora.core.config import Settings
from nexora.core.crypto import EnvelopeCipher
from nexora.core.db import Database

if TYPE_CHECKING:
    from nexora.core.bus import EventBus
    from nexora.core.principal import Principal

Authenticator = Callable[[str], Awaitable["Principal"]]


@dataclass
class Runtime:
    settings: Settings
    db: Database
    cipher: EnvelopeCipher
    bus: EventBus | None = None
    authenticator: Authenticator | None = None
    services: dict[str, Any] = field(default_factory=dict)  # per-domain singletons (signers, throttles)


# Young-generation collections every 20,000 net allocations instead of 700.
GC_THRESHOLDS = (20_000, 50, 100)


def tune_collector() -> None:
    """Set up the cyclic garbage collector for a long-running service (API, workers, relay).

    Everything imported and built at start-up (modules, the app, the schema catalogue) lives for the
    whole process, so it is frozen out of the collector's scans; young objects are collected less
    often because a service allocates in large batches. With the defaults the event bus spent about a
    third of the Kafka relay's CPU and a quarter of a consumer's in the collector
    (``benchmarks/bus_bench.py``, see benchmarks/RESULTS.md).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def run_service(main: Coroutine[Any, Any, None]) -> None:
    """Run a long-running process's main coroutine on uvloop when it is installed (it comes with
    ``uvicorn[standard]``, and uvicorn already runs the API on it), else on asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        factory = None
    else:
        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(main)
