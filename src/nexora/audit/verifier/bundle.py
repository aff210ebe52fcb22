"""Reading bundles (JSON lines written by ``nexora audit export``) and pinned key files."""

from __future__ import annotations

import base64
import binascii
import itertools
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from nexora.audit.verifier.log import ConsistencyProof, LogVerifier, Problem, PublicKey, Report, TreeHead

BUNDLE_FORMAT = "nexora-audit-bundle"
BUNDLE_VERSION = 1
MAX_LINE_BYTES = 4 * 1024 * 1024
_DECODER = json.JSONDecoder()


class BundleError(ValueError):
    """The file is not a readable audit bundle (as opposed to a readable bundle that fails checks)."""


def _field(record: Mapping[str, Any], name: str, kind: type | tuple[type, ...], line: int) -> Any:
    value = record.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise BundleError(f"line {line}: field '{name}' is missing or has the wrong type")
    return value


def _optional_text(record: Mapping[str, Any], name: str, line: int) -> str | None:
    value = record.get(name)
    if value is not None and not isinstance(value, str):
        raise BundleError(f"line {line}: field '{name}' must be a string or null")
    return value


def _hex(value: str, line: int, name: str) -> bytes:
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise BundleError(f"line {line}: field '{name}' is not hexadecimal") from None


