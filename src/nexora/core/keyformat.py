"""Nexora API key format: ``nxr_`` + 32 random base62 characters + 6-character base62 CRC32 checksum.

Pure helpers with no I/O, shared by the auth domain (issuing keys) and the scanner (detecting leaked
ones). The checksum lets any scanner recognise a real key offline, and lets the API reject a mistyped
or forged key before touching the database.
"""

from __future__ import annotations

import re
import secrets
import zlib

BASE62_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
API_KEY_PREFIX = "nxr_"
API_KEY_BODY_LENGTH = 32
API_KEY_CHECKSUM_LENGTH = 6
API_KEY_LENGTH = len(API_KEY_PREFIX) + API_KEY_BODY_LENGTH + API_KEY_CHECKSUM_LENGTH
API_KEY_PATTERN = re.compile(r"nxr_[0-9A-Za-z]{38}")


def base62_encode(value: int, width: int = 0) -> str:
    """Encode a non-negative integer in base62, left-padded with ``0`` to ``width`` characters."""
    if value < 0:
        raise ValueError("base62_encode takes a non-negative integer")
    digits: list[str] = []
    while value:
        value, remainder = divmod(value, 62)
        digits.append(BASE62_ALPHABET[remainder])
    encoded = "".join(reversed(digits)) or "0"
    return encoded.rjust(width, "0")


def base62_decode(text: str) -> int:
    """Decode a base62 string produced by :func:`base62_encode`."""
    value = 0
    for char in text:
        index = BASE62_ALPHABET.find(char)
        if index < 0:
            raise ValueError("not a base62 string")
        value = value * 62 + index
    return value


def api_key_checksum(body: str) -> str:
    """The 6-character base62 CRC32 of a key body (CRC32 < 62**6, so it always fits)."""
    return base62_encode(zlib.crc32(body.encode("ascii")), API_KEY_CHECKSUM_LENGTH)


def generate_api_key() -> str:
    """A new random API key; 32 base62 characters carry about 190 bits of entropy."""
    body = "".join(secrets.choice(BASE62_ALPHABET) for _ in range(API_KEY_BODY_LENGTH))
    return f"{API_KEY_PREFIX}{body}{api_key_checksum(body)}"


def is_well_formed_api_key(candidate: str) -> bool:
    """True when ``candidate`` has the ``nxr_`` shape and a matching checksum (no I/O)."""
    if len(candidate) != API_KEY_LENGTH or not API_KEY_PATTERN.fullmatch(candidate):
        return False
    body = candidate[len(API_KEY_PREFIX) : len(API_KEY_PREFIX) + API_KEY_BODY_LENGTH]
    return candidate[-API_KEY_CHECKSUM_LENGTH:] == api_key_checksum(body)
