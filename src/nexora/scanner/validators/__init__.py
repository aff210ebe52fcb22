"""Offline validators: cheap format checks (checksums, structure, fixed markers) run on each match.

A validator returns an :class:`Outcome`. ``passed=False`` means the match cannot be a real credential
(wrong checksum, unparseable key…) and the finding is dropped; ``passed=True`` raises confidence and
its ``detail`` (e.g. the decoded AWS account id) is reported.
"""

from __future__ import annotations

from nexora.scanner.validators import checksums, containers, formats, keys, structured
from nexora.scanner.validators.registry import REGISTRY, Outcome, Validator, register, run

__all__ = [
    "REGISTRY",
    "Outcome",
    "Validator",
    "checksums",
    "containers",
    "formats",
    "keys",
    "register",
    "run",
    "structured",
]
