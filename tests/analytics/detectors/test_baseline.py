"""Baseline detectors: new networks, countries, ASNs and sensitive actions; dormancy; volume; travel."""

from __future__ import annotations

from datetime import datetime, timedelta

from nexora.analytics.activity import ActivityEvent
from nexora.analytics.detectors import AllowRule, Context, DetectorSettings, Engine
from nexora.analytics.profiles import Profile
from tests.analytics.detectors.records import (
    BOTO,
    HOME,
    START,
    cloudtrail,
    history,
    located,
    only,
    replay,
    routine_call,
)

SAO_PAULO = located("BR", 28573, -23.55, -46.63, as_org="Claro S.A.")
BERLIN_OTHER_ISP = located("DE", 6805, 52.52, 13.40, as_org="Telefonica Germany")


def learned(days: int = 10, per_day: int = 12) -> tuple[Profile, datetime]:
    """svc-backup after ``days`` of routine calls from Frankfurt (198.51.100.0/24)."""
    profile = Profile()
    end = history(profile, routine_call, days=days, per_day=per_day)
    return profile, end


def test_a_new_country_network_and_provider_after_learning_are_reported_with_the_baseline() -> None:
    profile, end = learned()
    event = cloudtrail("ListBuckets", at=end + timedelta(hours=20), ip="200.147.3.9", agent=BOTO)

    found = replay(Engine(), profile, [(event, SAO_PAULO)])

    by_detector = {detection.detector: detection for detection in found}
    country = by_detector["baseline.new_country"]
    assert (country.severity, country.attack.technique_id, country.discriminator) == ("medium", "T1078.004", "BR")
    assert country.explanation["baseline"]["countries"] == {"DE": 120}
    assert country.explanation["baseline"]["history_days"] == 10.1
    network = by_detector["baseline.new_network"]
    assert (network.severity, network.explanation["network"]) == ("low", "200.147.3.0/24")
    assert network.explanation["baseline"]["top"] == {"198.51.100.0/24": 120}
    assert by_detector["baseline.new_asn"].explanation["asn"] == 28573
    assert all(detection.event_ids == [event.source_event_id] for detection in found)


def test_a_known_country_and_network_are_quiet_and_a_new_provider_in_it_only_a_new_asn() -> None:
    profile, end = learned()
    usual = cloudtrail("ListBuckets", at=end + timedelta(hours=1))
    other_isp = cloudtrail("ListBuckets", at=end + timedelta(hours=2), ip="198.51.100.9")

    assert replay(Engine(), profile, [usual]) == []
    assert [d.detector for d in replay(Engine(), profile, [(other_isp, BERLIN_OTHER_ISP)])] == ["baseline.new_asn"]


def test_nothing_is_new_during_the_learning_period() -> None:
    profile, end = learned(days=3)
    event = cloudtrail("ListBuckets", at=end + timedelta(hours=6), ip="200.147.3.9")

    assert replay(Engine(), profile, [(event, SAO_PAULO)]) == []


def test_an_allow_listed_network_or_country_stays_quiet() -> None:
    profile, end = learned()
    event = cloudtrail("ListBuckets", at=end + timedelta(hours=6), ip="200.147.3.9")
    settings = DetectorSettings(
        allow=[
            AllowRule(detectors=["baseline.new_network", "baseline.new_asn"], networks=["200.147.0.0/16"]),
            AllowRule(detectors=["baseline.*"], countries=["BR"], identities=["aws:key/*"]),
        ]
    )

    assert Engine(settings).process(event, profile, SAO_PAULO) == []


def test_private_sources_are_not_new_networks() -> None:
    profile, end = learned()
    pod = cloudtrail("ListBuckets", at=end + timedelta(hours=1), ip="10.42.7.19")

    assert only(replay(Engine(), profile, [(pod, None)]), "baseline.new_network") == []


def test_a_sensitive_action_new_to_the_identity_is_reported_once() -> None:
    profile, end = learned()
    first = cloudtrail("Decrypt", at=end + timedelta(hours=1), request={"keyId": "alias/prod"}, agent=BOTO)
    second = cloudtrail("Decrypt", at=end + timedelta(hours=2), request={"keyId": "alias/prod"}, agent=BOTO)
    ordinary = cloudtrail("ListBuckets", at=end + timedelta(hours=3), agent=BOTO)

    found = replay(Engine(), profile, [first, second, ordinary])

    assert [(d.detector, d.event_ids) for d in found] == [("baseline.new_sensitive_action", [first.source_event_id])]
    assert found[0].explanation["action"] == "kms:Decrypt"
    assert found[0].explanation["baseline"]["known_actions"] == 4


