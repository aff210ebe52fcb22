"""The connector registry: one module per provider, each exposing ``TYPE`` (a :class:`ConnectorType`)."""

from __future__ import annotations

from importlib import import_module

from nexora.core.errors import ValidationFailed
from nexora.discovery.connectors.base import ConnectorType

# Imported on first use: provider SDKs (kubernetes, hvac, boto3) are heavy to import.
_MODULES = {
    "aws": "nexora.discovery.connectors.aws",
    "kubernetes": "nexora.discovery.connectors.kubernetes",
    "github": "nexora.discovery.connectors.github",
    "gcp-export": "nexora.discovery.connectors.exports",
    "azure-export": "nexora.discovery.connectors.exports",
    "vault": "nexora.discovery.connectors.vault",
    "code": "nexora.discovery.connectors.code",
    "demo": "nexora.discovery.connectors.demo",
}
KINDS = tuple(_MODULES)


def connector_type(kind: str) -> ConnectorType:
    """The registered type of ``kind``; raises :class:`ValidationFailed` for an unknown kind."""
    module_name = _MODULES.get(kind)
    if module_name is None:
        raise ValidationFailed(f"unknown connector kind '{kind}'; choose one of: {', '.join(KINDS)}")
    module = import_module(module_name)
    types: dict[str, ConnectorType] = getattr(module, "TYPES", {})
    found = types.get(kind) or getattr(module, "TYPE", None)
    if not isinstance(found, ConnectorType):
        raise ValidationFailed(f"connector kind '{kind}' is not available in this build")
    return found
