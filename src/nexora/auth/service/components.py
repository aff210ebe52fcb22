"""What every auth use case shares: the long-lived components, outcomes and the per-installation keys."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.auth.models import ServerKey
from nexora.auth.passwords import Passwords
from nexora.auth.schemas import TokenPair
from nexora.auth.tokens import TokenSigner, load_signer
from nexora.auth.versions import TokenVersions
from nexora.core.config import AuthSettings
from nexora.core.crypto import EnvelopeCipher, sha256_hex
from nexora.core.db import Database
from nexora.core.errors import NexoraError
from nexora.core.ratelimit import LoginThrottle

SOURCE = "nexora.auth"
# The key that derives a refresh token's successor from its parent's hash (see sessions.py).
REFRESH_SUCCESSOR_KEY = "refresh_successor"
# Where a session finds the process's token-version cache (the runtime puts it on every session).
TOKEN_VERSIONS = "nexora.auth.token_versions"  # noqa: S105 - a dictionary key, not a secret


class AuthComponents:
    """Long-lived collaborators of the auth service, built once per process."""

    def __init__(
        self,
        settings: AuthSettings,
        cipher: EnvelopeCipher,
        passwords: Passwords,
        throttle: LoginThrottle,
        signer: TokenSigner | None = None,
        versions: TokenVersions | None = None,
        refresh_key: bytes | None = None,
    ) -> None:
        self.settings = settings
        self.cipher = cipher
        self.passwords = passwords
        self.throttle = throttle
        self.signer = signer
        # Without Redis, each process keeps its own copies (still refreshed every few seconds).
        self.versions = versions or TokenVersions(None, local_seconds=settings.token_version_cache_seconds)
        self.refresh_key = refresh_key

    async def load_keys(self, db: Database) -> None:
        """Load the signing-key ring and the refresh-successor key, creating them on a new installation."""
        await self.load_signer(db)
        async with db.unit_of_work() as session:
            self.refresh_key = await load_server_key(session, self.cipher, REFRESH_SUCCESSOR_KEY)

    async def load_signer(self, db: Database) -> TokenSigner:
        async with db.unit_of_work() as session:
            self.signer = await load_signer(session, self.cipher, self.settings.issuer)
        return self.signer


@dataclass(frozen=True)
class Outcome:
    """Tokens on success, or the error to send once the unit of work has committed."""

    tokens: TokenPair | None = None
    error: NexoraError | None = None


def hash_token(token: str) -> str:
    return sha256_hex(token)


async def load_server_key(session: AsyncSession, cipher: EnvelopeCipher, name: str) -> bytes:
    """The 32-byte installation secret ``name``, created on first use (the first process to ask wins)."""
    label = f"auth.server_key:{name}".encode()
    await session.execute(
        insert(ServerKey)
        .values(name=name, wrapped_key=cipher.encrypt(secrets.token_bytes(32), label).decode())
        .on_conflict_do_nothing(index_elements=[ServerKey.name])
    )
    wrapped = await session.scalar(select(ServerKey.wrapped_key).where(ServerKey.name == name))
    assert wrapped is not None
    return cipher.decrypt(wrapped.encode(), label)
