"""The engine as a whole: the catalogue, settings, allow-lists, disabling, quiet routine and cost per event."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from nexora.analytics.activity import ActivityEvent
from nexora.analytics.detectors import DETECTORS, FAMILIES, AllowRule, DetectorSettings, Engine
from nexora.analytics.profiles import Profile
from tests.analytics.detectors.records import (
    BOTO,
    FOREIGN_ACCOUNT,
    START,
    cloudtrail,
    history,
    replay,
    role,
    routine_call,
)

ADMIN = {"userName": "bob", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}


def test_every_detector_is_catalogued_with_a_real_attack_mapping() -> None:
    for detector, info in DETECTORS.items():
        assert info.id == detector
        assert re.fullmatch(r"[a-z]+\.[a-z0-9_]+", detector)
        assert detector.startswith(f"{info.family}.")
        assert info.family in FAMILIES
        assert re.fullmatch(r"TA\d{4}", info.attack.tactic_id)
        assert re.fullmatch(r"T\d{4}(\.\d{3})?", info.attack.technique_id)
        assert info.severity in ("low", "medium", "high", "critical")
        assert all((info.title, info.description, info.attack.technique))
    assert json.loads(json.dumps([info.as_dict() for info in DETECTORS.values()]))[0]["attack"]["tactic_id"]


def test_every_detector_has_a_replay_test() -> None:
    here = Path(__file__)
    # The inventory detector needs the inventory, so the service tests replay it (tests/analytics/test_api.py).
    files = [path for path in here.parent.glob("test_*.py") if path != here] + [here.parent.parent / "test_api.py"]
    tests = " ".join(path.read_text() for path in files)

    untested = [detector for detector in DETECTORS if f'"{detector}"' not in tests]

    assert untested == []


def test_settings_survive_json_and_every_field_is_documented() -> None:
    settings = DetectorSettings(
        disabled=["model.*"],
        trusted_accounts=[FOREIGN_ACCOUNT],
        secrets_spree_count=5,
        allow=[AllowRule(detectors=["baseline.new_network"], networks=["203.0.113.0/24"], note="VPN")],
    )

    stored = json.loads(json.dumps(settings.model_dump(mode="json")))

    assert DetectorSettings.model_validate(stored) == settings
    for model in (DetectorSettings, AllowRule):
        assert all(field.description for field in model.model_fields.values())


@pytest.mark.parametrize(
    "bad",
    [
        {"disabled": ["no.such_detector"]},
        {"allow": [{"networks": ["203.0.113.0/33"]}]},
        {"allow": [{"countries": ["Germany"]}]},
        {"allow": [{"detectors": ["baseline.new_network"]}]},  # no criterion: that is 'disabled'
        {"trusted_accounts": ["1234"]},
        {"sensitive_actions": ["Decrypt"]},
        {"secrets_spree_minutes": 120},
        {"learning_days": -1},
        {"admin_ports": [70000]},
        {"volume_method": "zscore"},
        {"unknown_setting": 1},
    ],
)
def test_invalid_settings_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        DetectorSettings.model_validate(bad)


def test_a_disabled_detector_does_not_report() -> None:
    engine = Engine(DetectorSettings(disabled=["privilege.*"]))

    assert engine.process(cloudtrail("AttachUserPolicy", request=ADMIN), Profile()) == []


def test_new_settings_apply_from_the_next_event() -> None:
    engine = Engine()
    event = cloudtrail("AttachUserPolicy", request=ADMIN)
    assert engine.process(event, Profile())

    engine.settings = DetectorSettings(disabled=["privilege.admin_policy_attached"])

    assert engine.process(event, Profile()) == []


def test_allow_rules_match_identity_and_action_together() -> None:
    settings = DetectorSettings(
        allow=[
            AllowRule(identities=["aws:role/*/provisioner"], actions=["iam:CreateAccessKey"], note="onboarding"),
        ]
    )
    provisioner = cloudtrail("CreateAccessKey", identity=role("provisioner"), request={"userName": "new-hire"})
    other_role = cloudtrail("CreateAccessKey", identity=role("web"), request={"userName": "new-hire"})

    assert Engine(settings).process(provisioner, Profile()) == []
    assert [d.detector for d in Engine(settings).process(other_role, Profile())] == [
        "persistence.create_key_other_user"
    ]


def test_a_month_of_routine_activity_raises_nothing() -> None:
    engine, profile = Engine(), Profile()
    found = []

    def call(at: datetime, index: int) -> ActivityEvent:
        event = routine_call(at, index)
        found.extend(engine.process(event, profile))
        return event

    history(profile, call, days=30, per_day=40, start=START)

    assert found == []
    assert profile.events == 1200


def test_an_ordinary_event_costs_microseconds() -> None:
    engine, profile = Engine(), Profile()
    end = history(profile, routine_call, days=10, per_day=40, engine=engine)
    events = [
        cloudtrail(
            ("GetObject", "PutObject", "DescribeInstances")[index % 3],
            at=end + timedelta(seconds=index),
            agent=BOTO,
            request={"bucketName": "backups", "key": f"k{index}"},
        )
        for index in range(10_000)
    ]
    replay(engine, profile, events[:100])  # warm caches

    best = float("inf")
    for _ in range(3):
        copy = Profile.from_state(profile.to_state())
        started = time.process_time()  # CPU time: the machine may be shared
        for event in events[100:]:
            engine.process(event, copy)
            copy.update(event)
        best = min(best, (time.process_time() - started) / (len(events) - 100))

    assert best < 15e-6, f"{best * 1e6:.1f} µs per event (engine and profile update)"
