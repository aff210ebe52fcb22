"""A hostile tenant admin cannot point a connector at the platform's own network (SSRF).

Through the public API, connectors are aimed at the Nexora host (``localhost``) and at a peer that
redirects to the cloud metadata service or a private address. A listener that nobody accepts on
shows in its backlog whether anything connected; Python's ``socket.connect`` audit event shows
every address the process really tried to reach. The operator allowed no internal network unless a
test says otherwise (``allow_loopback``, for a peer that must be reached on 127.0.0.1).
"""

from __future__ import annotations

import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import yaml

from tests.fixtures.app import SignedIn
from tests.fixtures.listeners import Listener

PROBLEM = "application/problem+json"
TOKEN = "ghp_hostileTenantToken0123456789abcdef"
METADATA_URL = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"


@dataclass
class SocketLog:
    """The (host, port) this process connected to while recording (``socket.connect`` audit events)."""

    connected: list[tuple[str, int]] = field(default_factory=list)
    recording: bool = False

    def hook(self, event: str, args: tuple[Any, ...]) -> None:
        if self.recording and event == "socket.connect" and isinstance(args[1], tuple):
            self.connected.append((str(args[1][0]), int(args[1][1])))

    def hosts(self) -> set[str]:
        return {host for host, _ in self.connected}


_LOG = SocketLog()
_HOOKED: list[bool] = []


@pytest.fixture
def sockets() -> Iterator[SocketLog]:
    if not _HOOKED:
        sys.addaudithook(_LOG.hook)  # audit hooks cannot be removed: one for the session, off when unused
        _HOOKED.append(True)
    _LOG.connected.clear()
    _LOG.recording = True
    yield _LOG
    _LOG.recording = False


class Redirector:
    """A peer on 127.0.0.1 that answers every request with a redirect to ``target``."""

    def __init__(self, target: str) -> None:
        self.paths: list[str] = []
        redirector = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                return

            def _redirect(self) -> None:
                redirector.paths.append(self.path)
                self.send_response(302)
                self.send_header("Location", target)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_LIST = _redirect

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def kubeconfig(server: str) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "c", "cluster": {"server": server}}],
            "users": [{"name": "u", "user": {"token": TOKEN}}],
            "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
            "current-context": "c",
        }
    )


def connector_body(kind: str, url: str) -> dict[str, Any]:
    """A connector of ``kind`` whose provider URL is ``url``."""
    bodies: dict[str, dict[str, Any]] = {
        "github": {"config": {"org": "acme", "base_url": url}, "credentials": {"token": TOKEN}},
        "vault": {"config": {"url": url}, "credentials": {"token": TOKEN}},
        "aws": {
            "config": {"endpoint_url": url},
            "credentials": {"access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": TOKEN},
        },
        "kubernetes": {"config": {"mode": "live", "cluster": "c"}, "credentials": {"kubeconfig": kubeconfig(url)}},
    }
    return {"name": f"ssrf-{kind}-{uuid.uuid4().hex[:8]}", "kind": kind, **bodies[kind]}


async def connection_test(client: httpx.AsyncClient, admin: SignedIn, body: dict[str, Any]) -> dict[str, Any]:
    """Create the connector, then ask the API to test its connection."""
    created = await client.post("/api/v1/connectors", headers=admin.headers, json=body)
    assert created.status_code == 201, created.text
    response = await client.post(f"/api/v1/connectors/{created.json()['id']}/test", headers=admin.headers)
    assert response.status_code == 200, response.text
    assert TOKEN not in response.text
    answer: dict[str, Any] = response.json()
    return answer


@pytest.mark.parametrize("kind", ["github", "vault", "aws"])
async def test_a_connector_aimed_at_the_nexora_host_is_refused_and_nothing_connects(
    client: httpx.AsyncClient, tenant_admin: SignedIn, listener: Listener, sockets: SocketLog, kind: str
) -> None:
    answer = await connection_test(client, tenant_admin, connector_body(kind, f"http://localhost:{listener.port}"))

    assert answer["ok"] is False
    assert "'localhost' resolves to a loopback address" in answer["message"]
    assert "NEXORA_OUTBOUND_ALLOWED_NETWORKS" in answer["message"]
    assert listener.connections() == 0
    assert not [port for _, port in sockets.connected if port == listener.port]


