"""What a rule is and how rules are registered: the engine dispatches on the action name.

A rule reads one event (and the profile before it) and returns a detection or None. Each rule is
registered for the exact action names it reads, so an event only runs the few rules of its action.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from nexora.analytics.activity import ActivityEvent
from nexora.analytics.detectors.base import Context, Detection
from nexora.analytics.detectors.settings import Compiled
from nexora.analytics.profiles import DAY, Profile

RuleFunction = Callable[[ActivityEvent, Profile, Context, Compiled, float], Detection | None]


@dataclass(slots=True, frozen=True)
class Rule:
    detector: str
    service: str  # the event's service the rule applies to ("iam", "k8s:pods")
    actions: tuple[str, ...]
    check: RuleFunction


def rule(registry: list[Rule], detector: str, service: str, *actions: str) -> Callable[[RuleFunction], RuleFunction]:
    """Register the decorated function as ``detector``'s rule for ``actions`` of ``service``."""

    def register(function: RuleFunction) -> RuleFunction:
        registry.append(Rule(detector, service, actions, function))
        return function

    return register


def history_days(profile: Profile, at: float) -> float:
    """Days of history the profile holds at ``at`` (0 for an empty profile)."""
    return round((at - profile.first_seen) / DAY, 1) if profile.first_seen is not None else 0.0


def calls(profile: Profile, key: str) -> int:
    """How often the identity called ``service:Action`` within the window."""
    entry = profile.actions.get(key)
    return entry[0] if entry is not None else 0
