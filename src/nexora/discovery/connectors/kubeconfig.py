"""Kubeconfigs a tenant may hand Nexora: static, inline credentials only.

A kubeconfig is a program as much as a config: ``exec`` and ``auth-provider`` run commands, and
``tokenFile``, ``client-certificate``, ``client-key`` and ``certificate-authority`` read files —
on the Nexora host, for whoever wrote the kubeconfig. Nexora accepts only what needs neither: a
bearer token, client certificate and key as inline data, a CA as inline data, basic auth and
impersonation headers. Every other key is refused by name (an allow-list, so keys added to the
format later are refused too), at create/update time and again before every load.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

import yaml

from nexora.core.errors import ValidationFailed
from nexora.core.resilience import Network, check_destination

TOP_LEVEL = frozenset(
    {"apiVersion", "kind", "clusters", "users", "contexts", "current-context", "preferences", "extensions"}
)
CLUSTER = frozenset(
    {
        "server",
        "certificate-authority-data",
        "tls-server-name",
        "insecure-skip-tls-verify",
        "disable-compression",
        "extensions",
    }
)
USER = frozenset(
    {
        "token",
        "client-certificate-data",
        "client-key-data",
        "username",
        "password",
        "as",
        "as-uid",
        "as-groups",
        "as-user-extra",
        "extensions",
    }
)
CONTEXT = frozenset({"cluster", "user", "namespace", "extensions"})
INLINE_DATA = ("certificate-authority-data", "client-certificate-data", "client-key-data")

# Why each known host-touching key is refused: the message a tenant sees.
REFUSED = {
    "exec": "exec credential plugins run a command on the Nexora host; use a static token or client certificate data",
    "auth-provider": "auth-provider plugins run commands or read files on the Nexora host; use a static token",
    "tokenFile": "tokenFile reads a file on the Nexora host; put the token itself in 'token'",
    "client-certificate": "file paths are read on the Nexora host; use 'client-certificate-data' (base64 PEM)",
    "client-key": "file paths are read on the Nexora host; use 'client-key-data' (base64 PEM)",
    "certificate-authority": "file paths are read on the Nexora host; use 'certificate-authority-data' (base64 PEM)",
}


def _refuse(field: str, reason: str) -> ValidationFailed:
    return ValidationFailed(f"kubeconfig {field}: {reason}")


def _entries(document: Mapping[str, Any], section: str, body: str) -> Iterable[tuple[str, Mapping[str, Any]]]:
    entries = document.get(section)
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise _refuse(section, "must be a list")
    found = []
    for index, entry in enumerate(entries):
        where = f"{section}[{index}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get(body, {}), Mapping):
            raise _refuse(where, f"must be a mapping with a '{body}' mapping")
        unknown = sorted(str(key) for key in entry if key not in ("name", body))
        if unknown:
            raise _refuse(f"{where}.{unknown[0]}", "is not a kubeconfig field Nexora accepts")
        found.append((f"{where}.{body}", entry.get(body) or {}))
    return found


def _check_keys(where: str, body: Mapping[str, Any], allowed: frozenset[str]) -> None:
    for key in body:
        name = str(key)
        if name in REFUSED:
            raise _refuse(f"{where}.{name}", REFUSED[name])
        if name not in allowed:
            raise _refuse(f"{where}.{name}", "is not a kubeconfig field Nexora accepts (static credentials only)")


def _check_inline_data(where: str, body: Mapping[str, Any]) -> None:
    for key in INLINE_DATA:
        value = body.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise _refuse(f"{where}.{key}", "must be base64 text")
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise _refuse(f"{where}.{key}", "is not valid base64") from None


def _check_url(where: str, value: Any, schemes: frozenset[str]) -> str:
    if not isinstance(value, str):
        raise _refuse(where, "must be a URL")
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.hostname:
        raise _refuse(where, f"must be an absolute {' or '.join(sorted(schemes))} URL")
    return value


def validate(
    document: Any, *, allow_insecure_tls: bool = False, allowed_networks: Iterable[Network] | None = None
) -> dict[str, Any]:
    """``document`` (a parsed kubeconfig) if it uses static, inline credentials only.

    Raises :class:`ValidationFailed` naming the first offending field. With ``allowed_networks``
    (at load time), a server given as a literal address must be one outbound calls may reach.
    """
    if not isinstance(document, dict):
        raise ValidationFailed("the kubeconfig must be a YAML mapping")
    for key in document:
        if str(key) not in TOP_LEVEL:
            raise _refuse(str(key), "is not a kubeconfig field Nexora accepts")
    for where, cluster in _entries(document, "clusters", "cluster"):
        _check_keys(where, cluster, CLUSTER)
        _check_inline_data(where, cluster)
        if "server" in cluster:
            server = _check_url(f"{where}.server", cluster["server"], frozenset({"http", "https"}))
            if allowed_networks is not None:
                check_destination(server, allowed_networks, resolve=False)
        if cluster.get("insecure-skip-tls-verify") and not allow_insecure_tls:
            raise _refuse(
                f"{where}.insecure-skip-tls-verify",
                "TLS without certificate checks is off on this Nexora (NEXORA_CONNECTOR_ALLOW_INSECURE_TLS); "
                "give the cluster's CA as 'certificate-authority-data'",
            )
        if cluster.get("proxy-url") is not None:
            raise _refuse(
                f"{where}.proxy-url",
                "proxies are not used: Nexora connects to the API server directly, through its outbound network guard",
            )
    for where, user in _entries(document, "users", "user"):
        _check_keys(where, user, USER)
        _check_inline_data(where, user)
    for where, context in _entries(document, "contexts", "context"):
        _check_keys(where, context, CONTEXT)
    return document


def parse(text: str, **checks: Any) -> dict[str, Any]:
    """Parse and :func:`validate` kubeconfig YAML text."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        raise ValidationFailed("the kubeconfig is not valid YAML") from None
    return validate(document, **checks)
