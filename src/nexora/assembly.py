"""Assembling a Nexora process: settings in, a runtime, the API app and the workers out.

``nexora up``, ``nexora api`` and ``nexora worker`` (and the tests) build their processes here, and
nowhere else: the database, the keys, the bus and each domain's components; the FastAPI app with
every domain's routers; the consumers and schedules of the worker roles asked for. The API and the
workers never import each other; this module is the one place that knows both.

A domain plugs in with one line in :data:`DOMAINS`: its routers, the module of its consumers and
schedules (``subscriptions(runtime)``, ``schedules()``), the components it builds into the runtime at
start, and what to do before the process stops. Entries name modules as text so that importing this
module stays cheap (``nexora scan`` never loads the domains).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from nexora.core.bus.factory import create_bus
from nexora.core.config import Settings
from nexora.core.crypto import EnvelopeCipher, LocalKeyWrapper, load_or_create_master_key, master_key_from_text
from nexora.core.db import Database
from nexora.core.errors import ConfigurationError
from nexora.core.runtime import Runtime

if TYPE_CHECKING:
    from fastapi import FastAPI

    from nexora.workers.runtime import Workers


@dataclass(frozen=True)
class Domain:
    """What a domain brings to a process. ``"module:attribute"`` names are imported when first used."""

    name: str
    routers: tuple[str, ...] = ()  # FastAPI routers, "module:attribute"
    worker: str | None = None  # module with subscriptions(runtime) and, optionally, schedules()
    assemble: str | None = None  # "module:function": (runtime) -> async context manager, run at start
    on_stop: str | None = None  # "module:function": async (runtime) -> Any, before the process stops


DOMAINS: tuple[Domain, ...] = (
    Domain(
        "auth",
        routers=("nexora.auth.router:router", "nexora.auth.router:jwks_router"),
        assemble="nexora.auth.service:assemble",
    ),
    Domain(
        "discovery",
        routers=("nexora.discovery.routers:router",),
        worker="nexora.discovery.worker",
        on_stop="nexora.discovery.service:cancel_background_runs",
    ),
    Domain(
        "analytics",
        routers=("nexora.analytics.routers:router",),
        worker="nexora.analytics.worker",
        assemble="nexora.analytics.service:assemble",
    ),
    Domain("remediation"),
    Domain("threatintel"),
    Domain("audit", routers=("nexora.audit.router:router",), worker="nexora.audit.worker"),
)
# Worker roles: one per domain that runs (or will run) consumers and schedules, and `all`.
ROLES = (*(domain.name for domain in DOMAINS if domain.name != "auth"), "all")


def _load(reference: str) -> Any:
    module, _, attribute = reference.partition(":")
    return getattr(import_module(module), attribute)


def expand_roles(roles: list[str]) -> list[str]:
    """The roles asked for, `all` expanded; an unknown role is a :class:`ConfigurationError`."""
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise ConfigurationError(f"unknown worker roles {unknown}; choose from {list(ROLES)}")
    return [role for role in ROLES if role != "all" and ("all" in roles or not roles or role in roles)]


def worker_modules(roles: list[str]) -> list[ModuleType]:
    """The ``worker`` modules serving ``roles``."""
    chosen = set(expand_roles(roles))
    return [import_module(domain.worker) for domain in DOMAINS if domain.worker and domain.name in chosen]


def make_cipher(settings: Settings) -> EnvelopeCipher:
    """The envelope cipher of the platform's own secrets, under the master key (checked at every start)."""
    if settings.crypto.master_key is not None:
        key = master_key_from_text(settings.crypto.master_key.get_secret_value())
    else:
        database_dir = settings.data_dir / "postgres" if settings.embedded_database else None
        key = load_or_create_master_key(settings.master_key_path, database_dir=database_dir)
    return EnvelopeCipher(LocalKeyWrapper(key))


@asynccontextmanager
async def open_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """Connect to the database, load the keys, build each domain's components and the bus."""
    if settings.database.url is None:
        raise ConfigurationError("NEXORA_DATABASE_URL is not set (only 'nexora up' starts an embedded database)")
    db = Database(settings.database.url.get_secret_value(), settings.database)
    try:
        runtime = Runtime(settings=settings, db=db, cipher=make_cipher(settings))
        async with contextlib.AsyncExitStack() as stack:
            for domain in DOMAINS:
                if domain.assemble is not None:
                    build: Callable[[Runtime], AbstractAsyncContextManager[None]] = _load(domain.assemble)
                    await stack.enter_async_context(build(runtime))
            runtime.bus = create_bus(settings, db)
            yield runtime
    finally:
        await db.dispose()


async def stop_domains(runtime: Runtime) -> None:
    """Each domain's last words before the process stops (e.g. cancel discovery's background runs)."""
    for domain in DOMAINS:
        if domain.on_stop is not None:
            stop: Callable[[Runtime], Awaitable[Any]] = _load(domain.on_stop)
            await stop(runtime)


def create_api(settings: Settings, *, runtime: Runtime | None = None, static_dir: Path | None = None) -> FastAPI:
    """The API app with every domain's routers. Without ``runtime`` its lifespan opens one (and runs the
    bus's relay side, consuming nothing); with one, the caller owns the runtime and its bus."""
    from nexora.api.app import STATIC_DIR, create_app

    routers = [_load(reference) for domain in DOMAINS for reference in domain.routers]
    return create_app(
        settings,
        routers=routers,
        runtime=runtime,
        open_runtime=open_runtime,
        on_stop=stop_domains,
        static_dir=static_dir or STATIC_DIR,
    )


def create_workers(runtime: Runtime, roles: list[str]) -> Workers:
    """The consumers and schedules of ``roles`` on ``runtime`` (not started)."""
    from nexora.workers.runtime import Workers

    return Workers(runtime, worker_modules(roles), expand_roles(roles))