def test_an_identity_idle_for_a_month_is_dormant() -> None:
    profile, end = learned()
    event = cloudtrail("ListBuckets", at=end + timedelta(days=40))

    found = only(replay(Engine(), profile, [event]), "baseline.dormant_identity")

    assert len(found) == 1
    assert (found[0].severity, found[0].attack.technique_id) == ("medium", "T1078.004")
    assert found[0].explanation["idle_days"] == 40.0
    assert found[0].explanation["threshold_days"] == 30.0


def test_dormancy_is_reported_from_the_services_last_sighting_when_the_profile_is_new() -> None:
    event = cloudtrail("ListBuckets", at=START)
    context = Context(
        geo=HOME.geo, identity_first_seen=START - timedelta(days=90), identity_last_seen=START - timedelta(days=45)
    )

    found = only(Engine().process(event, Profile(), context), "baseline.dormant_identity")

    assert [detection.explanation["idle_days"] for detection in found] == [45.0]


def test_a_short_pause_is_not_dormancy() -> None:
    profile, end = learned()

    assert (
        only(
            replay(Engine(), profile, [cloudtrail("ListBuckets", at=end + timedelta(days=20))]),
            "baseline.dormant_identity",
        )
        == []
    )


def busy_hour(after: datetime, count: int) -> list[ActivityEvent]:
    """``count`` reads within the first minutes of the next full hour after ``after``."""
    start = after.replace(minute=0, second=0) + timedelta(hours=1)
    return [
        cloudtrail(
            "GetObject",
            at=start + timedelta(seconds=index),
            agent=BOTO,
            request={"bucketName": "backups", "key": f"db/{index}.dump"},
        )
        for index in range(count)
    ]


def test_an_hour_far_above_the_identitys_median_is_a_volume_spike_reported_once() -> None:
    profile, end = learned(days=14, per_day=48)  # 6 events in each of 8 hours a day
    burst = busy_hour(end + timedelta(hours=20), 400)

    found = only(replay(Engine(), profile, burst), "baseline.volume_spike")

    assert len(found) == 1
    spike = found[0]
    assert spike.explanation["baseline"]["median"] == 6.0
    assert spike.explanation["count"] == spike.explanation["threshold_events"] == 100
    assert spike.event_ids[-1] == burst[99].source_event_id
    assert len(spike.event_ids) == 50


def test_volume_within_the_baseline_or_with_too_short_a_baseline_is_quiet() -> None:
    profile, end = learned(days=14, per_day=48)
    young, young_end = learned(days=8, per_day=16)  # 8 active hours a day: 64 hours, but ask for 100
    strict = Engine(DetectorSettings(volume_min_hours=100))

    assert only(replay(Engine(), profile, busy_hour(end + timedelta(hours=20), 60)), "baseline.volume_spike") == []
    assert only(replay(strict, young, busy_hour(young_end + timedelta(hours=20), 400)), "baseline.volume_spike") == []


def test_the_ewma_method_reports_the_same_spike() -> None:
    profile, end = learned(days=14, per_day=48)
    engine = Engine(DetectorSettings(volume_method="ewma"))

    found = only(replay(engine, profile, busy_hour(end + timedelta(hours=20), 400)), "baseline.volume_spike")

    assert len(found) == 1
    assert found[0].explanation["method"] == "ewma"
    assert 5.5 < found[0].explanation["baseline"]["ewma_mean"] < 6.5


def test_frankfurt_then_sao_paulo_twenty_minutes_later_is_impossible_travel() -> None:
    profile, end = learned()
    here = cloudtrail("ListBuckets", at=end + timedelta(hours=1))
    there = cloudtrail("ListBuckets", at=end + timedelta(hours=1, minutes=20), ip="200.147.3.9")

    found = only(replay(Engine(), profile, [(here, HOME), (there, SAO_PAULO)]), "baseline.impossible_travel")

    assert len(found) == 1
    travel = found[0]
    assert (travel.severity, travel.attack.technique_id) == ("high", "T1078.004")
    assert travel.event_ids == [here.source_event_id, there.source_event_id]
    assert 9700 < travel.explanation["distance_km"] < 9900
    assert travel.explanation["minutes"] == 20.0
    assert travel.explanation["speed_kmh"] > 29000
    assert travel.explanation["from"]["country"] == "DE"


def test_a_plausible_trip_or_a_nearby_city_is_not_impossible_travel() -> None:
    profile, end = learned()
    here = cloudtrail("ListBuckets", at=end + timedelta(hours=1))
    after_the_flight = cloudtrail("ListBuckets", at=end + timedelta(hours=14), ip="200.147.3.9")
    berlin = cloudtrail("ListBuckets", at=end + timedelta(hours=14, minutes=5), ip="198.51.100.9")

    found = replay(Engine(), profile, [(here, HOME), (after_the_flight, SAO_PAULO)])
    nearby = Profile()
    replay(Engine(), nearby, [(here, HOME)])

    assert only(found, "baseline.impossible_travel") == []
    assert only(replay(Engine(), nearby, [(berlin, BERLIN_OTHER_ISP)]), "baseline.impossible_travel") == []
