"""The streaming model: learns ordinary identity-hours, reports an anomalous one, and survives a restart."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from nexora.analytics.activity import ActivityEvent
from nexora.analytics.detectors import Context, Detection, DetectorSettings, Engine
from nexora.analytics.models_ml import FEATURES, RateModel, rate_features
from nexora.analytics.profiles import Profile
from tests.analytics.detectors.records import BOTO, HOME, START, cloudtrail, located, only, replay, user

SETTINGS = DetectorSettings(model_learning_samples=300, learning_days=2)
DISCOVERY = [
    "ListUsers",
    "ListRoles",
    "GetUser",
    "ListBuckets",
    "DescribeVpcs",
    "DescribeSnapshots",
    "ListSecrets",
    "GetCallerIdentity",
    "DescribeRegions",
    "DescribeTrails",
]


def key(name: str) -> str:
    return "AKIA" + name.upper().ljust(16, "X")


def office_hours(engine: Engine, profiles: dict[str, Profile], days: int = 20) -> list[Detection]:
    """Six keys making 4 to 12 reads in each office hour for ``days`` days."""
    rng = random.Random(3)
    found: list[Detection] = []
    for day in range(days):
        for hour in range(9):
            for name, profile in profiles.items():
                for index in range(rng.randint(4, 12)):
                    at = START + timedelta(days=day, hours=hour, minutes=rng.randint(0, 59), seconds=index)
                    event = cloudtrail(
                        rng.choice(["GetObject", "PutObject", "DescribeInstances"]),
                        at=at,
                        identity=user(name, key=key(name)),
                        agent=BOTO,
                    )
                    found.extend(replay(engine, profile, [event]))
    return found


def night_raid(start: datetime) -> list[tuple[ActivityEvent, Context]]:
    """500 discovery calls, a third denied, from a new country at 03:00."""
    brazil = located("BR", 28573, -23.55, -46.63)
    return [
        (
            cloudtrail(
                DISCOVERY[index % len(DISCOVERY)],
                at=start + timedelta(seconds=5 * index),
                identity=user("u0", key=key("u0")),
                ip="200.147.3.9",
                agent="python-requests/2.31",
                error="AccessDenied" if index % 3 == 0 else None,
            ),
            brazil,
        )
        for index in range(500)
    ]


def test_an_anomalous_hour_is_reported_when_the_next_hour_begins_with_its_score() -> None:
    engine = Engine(SETTINGS)
    profiles = {f"u{index}": Profile() for index in range(6)}
    benign = office_hours(engine, profiles)
    raid = night_raid(START + timedelta(days=20, hours=-6))
    replay(engine, profiles["u0"], raid)
    next_hour = cloudtrail("GetObject", at=START + timedelta(days=20, hours=-4), identity=user("u0", key=key("u0")))

    found = only(replay(engine, profiles["u0"], [(next_hour, HOME)]), "model.rate_anomaly")

    assert only(benign, "model.rate_anomaly") == []
    assert len(found) == 1
    anomaly = found[0]
    assert (anomaly.severity, anomaly.attack.technique_id) == ("low", "T1078.004")
    assert anomaly.explanation["score"] >= 0.95
    assert anomaly.explanation["features"]["errors"] == 0.334
    assert anomaly.explanation["baseline"]["model_samples"] > 300
    assert anomaly.event_ids[:-1] == [event.source_event_id for event, _ in raid[-49:]]  # 50 in all
    assert anomaly.event_ids[-1] == next_hour.source_event_id


def test_the_model_stays_quiet_during_its_own_learning_period() -> None:
    engine = Engine(SETTINGS.model_copy(update={"model_learning_samples": 100_000}))
    profiles = {f"u{index}": Profile() for index in range(6)}
    office_hours(engine, profiles)
    replay(engine, profiles["u0"], night_raid(START + timedelta(days=20, hours=-6)))
    next_hour = cloudtrail("GetObject", at=START + timedelta(days=20, hours=-4), identity=user("u0", key=key("u0")))

    assert only(replay(engine, profiles["u0"], [next_hour]), "model.rate_anomaly") == []


def test_features_are_scaled_to_the_unit_interval() -> None:
    profile = Profile()
    replay(Engine(), profile, [(event, context) for event, context in night_raid(START)])

    features = rate_features(profile)

    assert tuple(features) == FEATURES
    assert all(0.0 <= value <= 1.0 for value in features.values())
    assert features["errors"] == 0.334


def test_model_state_round_trips_with_identical_scores() -> None:
    model = RateModel(seed=7)
    rng = random.Random(1)
    for _ in range(600):
        model.score_and_learn({name: rng.random() * 0.3 for name in FEATURES})
    probe = {name: 0.9 for name in FEATURES}

    restored = RateModel.from_bytes(model.to_bytes())

    assert restored.samples == 600
    assert restored.score(probe) == model.score(probe) > 0.9
    assert restored.score_and_learn(probe) == model.score_and_learn(probe)


def test_the_engine_restores_its_model_and_starts_afresh_from_garbage() -> None:
    engine = Engine(SETTINGS)
    profiles = {f"u{index}": Profile() for index in range(2)}
    office_hours(engine, profiles, days=3)
    state = engine.model_state()

    restarted = Engine(SETTINGS)
    assert restarted.load_model_state(state) is True
    assert restarted.model.samples == engine.model.samples > 0
    assert restarted.load_model_state(b"not a model") is False
    assert restarted.model.samples == 0
    assert restarted.load_model_state(None) is False
