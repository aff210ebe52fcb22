"""The shape of an HTTP verifier: one documented, read-only "who am I" request and how to read its answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Provider:
    """How to ask one provider whether a key works and whose it is."""

    title: str
    base: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    method: str = "GET"
    basic: tuple[str, str] | None = None
    query: Mapping[str, str] = field(default_factory=dict)
    body: Mapping[str, object] | None = None
    # Statuses that mean the key is not (or no longer) valid; 429 is always "rate limited".
    invalid: tuple[int, ...] = (401,)
    # (field, JSON path or @header) pairs: where the answer names the key's owner.
    identity: tuple[tuple[str, str], ...] = ()
    # A 2xx answer counts as valid only if this JSON path holds a true value.
    valid_when: str | None = None
    # (JSON path, value) pairs that make any answer "invalid" (a revoked flag, an error code).
    rejected: tuple[tuple[str, object], ...] = ()
    # (JSON path, value) pairs that mean "rate limited" although the status is not 429.
    throttled: tuple[tuple[str, object], ...] = ()
    # (key prefix, reason): kinds of key this endpoint cannot judge (unknown, no request sent).
    unsupported: tuple[tuple[str, str], ...] = ()
    base_param_pattern: str | None = None
    # Appended to an "invalid" detail: when a key may be valid elsewhere (another region or site).
    note: str = ""
    docs: str = ""


BEARER = {"Authorization": "Bearer {token}"}


def bearer(**headers: str) -> dict[str, str]:
    """``Authorization: Bearer {token}`` and ``headers``."""
    return {**BEARER, **headers}
