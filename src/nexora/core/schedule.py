"""Periodic work declared by domains and run by the worker runtime."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Schedule:
    """Run ``job(runtime)`` every ``interval_seconds`` (first run after ``initial_delay_seconds``)."""

    name: str
    interval_seconds: float
    job: Callable[[Any], Awaitable[None]]
    initial_delay_seconds: float = 0.0
