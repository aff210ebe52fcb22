"""Key containers checked offline: DER structure of PEM keys, PuTTY MACs, OpenPGP armour, JWKs, keystores.

Each check follows the container's published format (RFC 7468/5208/5915/5958 for PEM and PKCS#8,
PuTTY's PPK appendix, RFC 4880 for OpenPGP armour, RFC 7517 for JWK, RFC 7292 for PKCS##12, the JDK's
JKS/JCEKS layout). A block that is truncated, elided (``MIIEpAIBAAKCAQEA...``) or made of filler
fails; a well-formed block passes even when ``cryptography`` cannot load the key inside (explicit
curves, unusual algorithms), because it is still a leaked key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import struct
import warnings
from collections.abc import Callable

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.utils import CryptographyDeprecationWarning

from nexora.scanner.validators.keys import normalise_pem
from nexora.scanner.validators.registry import Outcome, register
from nexora.scanner.validators.structured import b64decode_loose

_SEQUENCE, _INTEGER, _OCTET_STRING, _OID = 0x30, 0x02, 0x04, 0x06
_PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]{3,40})-----\n(.*?)-----END \1-----", re.DOTALL)
_PEM_HEADER = re.compile(r"^([A-Za-z-]{2,30}):\s*(.*)$")
# DEK-Info ciphers of OpenSSL's traditional encrypted PEM, with their block (and IV) sizes.
_DEK_BLOCK_SIZES = {"DES-CBC": 8, "DES-EDE3-CBC": 8, "AES-128-CBC": 16, "AES-192-CBC": 16, "AES-256-CBC": 16}
_PKCS7_DATA = bytes.fromhex("06092a864886f70d010701")
_PKCS7_SIGNED = bytes.fromhex("06092a864886f70d010702")
_PUTTY_V2_MAC_KEY = hashlib.sha1(b"putty-private-key-file-mac-key").digest()  # noqa: S324  # fixed by the format
_JWK_PRIVATE_MEMBER = {"RSA": "d", "EC": "d", "OKP": "d", "oct": "k"}


class _Malformed(ValueError):
    """The bytes do not follow the container's format."""


def _escaped_newlines(text: str) -> str:
    return re.sub(r"(?:\\r)?\\n", "\n", text)


# -- DER ---------------------------------------------------------------------------------------------
def _tlv(data: bytes, offset: int, limit: int) -> tuple[int, int, int]:
    """(tag, content start, content end) of the DER element at ``offset``; definite lengths only."""
    if offset + 2 > limit:
        raise _Malformed("truncated")
    tag, first = data[offset], data[offset + 1]
    if tag & 0x1F == 0x1F:
        raise _Malformed("high tag number")
    if first < 0x80:
        start, length = offset + 2, first
    else:
        count = first & 0x7F
        if count == 0 or count > 4 or offset + 2 + count > limit:
            raise _Malformed("bad length")
        start, length = offset + 2 + count, int.from_bytes(data[offset + 2 : offset + 2 + count], "big")
    if start + length > limit:
        raise _Malformed("truncated")
    return tag, start, start + length


def _children(data: bytes, start: int, end: int, depth: int = 0) -> list[tuple[int, int, int]]:
    """The elements inside a constructed element; the whole tree below must be well-formed."""
    if depth > 12:
        raise _Malformed("too deep")
    elements, offset = [], start
    while offset < end:
        tag, content_start, content_end = _tlv(data, offset, end)
        if tag & 0x20:
            _children(data, content_start, content_end, depth + 1)
        elements.append((tag, content_start, content_end))
        offset = content_end
    return elements


def _der_root(data: bytes) -> list[tuple[int, int, int]]:
    tag, start, end = _tlv(data, 0, len(data))
    if tag != _SEQUENCE or end != len(data):
        raise _Malformed("not one DER SEQUENCE")
    return _children(data, start, end)


