"""Behaviour profiles: what one identity usually does, small enough to store with the identity.

A :class:`Profile` counts, over a sliding window (30 days by default), the actions, services,
resources, source addresses and networks, countries, ASNs, user-agent families, regions and instance
types an identity used, each value with its first and last sighting; an hour-of-week histogram; the
event counts of its recent active hours (the rate baseline: median, MAD, EWMA); its error rate; and
short sequences of recent events (secret reads, discovery calls, denials) the sequence detectors
count. Every table is bounded (the most frequent values are kept and the rest only counted), so the
profile of an identity making a million calls is as small as one making ten.

The service calls :meth:`Profile.update` once per event, after the detectors have seen the profile as
it was before the event, and stores :meth:`Profile.to_state` (JSON) with the identity.
"""

from __future__ import annotations

import ipaddress
import math
from bisect import bisect_left, insort
from collections import deque
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from nexora.analytics.activity import ActivityEvent

if TYPE_CHECKING:
    from nexora.analytics.detectors.base import Context

HOUR = 3600
DAY = 86400
STATE_VERSION = 2
# How many values each table keeps (the most frequent); the others are counted in ``rest``.
LIMITS: dict[str, int] = {
    "actions": 300,
    "services": 100,
    "resources": 200,
    "ips": 200,
    "networks": 100,
    "countries": 50,
    "asns": 100,
    "agents": 50,
    "regions": 32,
    "instance_types": 32,
}
TABLES: tuple[str, ...] = tuple(LIMITS)
RING_HOURS = 168  # active hours kept for the rate baseline
HOUR_EVIDENCE = 50  # event ids of the current hour kept as evidence for hour-level detections
HOUR_ACTIONS = 64  # distinct actions of the current hour counted (a model feature)
SEQUENCE_HORIZON = 3600  # seconds of sequence evidence kept
SEQUENCE_LENGTH = 64  # distinct values kept per sequence
EWMA_ALPHA = 0.1
DENIED_CODES = frozenset(
    "AccessDenied AccessDeniedException UnauthorizedOperation Client.UnauthorizedOperation UnauthorizedAccess "
    "Forbidden 403".split()
)
ENUMERATION_PREFIXES = ("List", "Describe", "Get")
# Reads of data rather than of the infrastructure: not discovery, however many.
DATA_READS = frozenset(
    "GetObject GetObjectTagging GetItem BatchGetItem GetRecords GetShardIterator GetSecretValue BatchGetSecretValue "
    "GetParameter GetParameters GetParametersByPath GetLogEvents GetQueueUrl GetQueueAttributes GetMetricData "
    "GetMetricStatistics GetAuthorizationToken".split()
)


@lru_cache(maxsize=65536)
def network_of(ip: str | None) -> str | None:
    """The /24 (IPv4) or /48 (IPv6) an address belongs to; None for a name such as "ec2.amazonaws.com"."""
    if not ip:
        return None
    if ":" in ip:
        try:
            return str(ipaddress.IPv6Network(f"{ip}/48", strict=False))
        except ValueError:
            return None
    parts = ip.split(".")
    if len(parts) != 4 or not all(part.isdigit() and int(part) < 256 for part in parts):
        return None
    return f"{parts[0]}.{parts[1]}.{parts[2]}.0/24"


@lru_cache(maxsize=4096)
def agent_family(user_agent: str | None) -> str | None:
    """A user agent without its versions' noise: "aws-cli/2", "Boto3/1", "console", "browser", "kubectl/1"."""
    if not user_agent:
        return None
    agent = user_agent.strip().lstrip("[")
    if agent.startswith("Mozilla/"):
        return "browser"
    lowered = agent.lower()
    if lowered.startswith(("console.amazonaws.com", "signin.amazonaws.com", "console.aws.amazon.com")):
        return "console"
    if lowered.startswith("aws internal"):
        return "aws-internal"
    token = agent.split(" ", 1)[0].rstrip("]")
    if token.endswith(".amazonaws.com"):
        return token[:60]
    name, _, version = token.partition("/")
    major = version.lstrip("v").split(".", 1)[0]
    return f"{name}/{major}"[:60] if major else name[:60]


