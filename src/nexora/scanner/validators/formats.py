"""Encoded credentials checked offline: JWT claims, Base58Check and Bech32 keys, Cisco type 7, Upstash QStash.

Each check decodes the value with the scheme its owner documents (BIP-32/Base58Check, NIP-19/Bech32,
RFC 7519 registered claims…) and fails on anything that does not decode to the documented structure.
"""

from __future__ import annotations

import binascii
import hashlib
import json
from collections.abc import Callable

from nexora.scanner.validators.registry import Outcome, register
from nexora.scanner.validators.structured import b64decode_loose, bech32_valid, jwt

_BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
# BIP-32 extended private key versions (mainnet/testnet, plus the SLIP-132 variants wallets print).
_BIP32_PRIVATE_VERSIONS = {
    bytes.fromhex("0488ade4"): "xprv",
    bytes.fromhex("04358394"): "tprv",
    bytes.fromhex("049d7878"): "yprv",
    bytes.fromhex("044a4e28"): "uprv",
    bytes.fromhex("04b2430c"): "zprv",
    bytes.fromhex("045f18bc"): "vprv",
    bytes.fromhex("0295b005"): "Yprv",
    bytes.fromhex("02aa7a99"): "Zprv",
}
# RFC 7519 registered claims that name a principal or a lifetime: a token carrying none is not a credential.
_IDENTITY_CLAIMS = ("iss", "sub", "aud", "exp", "nbf")
# Passwords that documentation and quick starts hash into their examples.
_PLACEHOLDER_PASSWORDS = (
    "",
    "password",
    "passw0rd",
    "qwerty",
    "123456",
    "12345678",
    "changeme",
    "admin",
    "default",
    "secret",
    "root",
    "test",
    "guest",
    "letmein",
    "mysql",
    "postgres",
    "clickhouse",
)
# Cisco IOS type 7 is a Vigenère-style XOR with this published key, starting at the offset in the first two digits.
_CISCO_TYPE7_KEY = b"dsfd;kfoA,.iyewrkldJKDHSUBsgvca69834ncxv9873254k;fg87"


def base58check_decode(text: str) -> bytes:
    """Decode Base58Check; raises ValueError on a bad character or checksum."""
    value = 0
    for char in text:
        index = _BASE58.find(char)
        if index < 0:
            raise ValueError("not base58")
        value = value * 58 + index
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    raw = b"\0" * (len(text) - len(text.lstrip("1"))) + raw
    payload, checksum = raw[:-4], raw[-4:]
    if len(raw) < 5 or hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4] != checksum:
        raise ValueError("bad checksum")
    return payload


@register("jwt-claims")
def jwt_claims(secret: str) -> Outcome:
    """A signed JWT (see ``jwt``) whose payload names a principal or a lifetime (``iss``, ``sub``, ``exp``…)."""
    outcome = jwt(secret)
    if not outcome.passed:
        return outcome
    payload = json.loads(b64decode_loose(secret.split(".")[1]))
    claims = [claim for claim in _IDENTITY_CLAIMS if claim in payload]
    if not claims:
        return Outcome(False, "no registered claims")
    return Outcome(True, f"{outcome.detail}; claims {', '.join(claims)}")


@register("bip32-private-key")
def bip32_private_key(secret: str) -> Outcome:
    """BIP-32 extended private key: 78 bytes with a private version, a ``00`` key prefix and a valid checksum."""
    payload = base58check_decode(secret)
    name = _BIP32_PRIVATE_VERSIONS.get(payload[:4])
    if len(payload) != 78 or name is None or payload[45] != 0:
        return Outcome(False, "not an extended private key")
    return Outcome(True, f"{name}, depth {payload[4]}")


@register("bitcoin-wif")
def bitcoin_wif(secret: str) -> Outcome:
    """Wallet Import Format: version ``80`` (mainnet) or ``ef`` (testnet), 32 key bytes, optional ``01`` flag."""
    payload = base58check_decode(secret)
    compressed = len(payload) == 34 and payload[33] == 1
    if payload[0] not in (0x80, 0xEF) or not (len(payload) == 33 or compressed):
        return Outcome(False, "not a WIF key")
    network = "mainnet" if payload[0] == 0x80 else "testnet"
    return Outcome(True, f"{network}{', compressed' if compressed else ''}")


@register("nostr-nsec")
def nostr_nsec(secret: str) -> Outcome:
    """NIP-19 ``nsec1…``: Bech32 with the ``nsec`` prefix over a 32-byte private key."""
    data = secret.lower()[5:-6]
    if not secret.lower().startswith("nsec1") or not bech32_valid(secret) or len(data) * 5 // 8 != 32:
        return Outcome(False, "bad checksum")
    if len({_BECH32.index(char) for char in data}) < 8:
        return Outcome(False, "filler")
    return Outcome(True, "checksum ok")


@register("cisco-type7")
def cisco_type7(secret: str) -> Outcome:
    """Cisco type 7 decodes (it is an obfuscation, not a hash) to printable text."""
    offset, body = int(secret[:2]), bytes.fromhex(secret[2:])
    if offset >= len(_CISCO_TYPE7_KEY) or not body:
        return Outcome(False, "bad offset")
    plain = bytes(byte ^ _CISCO_TYPE7_KEY[(offset + index) % len(_CISCO_TYPE7_KEY)] for index, byte in enumerate(body))
    if not all(32 < byte < 127 for byte in plain):
        return Outcome(False, "does not decode to text")
    return Outcome(True, f"reversible: decodes to {len(plain)} characters")


