"""Connector use cases: create, read, update, delete and test; credentials are envelope-encrypted."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.core.bus import publish
from nexora.core.config import Settings
from nexora.core.crypto import EnvelopeCipher
from nexora.core.errors import Conflict, NotFound, ValidationFailed
from nexora.core.ids import utcnow, uuid7
from nexora.discovery.connectors import connector_type
from nexora.discovery.connectors.base import CollectContext, ConnectorType, error_message
from nexora.discovery.connectors.files import HostPaths, check_host_paths
from nexora.discovery.models import Connector

SOURCE = "nexora.discovery"


def _validated(model: type[BaseModel], values: Any, what: str, context: dict[str, Any] | None = None) -> BaseModel:
    try:
        return model.model_validate(values, context=context)
    except ValidationError as error:
        # Never echo submitted values: they may be credentials.
        problems = [
            f"{'.'.join(str(part) for part in item['loc']) or what}: {item['msg']}"
            for item in error.errors(include_input=False, include_url=False)
        ]
        raise ValidationFailed(f"invalid {what}: " + "; ".join(problems[:5])) from None


def validate_settings(
    kind: str,
    config: dict[str, Any],
    credentials: dict[str, Any] | None,
    host: HostPaths | None = None,
    *,
    allow_insecure_tls: bool = False,
) -> ConnectorType:
    """Check ``config`` and ``credentials`` against the kind's models; raises :class:`ValidationFailed`.

    With ``host``, host paths in the config must lie inside its folders, after symlinks and ``..`` are
    resolved; the refusal names the field and never says whether the path exists.
    """
    found = connector_type(kind)
    validated = _validated(found.config_model, config, f"{kind} connector config")
    if host is not None:
        check_host_paths(kind, validated.model_dump(), host)
    if credentials is not None:
        if found.credentials_model is None:
            raise ValidationFailed(f"{kind} connectors take no credentials")
        checks = {"allow_insecure_tls": allow_insecure_tls}
        _validated(found.credentials_model, credentials, f"{kind} connector credentials", checks)
    return found


def _encrypt(cipher: EnvelopeCipher, connector_id: uuid.UUID, credentials: dict[str, Any] | None) -> str | None:
    if credentials is None:
        return None
    return cipher.encrypt_text(json.dumps(credentials), str(connector_id))


def decrypted_settings(cipher: EnvelopeCipher, connector: Connector) -> tuple[ConnectorType, Any, Any]:
    """The connector's type, validated config model and decrypted credentials model (or ``None``)."""
    found = connector_type(connector.kind)
    config = _validated(found.config_model, connector.config, f"{connector.kind} connector config")
    credentials = None
    if connector.credentials and found.credentials_model is not None:
        raw = json.loads(cipher.decrypt_text(connector.credentials, str(connector.id)))
        # Operator-dependent checks (insecure TLS, networks) are made again by the connector with the settings.
        checks = {"allow_insecure_tls": True}
        credentials = _validated(found.credentials_model, raw, f"{connector.kind} connector credentials", checks)
    return found, config, credentials


async def create_connector(
    session: AsyncSession,
    cipher: EnvelopeCipher,
    tenant_id: uuid.UUID,
    *,
    name: str,
    kind: str,
    config: dict[str, Any],
    credentials: dict[str, Any] | None,
    interval_seconds: int | None,
    enabled: bool = True,
    host: HostPaths | None = None,
    allow_insecure_tls: bool = False,
) -> Connector:
    """Create a connector. Credentials are validated, encrypted (bound to the connector id) and never echoed.

    Host paths are accepted only inside ``host`` (``HostPaths.of(settings)``; none when not given).
    """
    validate_settings(kind, config, credentials, host or HostPaths(), allow_insecure_tls=allow_insecure_tls)
    connector_id = uuid7()
    connector = Connector(
        id=connector_id,
        tenant_id=tenant_id,
        name=name,
        kind=kind,
        config=config,
        credentials=_encrypt(cipher, connector_id, credentials),
        interval_seconds=interval_seconds,
        enabled=enabled,
    )
    session.add(connector)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(f"a connector named '{name}' already exists") from None
    await publish(
        session,
        "discovery.connector_created",
        {"connector_id": str(connector_id), "name": name, "kind": kind, "has_credentials": credentials is not None},
        source=SOURCE,
        subject=str(connector_id),
        tenant_id=tenant_id,
    )
    return connector


