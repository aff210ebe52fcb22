"""Signing keys and signed tree heads.

Each log has its own Ed25519 keys. The private half is envelope-encrypted with the runtime cipher,
bound to its log and key id; the newest key is current and signs, older keys stay published so every
head they signed still verifies. A key's id is derived from its public bytes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.audit import encoding
from nexora.audit.models import SigningKey, TreeHead
from nexora.audit.service.log import lock_log
from nexora.audit.service.proofs import log_size, root_at
from nexora.core.crypto import EnvelopeCipher
from nexora.core.db import Database
from nexora.core.errors import ValidationFailed
from nexora.core.ids import utcnow, uuid7
from nexora.core.observability import get_logger
from nexora.core.pagination import decode_cursor, encode_cursor

ALGORITHM = "Ed25519"
logger = get_logger("nexora.audit")


@dataclass(frozen=True)
class KeyInfo:
    key_id: str
    algorithm: str
    public_key: bytes
    created_at: datetime
    retired_at: datetime | None

    @property
    def status(self) -> str:
        return "retired" if self.retired_at else "current"

    @property
    def public_key_pem(self) -> str:
        loaded = serialization.load_der_public_key(_ed25519_der(self.public_key))
        return loaded.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _ed25519_der(raw: bytes) -> bytes:
    # SubjectPublicKeyInfo for Ed25519 (RFC 8410): a fixed 12-byte prefix before the 32-byte key.
    return bytes.fromhex("302a300506032b6570032100") + raw


def _seal_context(log: uuid.UUID, key_id: str) -> bytes:
    return f"nexora.audit.signing_key:{log}:{key_id}".encode()


def unseal(cipher: EnvelopeCipher, key: SigningKey) -> Ed25519PrivateKey:
    """The private key of ``key`` (raises if the sealed value was not made for this log and key id)."""
    raw = cipher.decrypt(key.sealed_private_key.encode(), _seal_context(key.tenant_id, key.key_id))
    return Ed25519PrivateKey.from_private_bytes(raw)


async def _create_key(session: AsyncSession, cipher: EnvelopeCipher, log: uuid.UUID) -> SigningKey:
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    key_id = encoding.key_id(public)
    key = SigningKey(
        tenant_id=log,
        key_id=key_id,
        algorithm=ALGORITHM,
        public_key=public,
        sealed_private_key=cipher.encrypt(raw, _seal_context(log, key_id)).decode(),
        created_at=utcnow(),
    )
    session.add(key)
    await session.flush()
    return key


async def _current_key(session: AsyncSession, log: uuid.UUID) -> SigningKey | None:
    query = (
        select(SigningKey)
        .where(SigningKey.tenant_id == log)
        .order_by(SigningKey.created_at.desc(), SigningKey.key_id.desc())
        .limit(1)
    )
    return (await session.scalars(query)).first()


async def _sign(session: AsyncSession, cipher: EnvelopeCipher, log: uuid.UUID, key: SigningKey) -> TreeHead:
    size = await log_size(session, log)
    root = await root_at(session, log, size)
    signed_at = utcnow()
    message = encoding.tree_head_message(str(log), size, root, encoding.timestamp(signed_at), key.key_id)
    head = TreeHead(
        id=uuid7(),
        tenant_id=log,
        tree_size=size,
        root_hash=root,
        signed_at=signed_at,
        key_id=key.key_id,
        signature=unseal(cipher, key).sign(message),
    )
    session.add(head)
    await session.flush()
    return head


async def sign_tree_head(session: AsyncSession, cipher: EnvelopeCipher, log: uuid.UUID) -> TreeHead:
    """Sign the log's current size and root with its current key (created on first use).

    Holds the log's writer lock, so the head describes exactly the entries committed before it.
    """
    await lock_log(session, log)
    key = await _current_key(session, log) or await _create_key(session, cipher, log)
    return await _sign(session, cipher, log, key)


async def rotate_key(session: AsyncSession, cipher: EnvelopeCipher, log: uuid.UUID) -> tuple[KeyInfo, TreeHead]:
    """Make a new current key and sign a head with it; older keys stay published (retired)."""
    await lock_log(session, log)
    key = await _create_key(session, cipher, log)
    head = await _sign(session, cipher, log, key)
    logger.info("audit signing key rotated", log=str(log), key_id=key.key_id)
    return KeyInfo(key.key_id, key.algorithm, key.public_key, key.created_at, None), head


async def list_keys(session: AsyncSession, log: uuid.UUID) -> list[KeyInfo]:
    """Every key of the log, newest first; a key is retired from the moment its successor was made."""
    keys = list(
        (
            await session.scalars(
                select(SigningKey)
                .where(SigningKey.tenant_id == log)
                .order_by(SigningKey.created_at.desc(), SigningKey.key_id.desc())
            )
        ).all()
    )
    infos: list[KeyInfo] = []
    successor: datetime | None = None
    for key in keys:
        infos.append(KeyInfo(key.key_id, key.algorithm, key.public_key, key.created_at, successor))
        successor = key.created_at
    return infos


async def sealed_keys(session: AsyncSession, log: uuid.UUID) -> list[SigningKey]:
    return list((await session.scalars(select(SigningKey).where(SigningKey.tenant_id == log))).all())


async def list_tree_heads(
    session: AsyncSession, log: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[TreeHead], str | None]:
    """Signed heads, newest first, with a cursor for the next page."""
    query = (
        select(TreeHead)
        .where(TreeHead.tenant_id == log)
        .order_by(TreeHead.signed_at.desc(), TreeHead.id.desc())
        .limit(limit + 1)
    )
    after = decode_cursor(cursor)
    if after:
        try:
            position = (datetime.fromisoformat(after["t"]), uuid.UUID(after["id"]))
        except (KeyError, TypeError, ValueError):
            raise ValidationFailed("the cursor is not valid; use next_cursor from the previous page") from None
        query = query.where((TreeHead.signed_at, TreeHead.id) < position)  # type: ignore[operator]
    heads = list((await session.scalars(query)).all())
    next_cursor = None
    if len(heads) > limit:
        heads = heads[:limit]
        next_cursor = encode_cursor({"t": heads[-1].signed_at.isoformat(), "id": str(heads[-1].id)})
    return heads, next_cursor


async def all_tree_heads(session: AsyncSession, log: uuid.UUID) -> list[TreeHead]:
    """Every head of the log in signing order."""
    query = select(TreeHead).where(TreeHead.tenant_id == log).order_by(TreeHead.signed_at, TreeHead.id)
    return list((await session.scalars(query)).all())


async def logs_to_sign(session: AsyncSession) -> list[uuid.UUID]:
    """Logs that grew since their last signed head."""
    return list((await session.scalars(text("SELECT audit.logs_to_sign()"))).all())


async def sign_due_heads(db: Database, cipher: EnvelopeCipher) -> int:
    """Sign a head for every log that grew since its last one; returns how many were signed.

    Each log is signed in its own transaction, so one failing log does not hold back the others.
    """
    async with db.unit_of_work() as session:
        due = await logs_to_sign(session)
    signed = 0
    for log in due:
        try:
            async with db.unit_of_work(log) as session:
                await sign_tree_head(session, cipher, log)
            signed += 1
        except Exception as error:
            logger.error("signing a tree head failed", log=str(log), error=f"{type(error).__name__}: {error}")
    return signed