def _small_integer(data: bytes, element: tuple[int, int, int]) -> int:
    tag, start, end = element
    if tag != _INTEGER or not 0 < end - start <= 8:
        raise _Malformed("expected a small INTEGER")
    return int.from_bytes(data[start:end], "big")


def _rsa_shape(data: bytes) -> bool:
    fields = _der_root(data)  # PKCS#1 RSAPrivateKey: version, n, e, d, p, q, dP, dQ, qInv
    return len(fields) >= 9 and all(tag == _INTEGER for tag, _, _ in fields[:9]) and _small_integer(data, fields[0]) < 2


def _ec_shape(data: bytes) -> bool:
    fields = _der_root(data)  # SEC 1 ECPrivateKey: version 1, privateKey, [0] parameters, [1] publicKey
    return (
        len(fields) >= 2
        and _small_integer(data, fields[0]) == 1
        and fields[1][0] == _OCTET_STRING
        and 20 <= fields[1][2] - fields[1][1] <= 72
        and all(tag in (0xA0, 0xA1) for tag, _, _ in fields[2:])
    )


def _dsa_shape(data: bytes) -> bool:
    fields = _der_root(data)  # OpenSSL DSA: version 0, p, q, g, y, x
    return len(fields) == 6 and all(tag == _INTEGER for tag, _, _ in fields) and _small_integer(data, fields[0]) == 0


def _pkcs8_shape(data: bytes) -> bool:
    fields = _der_root(data)  # PKCS#8 / RFC 5958: version, AlgorithmIdentifier, privateKey, ...
    if len(fields) < 3 or _small_integer(data, fields[0]) > 1 or fields[1][0] != _SEQUENCE:
        return False
    algorithm = _children(data, fields[1][1], fields[1][2])
    return bool(algorithm) and algorithm[0][0] == _OID and fields[2][0] == _OCTET_STRING


def _encrypted_pkcs8_shape(data: bytes) -> bool:
    fields = _der_root(data)  # EncryptedPrivateKeyInfo: AlgorithmIdentifier, encryptedData
    if len(fields) != 2 or fields[0][0] != _SEQUENCE or fields[1][0] != _OCTET_STRING:
        return False
    algorithm = _children(data, fields[0][1], fields[0][2])
    return bool(algorithm) and algorithm[0][0] == _OID and fields[1][2] - fields[1][1] >= 16


_DER_SHAPES: dict[str, Callable[[bytes], bool]] = {
    "RSA PRIVATE KEY": _rsa_shape,
    "EC PRIVATE KEY": _ec_shape,
    "DSA PRIVATE KEY": _dsa_shape,
    "PRIVATE KEY": _pkcs8_shape,
    "ENCRYPTED PRIVATE KEY": _encrypted_pkcs8_shape,
}


