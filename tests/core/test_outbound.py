"""The outbound guard: refused address classes, one resolution per connection, redirects, TLS names, proxies.

Every client kind (httpx, requests as hvac uses it, the kubernetes client's urllib3 pool, botocore)
talks to a real server on 127.0.0.1. Python's audit events (``socket.connect``,
``socket.getaddrinfo``) show which addresses the process really tried to reach and which names it
resolved, without replacing any of the code under test. Nothing is ever sent to a non-loopback
address: refusals happen before connecting, and every client has a short timeout so that a broken
guard fails fast instead of waiting on the network.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.config import Config
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from kubernetes.client import ApiClient, Configuration

from nexora.core.errors import UpstreamUnavailable, ValidationFailed
from nexora.core.outbound import (
    Address,
    DestinationRefused,
    OutboundGuard,
    async_outbound_client,
    guard_botocore_client,
    guard_kubernetes_client,
    guarded_requests_session,
    host_addresses,
    outbound_client,
    parse_networks,
)
from tests.fixtures.listeners import Listener

TIMEOUT = 2.0
LOOPBACK = parse_networks(["127.0.0.0/8"])
STS_ANSWER = (
    b'<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
    b"<Arn>arn:aws:iam::123456789012:user/reader</Arn><UserId>AIDA</UserId><Account>123456789012</Account>"
    b"</GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>"
    b"</GetCallerIdentityResponse>"
)
REDIRECTS = {
    "/to-metadata": ("http://169.254.169.254/latest/meta-data/", "169.254.169.254", "cloud metadata"),
    "/to-private": ("http://10.0.0.1/", "10.0.0.1", "private address"),
}


# ---- what the process really did ----------------------------------------------------------------------


@dataclass
class SocketLog:
    """The addresses this process connected to and the names it resolved while recording (audit events)."""

    connected: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    recording: bool = False

    def hook(self, event: str, args: tuple[Any, ...]) -> None:
        if not self.recording:
            return
        if event == "socket.connect" and isinstance(args[1], tuple):
            self.connected.append(str(args[1][0]))
        elif event == "socket.getaddrinfo":
            host = args[0]
            self.resolved.append(host.decode() if isinstance(host, bytes) else str(host))


_LOG = SocketLog()
_HOOKED: list[bool] = []


@pytest.fixture
def sockets() -> Iterator[SocketLog]:
    if not _HOOKED:
        sys.addaudithook(_LOG.hook)  # audit hooks cannot be removed: one for the session, off when unused
        _HOOKED.append(True)
    _LOG.connected.clear()
    _LOG.resolved.clear()
    _LOG.recording = True
    yield _LOG
    _LOG.recording = False


# ---- a peer on 127.0.0.1 ---------------------------------------------------------------------------------


class Peer:
    """An HTTP(S) server on 127.0.0.1: ``/`` answers JSON, ``/to-*`` redirect to internal addresses.

    It answers over HTTP/1.0, so every request opens a new connection (and is checked again).
    """

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.paths: list[str] = []
        self.server_names: list[str | None] = []
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                return

            def do_GET(self) -> None:
                peer.paths.append(self.path)
                target = REDIRECTS.get(self.path)
                if target is not None:
                    self.send_response(302)
                    self.send_header("Location", target[0])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = b'{"ok": true}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                peer.paths.append(self.path)
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(STS_ANSWER)))
                self.end_headers()
                self.wfile.write(STS_ANSWER)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            tls.sni_callback = lambda _socket, name, _context: self.server_names.append(name)
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url(self, host: str = "127.0.0.1", path: str = "/", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def peer() -> Iterator[Peer]:
    server = Peer()
    yield server
    server.close()


class Resolver:
    """Stands in for DNS: answers from a script (one answer per call, the last one repeated); counts calls."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = [[ipaddress.ip_address(value) for value in answer] for answer in answers]
        self.calls: list[str] = []

    def __call__(self, host: str, port: int) -> list[Address]:
        self.calls.append(host)
        return self.answers[min(len(self.calls), len(self.answers)) - 1]


# ---- the client kinds ------------------------------------------------------------------------------------


