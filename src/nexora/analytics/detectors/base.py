"""What a detector sees and what it reports.

The service hands the engine one attributed event at a time, in time order per identity, with that
identity's behaviour profile (before the event is added to it) and the tenant's settings; the engine
returns detections. The service then adds the event to the profile, groups detections into alerts,
and stores both. Detectors never touch the database and never keep state outside the profile and
the engine's model state (both persisted by the service).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

Severity = Literal["low", "medium", "high", "critical"]


@dataclass(slots=True, frozen=True)
class Attack:
    """A MITRE ATT&CK tactic and technique (ids as ATT&CK writes them: TA0004, T1098.001)."""

    tactic_id: str
    tactic: str
    technique_id: str
    technique: str


@dataclass(slots=True, frozen=True)
class Geo:
    """Where a source address is, from the operator's MaxMind-format database (all optional)."""

    country: str | None = None  # ISO 3166 alpha-2
    asn: int | None = None
    as_org: str | None = None
    network: str | None = None  # the database's network for the address, "203.0.113.0/24"
    latitude: float | None = None
    longitude: float | None = None


@dataclass(slots=True)
class Context:
    """What the service knows about the event beyond the record itself."""

    geo: Geo | None = None
    attributed: bool = False  # matched an inventoried NHI
    nhi_kind: str | None = None  # the inventoried kind when attributed ("access_key", "iam_role", ...)
    identity_first_seen: datetime | None = None  # first activity of this identity Nexora holds
    identity_last_seen: datetime | None = None  # last activity before this event


@dataclass(slots=True)
class Detection:
    detector: str  # a stable id: "privesc.create_key_other_user", "baseline.new_country"
    title: str  # one line a person reads: "CreateAccessKey for another user (bob)"
    severity: Severity
    attack: Attack
    event_ids: list[str]  # source event ids of the evidence, this event last
    explanation: dict[str, Any] = field(default_factory=dict)  # {"seen": ..., "baseline": ..., ...}
    # Detections of one identity + detector + discriminator within the grouping window become one
    # alert; the discriminator separates what a person would triage apart (a new country "BR" vs "RU").
    discriminator: str = ""