def _describe(key: object) -> str:
    """ "RSA 2048-bit", "EC secp256r1", "Ed25519"… without touching deprecated classes (DSA) by name."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return f"EC {key.curve.name}"
    name = type(key).__name__.removesuffix("PrivateKey")
    size = getattr(key, "key_size", None)
    return f"{name} {size}-bit" if isinstance(size, int) else name


def _legacy_encryption(headers: dict[str, str], body: bytes) -> Outcome:
    cipher, _, iv = headers.get("DEK-Info", "").partition(",")
    block = _DEK_BLOCK_SIZES.get(cipher.strip().upper())
    if headers.get("Proc-Type", "").replace(" ", "") != "4,ENCRYPTED" or block is None:
        return Outcome(False, "unknown PEM encryption")
    if len(iv.strip()) != 2 * block or not re.fullmatch(r"[0-9A-Fa-f]+", iv.strip()):
        return Outcome(False, "bad DEK-Info IV")
    if not body or len(body) % block:
        return Outcome(False, "ciphertext is not whole blocks")
    return Outcome(True, f"encrypted ({cipher.strip().upper()})")


@register("pem-private-key")
def pem_private_key(secret: str) -> Outcome:
    """A PEM private key: parsed by ``cryptography``, or at least a complete DER structure of its label."""
    data = normalise_pem(secret)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)  # DSA keys still leak
            key = serialization.load_pem_private_key(data, password=None, unsafe_skip_rsa_key_validation=True)
    except TypeError:
        key = None  # encrypted: checked below from its headers and structure
    except (ValueError, UnsupportedAlgorithm):
        key = None
    else:
        return Outcome(True, f"parsed: {_describe(key)}")
    block = _PEM_BLOCK.search(data.decode("ascii", "replace"))
    if block is None:
        return Outcome(False, "no PEM block")
    label, lines = block.group(1), block.group(2).splitlines()
    headers: dict[str, str] = {}
    for line in lines:
        if header := _PEM_HEADER.match(line):
            headers[header.group(1)] = header.group(2)
    try:
        body = base64.b64decode("".join(line for line in lines if not _PEM_HEADER.match(line)), validate=True)
    except binascii.Error:
        return Outcome(False, "body is not base64")
    if "Proc-Type" in headers:
        return _legacy_encryption(headers, body)
    shape = _DER_SHAPES.get(label)
    try:
        well_formed = shape is not None and shape(body)
    except _Malformed:
        well_formed = False
    if not well_formed:
        return Outcome(False, "does not parse")
    return Outcome(True, "encrypted" if label.startswith("ENCRYPTED") else "well-formed DER")


# -- PuTTY -------------------------------------------------------------------------------------------
def _ssh_string(blob: bytes, offset: int = 0) -> tuple[bytes, int]:
    if offset + 4 > len(blob):
        raise _Malformed("truncated")
    (length,) = struct.unpack_from(">I", blob, offset)
    end = offset + 4 + length
    if end > len(blob):
        raise _Malformed("truncated")
    return blob[offset + 4 : end], end


def _ssh_pack(value: bytes) -> bytes:
    return struct.pack(">I", len(value)) + value


def parse_ppk(text: str) -> tuple[str, dict[str, str], bytes, bytes]:
    """(version, fields, public blob, private blob) of a PuTTY key file; raises ValueError when malformed."""
    lines = [line.rstrip("\r") for line in _escaped_newlines(text).split("\n")]
    fields: dict[str, str] = {}
    blobs: dict[str, bytes] = {}
    index = 0
    while index < len(lines):
        name, _, value = lines[index].strip().partition(": ")
        index += 1
        if name in ("Public-Lines", "Private-Lines"):
            count = int(value)
            encoded = "".join(line.strip() for line in lines[index : index + count])
            blobs[name] = base64.b64decode(encoded, validate=True)
            index += count
        elif name:
            fields[name] = value.strip()
    version = next((name[-1] for name in fields if name.startswith("PuTTY-User-Key-File-")), "")
    if version not in ("2", "3") or "Public-Lines" not in blobs or "Private-Lines" not in blobs:
        raise _Malformed("not a PuTTY key file")
    return version, fields, blobs["Public-Lines"], blobs["Private-Lines"]


def putty_mac(version: str, fields: dict[str, str], public: bytes, private: bytes, mac_key: bytes = b"") -> str:
    """The Private-MAC of an unencrypted PPK: HMAC-SHA-1 (v2) or HMAC-SHA-256 with an empty key (v3)."""
    algorithm = fields[f"PuTTY-User-Key-File-{version}"]
    header = (algorithm, fields["Encryption"], fields.get("Comment", ""))
    data = b"".join(_ssh_pack(part) for part in (*(text.encode() for text in header), public, private))
    if version == "2":
        return hmac.new(mac_key or _PUTTY_V2_MAC_KEY, data, hashlib.sha1).hexdigest()
    return hmac.new(mac_key, data, hashlib.sha256).hexdigest()


@register("putty-ppk")
def putty_ppk(secret: str) -> Outcome:
    """PuTTY PPK v2/v3: the public blob names the header's algorithm; an unencrypted key's MAC must verify."""
    try:
        version, fields, public, private = parse_ppk(secret)
        algorithm, _ = _ssh_string(public)
    except (_Malformed, ValueError, binascii.Error):
        return Outcome(False, "malformed PPK")
    if algorithm.decode("ascii", "replace") != fields[f"PuTTY-User-Key-File-{version}"]:
        return Outcome(False, "public blob does not match the header")
    mac = fields.get("Private-MAC", "").lower()
    if fields.get("Encryption") == "none":
        if hmac.compare_digest(mac, putty_mac(version, fields, public, private)):
            return Outcome(True, "MAC ok")
        return Outcome(False, "bad MAC")
    if len(mac) != (40 if version == "2" else 64) or not private or len(private) % 16:
        return Outcome(False, "malformed encrypted PPK")
    return Outcome(True, f"encrypted ({fields.get('Encryption')})")


# -- OpenPGP -----------------------------------------------------------------------------------------
def crc24(data: bytes) -> int:
    """The CRC-24 of RFC 4880 section 6.1 (ASCII-armour checksum)."""
    crc = 0xB704CE
    for byte in data:
        crc ^= byte << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


@register("openpgp-secret-key")
def openpgp_secret_key(secret: str) -> Outcome:
    """Armoured OpenPGP block whose first packet is a Secret-Key packet; the CRC-24 line must match if present."""
    body: list[str] = []
    checksum = None
    for raw in _escaped_newlines(secret).splitlines()[1:]:
        line = raw.strip().strip("\"',")
        if line.startswith("-----END"):
            break
        if line.startswith("=") and len(line) == 5:
            checksum = line[1:]
        elif line and ": " not in line:  # armour headers ("Version: ...") are not base64
            body.append(line)
    try:
        data = base64.b64decode("".join(body), validate=True)
        expected = int.from_bytes(base64.b64decode(checksum, validate=True), "big") if checksum else None
    except (binascii.Error, ValueError):
        return Outcome(False, "not base64")
    if not data or not data[0] & 0x80:
        return Outcome(False, "not an OpenPGP packet")
    tag = data[0] & 0x3F if data[0] & 0x40 else (data[0] >> 2) & 0x0F
    if tag != 5:
        return Outcome(False, "first packet is not a secret key")
    if expected is not None and crc24(data) != expected:
        return Outcome(False, "bad armour checksum")
    return Outcome(True, "checksum ok" if expected is not None else "secret-key packet")


# -- OpenVPN ---------------------------------------------------------------------------------------
@register("openvpn-key")
def openvpn_key(secret: str) -> Outcome:
    """OpenVPN static keys are 2048 random bits in hex; tls-crypt-v2 keys are base64. Filler repeats bytes."""
    lines = [line.strip() for line in _escaped_newlines(secret).splitlines()[1:-1]]
    body = "".join(line for line in lines if line and not line.startswith("#"))
    try:
        data = bytes.fromhex(body) if "Static key" in secret else base64.b64decode(body, validate=True)
    except (ValueError, binascii.Error):
        return Outcome(False, "malformed key body")
    if len(data) < 64 or len(set(data)) < len(data) // 4:
        return Outcome(False, "too short or repetitive")
    return Outcome(True, f"{8 * len(data)}-bit key")


# -- JWK ---------------------------------------------------------------------------------------------
@register("jwk-private")
def jwk_private(secret: str) -> Outcome:
    """A JSON Web Key with its private member: ``d`` for RSA/EC/OKP, ``k`` for symmetric ``oct`` keys."""
    key = json.loads(secret)
    if not isinstance(key, dict):
        return Outcome(False, "not a JSON object")
    kind = str(key.get("kty", ""))
    member = _JWK_PRIVATE_MEMBER.get(kind)
    value = key.get(member) if member else None
    if not isinstance(value, str):
        return Outcome(False, "no private member")
    try:
        material = b64decode_loose(value)
    except binascii.Error:
        return Outcome(False, "private member is not base64url")
    if len(material) < 16 or len(set(material)) < 8:
        return Outcome(False, "private member too short or filler")
    detail = f"{kind} {key.get('crv', '')}".strip()
    return Outcome(True, f"{detail} private key" if member == "d" else f"{8 * len(material)}-bit symmetric key")


# -- PKCS#12 and Java keystores ----------------------------------------------------------------------
@register("pkcs12")
def pkcs12(secret: str) -> Outcome:
    """Base64 PKCS#12 (PFX): SEQUENCE { version 3, ContentInfo(data or signedData), ... } per RFC 7292."""
    try:
        data = b64decode_loose(secret)
    except binascii.Error:
        return Outcome(False, "not base64")
    if len(data) < 64 or data[0] != _SEQUENCE:
        return Outcome(False, "not a PFX")
    if data[1] == 0x80:  # BER indefinite length, as written by older Java keytools
        offset = 2
    else:
        try:
            _, offset, end = _tlv(data, 0, len(data))
        except _Malformed:
            return Outcome(False, "truncated")
        if end != len(data):
            return Outcome(False, "trailing bytes")
    if data[offset : offset + 3] != b"\x02\x01\x03" or data[offset + 3] != _SEQUENCE:
        return Outcome(False, "not PFX version 3")
    inner = data[offset + 3 : offset + 3 + 16]
    if _PKCS7_DATA not in inner and _PKCS7_SIGNED not in inner:
        return Outcome(False, "no PKCS#7 content")
    return Outcome(True, "PKCS#12 (PFX)")