def _placeholder_digests() -> frozenset[str]:
    digests = set()
    for password in _PLACEHOLDER_PASSWORDS:
        raw = password.encode()
        digests.add(hashlib.sha256(raw).hexdigest())
        digests.add(hashlib.sha1(hashlib.sha1(raw).digest()).hexdigest())  # noqa: S324  # the formats' own scheme
    return frozenset(digests)


_PLACEHOLDER_DIGESTS = _placeholder_digests()


@register("hex-password-digest")
def hex_password_digest(secret: str) -> Outcome:
    """Hex SHA-256 or double SHA-1 (ClickHouse, MySQL ``*…``) that is not the digest of a documentation password."""
    if secret.lstrip("*").lower() in _PLACEHOLDER_DIGESTS:
        return Outcome(False, "digest of a placeholder password")
    return Outcome(True, "digest of an unlisted password")


# {SCHEME} prefixes of salted (trailing salt) or plain digests: LDAP, htpasswd, Spring Security.
_BRACED_SCHEMES = {
    "SHA": "sha1",
    "SSHA": "sha1",
    "SHA-1": "sha1",
    "SHA256": "sha256",
    "SHA-256": "sha256",
    "SSHA256": "sha256",
    "SHA512": "sha512",
    "SSHA512": "sha512",
    "MD5": "md5",
    "SMD5": "md5",
}


def _documentation_password(candidates: tuple[str, ...], matches: Callable[[bytes], bool]) -> bool:
    return any(matches(password.encode()) for password in candidates)


@register("weak-password-hash")
def weak_password_hash(secret: str) -> Outcome:
    """Cheap digests (Mosquitto ``$6$``/``$7$``, ``{SHA}``, ``{SSHA*}``, ``{MD5}``…) of a documentation password fail.

    Samples shipped with software hash "password" and friends (or the user's own name); a leaked file of
    real users does not. Slow schemes (bcrypt, crypt(3), high-iteration PBKDF2) are not recomputed.
    """
    user, _, value = secret.rpartition(":") if not secret.startswith("{") else ("", "", secret)
    candidates = (*_PLACEHOLDER_PASSWORDS, user) if user else _PLACEHOLDER_PASSWORDS
    parts = value.split("$")
    if value.startswith("$6$") and len(parts) == 4:  # Mosquitto: SHA-512 over password + salt
        salt, digest = b64decode_loose(parts[2]), b64decode_loose(parts[3])
        weak = _documentation_password(candidates, lambda pw: hashlib.sha512(pw + salt).digest() == digest)
    elif value.startswith("$7$") and len(parts) == 5:  # Mosquitto: PBKDF2-HMAC-SHA512
        rounds, salt, digest = int(parts[2]), b64decode_loose(parts[3]), b64decode_loose(parts[4])
        weak = rounds <= 10_000 and _documentation_password(
            candidates, lambda pw: hashlib.pbkdf2_hmac("sha512", pw, salt, rounds, len(digest)) == digest
        )
    elif value.startswith("{"):  # LDAP/htpasswd schemes (base64) and Spring's message digests (hex)
        scheme, _, encoded = value[1:].partition("}")
        name = _BRACED_SCHEMES.get(scheme.upper())
        if name is None:
            return Outcome(True, f"{scheme} hash")
        size = hashlib.new(name).digest_size
        hexadecimal = len(encoded) == 2 * size and all(char in "0123456789abcdefABCDEF" for char in encoded)
        raw = bytes.fromhex(encoded) if hexadecimal else b64decode_loose(encoded)
        digest, salt = raw[:size], raw[size:]
        weak = _documentation_password(candidates, lambda pw: hashlib.new(name, pw + salt).digest() == digest)
    else:
        return Outcome(True, "not recomputed")
    if weak:
        return Outcome(False, "hash of a documentation password")
    return Outcome(True, "hash of an unlisted password")


@register("argon2-phc")
def argon2_phc(secret: str) -> Outcome:
    """Argon2 PHC string: random salt and digest of at least 8 and 16 bytes; a typed salt ("somesalt") is a sample."""
    salt_b64, digest_b64 = secret.split("$")[-2:]
    salt, digest = b64decode_loose(salt_b64), b64decode_loose(digest_b64)
    if len(salt) < 8 or len(digest) < 16:
        return Outcome(False, "salt or digest too short")
    if salt.isascii() and salt.decode("ascii").isalnum():
        return Outcome(False, "salt is typed text, as in documentation samples")
    return Outcome(True, f"{len(digest)}-byte digest")


@register("upstash-qstash")
def upstash_qstash(secret: str) -> Outcome:
    """QStash tokens are base64 JSON carrying ``UserID`` and ``Password``."""
    try:
        payload = json.loads(b64decode_loose(secret))
    except binascii.Error:
        return Outcome(False, "not base64")
    if not isinstance(payload, dict) or not payload.get("UserID") or len(str(payload.get("Password", ""))) < 8:
        return Outcome(False, "not a QStash token")
    return Outcome(True, "user and password")
