"""Assemble a process: the shared runtime, and the consumers and schedules of the roles asked for.

``nexora up`` runs every role next to the API; ``nexora worker --role ...`` runs some roles alone.
Domains contribute through their ``worker`` modules (``subscriptions(runtime)``, ``schedules()``).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import import_module

from nexora.auth import service as auth_service
from nexora.auth.passwords import Passwords
from nexora.auth.versions import TokenVersions
from nexora.core.bus import Subscription
from nexora.core.bus.factory import create_bus
from nexora.core.config import Settings
from nexora.core.crypto import EnvelopeCipher, LocalKeyWrapper, load_or_create_master_key, master_key_from_text
from nexora.core.db import Database
from nexora.core.errors import ConfigurationError
from nexora.core.observability import get_logger
from nexora.core.ratelimit import LoginThrottle
from nexora.core.runtime import Runtime
from nexora.core.schedule import Schedule
from nexora.core.security import Principal

log = get_logger("nexora.workers")

# Worker roles and the domain packages whose ``worker`` module serves them.
ROLE_MODULES: dict[str, list[str]] = {
    "discovery": ["nexora.discovery.worker"],
    "analytics": [],
    "remediation": [],
    "threatintel": [],
    "audit": ["nexora.audit.worker"],
}
ROLES = (*ROLE_MODULES, "all")


def expand_roles(roles: list[str]) -> list[str]:
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise ConfigurationError(f"unknown worker roles {unknown}; choose from {list(ROLES)}")
    return list(ROLE_MODULES) if "all" in roles or not roles else sorted(set(roles))


def make_cipher(settings: Settings) -> EnvelopeCipher:
    if settings.crypto.master_key is not None:
        key = master_key_from_text(settings.crypto.master_key.get_secret_value())
    else:
        database_dir = settings.data_dir / "postgres" if settings.embedded_database else None
        key = load_or_create_master_key(settings.master_key_path, database_dir=database_dir)
    return EnvelopeCipher(LocalKeyWrapper(key))


@asynccontextmanager
async def open_runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """Connect to the database, load keys and build the auth components and the bus."""
    if settings.database.url is None:
        raise ConfigurationError("NEXORA_DATABASE_URL is not set (only 'nexora up' starts an embedded database)")
    db = Database(settings.database.url.get_secret_value(), settings.database)
    versions = TokenVersions(settings.redis_url, local_seconds=settings.auth.token_version_cache_seconds)
    try:
        cipher = make_cipher(settings)
        runtime = Runtime(settings=settings, db=db, cipher=cipher)
        components = auth_service.AuthComponents(
            settings=settings.auth,
            cipher=cipher,
            passwords=Passwords(settings.auth),
            throttle=LoginThrottle(
                settings.redis_url,
                max_failures=settings.auth.login_max_failures,
                window_seconds=settings.auth.login_failure_window_seconds,
                ip_limit=settings.auth.login_ip_limit,
                delay_after=settings.auth.login_delay_after_failures,
                max_delay_seconds=settings.auth.login_delay_max_seconds,
            ),
            versions=versions,
        )
        await components.load_keys(db)
        # Every session of this process can reach the token-version cache, so bumping a user's version
        # from any unit of work (API, worker, CLI) reaches the other processes through Redis.
        db.sessionmaker.configure(info={auth_service.TOKEN_VERSIONS: versions})
        runtime.services["auth"] = components

        async def authenticate(token: str) -> Principal:
            return await auth_service.authenticate(db, components, token)

        runtime.authenticator = authenticate
        runtime.bus = create_bus(settings, db)
        yield runtime
    finally:
        await versions.close()
        await db.dispose()


def _worker_modules(roles: list[str]) -> list[object]:
    return [import_module(name) for role in expand_roles(roles) for name in ROLE_MODULES[role]]


def subscriptions_for(runtime: Runtime, roles: list[str]) -> list[Subscription]:
    subscriptions: list[Subscription] = []
    for module in _worker_modules(roles):
        subscriptions.extend(getattr(module, "subscriptions")(runtime))  # noqa: B009
    return subscriptions


def schedules_for(roles: list[str]) -> list[Schedule]:
    schedules: list[Schedule] = []
    for module in _worker_modules(roles):
        if hasattr(module, "schedules"):
            schedules.extend(module.schedules())
    return schedules


class Workers:
    """Runs the bus consumers and schedules of some roles until stopped."""

    def __init__(self, runtime: Runtime, roles: list[str]) -> None:
        self.runtime = runtime
        self.roles = expand_roles(roles)
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        bus = self.runtime.bus
        assert bus is not None
        for subscription in subscriptions_for(self.runtime, self.roles):
            bus.subscribe(subscription)
        await bus.start(consume=True)
        for schedule in schedules_for(self.roles):
            self._tasks.append(asyncio.create_task(self._run_schedule(schedule), name=f"schedule-{schedule.name}"))
        log.info("workers started", roles=self.roles)

    async def stop(self) -> None:
        self._stopping.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self.runtime.bus is not None:
            await self.runtime.bus.stop()

    async def _run_schedule(self, schedule: Schedule) -> None:
        delay = schedule.initial_delay_seconds
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            if self._stopping.is_set():
                return
            try:
                await schedule.job(self.runtime)
            except Exception as error:
                log.error("scheduled job failed", schedule=schedule.name, error=str(error), exc_info=error)
            # Jitter keeps replicas from firing in lockstep.
            delay = schedule.interval_seconds * (0.9 + 0.2 * random.random())  # noqa: S311
