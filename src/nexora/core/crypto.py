"""Crypto helpers: secret fingerprints, redacted previews and envelope encryption.

Raw secrets are never stored: a detected secret is kept as an HMAC-SHA256 fingerprint under a
per-tenant key plus a redacted preview. The platform's own credentials (connector secrets, signing
keys) are envelope-encrypted: each value gets a fresh AES-256-GCM data key, and the data key is
wrapped by a key-encryption key (a local master key file created 0600, or a key given in settings).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from nexora.core.errors import ConfigurationError

ELLIPSIS = "…"


def fingerprint(key: bytes, value: str | bytes) -> str:
    """HMAC-SHA256 of ``value`` under ``key``, hex encoded: equal secrets give equal fingerprints per key."""
    data = value.encode("utf-8") if isinstance(value, str) else value
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def sha256_hex(value: str | bytes) -> str:
    data = value.encode("utf-8") if isinstance(value, str) else value
    return hashlib.sha256(data).hexdigest()


def redact(value: str) -> str:
    """A preview that identifies a secret to a human without revealing it (``AKIA…MPLE``).

    At most a third of the value is shown, and never more than four characters at each end.
    """
    length = len(value)
    if length < 8:
        return ELLIPSIS
    shown = min(4, length // 6)
    return f"{value[:shown]}{ELLIPSIS}{value[-shown:]}"


def constant_time_equals(left: str | bytes, right: str | bytes) -> bool:
    a = left.encode() if isinstance(left, str) else left
    b = right.encode() if isinstance(right, str) else right
    return hmac.compare_digest(a, b)


class KeyWrapper(Protocol):
    """Wraps and unwraps data keys with a key-encryption key held elsewhere."""

    key_id: str

    def wrap(self, data_key: bytes) -> bytes: ...

    def unwrap(self, wrapped: bytes) -> bytes: ...


class LocalKeyWrapper:
    """Wraps data keys with AES-256-GCM under a local 32-byte master key."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ConfigurationError("the master key must be 32 bytes (base64 of 32 random bytes)")
        self._aead = AESGCM(master_key)
        self.key_id = "local:" + hashlib.sha256(master_key).hexdigest()[:16]

    def wrap(self, data_key: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, data_key, b"nexora-data-key")

    def unwrap(self, wrapped: bytes) -> bytes:
        return self._aead.decrypt(wrapped[:12], wrapped[12:], b"nexora-data-key")


@dataclass(frozen=True)
class EnvelopeCipher:
    """Encrypts values with per-value data keys wrapped by a :class:`KeyWrapper`.

    ``associated_data`` binds a ciphertext to its place (for example the row id): a ciphertext
    copied to another row fails to decrypt.
    """

    wrapper: KeyWrapper

    def encrypt(self, plaintext: bytes, associated_data: bytes = b"") -> bytes:
        data_key = AESGCM.generate_key(bit_length=256)
        nonce = os.urandom(12)
        ciphertext = AESGCM(data_key).encrypt(nonce, plaintext, associated_data)
        envelope = {
            "v": 1,
            "kid": self.wrapper.key_id,
            "dk": base64.b64encode(self.wrapper.wrap(data_key)).decode(),
            "n": base64.b64encode(nonce).decode(),
            "ct": base64.b64encode(ciphertext).decode(),
        }
        return json.dumps(envelope, separators=(",", ":")).encode()

    def decrypt(self, envelope: bytes, associated_data: bytes = b"") -> bytes:
        fields = json.loads(envelope)
        data_key = self.wrapper.unwrap(base64.b64decode(fields["dk"]))
        return AESGCM(data_key).decrypt(base64.b64decode(fields["n"]), base64.b64decode(fields["ct"]), associated_data)

    def encrypt_text(self, plaintext: str, associated_data: str = "") -> str:
        return self.encrypt(plaintext.encode(), associated_data.encode()).decode()

    def decrypt_text(self, envelope: str, associated_data: str = "") -> str:
        return self.decrypt(envelope.encode(), associated_data.encode()).decode()


def check_master_key_place(path: Path, database_dir: Path | None) -> None:
    """Refuse a key file kept inside the database directory: a copy of the database (a backup, a
    volume snapshot, ``pg_basebackup``) must never carry the key that decrypts what it holds."""
    if database_dir is None:
        return
    resolved, database = path.resolve(), database_dir.resolve()
    if resolved == database or database in resolved.parents:
        raise ConfigurationError(
            f"master key file {path} is inside the database directory {database_dir}; "
            "set NEXORA_CRYPTO_MASTER_KEY_FILE to a path outside it"
        )


def load_or_create_master_key(path: Path, *, database_dir: Path | None = None) -> bytes:
    """Read the master key file, creating it (mode 0600, atomically) with 32 random bytes if missing.

    At start the file must be outside ``database_dir``, owned by this process's user and readable by
    no one else; any other state is a :class:`ConfigurationError` that names the fix.
    """
    check_master_key_place(path, database_dir)
    if path.exists():
        status = path.stat()
        if status.st_mode & 0o077:
            raise ConfigurationError(f"master key file {path} is readable by other users; run: chmod 600 {path}")
        if status.st_uid != os.geteuid():
            raise ConfigurationError(
                f"master key file {path} belongs to another user (uid {status.st_uid}); "
                "it must be owned by the user Nexora runs as"
            )
        key = base64.b64decode(path.read_text().strip())
        if len(key) != 32:
            raise ConfigurationError(f"master key file {path} does not hold a base64 32-byte key")
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(base64.b64encode(key).decode() + "\n")
    try:
        os.link(temporary, path)
    except FileExistsError:
        # Another process created it first: use theirs.
        temporary.unlink()
        return load_or_create_master_key(path, database_dir=database_dir)
    temporary.unlink()
    return key


def master_key_from_text(text: str) -> bytes:
    try:
        key = base64.b64decode(text, validate=True)
    except ValueError as error:
        raise ConfigurationError("NEXORA_CRYPTO_MASTER_KEY must be base64") from error
    if len(key) != 32:
        raise ConfigurationError("NEXORA_CRYPTO_MASTER_KEY must decode to 32 bytes")
    return key
