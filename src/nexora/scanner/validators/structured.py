"""Structured formats checked offline: AWS key ids, JWTs, PyPI macaroons, Age keys, fixed vendor markers."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime

from nexora.scanner.validators.registry import Outcome, register

_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_BASE32 = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")


def b64decode_loose(text: str) -> bytes:
    """Decode standard or URL-safe base64 with or without padding."""
    text = text.strip().replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


@register("aws-access-key-id")
def aws_access_key_id(secret: str) -> Outcome:
    """AWS key ids are base32 after the 4-letter prefix; bits 1..40 of the decoded body hold the account."""
    body = secret[4:]
    if len(body) != 16 or not set(body) <= _BASE32:
        return Outcome(False, "not base32")
    decoded = base64.b32decode(body)
    account = (int.from_bytes(decoded[:6], "big") & 0x7FFFFFFFFF80) >> 7
    return Outcome(True, f"account {account:012d}")


@register("jwt")
def jwt(secret: str) -> Outcome:
    """Three base64url parts, JSON header with a real ``alg``, JSON payload; reports ``exp``."""
    header_b64, payload_b64, signature = secret.split(".")
    header = json.loads(b64decode_loose(header_b64))
    payload = json.loads(b64decode_loose(payload_b64))
    if not isinstance(header, dict) or not isinstance(payload, dict):
        return Outcome(False, "not a JWT")
    algorithm = str(header.get("alg", "")).lower()
    if not algorithm or algorithm == "none" or len(signature) < 16:
        return Outcome(False, "unsigned")
    expiry = payload.get("exp")
    if isinstance(expiry, int | float):
        moment = datetime.fromtimestamp(expiry, UTC)
        state = "expired" if moment < datetime.now(UTC) else "expires"
        return Outcome(True, f"{state} {moment:%Y-%m-%d}")
    return Outcome(True, "no expiry")


@register("pypi-macaroon")
def pypi_macaroon(secret: str) -> Outcome:
    """PyPI tokens are macaroons whose location field is ``pypi.org`` (or ``test.pypi.org``)."""
    decoded = b64decode_loose(secret[len("pypi-") :][:64].rstrip("=")[:60])
    if b"pypi.org" in decoded[:40]:
        return Outcome(True, "test.pypi.org" if b"test.pypi.org" in decoded[:40] else "pypi.org")
    return Outcome(False, "no pypi location")


def _bech32_polymod(values: list[int]) -> int:
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for index, generator in enumerate(_BECH32_GENERATOR):
            if (top >> index) & 1:
                checksum ^= generator
    return checksum


def bech32_valid(text: str) -> bool:
    """Bech32 (BIP-173) checksum verification of a lowercase string."""
    text = text.lower()
    separator = text.rfind("1")
    hrp, data = text[:separator], text[separator + 1 :]
    if separator < 1 or len(data) < 6 or any(char not in _BECH32 for char in data):
        return False
    expanded = [ord(char) >> 5 for char in hrp] + [0] + [ord(char) & 31 for char in hrp]
    return _bech32_polymod(expanded + [_BECH32.index(char) for char in data]) == 1


@register("age-bech32")
def age_bech32(secret: str) -> Outcome:
    """``AGE-SECRET-KEY-1…`` is Bech32 with the ``age-secret-key-`` human-readable part."""
    if bech32_valid(secret):
        return Outcome(True, "checksum ok")
    return Outcome(False, "bad checksum")


@register("openai-marker")
def openai_marker(secret: str) -> Outcome:
    """OpenAI keys embed ``T3BlbkFJ`` (base64 of "OpenAI")."""
    return Outcome(True, "marker") if "T3BlbkFJ" in secret else Outcome(False, "no marker")


@register("anthropic-marker")
def anthropic_marker(secret: str) -> Outcome:
    """Anthropic keys end with the fixed ``AA`` suffix."""
    return Outcome(True, "marker") if secret.endswith("AA") else Outcome(False, "no marker")


@register("azure-marker")
def azure_marker(secret: str) -> Outcome:
    """Azure identifiable keys carry ``JQQJ9`` + a service letter at offset 52."""
    if secret[52:57] == "JQQJ9" and secret[57] in "9DH":
        return Outcome(True, "marker")
    return Outcome(False, "no marker")


@register("base64-secret-value")
def base64_secret_value(secret: str) -> Outcome:
    """Kubernetes ``data:`` values: must decode to printable text that is not a placeholder."""
    from nexora.scanner.filters import looks_like_placeholder

    try:
        decoded = b64decode_loose(secret).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return Outcome(False, "not base64 text")
    if not decoded.strip() or (not decoded.isprintable() and "\n" not in decoded):
        return Outcome(False, "binary")
    if looks_like_placeholder(decoded.strip()) or len(decoded.strip()) < 6:
        return Outcome(False, "placeholder")
    return Outcome(True, "decoded")


@register("grafana-cloud")
def grafana_cloud(secret: str) -> Outcome:
    """``glc_`` tokens are base64 JSON carrying the org, name, key and metadata fields."""
    payload = json.loads(b64decode_loose(secret[len("glc_") :]))
    if isinstance(payload, dict) and {"o", "n", "k"} <= payload.keys():
        return Outcome(True, f"org {payload['o']}")
    return Outcome(False, "not a Grafana token")


@register("basic-auth-base64")
def basic_auth_base64(secret: str) -> Outcome:
    """Base64 of ``user:password`` where the password is not a placeholder."""
    from nexora.scanner.filters import looks_like_placeholder

    try:
        user, _, password = b64decode_loose(secret).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return Outcome(False, "not base64 text")
    if not user or len(password) < 4 or looks_like_placeholder(password) or password.lower() == "password":
        return Outcome(False, "no usable password")
    return Outcome(True, f"user {user}")


@register("base64-private-key")
def base64_private_key(secret: str) -> Outcome:
    """Base64 of a PEM private key, checked by parsing the decoded key."""
    from nexora.scanner.validators.keys import private_key

    try:
        decoded = b64decode_loose(secret).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        return Outcome(False, "not base64 text")
    if "PRIVATE KEY-----" not in decoded:
        return Outcome(False, "not a private key")
    return private_key(decoded)
