"""Geo lookups against tiny MaxMind-format databases written by the tests' own writer."""

from __future__ import annotations

from pathlib import Path

import maxminddb
import pytest

from nexora.analytics.detectors.base import Geo
from nexora.analytics.geo import GeoLookup
from nexora.core.errors import ConfigurationError
from tests.analytics.mmdb import write_database

CITY = {
    "81.2.69.0/24": {
        "country": {"iso_code": "GB", "names": {"en": "United Kingdom"}},
        "location": {"latitude": 51.5142, "longitude": -0.0931, "accuracy_radius": 10},
    },
    "175.45.176.0/22": {"country": {"iso_code": "KP"}, "location": {"latitude": 39.0194, "longitude": 125.7381}},
    "2a02:ec0::/29": {"registered_country": {"iso_code": "DE"}, "location": {"latitude": 51.2993, "longitude": 9.491}},
}
ASN = {
    "81.2.68.0/23": {"autonomous_system_number": 20712, "autonomous_system_organization": "Andrews & Arnold Ltd"},
    "175.45.176.0/22": {"autonomous_system_number": 131279, "autonomous_system_organization": "Star Joint Venture"},
}


@pytest.fixture
def city(tmp_path: Path) -> Path:
    return write_database(tmp_path / "city.mmdb", CITY)


@pytest.fixture
def asn(tmp_path: Path) -> Path:
    return write_database(tmp_path / "asn.mmdb", ASN, database_type="Nexora-Test-ASN")


@pytest.mark.parametrize("mode", [maxminddb.MODE_MMAP_EXT, maxminddb.MODE_FILE], ids=["c-extension", "pure-python"])
def test_the_written_database_reads_back_with_maxminddb(city: Path, mode: int) -> None:
    with maxminddb.open_database(str(city), mode) as reader:
        record, prefix = reader.get_with_prefix_len("81.2.69.160")
        v6_record, v6_prefix = reader.get_with_prefix_len("2a02:ec0:1::15")
        missing = reader.get("8.8.8.8")
        metadata = reader.metadata()

    assert (record, prefix) == (CITY["81.2.69.0/24"], 24)
    assert (v6_record, v6_prefix) == (CITY["2a02:ec0::/29"], 29)
    assert missing is None
    assert (metadata.ip_version, metadata.record_size, metadata.database_type) == (6, 24, "Nexora-Test-City")
    assert metadata.binary_format_major_version == 2


def test_an_ipv4_only_database_reads_back(tmp_path: Path) -> None:
    path = write_database(
        tmp_path / "v4.mmdb", {"81.2.69.0/24": {"n": 1, "big": 2**40, "neg": -5, "ok": True}}, ip_version=4
    )

    with maxminddb.open_database(str(path)) as reader:
        assert reader.get_with_prefix_len("81.2.69.7") == ({"n": 1, "big": 2**40, "neg": -5, "ok": True}, 24)
        assert reader.metadata().ip_version == 4


def test_an_address_gets_country_location_network_and_as(city: Path, asn: Path) -> None:
    with GeoLookup.open(city, asn) as geo:
        found = geo.lookup("81.2.69.160")

    assert found == Geo(
        country="GB",
        asn=20712,
        as_org="Andrews & Arnold Ltd",
        network="81.2.69.0/24",
        latitude=51.5142,
        longitude=-0.0931,
    )


def test_an_ipv6_address_falls_back_on_the_registered_country(city: Path) -> None:
    with GeoLookup.open(city) as geo:
        found = geo.lookup("2a02:ec0:1::15")

    assert found == Geo(country="DE", network="2a02:ec0::/29", latitude=51.2993, longitude=9.491)


def test_the_as_comes_from_the_location_database_without_an_asn_database(tmp_path: Path) -> None:
    combined = write_database(
        tmp_path / "combined.mmdb",
        {"81.2.69.0/24": {"country": {"iso_code": "GB"}, "autonomous_system_number": 20712}},
    )

    with GeoLookup.open(combined) as geo:
        found = geo.lookup("81.2.69.1")

    assert found is not None
    assert (found.country, found.asn, found.as_org) == ("GB", 20712, None)


def test_an_address_only_the_asn_database_knows(city: Path, tmp_path: Path) -> None:
    asn = write_database(tmp_path / "asn.mmdb", {"8.8.8.0/24": {"autonomous_system_number": 15169}})

    with GeoLookup.open(city, asn) as geo:
        assert geo.lookup("8.8.8.8") == Geo(asn=15169, network="8.8.8.0/24")


def test_an_ipv4_mapped_ipv6_address_is_looked_up_as_ipv4(city: Path) -> None:
    with GeoLookup.open(city) as geo:
        found = geo.lookup("::ffff:81.2.69.160")

    assert found is not None
    assert (found.country, found.network) == ("GB", "81.2.69.0/24")


@pytest.mark.parametrize(
    "address",
    ["10.1.2.3", "192.168.0.1", "127.0.0.1", "169.254.1.1", "100.64.0.1", "203.0.113.7", "::1", "fe80::1", "fc00::1"],
)
def test_private_and_reserved_addresses_are_never_looked_up(city: Path, address: str) -> None:
    with GeoLookup.open(city) as geo:
        assert geo.lookup(address) is None


@pytest.mark.parametrize("value", ["", "AWS Internal", "iam.amazonaws.com", "999.1.1.1", "1" * 200, None])
def test_what_is_not_an_address_is_none(city: Path, value: str | None) -> None:
    with GeoLookup.open(city) as geo:
        assert geo.lookup(value) is None


def test_an_address_the_database_lacks_is_none(city: Path) -> None:
    with GeoLookup.open(city) as geo:
        assert geo.lookup("8.8.8.8") is None


def test_an_ipv6_address_in_an_ipv4_only_database_is_none(tmp_path: Path) -> None:
    path = write_database(tmp_path / "v4.mmdb", {"81.2.69.0/24": {"country": {"iso_code": "GB"}}}, ip_version=4)

    with GeoLookup.open(path) as geo:
        assert geo.lookup("2a02:ec0:1::15") is None
        assert geo.lookup("81.2.69.5") == Geo(country="GB", network="81.2.69.0/24")


def test_lookups_are_cached(city: Path) -> None:
    with GeoLookup.open(city, cache_size=2) as geo:
        first = geo.lookup("81.2.69.160")
        second = geo.lookup("81.2.69.160")

    assert first is second


def test_the_empty_lookup_knows_nothing() -> None:
    geo = GeoLookup.empty()

    assert not geo.configured
    assert geo.lookup("81.2.69.160") is None


def test_a_missing_or_invalid_database_is_a_configuration_error(tmp_path: Path) -> None:
    not_a_database = tmp_path / "junk.mmdb"
    not_a_database.write_bytes(b"not a database")

    with pytest.raises(ConfigurationError, match=r"absent\.mmdb"):
        GeoLookup.open(tmp_path / "absent.mmdb")
    with pytest.raises(ConfigurationError, match=r"junk\.mmdb"):
        GeoLookup.open(not_a_database)
