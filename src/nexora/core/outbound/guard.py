"""The guard itself: which addresses outbound calls may reach, checked once per connection."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import NoReturn
from urllib.parse import urlsplit

import psutil

from nexora.core.errors import UpstreamUnavailable, ValidationFailed

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[Address]]

SCHEMES = ("http", "https")
ALLOW_SETTING = "NEXORA_OUTBOUND_ALLOWED_NETWORKS"
# Cloud instance metadata services (AWS, GCP, Azure, OpenStack: the first; AWS over IPv6; Alibaba).
METADATA = frozenset(ipaddress.ip_address(value) for value in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200"))
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
HOST_ADDRESSES_TTL_SECONDS = 60.0


class DestinationRefused(ValidationFailed):
    """A URL or connection points at a private, loopback or link-local address that is not allow-listed."""

    type_slug = "destination-refused"
    title = "Destination refused"


def parse_networks(values: Iterable[str]) -> list[Network]:
    """CIDR strings (or single addresses) as networks; raises :class:`ValidationFailed` on a bad one."""
    networks: list[Network] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise ValidationFailed(f"'{value}' is not a network in CIDR notation (e.g. 10.0.0.0/8)") from None
    return networks


def resolve_host(host: str, port: int) -> list[Address]:
    """Every address ``host`` resolves to for a TCP connection, in the resolver's order (no duplicates)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos))


_host_addresses_lock = threading.Lock()
_host_addresses_cache: tuple[float, frozenset[Address]] | None = None


def host_addresses() -> frozenset[Address]:
    """The addresses of this host's network interfaces (cached for a minute)."""
    global _host_addresses_cache
    with _host_addresses_lock:
        now = time.monotonic()
        if _host_addresses_cache is None or now - _host_addresses_cache[0] > HOST_ADDRESSES_TTL_SECONDS:
            found: set[Address] = set()
            for snics in psutil.net_if_addrs().values():
                for snic in snics:
                    if snic.family in (socket.AF_INET, socket.AF_INET6):
                        try:
                            found.add(ipaddress.ip_address(str(snic.address).split("%", 1)[0]))
                        except ValueError:
                            continue
            _host_addresses_cache = (now, frozenset(found))
        return _host_addresses_cache[1]


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a NAT64 or 6to4 address leads to (IPv4-mapped forms are normalised earlier)."""
    if any(address in network for network in NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def address_class(address: Address, own: frozenset[Address] = frozenset()) -> str | None:
    """Why ``address`` is not a public destination (e.g. ``"a loopback address"``), or ``None`` if it is."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        found = address_class(address.ipv4_mapped, own)
        return f"{found} (IPv4-mapped)" if found else None
    checks: tuple[tuple[bool, str], ...] = (
        (address in METADATA, "a cloud metadata service address"),
        (address.is_unspecified, "the unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_private, "a private address"),
        (address.is_reserved, "a reserved address"),
        (address in own, "one of this host's own addresses"),
        (not address.is_global, "a special-purpose address that is not publicly routable"),
    )
    for matched, name in checks:
        if matched:
            return name
    if isinstance(address, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            found = address_class(embedded, own)
            return f"{found} (embedded in an IPv6 address)" if found else None
    return None


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


class OutboundGuard:
    """Resolves a host once, refuses internal addresses outside the allow-list, returns what to connect to.

    ``resolver`` and ``own_addresses`` are injectable so that tests can stand in for DNS and for the
    host's interfaces; by default they are :func:`resolve_host` and :func:`host_addresses`.
    """

    def __init__(
        self,
        allowed: Iterable[Network] = (),
        *,
        resolver: Resolver = resolve_host,
        own_addresses: Callable[[], frozenset[Address]] = host_addresses,
    ) -> None:
        self.allowed = tuple(allowed)
        self._resolver = resolver
        self._own_addresses = own_addresses

    def is_allowed(self, address: Address) -> bool:
        if any(address in network for network in self.allowed):
            return True
        mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
        return mapped is not None and any(mapped in network for network in self.allowed)

    def check_address(self, address: Address, host: str | None = None) -> None:
        """Refuse ``address`` (that ``host`` resolved to) unless it is public or allow-listed."""
        if self.is_allowed(address):
            return
        found = address_class(address, self._own_addresses())
        if found is None:
            return
        subject = f"the address {address} is" if host is None else f"'{host}' resolves to"
        raise DestinationRefused(
            f"{subject} {found}; private, loopback or link-local, multicast, reserved and this host's own"
            f" addresses are refused unless their network is allow-listed in {ALLOW_SETTING}"
        )

    def addresses(self, host: str, port: int) -> list[Address]:
        """The checked addresses to connect to for ``host``: resolved once, every one of them allowed.

        Raises :class:`DestinationRefused` if any address is refused (a name that resolves to both a
        public and a private address is refused), and :class:`socket.gaierror` if the name does not resolve.
        """
        name = host.strip("[]")
        literal = _literal(name)
        if literal is not None:
            self.check_address(literal)
            return [literal]
        found = self._resolver(name, port)
        if not found:
            raise socket.gaierror(socket.EAI_NONAME, f"'{name}' resolves to no address")
        for address in found:
            self.check_address(address, name)
        return list(found)

    def check_url(self, url: str, *, resolve: bool = True) -> None:
        """Refuse ``url`` unless it is an http(s) URL whose host is (or resolves to) allowed addresses.

        A pre-flight check that gives a clear early error; the connections themselves are checked again
        by the adapters of this module, which is what defeats DNS rebinding and redirects.
        """
        try:
            parts = urlsplit(url)
        except ValueError:  # an unbalanced "[" or "]": not a URL
            raise ValidationFailed("the URL is not valid") from None
        try:
            port = parts.port
        except ValueError:
            raise ValidationFailed("the URL has an invalid port") from None
        if parts.scheme not in SCHEMES or not parts.hostname:
            raise ValidationFailed("the URL must be an absolute http:// or https:// URL")
        host = parts.hostname
        if any(not character.isprintable() or character.isspace() for character in host):
            raise ValidationFailed("the URL's host name is not valid")
        if not resolve and _literal(host) is None:
            return
        try:
            self.addresses(host, port or (443 if parts.scheme == "https" else 80))
        except UnicodeError:  # the IDNA codec refuses the name before any lookup
            raise ValidationFailed("the URL's host name is not valid") from None
        except OSError:
            raise UpstreamUnavailable(f"the host '{host}' cannot be resolved") from None


def as_guard(guard: OutboundGuard | Iterable[Network]) -> OutboundGuard:
    return guard if isinstance(guard, OutboundGuard) else OutboundGuard(guard)


def _no_proxy() -> NoReturn:
    raise DestinationRefused(
        "outbound calls do not go through proxies: a proxy would reach the destination out of the guard's sight"
    )