async def get_connector(session: AsyncSession, tenant_id: uuid.UUID, connector_id: uuid.UUID) -> Connector:
    connector = await session.get(Connector, connector_id)
    if connector is None or connector.tenant_id != tenant_id:
        raise NotFound("connector not found")
    return connector


async def find_connector(session: AsyncSession, tenant_id: uuid.UUID, name_or_id: str) -> Connector:
    """A connector by id or by name."""
    try:
        return await get_connector(session, tenant_id, uuid.UUID(name_or_id))
    except ValueError:
        pass
    found = await session.scalar(
        select(Connector).where(Connector.tenant_id == tenant_id, Connector.name == name_or_id)
    )
    if found is None:
        raise NotFound(f"no connector named '{name_or_id}'")
    return found


async def list_connectors(session: AsyncSession, tenant_id: uuid.UUID) -> list[Connector]:
    query = select(Connector).where(Connector.tenant_id == tenant_id).order_by(Connector.name)
    return list((await session.scalars(query)).all())


async def update_connector(
    session: AsyncSession,
    cipher: EnvelopeCipher,
    tenant_id: uuid.UUID,
    connector_id: uuid.UUID,
    changes: dict[str, Any],
    host: HostPaths | None = None,
    *,
    allow_insecure_tls: bool = False,
) -> Connector:
    """Apply ``changes`` (name, config, credentials, interval_seconds, enabled); validates the result first
    (host paths only inside ``host``, as for :func:`create_connector`)."""
    connector = await get_connector(session, tenant_id, connector_id)
    config = changes.get("config", connector.config)
    credentials = changes.get("credentials")
    # Host paths are checked when the config changes: a connector made before a root was removed can
    # still be renamed or disabled (its runs refuse the path).
    validate_settings(
        connector.kind,
        config,
        credentials,
        (host or HostPaths()) if "config" in changes else None,
        allow_insecure_tls=allow_insecure_tls,
    )
    for field in ("name", "config", "interval_seconds", "enabled"):
        if field in changes:
            setattr(connector, field, changes[field])
    if "credentials" in changes:
        connector.credentials = _encrypt(cipher, connector.id, credentials)
    connector.updated_at = utcnow()
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(f"a connector named '{changes.get('name')}' already exists") from None
    await publish(
        session,
        "discovery.connector_updated",
        {"connector_id": str(connector.id), "name": connector.name, "kind": connector.kind, "changed": sorted(changes)},
        source=SOURCE,
        subject=str(connector.id),
        tenant_id=tenant_id,
    )
    return connector


async def delete_connector(session: AsyncSession, tenant_id: uuid.UUID, connector_id: uuid.UUID) -> None:
    """Delete a connector with its inventory; its open findings are resolved, history is kept."""
    connector = await get_connector(session, tenant_id, connector_id)
    await session.execute(
        text(
            "UPDATE discovery.finding SET status = 'resolved', resolved_at = now() "
            "WHERE tenant_id = :tenant_id AND connector_id = :connector_id AND status = 'open'"
        ),
        {"tenant_id": tenant_id, "connector_id": connector_id},
    )
    await publish(
        session,
        "discovery.connector_deleted",
        {"connector_id": str(connector.id), "name": connector.name, "kind": connector.kind},
        source=SOURCE,
        subject=str(connector.id),
        tenant_id=tenant_id,
    )
    await session.delete(connector)
    await session.flush()


async def test_connector(
    session: AsyncSession,
    cipher: EnvelopeCipher,
    settings: Settings,
    tenant_id: uuid.UUID,
    connector_id: uuid.UUID,
) -> tuple[bool, str]:
    """Try the connection with the stored settings; returns (ok, message) and records the attempt."""
    connector = await get_connector(session, tenant_id, connector_id)
    try:
        found, config, credentials = decrypted_settings(cipher, connector)
        context = CollectContext.create(tenant_id, settings)
        context.host = HostPaths.of(settings)
        message = await asyncio.to_thread(found.test, config, credentials, context)
        ok = True
    except Exception as error:
        ok, message = False, error_message(error)
    await publish(
        session,
        "discovery.connector_tested",
        {
            "connector_id": str(connector.id),
            "name": connector.name,
            "kind": connector.kind,
            "ok": ok,
            "message": message,
        },
        source=SOURCE,
        subject=str(connector.id),
        tenant_id=tenant_id,
    )
    return ok, message
