"""The detection engine: one per tenant, fed one attributed event at a time in time order.

``process(event, profile, context)`` reads the profile as it was before the event (the caller then
calls ``profile.update(event, context)``) and returns the detections. Rules are found by action name
in one dict lookup; the per-event checks (first-seen values, volume, travel, sequences) are a few
dict and float operations, so an ordinary event costs a few microseconds. The streaming model runs
once per closed identity-hour, not per event.
"""

from __future__ import annotations

from collections import defaultdict

from nexora.analytics.activity import ActivityEvent
from nexora.analytics.detectors import baseline, identity_rules, infrastructure_rules, sequences
from nexora.analytics.detectors.base import Context, Detection
from nexora.analytics.detectors.catalogue import detection
from nexora.analytics.detectors.rules import Rule, history_days
from nexora.analytics.detectors.settings import Compiled, DetectorSettings
from nexora.analytics.models_ml import FEATURES, RateModel, rate_features
from nexora.analytics.profiles import HOUR, Profile, sequence_items

ALL_RULES: tuple[Rule, ...] = (*identity_rules.RULES, *infrastructure_rules.RULES)
_NO_CONTEXT = Context()


class Engine:
    """Runs every enabled detector of a tenant over its events; holds the tenant's streaming model."""

    def __init__(self, settings: DetectorSettings | None = None) -> None:
        self._settings = settings or DetectorSettings()
        self._compile()
        self.model = RateModel(seed=self._settings.model_seed)

    @property
    def settings(self) -> DetectorSettings:
        return self._settings

    @settings.setter
    def settings(self, settings: DetectorSettings) -> None:
        """New settings apply from the next event; the model and its learning are kept."""
        self._settings = settings
        self._compile()

    def _compile(self) -> None:
        compiled = self._compiled = Compiled(self._settings)
        off = compiled.disabled
        dispatch: dict[str, list[Rule]] = defaultdict(list)
        for rule in ALL_RULES:
            if rule.detector not in off:
                for action in rule.actions:
                    dispatch[action].append(rule)
        self._dispatch = dict(dispatch)
        self._sequences = {name for name, sequence in sequences.SEQUENCES.items() if sequence.detector not in off}
        self._first_seen = not {"baseline.new_network", "baseline.new_country", "baseline.new_asn"} <= off
        self._sensitive = "baseline.new_sensitive_action" not in off
        self._dormant = "baseline.dormant_identity" not in off
        self._volume = "baseline.volume_spike" not in off
        self._travel = "baseline.impossible_travel" not in off
        self._browser = "access.human_use_of_nhi" not in off
        self._instance = "credentials.instance_credentials_outside" not in off
        self._model_on = "model.rate_anomaly" not in off

    # ------------------------------------------------------------------ state

    def model_state(self) -> bytes:
        """The streaming model's state (compressed JSON) for the service to store with the tenant."""
        return self.model.to_bytes()

    def load_model_state(self, data: bytes | None) -> bool:
        """Restore the model from :meth:`model_state`; a missing or unreadable state starts a fresh model."""
        if data:
            try:
                self.model = RateModel.from_bytes(data)
                return True
            except (ValueError, KeyError, TypeError):
                pass  # written by another version, or damaged: learn afresh (below)
        self.model = RateModel(seed=self._settings.model_seed)
        return False

    # ------------------------------------------------------------------ detection

    def process(self, event: ActivityEvent, profile: Profile, context: Context | None = None) -> list[Detection]:
        """The detections ``event`` raises against ``profile`` (its state before the event)."""
        c = context if context is not None else _NO_CONTEXT
        s = self._compiled
        t = event.time.timestamp()
        found: list[Detection] = []
        rules = self._dispatch.get(event.action)
        if rules is not None:
            service = event.service
            for rule in rules:
                if rule.service == service:
                    hit = rule.check(event, profile, c, s, t)
                    if hit is not None:
                        found.append(hit)
        items = sequence_items(event)
        if items:
            novel = f"{event.service}:{event.action}" not in profile.actions
            grouped: dict[str, list[str]] = {}
            for name, value in items:
                if name in self._sequences:
                    grouped.setdefault(name, []).append(value)
            for name, values in grouped.items():
                hit = sequences.check(name, values, event, profile, s, t, novel)
                if hit is not None:
                    found.append(hit)
        if self._browser and event.user_agent and event.user_agent.startswith("Mozilla/"):
            hit = identity_rules.human_browser(event, profile, c)
            if hit is not None:
                found.append(hit)
        if profile.first_seen is not None:
            self._baseline(event, profile, c, s, t, found)
        elif self._dormant and c.identity_last_seen is not None:  # a profile lost or reset: the service still knows
            last = c.identity_last_seen.timestamp()
            if t - last >= s.dormant_s:
                found.append(baseline.dormant(event, profile, s, t, last))
        if not found:
            return found
        return [
            hit
            for hit in found
            if hit.detector not in s.disabled and not (s.allow and s.allowed(hit.detector, event, c))
        ]

    def _baseline(
        self, e: ActivityEvent, p: Profile, c: Context, s: Compiled, t: float, found: list[Detection]
    ) -> None:
        last = p.last_seen
        if self._dormant and last is not None and t - last >= s.dormant_s:
            found.append(baseline.dormant(e, p, s, t, last))
        hour = int(t // HOUR)
        if self._model_on and hour > p.hour and p.hour_count >= s.settings.model_min_events:
            self._close_hour(e, p, s, found)
        if t - (p.first_seen or t) < s.learning_s:
            return
        if self._instance and e.identity.kind == "assumed_role":
            hit = infrastructure_rules.instance_credentials_outside(e, p, c, s, t)
            if hit is not None:
                found.append(hit)
        if self._first_seen:
            found.extend(baseline.first_seen(e, p, c, s, t))
        if self._sensitive:
            key = f"{e.service}:{e.action}"
            if key not in p.actions and s.sensitive(key):
                found.append(baseline.new_sensitive_action(e, p, s, t, key))
        if self._volume:
            count = p.hour_count + 1 if hour == p.hour else 1
            if count >= s.settings.volume_min_events:
                limits = baseline.volume_threshold(p, s)
                if limits is not None and count - 1 < limits[0] <= count:
                    found.append(baseline.volume_spike(e, p, s, count, limits))
        geo = c.geo
        if self._travel and geo is not None and geo.latitude is not None:
            hit = baseline.impossible_travel(e, p, s, t, geo)
            if hit is not None:
                found.append(hit)

    def _close_hour(self, e: ActivityEvent, p: Profile, s: Compiled, found: list[Detection]) -> None:
        """Score, then learn, the identity's hour that this event closes."""
        features = rate_features(p)
        score = self.model.score_and_learn(features)
        settings = s.settings
        closed_at = p.hour * HOUR
        if (
            score < settings.model_threshold
            or self.model.samples <= settings.model_learning_samples
            or p.learning(closed_at, settings.learning_days)
        ):
            return
        found.append(
            detection(
                "model.rate_anomaly",
                f"Anomalous hour for {e.identity.name} (score {score:.2f})",
                [*p.hour_event_ids, e.source_event_id],
                {
                    "seen": f"{p.hour_count} events, {len(p.hour_actions)} actions, {p.hour_errors} errors, "
                    f"{p.hour_new} new values in the hour",
                    "score": round(score, 4),
                    "threshold": settings.model_threshold,
                    "features": {name: round(features[name], 3) for name in FEATURES},
                    "hour": baseline.iso(closed_at),
                    "baseline": {
                        "median_events_per_hour": p.rate_median,
                        "active_hours": len(p.ring),
                        "history_days": history_days(p, closed_at),
                        "model_samples": self.model.samples,
                    },
                },
                discriminator=baseline.iso(closed_at)[:13],
            )
        )
