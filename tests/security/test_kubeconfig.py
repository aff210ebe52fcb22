"""A hostile tenant admin's kubeconfig never runs a command, reads a file or reaches a network on the host.

Each kubeconfig below would make the Kubernetes client act on the Nexora host: run a command
(``exec``, ``auth-provider``), read a file (``tokenFile``, certificate and key paths) or skip TLS
checks. Through the public API they are refused with a problem naming the field, a marker file
proves no command ran, and a listener standing in for the cluster proves nothing connected.
"""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import text

from nexora.core.config import Settings
from nexora.core.runtime import Runtime
from tests.fixtures.app import SignedIn
from tests.fixtures.listeners import Listener

PROBLEM = "application/problem+json"
TOKEN_ON_HOST = "host-only-token-7f1c2a"  # what a tokenFile on the host holds


def kubeconfig(server: str, user: dict[str, Any], cluster: dict[str, Any] | None = None) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "c", "cluster": {"server": server, **(cluster or {})}}],
            "users": [{"name": "u", "user": user}],
            "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
            "current-context": "c",
        }
    )


async def create_live_connector(client: httpx.AsyncClient, admin: SignedIn, name: str, config: str) -> httpx.Response:
    """A live Kubernetes connector with the kubeconfig ``config``, created through the API (must succeed)."""
    created = await client.post(
        "/api/v1/connectors",
        headers=admin.headers,
        json={
            "name": name,
            "kind": "kubernetes",
            "config": {"mode": "live", "cluster": "prod"},
            "credentials": {"kubeconfig": config},
        },
    )
    assert created.status_code == 201, created.text
    return created


def hostile_cases(marker: Path, token_file: Path) -> dict[str, tuple[dict[str, Any], dict[str, Any], str]]:
    """name -> (user, cluster extras, field the refusal must name)."""
    return {
        "exec": (
            {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": "touch", "args": [str(marker)]}},
            {},
            "users[0].user.exec",
        ),
        "auth-provider": (
            {"auth-provider": {"name": "gcp", "config": {"cmd-path": "touch", "cmd-args": str(marker)}}},
            {},
            "users[0].user.auth-provider",
        ),
        "tokenFile": ({"tokenFile": str(token_file)}, {}, "users[0].user.tokenFile"),
        "client-certificate": (
            {"client-certificate": "/etc/hostname", "client-key": "/etc/hostname"},
            {},
            "users[0].user.client-certificate",
        ),
        "certificate-authority": ({"token": "t"}, {"certificate-authority": "/etc/hostname"}, "certificate-authority"),
        "insecure-skip-tls-verify": ({"token": "t"}, {"insecure-skip-tls-verify": True}, "insecure-skip-tls-verify"),
        "proxy-url": ({"token": "t"}, {"proxy-url": "http://10.0.0.1:3128"}, "clusters[0].cluster.proxy-url"),
        "unknown user field": ({"token": "t", "future-plugin": {"cmd": "touch"}}, {}, "users[0].user.future-plugin"),
    }


@pytest.fixture
def host_files(tmp_path: Path) -> tuple[Path, Path]:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN_ON_HOST)
    return tmp_path / "marker-created-by-plugin", token_file


CASES = list(hostile_cases(Path("m"), Path("t")))


@pytest.mark.parametrize("case", CASES)
async def test_a_kubeconfig_that_would_touch_the_host_is_refused_at_create_naming_the_field(
    client: httpx.AsyncClient, tenant_admin: SignedIn, listener: Listener, host_files: tuple[Path, Path], case: str
) -> None:
    marker, token_file = host_files
    user, cluster, field = hostile_cases(marker, token_file)[case]
    body = {
        "name": f"k8s-{uuid.uuid4().hex[:8]}",
        "kind": "kubernetes",
        "config": {"mode": "live", "cluster": "prod"},
        "credentials": {"kubeconfig": kubeconfig(listener.url, user, cluster)},
    }

    response = await client.post("/api/v1/connectors", headers=tenant_admin.headers, json=body)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert field in response.json()["detail"]
    assert TOKEN_ON_HOST not in response.text
    assert not marker.exists()
    assert listener.connections() == 0
    listed = await client.get("/api/v1/connectors", headers=tenant_admin.headers)
    assert body["name"] not in {item["name"] for item in listed.json()["items"]}