def action_key(event: ActivityEvent) -> str:
    """How profiles and detectors name an action: "iam:CreateAccessKey", "k8s:pods:create/exec"."""
    return f"{event.service}:{event.action}"


def _request(event: ActivityEvent) -> dict[str, Any]:
    parameters = event.details.get("requestParameters")
    return parameters if isinstance(parameters, dict) else {}


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def sequence_items(event: ActivityEvent) -> list[tuple[str, str]]:
    """The sequences an event belongs to, each with the value it adds ("secrets", secret id).

    ``secrets`` (secret ids read), ``ssm_decrypt`` (parameter names decrypted), ``enumeration``
    ("service:Action" of discovery calls) and ``denied`` ("service:Action|event id" of each denial).
    """
    items: list[tuple[str, str]] = []
    action = event.action
    service = event.service
    if service == "secretsmanager" and action in ("GetSecretValue", "BatchGetSecretValue"):
        parameters = _request(event)
        items.extend(("secrets", name) for name in _names(parameters.get("secretId")))
        items.extend(("secrets", name) for name in _names(parameters.get("secretIdList")))
    elif service == "ssm" and action in ("GetParameter", "GetParameters", "GetParametersByPath"):
        parameters = _request(event)
        if parameters.get("withDecryption") in (True, "true"):
            names = _names(parameters.get("name")) + _names(parameters.get("names")) + _names(parameters.get("path"))
            items.extend(("ssm_decrypt", name) for name in names)
    if event.source == "cloudtrail" and action.startswith(ENUMERATION_PREFIXES) and action not in DATA_READS:
        items.append(("enumeration", f"{service}:{action}"))
    if event.outcome == "failure" and event.error_code in DENIED_CODES:
        items.append(("denied", f"{service}:{action}|{event.source_event_id}"))
    return items