def _httpx(guard: OutboundGuard, url: str, verify: Any = True) -> bytes:
    with outbound_client(guard, timeout=TIMEOUT, follow_redirects=True, verify=verify) as client:
        response = client.get(url)
        response.raise_for_status()
        return response.content


def _requests(guard: OutboundGuard, url: str, verify: Any = True) -> bytes:
    with guarded_requests_session(guard) as session:
        response = session.get(url, timeout=TIMEOUT, verify=verify)
        response.raise_for_status()
        return response.content


def _kubernetes(guard: OutboundGuard, url: str, verify: Any = True) -> bytes:
    configuration = Configuration(host=url)
    if isinstance(verify, str):
        configuration.ssl_ca_cert = verify
    api_client = guard_kubernetes_client(ApiClient(configuration), guard)
    try:
        response = api_client.rest_client.request("GET", url, _request_timeout=TIMEOUT)
        assert response.status == 200
        return bytes(response.read())
    finally:
        api_client.close()


CLIENTS: dict[str, Callable[..., bytes]] = {"httpx": _httpx, "requests (hvac)": _requests, "kubernetes": _kubernetes}


def _sts(guard: OutboundGuard, endpoint_url: str) -> Any:
    config = Config(connect_timeout=TIMEOUT, read_timeout=TIMEOUT, retries={"total_max_attempts": 1})
    client = botocore.session.Session().create_client(
        "sts",
        region_name="us-east-1",
        endpoint_url=endpoint_url,
        config=config,
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="not-a-real-secret",
    )
    return guard_botocore_client(client, guard)


# ---- address classes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "named"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("169.254.169.254", "cloud metadata"),
        ("fd00:ec2::254", "cloud metadata"),
        ("169.254.10.1", "link-local"),
        ("fe80::1", "link-local"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("::ffff:127.0.0.1", "loopback address (IPv4-mapped)"),
        ("::ffff:169.254.169.254", "cloud metadata service address (IPv4-mapped)"),
        ("::ffff:10.0.0.1", "private address (IPv4-mapped)"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "not publicly routable"),
        ("64:ff9b::a00:1", "reserved"),
    ],
)
def test_internal_addresses_are_refused_naming_their_class(address: str, named: str) -> None:
    guard = OutboundGuard(own_addresses=frozenset)

    with pytest.raises(DestinationRefused) as refused:
        guard.addresses(address, 80)

    assert named in refused.value.message
    assert "NEXORA_OUTBOUND_ALLOWED_NETWORKS" in refused.value.message
    assert refused.value.status == 422


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert OutboundGuard(own_addresses=frozenset).addresses(address, 443) == [ipaddress.ip_address(address)]


def test_the_hosts_own_addresses_are_refused_even_when_public() -> None:
    guard = OutboundGuard(own_addresses=lambda: frozenset({ipaddress.ip_address("203.0.113.9")}))
    with pytest.raises(DestinationRefused, match="this host's own addresses"):
        guard.addresses("203.0.113.9", 443)
    own = OutboundGuard(own_addresses=lambda: frozenset({ipaddress.ip_address("8.8.4.4")}))
    with pytest.raises(DestinationRefused, match="one of this host's own addresses"):
        own.addresses("8.8.4.4", 443)


def test_every_address_of_this_hosts_interfaces_is_refused() -> None:
    found = host_addresses()
    assert ipaddress.ip_address("127.0.0.1") in found
    for address in found:
        with pytest.raises(DestinationRefused):
            OutboundGuard().addresses(str(address), 80)


def test_an_allow_listed_network_passes_and_only_that_network() -> None:
    guard = OutboundGuard(parse_networks(["10.0.0.0/8", "fd12::/16"]), own_addresses=frozenset)

    assert guard.addresses("10.1.2.3", 80) == [ipaddress.ip_address("10.1.2.3")]
    assert guard.addresses("::ffff:10.1.2.3", 80) == [ipaddress.ip_address("::ffff:10.1.2.3")]
    assert guard.addresses("fd12::7", 80) == [ipaddress.ip_address("fd12::7")]
    with pytest.raises(DestinationRefused, match="cloud metadata"):
        guard.addresses("169.254.169.254", 80)
    with pytest.raises(DestinationRefused, match="private"):
        guard.addresses("192.168.0.1", 80)


