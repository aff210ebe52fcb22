"""Detection quality and cost: precision and recall per detector on the labelled scenario, and engine speed.

The scenario (``analytics_scenarios.generate``: weeks of activity of a few hundred machine identities with
every attack template injected several times) is parsed by ``nexora.analytics.ingest`` and replayed in time
order through one tenant's ``Engine`` with default settings, each identity's ``Profile`` updated after its
event as the service does. A detection is a true positive when any event of its evidence belongs to an
injected attack; an attack is recalled by a detector when that detector reports any of its events. Alerts
group detections of one identity + detector + discriminator within 24 hours, as the service does.

Speed is the engine's own: ``Engine.process`` and ``Profile.update`` per event, timed around the calls only
(generation and parsing excluded), on one core.

    .venv/bin/python benchmarks/analytics_detect_bench.py [--identities 300] [--days 36] [--per-template 3]
        [--seed 7] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from analytics_scenarios import InjectedAttack, generate

from nexora.analytics.activity import ActivityEvent
from nexora.analytics.detectors import DETECTORS, Detection, DetectorSettings, Engine
from nexora.analytics.profiles import Profile

ALERT_WINDOW = 24 * 3600


class Tally:
    """Detections scored against the labels: per detector, per alert group, per attack."""

    def __init__(self, labels: dict[str, str]) -> None:
        self.labels = labels
        self.detections: Counter[str] = Counter()
        self.true_positives: Counter[str] = Counter()
        self.alerts: dict[tuple[str, str, str], tuple[float, bool]] = {}  # group -> (last time, any attack)
        self.alert_counts: Counter[str] = Counter()
        self.alert_true: Counter[str] = Counter()
        self.recalled: dict[str, set[str]] = defaultdict(set)
        self.false_examples: dict[str, list[str]] = defaultdict(list)

    def add(self, event: ActivityEvent, found: list[Detection]) -> None:
        at = event.time.timestamp()
        for detection in found:
            attacks = {self.labels[event_id] for event_id in detection.event_ids if event_id in self.labels}
            self.detections[detection.detector] += 1
            for attack in attacks:
                self.recalled[attack].add(detection.detector)
            if attacks:
                self.true_positives[detection.detector] += 1
            elif len(self.false_examples[detection.detector]) < 3:
                self.false_examples[detection.detector].append(f"{event.identity.key}: {detection.title}")
            group = (event.identity.key, detection.detector, detection.discriminator)
            previous = self.alerts.get(group)
            if previous is None or at - previous[0] > ALERT_WINDOW:
                if previous is not None:
                    self._close(group, previous)
                self.alerts[group] = (at, bool(attacks))
            else:
                self.alerts[group] = (at, previous[1] or bool(attacks))

    def _close(self, group: tuple[str, str, str], state: tuple[float, bool]) -> None:
        self.alert_counts[group[1]] += 1
        if state[1]:
            self.alert_true[group[1]] += 1

    def finish(self, attacks: list[InjectedAttack]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        for group, state in self.alerts.items():
            self._close(group, state)
        expected: Counter[str] = Counter()
        caught: Counter[str] = Counter()
        missed: dict[str, list[str]] = defaultdict(list)
        for attack in attacks:
            for detector in attack.expected:
                expected[detector] += 1
                if detector in self.recalled[attack.id]:
                    caught[detector] += 1
                else:
                    missed[detector].append(attack.id)
        rows = []
        for detector in DETECTORS:
            count, true, alerts = self.detections[detector], self.true_positives[detector], self.alert_counts[detector]
            rows.append(
                {
                    "detector": detector,
                    "attacks": expected[detector],
                    "recalled": caught[detector],
                    "recall": caught[detector] / expected[detector] if expected[detector] else None,
                    "detections": count,
                    "true_positives": true,
                    "false_positives": count - true,
                    "precision": true / count if count else None,
                    "alerts": alerts,
                    "false_alerts": alerts - self.alert_true[detector],
                    "alert_precision": self.alert_true[detector] / alerts if alerts else None,
                    "missed": missed[detector],
                    "false_examples": self.false_examples[detector],
                }
            )
        totals = {
            "detections": sum(self.detections.values()),
            "true_positives": sum(self.true_positives.values()),
            "alerts": sum(self.alert_counts.values()),
            "false_alerts": sum(self.alert_counts.values()) - sum(self.alert_true.values()),
            "attacks_recalled": sum(1 for attack in attacks if set(attack.expected) & self.recalled[attack.id]),
        }
        return rows, totals


def run(seed: int, identities: int, days: int, per_template: int) -> dict[str, Any]:
    started = time.perf_counter()
    scenario = generate(seed, identities, days, per_template)
    engine = Engine(DetectorSettings())
    profiles: dict[str, Profile] = {}
    tally = Tally(scenario.labels)
    process_seconds = update_seconds = cpu_seconds = 0.0
    events = 0
    clock = time.perf_counter
    for day in range(scenario.days):
        batch = scenario.day_events(day)  # generated and parsed outside the timed loop
        found_by_event: list[tuple[ActivityEvent, list[Detection]]] = []
        cpu_started = time.thread_time()
        for event, context in batch:
            profile = profiles.get(event.identity.key)
            if profile is None:
                profile = profiles[event.identity.key] = Profile()
            first = clock()
            found = engine.process(event, profile, context)
            second = clock()
            profile.update(event, context)
            update_seconds += clock() - second
            process_seconds += second - first
            if found:
                found_by_event.append((event, found))
        cpu_seconds += time.thread_time() - cpu_started
        events += len(batch)
        for event, found in found_by_event:
            tally.add(event, found)
    rows, totals = tally.finish(scenario.attacks)
    share = process_seconds / (process_seconds + update_seconds)
    cpu_per_event = cpu_seconds / events
    return {
        "scenario": {
            "seed": seed,
            "identities": identities,
            "days": days,
            "per_template": per_template,
            "attacks": len(scenario.attacks),
            "attack_events": len(scenario.labels),
            "events": events,
        },
        "detectors": rows,
        "totals": totals,
        "speed": {
            # CPU time of the replay loop (one thread), split between the two calls by their wall-clock shares.
            "cpu_us_per_event": cpu_per_event * 1e6,
            "process_us_per_event": cpu_per_event * share * 1e6,
            "update_us_per_event": cpu_per_event * (1 - share) * 1e6,
            "engine_events_per_second": 1 / cpu_per_event,
            "model_samples": engine.model.samples,
            "model_state_bytes": len(engine.model_state()),
            "profile_state_bytes_mean": sum(len(json.dumps(p.to_state())) for p in profiles.values()) / len(profiles),
            "wall_seconds": time.perf_counter() - started,
        },
    }


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def print_table(result: dict[str, Any]) -> None:
    scenario, totals, speed = result["scenario"], result["totals"], result["speed"]
    print(
        f"scenario: {scenario['identities']} identities, {scenario['days']} days, {scenario['events']:,} events, "
        f"{scenario['attacks']} attacks ({scenario['attack_events']:,} attack events), seed {scenario['seed']}"
    )
    header = (
        f"{'detector':44} {'attacks':>7} {'recall':>6} {'detections':>10} {'FP':>6} {'precision':>9} "
        f"{'alerts':>6} {'FP':>5} {'alert prec.':>11}"
    )
    print(header)
    print("-" * len(header))
    for row in result["detectors"]:
        print(
            f"{row['detector']:44} {row['attacks']:>7} {_percent(row['recall']):>6} {row['detections']:>10} "
            f"{row['false_positives']:>6} {_percent(row['precision']):>9} {row['alerts']:>6} "
            f"{row['false_alerts']:>5} {_percent(row['alert_precision']):>11}"
        )
    print("-" * len(header))
    precision = totals["true_positives"] / totals["detections"] if totals["detections"] else None
    alert_precision = 1 - totals["false_alerts"] / totals["alerts"] if totals["alerts"] else None
    print(
        f"all: {totals['detections']} detections (precision {_percent(precision)}), {totals['alerts']} alerts "
        f"(precision {_percent(alert_precision)}), {totals['attacks_recalled']}/{scenario['attacks']} attacks "
        "recalled by an expected detector"
    )
    print(
        f"engine: {speed['cpu_us_per_event']:.2f} us CPU/event (process {speed['process_us_per_event']:.2f} + "
        f"profile update {speed['update_us_per_event']:.2f}) = {speed['engine_events_per_second']:,.0f} events/s on "
        f"one core; model {speed['model_samples']:,} identity-hours, state {speed['model_state_bytes']:,} bytes; "
        f"profile state {speed['profile_state_bytes_mean']:,.0f} bytes on average; wall {speed['wall_seconds']:.1f} s"
    )
    for row in result["detectors"]:
        if row["missed"] or row["false_examples"]:
            notes = []
            if row["missed"]:
                notes.append(f"missed {', '.join(row['missed'])}")
            if row["false_examples"]:
                notes.append(f"e.g. false: {row['false_examples'][0]}")
            print(f"  {row['detector']}: {'; '.join(notes)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--identities", type=int, default=300)
    parser.add_argument("--days", type=int, default=36)
    parser.add_argument("--per-template", type=int, default=3)
    parser.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    arguments = parser.parse_args()
    result = run(arguments.seed, arguments.identities, arguments.days, arguments.per_template)
    print_table(result)
    if arguments.json:
        arguments.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
