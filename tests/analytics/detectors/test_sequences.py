"""Sequence detectors: N distinct things within M minutes, reported once with every event as evidence."""

from __future__ import annotations

from datetime import datetime, timedelta

from nexora.analytics.activity import ActivityEvent
from nexora.analytics.detectors import DetectorSettings, Engine
from nexora.analytics.profiles import Profile
from tests.analytics.detectors.records import START, cloudtrail, history, only, replay, role


def secret_reads(count: int, *, every: timedelta = timedelta(seconds=20), distinct: bool = True) -> list[ActivityEvent]:
    return [
        cloudtrail(
            "GetSecretValue", at=START + index * every, request={"secretId": f"prod/db/{index if distinct else 0}"}
        )
        for index in range(count)
    ]


def test_ten_distinct_secrets_in_a_few_minutes_are_a_spree_reported_once() -> None:
    reads = secret_reads(14)

    found = only(replay(Engine(), Profile(), reads), "credentials.secrets_spree")

    assert len(found) == 1
    spree = found[0]
    assert (spree.severity, spree.attack.tactic_id, spree.attack.technique_id) == ("high", "TA0006", "T1555.006")
    assert spree.event_ids == [event.source_event_id for event in reads[:10]]
    assert spree.explanation["count"] == 10
    assert spree.explanation["values"] == [f"prod/db/{index}" for index in range(10)]
    assert spree.explanation["span_minutes"] == 3.0


def test_repeated_reads_of_one_secret_or_a_slow_trickle_are_no_spree() -> None:
    same_secret = secret_reads(30, distinct=False)
    trickle = secret_reads(30, every=timedelta(minutes=5))

    assert only(replay(Engine(), Profile(), same_secret), "credentials.secrets_spree") == []
    assert only(replay(Engine(), Profile(), trickle), "credentials.secrets_spree") == []


def test_a_spree_below_the_threshold_is_quiet_and_the_threshold_is_a_setting() -> None:
    reads = secret_reads(9)

    assert only(replay(Engine(), Profile(), reads), "credentials.secrets_spree") == []
    strict = Engine(DetectorSettings(secrets_spree_count=5, secrets_spree_minutes=2))
    assert len(only(replay(strict, Profile(), reads), "credentials.secrets_spree")) == 1


def test_ssm_parameters_decrypted_in_bulk_are_a_spree() -> None:
    lambda_role = role("reporting")
    batch = [
        cloudtrail(
            "GetParameters",
            identity=lambda_role,
            at=START + timedelta(seconds=index),
            request={"names": [f"/prod/{index}/a", f"/prod/{index}/b"], "withDecryption": True},
        )
        for index in range(6)
    ]

    found = only(replay(Engine(), Profile(), batch), "credentials.ssm_decrypt_spree")

    assert len(found) == 1
    assert (found[0].attack.technique_id, found[0].explanation["count"]) == ("T1555.006", 10)
    assert found[0].event_ids[-1] == batch[4].source_event_id


def test_ssm_reads_without_decryption_are_no_spree() -> None:
    reads = [
        cloudtrail(
            "GetParameter",
            at=START + timedelta(seconds=index),
            request={"name": f"/config/{index}", "withDecryption": False},
        )
        for index in range(20)
    ]

    assert only(replay(Engine(), Profile(), reads), "credentials.ssm_decrypt_spree") == []


DISCOVERY = [
    ("ListUsers", None),
    ("ListRoles", None),
    ("GetUser", None),
    ("ListAttachedUserPolicies", None),
    ("ListAccessKeys", None),
    ("DescribeInstances", None),
    ("DescribeVpcs", None),
    ("DescribeSecurityGroups", None),
    ("DescribeSnapshots", None),
    ("DescribeImages", None),
    ("DescribeRegions", None),
    ("ListBuckets", None),
    ("ListSecrets", None),
    ("DescribeParameters", None),
    ("DescribeTrails", None),
    ("ListFunctions20150331", None),
    ("GetCallerIdentity", None),
    ("ListGroups", "iam.amazonaws.com"),
    ("ListPolicies", "iam.amazonaws.com"),
    ("ListInstanceProfiles", "iam.amazonaws.com"),
    ("ListKeys", "kms.amazonaws.com"),
    ("ListTopics", "sns.amazonaws.com"),
]