@pytest.mark.usefixtures("allow_loopback")
@pytest.mark.parametrize("kind", ["github", "vault", "kubernetes"])
@pytest.mark.parametrize(
    ("target", "address", "named"),
    [
        (METADATA_URL, "169.254.169.254", "a cloud metadata service address"),
        ("http://10.0.0.1:8200/v1/sys/auth", "10.0.0.1", "a private address"),
    ],
)
async def test_a_redirect_to_an_internal_address_is_refused_naming_its_class(
    client: httpx.AsyncClient,
    tenant_admin: SignedIn,
    sockets: SocketLog,
    kind: str,
    target: str,
    address: str,
    named: str,
) -> None:
    redirector = Redirector(target)
    try:
        answer = await connection_test(client, tenant_admin, connector_body(kind, redirector.url))
    finally:
        redirector.close()

    assert answer["ok"] is False
    assert f"the address {address} is {named}" in answer["message"]
    assert redirector.paths, "the allow-listed peer was reached first"
    assert address not in sockets.hosts()


@pytest.mark.usefixtures("allow_loopback")
async def test_allow_listing_loopback_opens_no_other_internal_network(
    client: httpx.AsyncClient, tenant_admin: SignedIn, sockets: SocketLog
) -> None:
    answer = await connection_test(client, tenant_admin, connector_body("vault", "http://10.0.0.1:8200"))

    assert answer["ok"] is False
    assert "the address 10.0.0.1 is a private address" in answer["message"]
    assert "10.0.0.1" not in sockets.hosts()


@pytest.mark.parametrize(
    ("kind", "field", "url"),
    [
        ("github", "base_url", "file:///etc/passwd"),
        ("github", "base_url", "gopher://127.0.0.1:70/_GET"),
        ("vault", "url", "127.0.0.1:8200"),
    ],
)
async def test_a_provider_url_that_is_not_http_is_refused_at_create(
    client: httpx.AsyncClient, tenant_admin: SignedIn, kind: str, field: str, url: str
) -> None:
    response = await client.post("/api/v1/connectors", headers=tenant_admin.headers, json=connector_body(kind, url))

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert field in response.json()["detail"]
    assert "http:// or https://" in response.json()["detail"]
    assert TOKEN not in response.text


class HeaderRecorder:
    """A peer that records the headers of each request and answers 503 (a Vault still unsealing)."""

    def __init__(self) -> None:
        self.headers: list[dict[str, str]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                return

            def _record(self) -> None:
                recorder.headers.append({name.lower(): value for name, value in self.headers.items()})
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_LIST = _record

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.usefixtures("allow_loopback")
async def test_a_vault_redirect_to_another_host_never_carries_the_tenants_vault_token(
    client: httpx.AsyncClient, tenant_admin: SignedIn
) -> None:
    elsewhere = HeaderRecorder()
    # Another host name for the same loopback peer: what matters to the redirect is the host that changed.
    redirector = Redirector(f"http://localhost:{elsewhere.port}/v1/auth/token/lookup-self")
    try:
        answer = await connection_test(client, tenant_admin, connector_body("vault", redirector.url))
    finally:
        redirector.close()
        elsewhere.close()

    assert answer["ok"] is False
    assert redirector.paths, "the Vault was asked first"
    assert elsewhere.headers, "the redirect was followed"
    assert all("x-vault-token" not in headers for headers in elsewhere.headers)
    assert all(TOKEN not in str(headers) for headers in elsewhere.headers)


async def test_an_aws_connector_without_credentials_never_borrows_the_hosts_identity(
    client: httpx.AsyncClient, tenant_admin: SignedIn, sockets: SocketLog
) -> None:
    body = {"name": f"aws-host-{uuid.uuid4().hex[:8]}", "kind": "aws", "config": {"region": "us-east-1"}}
    created = await client.post("/api/v1/connectors", headers=tenant_admin.headers, json=body)
    assert created.status_code == 201, created.text

    tested = await client.post(f"/api/v1/connectors/{created.json()['id']}/test", headers=tenant_admin.headers)

    assert tested.json()["ok"] is False
    assert "NEXORA_CONNECTOR_ALLOW_HOST_CREDENTIALS" in tested.json()["message"]
    assert sockets.connected == []  # not the metadata service, not STS, nothing
