"""The validator registry: the :class:`Outcome` type and the decorator each validator module uses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Outcome:
    """Result of an offline validation."""

    passed: bool
    detail: str = ""


Validator = Callable[[str], Outcome]

REGISTRY: dict[str, Validator] = {}


def register(name: str) -> Callable[[Validator], Validator]:
    """Decorator that adds a validator to :data:`REGISTRY` under ``name``."""

    def add(function: Validator) -> Validator:
        REGISTRY[name] = function
        return function

    return add


def run(name: str, secret: str) -> Outcome:
    """Run the named validator; a validator that raises counts as a failed validation."""
    try:
        return REGISTRY[name](secret)
    except (ValueError, UnicodeError, KeyError, IndexError, TypeError):
        return Outcome(False, "malformed")