class Recent:
    """Distinct values of one sequence in arrival order, each with its last time, event id and novelty."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: dict[str, list[Any]] = {}  # value -> [time, event id, novel]

    def add(self, value: str, time: float, event_id: str, novel: bool) -> None:
        items = self.items
        previous = items.pop(value, None)
        items[value] = [time, event_id, novel or (previous is not None and previous[2])]
        cutoff = time - SEQUENCE_HORIZON
        while items:
            oldest = next(iter(items))
            if len(items) <= SEQUENCE_LENGTH and items[oldest][0] >= cutoff:
                break
            del items[oldest]

    def seen_since(self, value: str, cutoff: float) -> bool:
        entry = self.items.get(value)
        return entry is not None and entry[0] >= cutoff

    def since(self, cutoff: float, novel_only: bool = False) -> list[tuple[str, float, str]]:
        """(value, time, event id) of the values seen at or after ``cutoff``, newest first."""
        found = []
        for value in reversed(self.items):
            time, event_id, novel = self.items[value]
            if time < cutoff:
                break
            if novel or not novel_only:
                found.append((value, time, event_id))
        return found


class Profile:
    """One identity's behaviour over a sliding window; :meth:`update` costs a few microseconds."""

    __slots__ = tuple(
        "actions agents asns countries decayed_at errors events first_seen hour hour_actions hour_count "
        "hour_errors hour_event_ids hour_new hour_of_week instance_types ips last_geo last_seen networks "
        "rate_mean rate_variance regions resources rest ring ring_counts sequences services window_days".split()
    )

    def __init__(self, window_days: float = 30.0) -> None:
        if window_days <= 0:
            raise ValueError("a profile window must be positive (days)")
        self.window_days = window_days
        self.first_seen: int | None = None  # epoch seconds
        self.last_seen: int | None = None
        self.events = 0  # all events ever added
        self.errors = 0
        # value -> [count, first seen, last seen] (epoch seconds)
        self.actions: dict[str, list[int]] = {}
        self.services: dict[str, list[int]] = {}
        self.resources: dict[str, list[int]] = {}
        self.ips: dict[str, list[int]] = {}
        self.networks: dict[str, list[int]] = {}
        self.countries: dict[str, list[int]] = {}
        self.asns: dict[str, list[int]] = {}
        self.agents: dict[str, list[int]] = {}
        self.regions: dict[str, list[int]] = {}
        self.instance_types: dict[str, list[int]] = {}
        self.rest: dict[str, int] = dict.fromkeys(TABLES, 0)  # events of values no longer kept
        self.hour_of_week: list[float] = [0.0] * 168  # Monday 00:00 UTC is bucket 0; decays with the window
        self.ring: deque[tuple[int, int, int]] = deque(maxlen=RING_HOURS)  # (hour, events, errors) per active hour
        self.ring_counts: list[int] = []  # the ring's event counts, sorted (for the median)
        self.rate_mean = 0.0  # EWMA of events per active hour
        self.rate_variance = 0.0
        self.hour = -1  # the current hour (epoch hours) and what happened in it so far
        self.hour_count = 0
        self.hour_errors = 0
        self.hour_new = 0  # first-seen values in the current hour
        self.hour_actions: set[str] = set()
        self.hour_event_ids: deque[str] = deque(maxlen=HOUR_EVIDENCE)
        self.last_geo: tuple[int, float, float, str | None, str] | None = None  # time, lat, lon, country, event id
        self.sequences: dict[str, Recent] = {}
        self.decayed_at = 0

    def table(self, name: str) -> dict[str, list[int]]:
        """One of :data:`TABLES` by name."""
        table: dict[str, list[int]] = getattr(self, name)
        return table

    def learning(self, at: float, learning_days: float) -> bool:
        """True while the profile is younger than ``learning_days`` at time ``at`` (epoch seconds)."""
        return self.first_seen is None or at - self.first_seen < learning_days * DAY

    # ------------------------------------------------------------------ update

    def update(self, event: ActivityEvent, context: Context | None = None) -> None:
        """Add ``event`` (with what the service knows about its source) to the profile."""
        ts = int(event.time.timestamp())
        if self.first_seen is None:
            self.first_seen = self.decayed_at = ts
        elif ts - self.decayed_at >= DAY:
            self.decay(ts)
        hour = ts // HOUR
        if hour > self.hour:
            self._close_hour(hour)
        if self.last_seen is None or ts > self.last_seen:
            self.last_seen = ts
        self.events += 1
        self.hour_count += 1
        self.hour_event_ids.append(event.source_event_id)
        if event.outcome == "failure":
            self.errors += 1
            self.hour_errors += 1
        self.hour_of_week[(hour + 72) % 168] += 1.0  # the epoch was a Thursday

        key = f"{event.service}:{event.action}"
        novel_action = key not in self.actions
        if len(self.hour_actions) < HOUR_ACTIONS:
            self.hour_actions.add(key)
        ip = event.source_ip
        geo = context.geo if context is not None else None
        new = 0
        for name, table, value, counted in (
            ("actions", self.actions, key, 1),
            ("services", self.services, event.service, 0),
            ("resources", self.resources, event.resource, 0),
            ("regions", self.regions, event.region, 0),
            ("agents", self.agents, agent_family(event.user_agent), 1),
            ("ips", self.ips, ip, 1),
            ("networks", self.networks, (geo.network if geo is not None and geo.network else network_of(ip)), 1),
        ):
            if value is None:
                continue
            entry = table.get(value)
            if entry is None:
                new += self._insert(name, table, value, ts) * counted
            else:
                entry[0] += 1
                if ts > entry[2]:
                    entry[2] = ts
        if geo is not None:
            new += self._see("countries", self.countries, geo.country, ts)
            new += self._see("asns", self.asns, None if geo.asn is None else str(geo.asn), ts)
            if geo.latitude is not None and geo.longitude is not None:
                self.last_geo = (ts, geo.latitude, geo.longitude, geo.country, event.source_event_id)
        if event.action == "RunInstances":
            self._see("instance_types", self.instance_types, _request(event).get("instanceType"), ts)
        self.hour_new += new
        for name, value in sequence_items(event):
            recent = self.sequences.get(name)
            if recent is None:
                recent = self.sequences[name] = Recent()
            recent.add(value, ts, event.source_event_id, novel_action)

    def _see(self, name: str, table: dict[str, list[int]], value: Any, ts: int) -> int:
        """Count ``value`` in ``table``; 1 when it was not in the table before."""
        if value is None:
            return 0
        entry = table.get(value)
        if entry is not None:
            entry[0] += 1
            if ts > entry[2]:
                entry[2] = ts
            return 0
        return self._insert(name, table, value, ts)

    def _insert(self, name: str, table: dict[str, list[int]], value: Any, ts: int) -> int:
        table[value] = [1, ts, ts]
        limit = LIMITS[name]
        if len(table) > limit + (limit >> 2):
            self._trim(name, table, limit)
        return 1

    def _trim(self, name: str, table: dict[str, list[int]], limit: int) -> None:
        """Forget values older than the window, then all but the ``limit`` most frequent (recent first on ties)."""
        cutoff = (self.last_seen or 0) - int(self.window_days * DAY)
        for value in [value for value, entry in table.items() if entry[2] < cutoff]:
            del table[value]
        if len(table) > limit:
            ranked = sorted(table.items(), key=lambda item: (item[1][0], item[1][2]), reverse=True)
            for value, entry in ranked[limit:]:
                self.rest[name] += entry[0]
                del table[value]

    def _close_hour(self, hour: int) -> None:
        if self.hour_count:
            if len(self.ring) == RING_HOURS:
                self._forget_hour()
            self.ring.append((self.hour, self.hour_count, self.hour_errors))
            insort(self.ring_counts, self.hour_count)
            self._ewma(self.hour_count)
        self.hour = hour
        self.hour_count = self.hour_errors = self.hour_new = 0
        self.hour_actions.clear()
        self.hour_event_ids.clear()

    def _forget_hour(self) -> None:
        _, count, _ = self.ring.popleft()
        del self.ring_counts[bisect_left(self.ring_counts, count)]

    def _ewma(self, count: int) -> None:
        if len(self.ring) == 1:
            self.rate_mean, self.rate_variance = float(count), 0.0
        else:
            difference = count - self.rate_mean
            self.rate_mean += EWMA_ALPHA * difference
            self.rate_variance = (1 - EWMA_ALPHA) * (self.rate_variance + EWMA_ALPHA * difference * difference)

    @property
    def rate_median(self) -> float:
        """Median events per active hour over the ring (0 before the first hour closes)."""
        return _median(self.ring_counts)

    @property
    def rate_mad(self) -> float:
        """Median absolute deviation of events per active hour (computed on demand: it is read rarely)."""
        median = self.rate_median
        return _median(sorted(abs(count - median) for count in self.ring_counts))

    def decay(self, now: int) -> None:
        """Forget what is older than the window and fade the hour-of-week histogram; run daily by :meth:`update`."""
        cutoff = now - int(self.window_days * DAY)
        for name in TABLES:
            table = self.table(name)
            for value in [value for value, entry in table.items() if entry[2] < cutoff]:
                self.rest[name] += table.pop(value)[0]
        while self.ring and self.ring[0][0] * HOUR < cutoff:
            self._forget_hour()
        factor = math.exp(-(now - self.decayed_at) / (self.window_days * DAY))
        self.hour_of_week = [value * factor for value in self.hour_of_week]
        self.decayed_at = now

    # ------------------------------------------------------------------ reading

    def rate(self) -> float:
        """Mean events per active hour over the ring (0 before the first hour closes)."""
        return sum(entry[1] for entry in self.ring) / len(self.ring) if self.ring else 0.0

    def error_rate(self) -> float:
        """Failed events / events over the ring and the current hour."""
        events = sum(entry[1] for entry in self.ring) + self.hour_count
        errors = sum(entry[2] for entry in self.ring) + self.hour_errors
        return errors / events if events else 0.0

    def top(self, name: str, limit: int = 10) -> list[dict[str, Any]]:
        """The ``limit`` most frequent values of a table with their counts and first/last sightings."""
        ranked = sorted(self.table(name).items(), key=lambda item: (item[1][0], item[1][2]), reverse=True)
        return [
            {"value": value, "count": entry[0], "first_seen": _iso(entry[1]), "last_seen": _iso(entry[2])}
            for value, entry in ranked[:limit]
        ]

    def summary(self, learning_days: float = 7.0, now: datetime | None = None) -> dict[str, Any]:
        """What the console shows: top values, the hour-of-week histogram, rates, and whether it still learns."""
        at = now.timestamp() if now is not None else float(self.last_seen or 0)
        return {
            "events": self.events,
            "first_seen": _iso(self.first_seen),
            "last_seen": _iso(self.last_seen),
            "learning": self.learning(at, learning_days),
            "window_days": self.window_days,
            "rate_per_active_hour": round(self.rate(), 3),
            "rate_median": self.rate_median,
            "rate_mad": self.rate_mad,
            "active_hours": len(self.ring),
            "error_rate": round(self.error_rate(), 4),
            "hour_of_week": [round(value, 2) for value in self.hour_of_week],
            "top": {name: self.top(name) for name in TABLES},
            "distinct": {name: len(self.table(name)) for name in TABLES},
            "other": dict(self.rest),
        }

    # ------------------------------------------------------------------ state

    def to_state(self) -> dict[str, Any]:
        """A compact JSON-serialisable form; :meth:`from_state` reads it back unchanged."""
        return {
            "v": STATE_VERSION,
            "window_days": self.window_days,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "events": self.events,
            "errors": self.errors,
            "tables": {name: self.table(name) for name in TABLES},
            "rest": self.rest,
            "hour_of_week": [round(value, 3) for value in self.hour_of_week],
            "ring": [list(entry) for entry in self.ring],
            "ewma": [round(self.rate_mean, 4), round(self.rate_variance, 4)],
            "hour": [
                self.hour,
                self.hour_count,
                self.hour_errors,
                self.hour_new,
                sorted(self.hour_actions),
                list(self.hour_event_ids),
            ],
            "last_geo": list(self.last_geo) if self.last_geo else None,
            "sequences": {
                name: [[value, *entry] for value, entry in recent.items.items()]
                for name, recent in self.sequences.items()
                if recent.items
            },
            "decayed_at": self.decayed_at,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Profile:
        """A profile from :meth:`to_state`; an empty profile for an empty or older-version state."""
        if not state or state.get("v") != STATE_VERSION:
            return cls(float(state.get("window_days", 30.0)) if state else 30.0)
        profile = cls(float(state["window_days"]))
        profile.first_seen = state["first_seen"]
        profile.last_seen = state["last_seen"]
        profile.events = state["events"]
        profile.errors = state["errors"]
        for name in TABLES:
            setattr(profile, name, {value: list(entry) for value, entry in state["tables"].get(name, {}).items()})
        profile.rest = {name: int(state["rest"].get(name, 0)) for name in TABLES}
        profile.hour_of_week = [float(value) for value in state["hour_of_week"]]
        profile.ring = deque(((hour, count, errors) for hour, count, errors in state["ring"]), maxlen=RING_HOURS)
        profile.ring_counts = sorted(count for _, count, _ in profile.ring)
        profile.rate_mean, profile.rate_variance = state["ewma"]
        hour, count, errors, new, actions, event_ids = state["hour"]
        profile.hour, profile.hour_count, profile.hour_errors, profile.hour_new = hour, count, errors, new
        profile.hour_actions = set(actions)
        profile.hour_event_ids = deque(event_ids, maxlen=HOUR_EVIDENCE)
        last_geo = state.get("last_geo")
        if last_geo:
            at, latitude, longitude, country, event_id = last_geo
            profile.last_geo = (at, latitude, longitude, country, event_id)
        for name, items in state.get("sequences", {}).items():
            recent = profile.sequences[name] = Recent()
            recent.items = {value: [time, event_id, novel] for value, time, event_id, novel in items}
        profile.decayed_at = state["decayed_at"]
        return profile


def _median(ordered: list[int] | list[float]) -> float:
    if not ordered:
        return 0.0
    middle = len(ordered) // 2
    return float(ordered[middle]) if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _iso(ts: int | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat()
