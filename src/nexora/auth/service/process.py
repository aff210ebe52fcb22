"""The auth components of a process, built once at start by the assembly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from nexora.auth.passwords import Passwords
from nexora.auth.service.authentication import authenticate
from nexora.auth.service.components import TOKEN_VERSIONS, AuthComponents
from nexora.auth.versions import TokenVersions
from nexora.core.principal import Principal
from nexora.core.ratelimit import LoginThrottle
from nexora.core.runtime import Runtime


@asynccontextmanager
async def assemble(runtime: Runtime) -> AsyncIterator[None]:
    """Build this process's auth components into ``runtime``: ``services["auth"]`` and the authenticator.

    Loads (or creates) the signing keys; puts the token-version cache on every session of the process,
    so bumping a user's version from any unit of work (API, worker, CLI) reaches the other processes.
    """
    settings = runtime.settings
    versions = TokenVersions(settings.redis_url, local_seconds=settings.auth.token_version_cache_seconds)
    try:
        components = AuthComponents(
            settings=settings.auth,
            cipher=runtime.cipher,
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
        await components.load_keys(runtime.db)
        runtime.db.sessionmaker.configure(info={TOKEN_VERSIONS: versions})
        runtime.services["auth"] = components

        async def authenticator(token: str) -> Principal:
            return await authenticate(runtime.db, components, token)

        runtime.authenticator = authenticator
        yield
    finally:
        await versions.close()
