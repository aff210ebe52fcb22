"""Behaviour profiles: counting, the window, bounded memory, the stored state and the console summary."""

from __future__ import annotations

import json
import math
from datetime import timedelta

import pytest

from nexora.analytics.detectors import Engine
from nexora.analytics.profiles import LIMITS, Profile, agent_family, network_of
from tests.analytics.detectors.records import (
    BOTO,
    BROWSER,
    CLI,
    HOME,
    KUBECTL,
    START,
    cloudtrail,
    history,
    located,
    replay,
    routine_call,
)


def test_update_counts_every_dimension_with_first_and_last_sightings() -> None:
    profile = Profile()
    first = cloudtrail("GetObject", at=START, agent=BOTO, request={"bucketName": "backups"})
    second = cloudtrail(
        "GetObject",
        at=START + timedelta(minutes=5),
        agent=BOTO,
        error="AccessDenied",
        request={"bucketName": "backups"},
    )

    profile.update(first, HOME)
    profile.update(second, HOME)

    start = int(START.timestamp())
    assert profile.actions == {"s3:GetObject": [2, start, start + 300]}
    assert profile.services == {"s3": [2, start, start + 300]}
    assert profile.resources == {"backups": [2, start, start + 300]}
    assert list(profile.networks) == ["198.51.100.0/24"]
    assert list(profile.countries) == ["DE"]
    assert list(profile.asns) == ["3320"]
    assert list(profile.agents) == ["Boto3/1"]
    assert list(profile.regions) == ["us-east-1"]
    assert (profile.events, profile.errors, profile.hour_count, profile.hour_errors) == (2, 1, 2, 1)
    assert profile.hour_of_week[9] == 2.0  # Monday 09:00 UTC
    assert profile.last_geo == (int(START.timestamp()) + 300, 50.11, 8.68, "DE", second.source_event_id)


@pytest.mark.parametrize(
    ("agent", "family"),
    [
        (CLI, "aws-cli/2"),
        (BOTO, "Boto3/1"),
        (BROWSER, "browser"),
        (KUBECTL, "kubectl/1"),
        ("[aws-sdk-go-v2/1.24.1 os/linux lang/go#1.21.6 md/GOOS#linux api/s3#1.48.0]", "aws-sdk-go-v2/1"),
        ("console.amazonaws.com", "console"),
        ("signin.amazonaws.com", "console"),
        ("AWS Internal", "aws-internal"),
        ("lambda.amazonaws.com", "lambda.amazonaws.com"),
        ("Terraform/1.7.4 (+https://www.terraform.io) terraform-provider-aws/5.38.0", "Terraform/1"),
        (None, None),
    ],
)
def test_user_agents_are_reduced_to_their_family(agent: str | None, family: str | None) -> None:
    assert agent_family(agent) == family


def test_networks_are_the_slash_24_or_slash_48_and_names_have_none() -> None:
    assert network_of("203.0.113.77") == "203.0.113.0/24"
    assert network_of("2001:db8:1234:5678::1") == "2001:db8:1234::/48"
    assert network_of("ec2.amazonaws.com") is None
    assert network_of("AWS Internal") is None
    assert network_of("999.1.1.1") is None


def test_values_older_than_the_window_are_forgotten() -> None:
    profile = Profile(window_days=30)
    old = cloudtrail("ListBuckets", at=START, ip="203.0.113.7")
    recent = [cloudtrail("GetObject", at=START + timedelta(days=day), ip="198.51.100.7") for day in range(20, 45)]

    for event in [old, *recent]:
        profile.update(event, None)

    assert "203.0.113.0/24" not in profile.networks
    assert "s3:ListBuckets" not in profile.actions
    assert profile.rest["actions"] == 1  # the forgotten ListBuckets call
    assert "s3:GetObject" in profile.actions
    assert profile.first_seen == int(START.timestamp())


def test_a_forgotten_network_is_new_again() -> None:
    engine, profile = Engine(), Profile()
    end = history(profile, routine_call, days=10)
    away = cloudtrail("ListBuckets", at=end + timedelta(days=1), ip="203.0.113.7")
    back = [cloudtrail("ListBuckets", at=end + timedelta(days=day), ip="198.51.100.7") for day in range(2, 40)]
    replay(engine, profile, [away, *back])
    again = cloudtrail("ListBuckets", at=end + timedelta(days=40, hours=1), ip="203.0.113.7")

    found = replay(engine, profile, [again])

    assert [detection.detector for detection in found] == ["baseline.new_network"]