def _java_utf(data: bytes, offset: int) -> int:
    length: int = struct.unpack_from(">H", data, offset)[0]
    if offset + 2 + length > len(data):
        raise _Malformed("truncated")
    return offset + 2 + length


def _java_certificate(data: bytes, offset: int, version: int) -> int:
    if version == 2:
        offset = _java_utf(data, offset)  # certificate type, e.g. "X.509"
    length: int = struct.unpack_from(">I", data, offset)[0]
    return offset + 4 + length


def java_keystore_entries(data: bytes) -> list[int]:
    """Entry tags of a JKS (``FEEDFEED``) or JCEKS (``CECECECE``) keystore.

    Tags: 1 private key, 2 trusted certificate, 3 secret key (JCEKS only).
    """
    magic, version, count = struct.unpack_from(">III", data, 0)
    if magic not in (0xFEEDFEED, 0xCECECECE) or version not in (1, 2) or not 0 < count < 10000:
        raise _Malformed("not a Java keystore")
    tags, offset = [], 12
    for _ in range(count):
        (tag,) = struct.unpack_from(">I", data, offset)
        offset = _java_utf(data, offset + 4) + 8  # alias, then the creation date
        if tag == 1:
            (length,) = struct.unpack_from(">I", data, offset)
            offset += 4 + length
            (chain,) = struct.unpack_from(">I", data, offset)
            offset += 4
            for _ in range(chain):
                offset = _java_certificate(data, offset, version)
        elif tag == 2:
            offset = _java_certificate(data, offset, version)
        elif tag == 3 and magic == 0xCECECECE:
            (length,) = struct.unpack_from(">I", data, offset)  # a serialised SealedObject
            offset += 4 + length
        else:
            raise _Malformed("unknown entry")
        if offset > len(data):
            raise _Malformed("truncated")
        tags.append(tag)
    if len(data) - offset != 20:  # the keyed SHA-1 over everything before it
        raise _Malformed("no integrity digest")
    return tags


@register("java-keystore")
def java_keystore(secret: str) -> Outcome:
    """A base64 JKS/JCEKS keystore holding at least one private or secret key (a truststore holds none)."""
    try:
        tags = java_keystore_entries(b64decode_loose(secret))
    except (binascii.Error, struct.error, _Malformed):
        return Outcome(False, "not a Java keystore")
    keys = sum(1 for tag in tags if tag in (1, 3))
    if not keys:
        return Outcome(False, "certificates only")
    return Outcome(True, f"{keys} key entr{'y' if keys == 1 else 'ies'}")
