"""Where a source address is, from the operator's offline MaxMind-format databases (no network access).

``GeoLookup.open(city_or_country_path, asn_path=None)`` reads a GeoIP2/GeoLite2 City or Country database (or any
database in the MaxMind DB format with the same fields, such as DB-IP's or IPinfo's free ones), and optionally an
ASN database; when there is no ASN database, the AS number and organisation are read from the first database if
it has them. ``GeoLookup.empty()`` stands in when none is configured: every lookup is None. Private, loopback,
link-local, documentation and other non-global addresses are never looked up. Results are cached per address.
"""

from __future__ import annotations

import ipaddress
import os
from functools import lru_cache
from types import TracebackType
from typing import Any

import maxminddb

from nexora.analytics.detectors.base import Geo
from nexora.core.errors import ConfigurationError

DEFAULT_CACHE_SIZE = 65536
_Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class GeoLookup:
    """Country, coordinates, AS and network of an address; thread-safe, reads only local files."""

    def __init__(
        self,
        location: maxminddb.Reader | None = None,
        asn: maxminddb.Reader | None = None,
        *,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> None:
        self._location = location
        self._asn = asn
        self._cached = lru_cache(maxsize=cache_size)(self._lookup)

    @classmethod
    def open(
        cls,
        city_or_country_path: str | os.PathLike[str],
        asn_path: str | os.PathLike[str] | None = None,
        *,
        cache_size: int = DEFAULT_CACHE_SIZE,
    ) -> GeoLookup:
        """Open the databases; a missing or unreadable file raises ``ConfigurationError`` naming it."""
        location = _open(city_or_country_path)
        try:
            asn = _open(asn_path) if asn_path is not None else None
        except ConfigurationError:
            location.close()
            raise
        return cls(location, asn, cache_size=cache_size)

    @classmethod
    def empty(cls) -> GeoLookup:
        """A lookup without databases: every address is unknown."""
        return cls()

    @property
    def configured(self) -> bool:
        return self._location is not None or self._asn is not None

    def lookup(self, ip: str | None) -> Geo | None:
        """What the databases say about ``ip``; None for a non-global or invalid address or one they lack."""
        if not ip or len(ip) > 64 or not self.configured:
            return None
        return self._cached(ip)

    def close(self) -> None:
        for reader in (self._location, self._asn):
            if reader is not None:
                reader.close()
        self._cached.cache_clear()

    def __enter__(self) -> GeoLookup:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def _lookup(self, ip: str) -> Geo | None:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return None
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if not address.is_global:
            return None
        location, prefix = _find(self._location, address)
        owner, owner_prefix = _find(self._asn, address) if self._asn is not None else (location, prefix)
        if location is None and owner is None:
            return None
        if location is None:
            prefix = owner_prefix
        country = _field(location, "country", "iso_code") or _field(location, "registered_country", "iso_code")
        number = _top(owner, "autonomous_system_number")
        organisation = _top(owner, "autonomous_system_organization")
        latitude = _field(location, "location", "latitude")
        longitude = _field(location, "location", "longitude")
        return Geo(
            country=country if isinstance(country, str) else None,
            asn=number if isinstance(number, int) and not isinstance(number, bool) else None,
            as_org=organisation if isinstance(organisation, str) else None,
            network=str(ipaddress.ip_network((address, prefix), strict=False)) if prefix else None,
            latitude=float(latitude) if isinstance(latitude, int | float) else None,
            longitude=float(longitude) if isinstance(longitude, int | float) else None,
        )


def _open(path: str | os.PathLike[str]) -> maxminddb.Reader:
    try:
        return maxminddb.open_database(os.fspath(path))
    except (OSError, ValueError, maxminddb.InvalidDatabaseError) as error:
        raise ConfigurationError(
            f"the GeoIP database {os.fspath(path)!r} cannot be read ({type(error).__name__}); "
            "point the setting at a MaxMind-format .mmdb file or leave it empty"
        ) from error


def _find(reader: maxminddb.Reader | None, address: _Address) -> tuple[dict[str, Any] | None, int]:
    """The database's record for ``address`` and the prefix length of its network, (None, 0) when absent."""
    if reader is None:
        return None, 0
    try:
        record, prefix = reader.get_with_prefix_len(address)
    except ValueError:  # an IPv6 address in an IPv4-only database
        return None, 0
    return (record, prefix) if isinstance(record, dict) else (None, 0)


def _field(record: dict[str, Any] | None, section: str, key: str) -> Any:
    part = record.get(section) if record else None
    return part.get(key) if isinstance(part, dict) else None


def _top(record: dict[str, Any] | None, key: str) -> Any:
    """A top-level field (ASN databases), or the same under ``traits`` (GeoIP2 Enterprise and ISP layouts)."""
    if not record:
        return None
    value = record.get(key)
    return value if value is not None else _field(record, "traits", key)
