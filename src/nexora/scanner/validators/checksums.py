"""Checksummed token formats: GitHub/npm (CRC32 base62), Grafana/Atlassian (CRC32 hex), GitLab routable."""

from __future__ import annotations

import re
import struct
import zlib

from nexora.core.keyformat import base62_decode, base62_encode, is_well_formed_api_key
from nexora.scanner.validators.registry import Outcome, register

_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_GITLAB_ROUTABLE = re.compile(
    r"(?P<head>(?P<prefix>[a-z]+-(?:t\d_)?)(?P<payload>[0-9A-Za-z_-]{27,300})\.(?:[0-9a-z]{2}\.)?"
    r"(?P<length>[0-9a-z]{2}))(?P<crc>[0-9a-z]{7})"
)


def _base36(value: int, width: int) -> str:
    digits = ""
    while value:
        value, remainder = divmod(value, 36)
        digits = _BASE36[remainder] + digits
    return digits.rjust(width, "0")


def base62_crc_token(prefix_length: int, token: str) -> bool:
    """True when the last 6 base62 characters are the CRC32 of the body after the prefix."""
    body, checksum = token[prefix_length:-6], token[-6:]
    return base62_decode(checksum) == zlib.crc32(body.encode("ascii"))


def make_base62_crc_token(prefix: str, body: str) -> str:
    """Build a token whose checksum is valid (used by tests and the benchmark corpus)."""
    return prefix + body + base62_encode(zlib.crc32(body.encode("ascii")), 6)


@register("github-checksum")
def github_checksum(secret: str) -> Outcome:
    """GitHub ``gh[pousr]_`` tokens: 30 base62 characters then a base62 CRC32 of them."""
    if base62_crc_token(4, secret):
        return Outcome(True, "checksum ok")
    return Outcome(False, "bad checksum")


@register("npm-checksum")
def npm_checksum(secret: str) -> Outcome:
    """npm ``npm_`` tokens share GitHub's scheme."""
    if base62_crc_token(4, secret):
        return Outcome(True, "checksum ok")
    return Outcome(False, "bad checksum")


@register("grafana-service-checksum")
def grafana_service_checksum(secret: str) -> Outcome:
    """``glsa_<32>_<8 hex>``: the hex is the little-endian CRC32 of everything before ``_``."""
    expected = struct.unpack("<I", bytes.fromhex(secret[-8:]))[0]
    if zlib.crc32(secret[:-9].encode("ascii")) == expected:
        return Outcome(True, "checksum ok")
    return Outcome(False, "bad checksum")


@register("atlassian-checksum")
def atlassian_checksum(secret: str) -> Outcome:
    """Atlassian ``ATATT``/``ATCTT``/Bitbucket ``ATBB`` tokens end with the hex CRC32 of the rest."""
    if zlib.crc32(secret[:-8].encode("ascii")) == int(secret[-8:], 16):
        return Outcome(True, "checksum ok")
    return Outcome(False, "bad checksum")


@register("gitlab-routable")
def gitlab_routable(secret: str) -> Outcome:
    """GitLab routable tokens: a base36 payload length, then a base36 CRC32 of everything before it."""
    match = _GITLAB_ROUTABLE.fullmatch(secret)
    if match is None:
        return Outcome(False, "not routable")
    if int(match["length"], 36) != len(match["payload"]):
        return Outcome(False, "bad payload length")
    if _base36(zlib.crc32(match["head"].encode("ascii")), 7) != match["crc"]:
        return Outcome(False, "bad checksum")
    return Outcome(True, "checksum ok")


@register("nexora-api-key")
def nexora_api_key(secret: str) -> Outcome:
    """Nexora's own ``nxr_`` keys carry a base62 CRC32 suffix (see ``nexora.core.keyformat``)."""
    if is_well_formed_api_key(secret):
        return Outcome(True, "checksum ok")
    return Outcome(False, "bad checksum")