async def test_a_hostile_kubeconfig_is_refused_on_update_too(
    client: httpx.AsyncClient, tenant_admin: SignedIn, listener: Listener, host_files: tuple[Path, Path]
) -> None:
    marker, token_file = host_files
    created = await create_live_connector(
        client, tenant_admin, "k8s-update", kubeconfig(listener.url, {"token": "static-token"})
    )
    user, _, field = hostile_cases(marker, token_file)["exec"]

    response = await client.patch(
        f"/api/v1/connectors/{created.json()['id']}",
        headers=tenant_admin.headers,
        json={"credentials": {"kubeconfig": kubeconfig(listener.url, user)}},
    )

    assert response.status_code == 422, response.text
    assert field in response.json()["detail"]
    assert not marker.exists()


@pytest.mark.parametrize("case", ["exec", "auth-provider", "tokenFile", "client-certificate"])
async def test_a_hostile_kubeconfig_stored_by_an_older_version_is_refused_when_loaded(
    client: httpx.AsyncClient,
    runtime: Runtime,
    tenant_admin: SignedIn,
    listener: Listener,
    host_files: tuple[Path, Path],
    case: str,
) -> None:
    marker, token_file = host_files
    created = await create_live_connector(
        client, tenant_admin, f"k8s-old-{case}", kubeconfig(listener.url, {"token": "static-token"})
    )
    connector_id = created.json()["id"]
    user, cluster, field = hostile_cases(marker, token_file)[case]
    # What an older version, which did not check kubeconfigs, would have stored.
    stored = runtime.cipher.encrypt_text(
        json.dumps({"kubeconfig": kubeconfig(listener.url, user, cluster)}), connector_id
    )
    async with runtime.db.unit_of_work(tenant_admin.tenant_id) as session:
        await session.execute(
            text("UPDATE discovery.connector SET credentials = :c WHERE id = :id"), {"c": stored, "id": connector_id}
        )

    tested = await client.post(f"/api/v1/connectors/{connector_id}/test", headers=tenant_admin.headers)
    run = await client.post(
        f"/api/v1/connectors/{connector_id}/runs", headers=tenant_admin.headers, params={"wait": "true"}
    )

    assert tested.status_code == 200, tested.text
    assert tested.json()["ok"] is False
    assert field in tested.json()["message"]
    assert run.status_code == 202, run.text
    assert run.json()["status"] == "failed"
    assert any(field in error["message"] for error in run.json()["errors"])
    assert not marker.exists()
    assert listener.connections() == 0
    assert TOKEN_ON_HOST not in tested.text + run.text


async def test_a_kubeconfig_server_on_a_private_address_is_refused_when_loaded(
    client: httpx.AsyncClient, tenant_admin: SignedIn, listener: Listener
) -> None:
    created = await create_live_connector(
        client, tenant_admin, "k8s-loopback", kubeconfig(listener.url, {"token": "static-token"})
    )

    tested = await client.post(f"/api/v1/connectors/{created.json()['id']}/test", headers=tenant_admin.headers)

    assert tested.json()["ok"] is False
    assert "loopback" in tested.json()["message"]
    assert listener.connections() == 0


async def test_a_static_kubeconfig_with_inline_certificate_data_is_accepted(
    client: httpx.AsyncClient, tenant_admin: SignedIn, listener: Listener
) -> None:
    pem = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n").decode()
    response = await client.post(
        "/api/v1/connectors",
        headers=tenant_admin.headers,
        json={
            "name": "k8s-static",
            "kind": "kubernetes",
            "config": {"mode": "live", "cluster": "prod"},
            "credentials": {
                "kubeconfig": kubeconfig(
                    listener.url,
                    {"client-certificate-data": pem, "client-key-data": pem},
                    {"certificate-authority-data": pem},
                )
            },
        },
    )

    assert response.status_code == 201, response.text
    assert "credentials" not in response.json() or response.json()["credentials"] is None


async def test_an_operator_may_allow_kubeconfigs_that_skip_tls_checks(
    client: httpx.AsyncClient, tenant_admin: SignedIn, settings: Settings, listener: Listener
) -> None:
    body = {
        "name": "k8s-insecure",
        "kind": "kubernetes",
        "config": {"mode": "live", "cluster": "lab"},
        "credentials": {
            "kubeconfig": kubeconfig(
                "https://kubernetes.example:6443", {"token": "static-token"}, {"insecure-skip-tls-verify": True}
            )
        },
    }
    previous = settings.connector
    settings.connector = previous.model_copy(update={"allow_insecure_tls": True})
    try:
        allowed = await client.post("/api/v1/connectors", headers=tenant_admin.headers, json=body)
    finally:
        settings.connector = previous
    tested = await client.post(f"/api/v1/connectors/{allowed.json()['id']}/test", headers=tenant_admin.headers)

    assert allowed.status_code == 201, allowed.text
    assert tested.json()["ok"] is False  # the operator changed their mind: refused when loaded
    assert "insecure-skip-tls-verify" in tested.json()["message"]