def test_a_name_is_refused_when_any_of_its_addresses_is_internal_without_revealing_which() -> None:
    resolver = Resolver(["8.8.8.8", "10.20.30.40"])
    guard = OutboundGuard(resolver=resolver, own_addresses=frozenset)

    with pytest.raises(DestinationRefused) as refused:
        guard.addresses("mixed.test", 443)

    assert "'mixed.test' resolves to a private address" in refused.value.message
    assert "10.20.30.40" not in refused.value.message
    assert resolver.calls == ["mixed.test"]


def test_only_http_and_https_urls_are_accepted() -> None:
    guard = OutboundGuard(parse_networks(["0.0.0.0/0", "::/0"]))
    for url in ("file:///etc/passwd", "gopher://8.8.8.8/", "ftp://8.8.8.8/", "//8.8.8.8/", "http:///nohost"):
        with pytest.raises(ValidationFailed, match="http:// or https://"):
            guard.check_url(url)
    guard.check_url("https://8.8.8.8/api")


def test_a_name_that_does_not_resolve_is_unavailable_not_refused() -> None:
    guard = OutboundGuard(resolver=Resolver([]))
    with pytest.raises(UpstreamUnavailable, match="cannot be resolved"):
        guard.check_url("https://nowhere.test/")


# ---- connections go to the checked address -----------------------------------------------------------


@pytest.mark.parametrize("kind", CLIENTS)
def test_each_connection_resolves_the_name_once_and_connects_to_the_checked_address(
    kind: str, peer: Peer, sockets: SocketLog
) -> None:
    # "rebind.test" exists only in this resolver: a second resolution by the library would fail.
    resolver = Resolver(["127.0.0.1"])
    guard = OutboundGuard(LOOPBACK, resolver=resolver)

    body = CLIENTS[kind](guard, peer.url("rebind.test"))

    assert body == b'{"ok": true}'
    assert resolver.calls == ["rebind.test"]
    assert "rebind.test" not in sockets.resolved
    assert sockets.connected == ["127.0.0.1"]


@pytest.mark.parametrize("kind", CLIENTS)
def test_a_name_rebound_to_the_metadata_address_is_refused_on_the_next_connection(
    kind: str, peer: Peer, sockets: SocketLog
) -> None:
    resolver = Resolver(["127.0.0.1"], ["169.254.169.254"])
    guard = OutboundGuard(LOOPBACK, resolver=resolver)
    fetch = CLIENTS[kind]
    assert fetch(guard, peer.url("rebind.test")) == b'{"ok": true}'

    with pytest.raises(DestinationRefused, match=r"'rebind\.test' resolves to a cloud metadata service address"):
        fetch(guard, peer.url("rebind.test"))

    assert resolver.calls == ["rebind.test", "rebind.test"]
    assert sockets.connected == ["127.0.0.1"]
    assert peer.paths == ["/"]


def test_the_name_is_resolved_by_the_guard_alone_with_the_system_resolver(peer: Peer, sockets: SocketLog) -> None:
    for fetch in CLIENTS.values():
        fetch(OutboundGuard(LOOPBACK), peer.url("localhost"))

    assert sockets.resolved.count("localhost") == len(CLIENTS)
    assert set(sockets.connected) == {"127.0.0.1"}


async def test_the_async_httpx_client_is_guarded_the_same_way(peer: Peer, sockets: SocketLog) -> None:
    resolver = Resolver(["127.0.0.1"], ["10.0.0.1"])
    async with async_outbound_client(OutboundGuard(LOOPBACK, resolver=resolver), timeout=TIMEOUT) as client:
        first = await client.get(peer.url("rebind.test"))
        with pytest.raises(DestinationRefused, match="private address"):
            await client.get(peer.url("rebind.test"))

    assert first.json() == {"ok": True}
    assert resolver.calls == ["rebind.test", "rebind.test"]
    assert sockets.connected == ["127.0.0.1"]


# ---- redirects -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", CLIENTS)
@pytest.mark.parametrize("path", REDIRECTS)
def test_a_redirect_to_an_internal_address_is_refused_before_connecting(
    kind: str, path: str, peer: Peer, sockets: SocketLog
) -> None:
    _, target, named = REDIRECTS[path]

    with pytest.raises(DestinationRefused) as refused:
        CLIENTS[kind](OutboundGuard(LOOPBACK), peer.url(path=path))

    assert named in refused.value.message
    assert peer.paths == [path]
    assert target not in sockets.connected
    assert set(sockets.connected) == {"127.0.0.1"}