def discovery(start: datetime, count: int) -> list[ActivityEvent]:
    return [
        cloudtrail(name, at=start + timedelta(seconds=15 * index), source=source)
        for index, (name, source) in enumerate(DISCOVERY[:count])
    ]


def test_twenty_distinct_discovery_calls_in_minutes_are_an_enumeration_burst() -> None:
    calls = discovery(START, 22)

    found = only(replay(Engine(), Profile(), calls), "discovery.enumeration_burst")

    assert len(found) == 1
    burst = found[0]
    assert (burst.severity, burst.attack.tactic_id, burst.attack.technique_id) == ("medium", "TA0007", "T1580")
    assert len(burst.event_ids) == 20
    assert burst.explanation["actions"][:2] == ["iam:ListUsers", "iam:ListRoles"]


def test_after_learning_only_discovery_new_to_the_identity_counts() -> None:
    engine, profile = Engine(), Profile()

    def routine(at: datetime, index: int) -> ActivityEvent:  # the same calls every day
        name, source = DISCOVERY[index % len(DISCOVERY)]
        return cloudtrail(name, at=at, source=source)

    end = history(profile, routine, days=10, per_day=22)
    known_again = discovery(end + timedelta(hours=1), 22)
    new_ones = [
        cloudtrail(f"Describe{kind}", at=end + timedelta(hours=2, seconds=index), source="ec2.amazonaws.com")
        for index, kind in enumerate(
            [
                "Hosts",
                "Volumes",
                "Subnets",
                "NatGateways",
                "KeyPairs",
                "Addresses",
                "RouteTables",
                "FlowLogs",
                "NetworkInterfaces",
                "VpcEndpoints",
                "InstanceStatus",
                "LaunchTemplates",
                "Tags",
                "TransitGateways",
                "CapacityReservations",
                "SpotPriceHistory",
                "Fleets",
                "ElasticGpus",
                "InstanceTypes",
                "PlacementGroups",
            ]
        )
    ]

    assert only(replay(engine, profile, known_again), "discovery.enumeration_burst") == []
    burst = only(replay(engine, profile, new_ones), "discovery.enumeration_burst")
    assert len(burst) == 1
    assert burst[0].explanation["new_to_identity_only"] is True


def test_a_burst_of_access_denied_errors_is_a_storm() -> None:
    failures = [
        cloudtrail(
            name,
            at=START + timedelta(seconds=10 * index),
            error="AccessDenied",
            source="iam.amazonaws.com" if name.startswith("List") else None,
        )
        for index, name in enumerate(["ListUsers", "GetSecretValue", "ListRoles", "ListGroups"] * 6)
    ]

    found = only(replay(Engine(), Profile(), failures), "credentials.access_denied_storm")

    assert len(found) == 1
    storm = found[0]
    assert (storm.severity, storm.attack.tactic_id, storm.attack.technique_id) == ("medium", "TA0006", "T1110")
    assert storm.event_ids == [event.source_event_id for event in failures[:20]]
    assert storm.explanation["actions"] == {
        "iam:ListUsers": 5,
        "secretsmanager:GetSecretValue": 5,
        "iam:ListRoles": 5,
        "iam:ListGroups": 5,
    }


def test_throttling_and_a_few_denials_are_no_storm() -> None:
    throttled = [
        cloudtrail("ListUsers", at=START + timedelta(seconds=index), error="Throttling") for index in range(30)
    ]
    few = [cloudtrail("ListUsers", at=START + timedelta(seconds=index), error="AccessDenied") for index in range(19)]

    assert only(replay(Engine(), Profile(), throttled + few), "credentials.access_denied_storm") == []
