"""Baseline detectors: what is new or unusual for this identity, once its profile has learned enough."""

from __future__ import annotations

import ipaddress
import math
from datetime import UTC, datetime
from typing import Any

from nexora.analytics.activity import ActivityEvent
from nexora.analytics.detectors.base import Context, Detection, Geo
from nexora.analytics.detectors.catalogue import detection
from nexora.analytics.detectors.rules import history_days
from nexora.analytics.detectors.settings import Compiled
from nexora.analytics.profiles import DAY, HOUR, Profile, network_of

EARTH_RADIUS_KM = 6371.0


def _top(table: dict[str, list[int]], limit: int = 5) -> dict[str, int]:
    ranked = sorted(table.items(), key=lambda item: item[1][0], reverse=True)[:limit]
    return {value: entry[0] for value, entry in ranked}


# Where pods, nodes and VPC endpoints call from: RFC 1918, shared address space (RFC 6598), loopback,
# link-local and unique-local IPv6. (ipaddress's is_private also counts the documentation ranges.)
_INTERNAL = tuple(
    ipaddress.ip_network(network)
    for network in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "fc00::/7",
        "fe80::/10",
        "::1/128",
    )
)


def _private(ip: str | None) -> bool:
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return False
    return any(address in network for network in _INTERNAL)


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def first_seen(e: ActivityEvent, p: Profile, c: Context, s: Compiled, t: float) -> list[Detection]:
    """New network, country and ASN (the caller checked the learning period)."""
    found: list[Detection] = []
    geo = c.geo
    ip = e.source_ip
    network = geo.network if geo is not None and geo.network else network_of(ip)
    history = history_days(p, t)
    if network is not None and network not in p.networks and not (s.settings.ignore_private_networks and _private(ip)):
        found.append(
            detection(
                "baseline.new_network",
                f"{e.identity.name} active from new network {network}",
                [e.source_event_id],
                {
                    "seen": f"{e.action} from {ip} ({network})",
                    "network": network,
                    "baseline": {"known_networks": len(p.networks), "top": _top(p.networks), "history_days": history},
                },
                discriminator=network,
            )
        )
    if geo is None:
        return found
    if geo.country and geo.country not in p.countries:
        found.append(
            detection(
                "baseline.new_country",
                f"{e.identity.name} active from {geo.country} for the first time",
                [e.source_event_id],
                {
                    "seen": f"{e.action} from {ip} in {geo.country}",
                    "country": geo.country,
                    "baseline": {"countries": _top(p.countries, 10), "history_days": history},
                },
                discriminator=geo.country,
            )
        )
    if geo.asn is not None and str(geo.asn) not in p.asns:
        found.append(
            detection(
                "baseline.new_asn",
                f"{e.identity.name} active from AS{geo.asn} ({geo.as_org or '?'}) for the first time",
                [e.source_event_id],
                {
                    "seen": f"{e.action} from {ip} in AS{geo.asn} {geo.as_org or ''}".rstrip(),
                    "asn": geo.asn,
                    "as_org": geo.as_org,
                    "baseline": {"asns": _top(p.asns, 10), "history_days": history},
                },
                discriminator=str(geo.asn),
            )
        )
    return found


def new_sensitive_action(e: ActivityEvent, p: Profile, s: Compiled, t: float, key: str) -> Detection:
    return detection(
        "baseline.new_sensitive_action",
        f"{e.identity.name} called {key} for the first time",
        [e.source_event_id],
        {
            "seen": f"{key} on {e.resource or '?'} ({e.outcome})",
            "action": key,
            "baseline": {"known_actions": len(p.actions), "history_days": history_days(p, t)},
        },
        discriminator=key,
    )


def dormant(e: ActivityEvent, p: Profile, s: Compiled, t: float, last: float) -> Detection:
    idle = round((t - last) / DAY, 1)
    return detection(
        "baseline.dormant_identity",
        f"{e.identity.name} active again after {idle:g} days",
        [e.source_event_id],
        {
            "seen": f"{e.action} after {idle:g} days without activity",
            "idle_days": idle,
            "threshold_days": s.settings.dormant_days,
            "last_seen": iso(last),
            "baseline": {"events": p.events, "first_seen": iso(p.first_seen or last)},
        },
        discriminator=iso(t)[:10],
    )


def volume_threshold(p: Profile, s: Compiled) -> tuple[float, float, float] | None:
    """(threshold, centre, scale) of the current hour's count, or None while the baseline is too short."""
    settings = s.settings
    if len(p.ring) < settings.volume_min_hours:
        return None
    if settings.volume_method == "mad":
        centre, spread = p.rate_median, 1.4826 * p.rate_mad
    else:
        centre, spread = p.rate_mean, math.sqrt(max(p.rate_variance, 0.0))
    scale = max(spread, 0.1 * centre, 1.0)  # a perfectly regular identity still gets some room
    return max(centre + settings.volume_z * scale, float(settings.volume_min_events)), centre, scale


def volume_spike(
    e: ActivityEvent, p: Profile, s: Compiled, count: int, limits: tuple[float, float, float]
) -> Detection:
    threshold, centre, scale = limits
    method = s.settings.volume_method
    evidence = [*p.hour_event_ids, e.source_event_id]
    return detection(
        "baseline.volume_spike",
        f"{count} events in one hour by {e.identity.name} (usually {centre:g})",
        evidence,
        {
            "seen": f"{count} events in the hour starting {iso((int(e.time.timestamp()) // HOUR) * HOUR)}",
            "count": count,
            "method": method,
            "baseline": {
                "median" if method == "mad" else "ewma_mean": round(centre, 2),
                "mad" if method == "mad" else "ewma_deviation": round(p.rate_mad if method == "mad" else scale, 2),
                "active_hours": len(p.ring),
            },
            "score": round((count - centre) / scale, 2),
            "threshold_score": s.settings.volume_z,
            "threshold_events": math.ceil(threshold),
        },
        discriminator=iso((int(e.time.timestamp()) // HOUR) * HOUR)[:13],
    )


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def impossible_travel(e: ActivityEvent, p: Profile, s: Compiled, t: float, geo: Geo) -> Detection | None:
    last = p.last_geo
    if last is None or geo.latitude is None or geo.longitude is None:
        return None
    then, latitude, longitude, country, event_id = last
    if (latitude, longitude) == (geo.latitude, geo.longitude):
        return None
    distance = distance_km(latitude, longitude, geo.latitude, geo.longitude)
    if distance < s.settings.impossible_travel_min_km:
        return None
    hours = max(t - then, 1.0) / HOUR
    speed = distance / hours
    if speed <= s.settings.impossible_travel_kmh:
        return None
    place: dict[str, Any] = {"country": geo.country, "latitude": geo.latitude, "longitude": geo.longitude}
    return detection(
        "baseline.impossible_travel",
        f"{e.identity.name}: {country or '?'} to {geo.country or '?'} in {round(hours * 60)} min",
        [event_id, e.source_event_id],
        {
            "seen": f"{round(distance)} km in {round(hours * 60, 1)} min ({round(speed)} km/h)",
            "from": {
                "country": country,
                "latitude": latitude,
                "longitude": longitude,
                "at": iso(then),
                "event_id": event_id,
            },
            "to": {**place, "at": iso(t), "event_id": e.source_event_id, "source_ip": e.source_ip},
            "distance_km": round(distance),
            "minutes": round(hours * 60, 1),
            "speed_kmh": round(speed),
            "threshold_kmh": s.settings.impossible_travel_kmh,
        },
        discriminator=f"{country}>{geo.country}",
    )
