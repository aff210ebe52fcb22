"""Sequence detectors: N distinct things within M minutes, counted on the profile's recent sequences.

A sequence reports once, on the event that brings the count to the threshold; the window then slides,
so a spree that goes on reports again only after it fell below the threshold (alert grouping merges
the rest). Evidence is every event of the window, bounded by the catalogue's evidence limit.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from nexora.analytics.activity import ActivityEvent
from nexora.analytics.detectors.base import Detection
from nexora.analytics.detectors.catalogue import detection
from nexora.analytics.detectors.settings import Compiled
from nexora.analytics.profiles import Profile, Recent


@dataclass(slots=True, frozen=True)
class Sequence:
    name: str  # the profile's sequence
    detector: str
    count_setting: str
    minutes_setting: str
    noun: str


SEQUENCES: dict[str, Sequence] = {
    sequence.name: sequence
    for sequence in (
        Sequence("secrets", "credentials.secrets_spree", "secrets_spree_count", "secrets_spree_minutes", "secrets"),
        Sequence(
            "ssm_decrypt",
            "credentials.ssm_decrypt_spree",
            "ssm_spree_count",
            "ssm_spree_minutes",
            "SSM parameters decrypted",
        ),
        Sequence(
            "enumeration",
            "discovery.enumeration_burst",
            "enumeration_count",
            "enumeration_minutes",
            "discovery actions",
        ),
        Sequence(
            "denied", "credentials.access_denied_storm", "denied_count", "denied_minutes", "access-denied failures"
        ),
    )
}


def _values(name: str, values: list[str]) -> dict[str, object]:
    if name == "denied":  # values are "service:Action|event id"
        return {"actions": dict(Counter(value.split("|", 1)[0] for value in values).most_common(20))}
    if name == "enumeration":
        return {"actions": values[:50]}
    return {"values": values[:50]}


def check(
    name: str, values: list[str], e: ActivityEvent, p: Profile, s: Compiled, t: float, novel: bool
) -> Detection | None:
    """Whether ``values`` (the event's contribution to sequence ``name``) bring it to its threshold."""
    sequence = SEQUENCES[name]
    settings = s.settings
    threshold: int = getattr(settings, sequence.count_setting)
    minutes: float = getattr(settings, sequence.minutes_setting)
    cutoff = t - minutes * 60
    # After learning, only discovery the identity never did before counts (its routine calls are known).
    novel_only = name == "enumeration" and not p.learning(t, settings.learning_days)
    if novel_only and not novel:
        return None
    recent = p.sequences.get(name) or Recent()
    added = [value for value in dict.fromkeys(values) if not recent.seen_since(value, cutoff)]
    if not added:
        return None  # values already in the window do not change the count
    window = recent.since(cutoff, novel_only)
    if not len(window) < threshold <= len(window) + len(added):
        return None
    window.reverse()
    count = len(window) + len(added)
    found = [item[0] for item in window] + added
    first = window[0][1] if window else t
    return detection(
        sequence.detector,
        f"{count} {sequence.noun} in {round((t - first) / 60, 1)} min by {e.identity.name}",
        [item[2] for item in window] + [e.source_event_id],
        {
            "seen": f"{count} distinct {sequence.noun} within {minutes:g} minutes",
            "count": count,
            "threshold": threshold,
            "window_minutes": minutes,
            "span_minutes": round((t - first) / 60, 2),
            "new_to_identity_only": novel_only,
            **_values(name, found),
        },
        discriminator=name,
    )