def _b64(value: str, line: int, name: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BundleError(f"line {line}: field '{name}' is not base64") from None


_REQUIRED_TEXT = ("log", "event_id", "occurred_at", "recorded_at", "actor", "action", "outcome", "source", "payload")
_OPTIONAL_TEXT = ("target", "source_address", "request_id")
_ENTRY_FIELDS = ("seq", *_REQUIRED_TEXT, *_OPTIONAL_TEXT)
# Every allowed combination of field types, so a well-formed entry is checked with one set lookup.
_ENTRY_SHAPES = frozenset(
    (int, *(str,) * len(_REQUIRED_TEXT), *optional) for optional in itertools.product((str, type(None)), repeat=3)
)


def _entry(record: Mapping[str, Any], line: int) -> tuple[dict[str, Any], bytes]:
    try:
        entry = {name: record[name] for name in _ENTRY_FIELDS}
        leaf = bytes.fromhex(record["leaf_hash"])
    except (KeyError, TypeError, ValueError):
        entry, leaf = {}, b""
    if not entry or tuple(map(type, entry.values())) not in _ENTRY_SHAPES or entry["seq"] < 0 or len(leaf) != 32:
        _explain_bad_entry(record, line)
    return entry, leaf


def _explain_bad_entry(record: Mapping[str, Any], line: int) -> None:
    """Raise the :class:`BundleError` that names what is wrong with an entry record."""
    if _field(record, "seq", int, line) < 0:
        raise BundleError(f"line {line}: field 'seq' must not be negative")
    for name in _REQUIRED_TEXT:
        _field(record, name, str, line)
    for name in _OPTIONAL_TEXT:
        _optional_text(record, name, line)
    if len(_hex(_field(record, "leaf_hash", str, line), line, "leaf_hash")) != 32:
        raise BundleError(f"line {line}: field 'leaf_hash' must be 32 bytes")
    raise BundleError(f"line {line}: the entry is malformed")


def _parse_line(raw: bytes, number: int) -> dict[str, Any]:
    if len(raw) > MAX_LINE_BYTES:
        raise BundleError(f"line {number} is longer than {MAX_LINE_BYTES} bytes")
    try:
        record = _DECODER.decode(raw.decode())
    except (ValueError, UnicodeDecodeError):
        raise BundleError(f"line {number} is not valid JSON") from None
    if not isinstance(record, dict):
        raise BundleError(f"line {number} is not a JSON object")
    return record


def verify_bundle_lines(lines: Iterable[bytes], trusted_keys: Mapping[str, bytes] | None = None) -> Report:
    """Verify a bundle given as its lines (header, keys, heads, consistency proofs, then entries)."""
    iterator = iter(lines)
    header = _parse_line(next(iterator, b"{}"), 1)
    if header.get("kind") != "header" or header.get("format") != BUNDLE_FORMAT:
        raise BundleError("this is not a Nexora audit bundle (the first line is not its header)")
    if header.get("version") != BUNDLE_VERSION:
        raise BundleError(f"bundle version {header.get('version')!r} is not supported (expected {BUNDLE_VERSION})")
    log = _field(header, "log", str, 1)
    declared = _field(header, "entries", int, 1)
    keys: list[PublicKey] = []
    heads: list[TreeHead] = []
    proofs: list[ConsistencyProof] = []
    verifier: LogVerifier | None = None
    number = 1
    for raw in iterator:
        number += 1
        if not raw.strip():
            continue
        record = _parse_line(raw, number)
        kind = record.get("kind")
        if kind == "entry":
            if verifier is None:
                verifier = LogVerifier(log, keys, heads, proofs, trusted_keys=trusted_keys)
            entry, leaf = _entry(record, number)
            if entry["log"] != log:
                raise BundleError(f"line {number}: the entry belongs to another log")
            verifier.add(entry, leaf)
            continue
        if verifier is not None:
            raise BundleError(f"line {number}: keys, heads and proofs must come before the entries")
        if kind == "key":
            public = _b64(_field(record, "public_key", str, number), number, "public_key")
            created = _optional_text(record, "created_at", number)
            keys.append(PublicKey(_field(record, "key_id", str, number), public, created))
        elif kind == "head":
            heads.append(
                TreeHead(
                    tree_size=_field(record, "tree_size", int, number),
                    root_hash=_hex(_field(record, "root_hash", str, number), number, "root_hash"),
                    timestamp=_field(record, "timestamp", str, number),
                    key_id=_field(record, "key_id", str, number),
                    signature=_b64(_field(record, "signature", str, number), number, "signature"),
                )
            )
        elif kind == "consistency":
            hashes = _field(record, "proof", list, number)
            if not all(isinstance(h, str) for h in hashes):
                raise BundleError(f"line {number}: field 'proof' must be a list of hex strings")
            proofs.append(
                ConsistencyProof(
                    _field(record, "first", int, number),
                    _field(record, "second", int, number),
                    tuple(_hex(h, number, "proof") for h in hashes),
                )
            )
        else:
            raise BundleError(f"line {number}: unknown record kind {str(kind)[:40]!r}")
    if verifier is None:
        verifier = LogVerifier(log, keys, heads, proofs, trusted_keys=trusted_keys)
    report = verifier.finish()
    if report.entries != declared:
        kind, seq = ("truncated", report.entries) if report.entries < declared else ("inserted", declared)
        report.problems.append(
            Problem(kind, seq, f"the bundle header announces {declared} entries but the bundle holds {report.entries}")
        )
        report.problems.sort(key=lambda p: (p.seq is None, p.seq if p.seq is not None else 0))
    return report


def verify_bundle(path: Path, trusted_keys: Mapping[str, bytes] | None = None) -> Report:
    """Verify the bundle file at ``path``. Raises :class:`BundleError` if it cannot be read as one."""
    try:
        with path.open("rb") as handle:
            return verify_bundle_lines(handle, trusted_keys)
    except OSError as error:
        raise BundleError(f"cannot read {path}: {error.strerror or type(error).__name__}") from None


def load_trusted_keys(path: Path) -> dict[str, bytes]:
    """Pinned keys from a file saved from ``GET /api/v1/audit/public-key`` (``{"keys": [...]}``)."""
    try:
        document = json.loads(path.read_bytes())
    except OSError as error:
        raise BundleError(f"cannot read {path}: {error.strerror or type(error).__name__}") from None
    except ValueError:
        raise BundleError(f"{path} is not valid JSON") from None
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list) or not all(isinstance(k, dict) for k in keys):
        raise BundleError(f"{path} does not hold a 'keys' list as served by /api/v1/audit/public-key")
    pinned: dict[str, bytes] = {}
    for number, key in enumerate(keys, start=1):
        pinned[_field(key, "key_id", str, number)] = _b64(_field(key, "public_key", str, number), number, "public_key")
    return pinned
