"""Offline validators: cheap format checks (checksums, structure, fixed markers) run on each match.

A validator returns an :class:`Outcome`. ``passed=False`` means the match cannot be a real credential
(wrong checksum, unparseable key…) and the finding is dropped; ``passed=True`` raises confidence and
its ``detail`` (e.g. the decoded AWS account id) is reported.
"""

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


# Imported for their registrations.
from nexora.scanner.validators import checksums, keys, structured  # noqa: E402

__all__ = ["REGISTRY", "Outcome", "Validator", "checksums", "keys", "register", "run", "structured"]