# ---- TLS still verifies the name ------------------------------------------------------------------------


@dataclass
class Tls:
    server: ssl.SSLContext
    ca_file: str


@pytest.fixture
def tls(tmp_path: Path) -> Tls:
    """A self-signed certificate for ``guarded.test`` only (not for 127.0.0.1)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "guarded.test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("guarded.test")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    certificate_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    certificate_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(certificate_file, key_file)
    return Tls(server, str(certificate_file))


@pytest.mark.parametrize("kind", CLIENTS)
def test_tls_uses_the_host_name_for_sni_and_verification_not_the_address(kind: str, tls: Tls) -> None:
    peer = Peer(tls.server)
    verify: Any = ssl.create_default_context(cafile=tls.ca_file) if kind == "httpx" else tls.ca_file
    guard = OutboundGuard(LOOPBACK, resolver=Resolver(["127.0.0.1"]))
    try:
        body = CLIENTS[kind](guard, peer.url("guarded.test", scheme="https"), verify)
        # The certificate does not name the address: connecting "by address" must fail verification.
        with pytest.raises(Exception, match=r"(?i)certificate|hostname|ip address mismatch"):
            CLIENTS[kind](guard, peer.url("127.0.0.1", scheme="https"), verify)
    finally:
        peer.close()

    assert body == b'{"ok": true}'
    assert peer.server_names[0] == "guarded.test"


# ---- proxies from the environment are not used ------------------------------------------------------------


@pytest.mark.parametrize("kind", CLIENTS)
def test_a_proxy_from_the_environment_does_not_carry_the_calls(
    kind: str, peer: Peer, listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = f"http://127.0.0.1:{listener.port}"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.setenv(name, proxy)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)

    body = CLIENTS[kind](OutboundGuard(LOOPBACK), peer.url())

    assert body == b'{"ok": true}'
    assert peer.paths == ["/"]
    assert listener.connections() == 0


# ---- botocore --------------------------------------------------------------------------------------------


def test_botocore_connects_to_the_checked_address_of_its_endpoint(peer: Peer, sockets: SocketLog) -> None:
    resolver = Resolver(["127.0.0.1"], ["169.254.169.254"])
    client = _sts(OutboundGuard(LOOPBACK, resolver=resolver), peer.url("rebind.test", path=""))

    identity = client.get_caller_identity()
    with pytest.raises(DestinationRefused, match="cloud metadata"):
        client.get_caller_identity()

    assert identity["Account"] == "123456789012"
    assert resolver.calls == ["rebind.test", "rebind.test"]
    assert "rebind.test" not in sockets.resolved
    assert sockets.connected == ["127.0.0.1"]


def test_botocore_refuses_a_loopback_endpoint_that_is_not_allow_listed(listener: Listener, sockets: SocketLog) -> None:
    client = _sts(OutboundGuard(), f"http://localhost:{listener.port}")

    with pytest.raises(DestinationRefused, match="'localhost' resolves to a loopback address"):
        client.get_caller_identity()

    assert listener.connections() == 0
    assert sockets.connected == []


def test_botocore_ignores_environment_proxies_and_guards_only_its_own_client(
    peer: Peer, listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{listener.port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    guarded = _sts(OutboundGuard(LOOPBACK), peer.url(path=""))
    refusing = _sts(OutboundGuard(), peer.url(path=""))

    assert guarded.get_caller_identity()["Account"] == "123456789012"
    with pytest.raises(DestinationRefused):
        refusing.get_caller_identity()
    assert listener.connections() == 0
    assert peer.paths == ["/"]


@pytest.mark.parametrize(
    "url", ["http://\u0091mb\u00ab<", "http://[::1/x", "http://a]b/", "https://\u00fe\u00e4\u00f1\u0000/"]
)
def test_a_url_that_does_not_parse_is_invalid_input_not_a_crash(url: str) -> None:
    with pytest.raises(ValidationFailed):
        OutboundGuard(()).check_url(url)