def test_the_hour_of_week_histogram_fades_with_the_window() -> None:
    profile = Profile(window_days=30)
    profile.update(cloudtrail("ListBuckets", at=START), None)

    profile.update(cloudtrail("ListBuckets", at=START + timedelta(days=30, hours=1)), None)

    assert profile.hour_of_week[9] == pytest.approx(math.exp(-(30 * 24 + 1) / (30 * 24)))


def test_memory_is_bounded_whatever_the_volume() -> None:
    profile = Profile()
    for index in range(30_000):
        event = cloudtrail(
            "GetObject",
            at=START + timedelta(seconds=index),
            ip=f"10.{index // 65536 % 256}.{index // 256 % 256}.{index % 256}",
            request={"bucketName": f"bucket-{index}"},
            agent=f"custom-tool/{index} extra",
        )
        profile.update(event, located(network=f"net-{index % 5000}", asn=index))

    for name, limit in LIMITS.items():
        assert len(profile.table(name)) <= limit + limit // 4, name
    assert sum(entry[0] for entry in profile.resources.values()) + profile.rest["resources"] == 30_000
    assert len(profile.ring) <= 168
    assert len(profile.hour_event_ids) == 50
    assert len(json.dumps(profile.to_state())) < 200_000


def test_state_round_trips_through_json_unchanged() -> None:
    profile = Profile(window_days=14)
    end = history(profile, routine_call, days=10)
    for index in range(5):
        profile.update(
            cloudtrail("GetSecretValue", at=end + timedelta(minutes=index), request={"secretId": f"s{index}"}), HOME
        )

    restored = Profile.from_state(json.loads(json.dumps(profile.to_state())))

    assert restored.to_state() == profile.to_state()
    assert restored.window_days == 14
    assert restored.sequences["secrets"].since(0) == profile.sequences["secrets"].since(0)


def test_the_detectors_see_a_restored_profile_as_the_original() -> None:
    reads = [
        cloudtrail("GetSecretValue", at=START + timedelta(seconds=index), request={"secretId": f"s{index}"})
        for index in range(10)
    ]
    profile = Profile()
    replay(Engine(), profile, reads[:9])
    restored = Profile.from_state(json.loads(json.dumps(profile.to_state())))

    original = replay(Engine(), profile, reads[9:])
    again = replay(Engine(), restored, reads[9:])

    assert [d.event_ids for d in again] == [d.event_ids for d in original] != []


def test_an_empty_or_unknown_state_is_an_empty_profile() -> None:
    assert Profile.from_state({}).events == 0
    assert Profile.from_state({"v": 999, "window_days": 10}).window_days == 10


def test_summary_gives_the_console_its_numbers() -> None:
    profile = Profile()
    end = history(profile, routine_call, days=3, per_day=8)
    profile.update(cloudtrail("ListUsers", at=end + timedelta(hours=2), error="AccessDenied"), HOME)

    summary = profile.summary(learning_days=7)

    assert summary["events"] == 25
    assert summary["learning"] is True
    assert summary["first_seen"] == (START - timedelta(days=10)).isoformat()
    assert [(top["value"], top["count"]) for top in summary["top"]["actions"]] == [
        ("sts:GetCallerIdentity", 6),
        ("ec2:DescribeInstances", 6),
        ("s3:PutObject", 6),
        ("s3:GetObject", 6),
        ("iam:ListUsers", 1),
    ]  # most frequent first, the most recently seen first among equals
    assert summary["top"]["actions"][3]["first_seen"] == (START - timedelta(days=10)).isoformat()
    assert summary["top"]["countries"][0]["value"] == "DE"
    assert summary["error_rate"] == round(1 / 25, 4)
    assert summary["rate_per_active_hour"] == 1.0
    assert sum(summary["hour_of_week"]) == pytest.approx(25, rel=0.1)
    assert summary["distinct"]["actions"] == 5
    assert profile.summary(learning_days=1)["learning"] is False


def test_the_rate_baseline_is_the_median_and_mad_of_active_hours() -> None:
    profile = Profile()
    counts = [4, 6, 5, 30, 5]
    for hour, count in enumerate(counts):
        for index in range(count):
            profile.update(cloudtrail("GetObject", at=START + timedelta(hours=hour, seconds=index)), None)
    profile.update(cloudtrail("GetObject", at=START + timedelta(hours=len(counts))), None)

    assert [entry[1] for entry in profile.ring] == counts
    assert (profile.rate_median, profile.rate_mad) == (5.0, 1.0)
    assert profile.rate() == 10.0
