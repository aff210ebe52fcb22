"""A minimal MaxMind DB writer for tests, following the MaxMind DB format specification, version 2.0.

A file is three sections:

1. the search tree: one node per bit of address prefix, each node two records (left for a 0 bit, right for a
   1 bit) of ``record_size`` bits, big-endian. A record below the node count points at another node; equal to
   the node count it means "no data"; above it, it points into the data section:
   ``record = node_count + 16 + offset in the data section``;
2. sixteen zero bytes, then the data section: values in the format's own encoding (a control byte with the type
   in its top three bits and the size in its low five, then the payload);
3. ``b"\\xab\\xcd\\xefMaxMind.com"`` and the metadata, one map in the same encoding.

An IPv6 tree (``ip_version=6``) holds IPv4 networks at ``::a.b.c.d/96+prefix``, where readers look them up; an
IPv4-only tree (``ip_version=4``) is 32 bits deep. Networks must not overlap. 24-bit records only, which is
plenty for a test database.
"""

from __future__ import annotations

import ipaddress
import struct
import time
from pathlib import Path
from typing import Any

METADATA_MARKER = b"\xab\xcd\xefMaxMind.com"
_POINTER, _STRING, _DOUBLE, _BYTES, _UINT16, _UINT32, _MAP = 1, 2, 3, 4, 5, 6, 7
_INT32, _UINT64, _ARRAY, _BOOLEAN = 8, 9, 11, 14
_RECORD_BITS = 24


class Uint16(int):
    """An integer written as uint16 whatever its value (the metadata's types are fixed by the format)."""


class Uint32(int):
    """An integer written as uint32."""


class Uint64(int):
    """An integer written as uint64."""


def _control(kind: int, size: int) -> bytes:
    """The control byte(s) of a value of type ``kind`` and ``size`` (bytes, or entries for maps and arrays)."""
    if size < 29:
        low, extra = size, b""
    elif size < 29 + 256:
        low, extra = 29, bytes([size - 29])
    elif size < 285 + 65536:
        low, extra = 30, (size - 285).to_bytes(2, "big")
    else:
        low, extra = 31, (size - 65821).to_bytes(3, "big")
    if kind <= _MAP:
        return bytes([kind << 5 | low]) + extra
    return bytes([low, kind - 7]) + extra  # extended type: 0 in the top bits, the type - 7 in the next byte


def _unsigned(kind: int, value: int) -> bytes:
    payload = value.to_bytes((value.bit_length() + 7) // 8, "big")  # no leading zero bytes; 0 is empty
    return _control(kind, len(payload)) + payload


def encode(value: Any) -> bytes:
    """``value`` in the MaxMind DB data encoding (str, bool, int, float, bytes, dict, list)."""
    if isinstance(value, str):
        data = value.encode()
        return _control(_STRING, len(data)) + data
    if isinstance(value, bool):
        return _control(_BOOLEAN, int(value))
    if isinstance(value, Uint16):
        return _unsigned(_UINT16, value)
    if isinstance(value, Uint32):
        return _unsigned(_UINT32, value)
    if isinstance(value, Uint64):
        return _unsigned(_UINT64, value)
    if isinstance(value, int):
        if value < 0:
            return _control(_INT32, 4) + struct.pack(">i", value)
        kind = _UINT16 if value < 1 << 16 else _UINT32 if value < 1 << 32 else _UINT64
        return _unsigned(kind, value)
    if isinstance(value, float):
        return _control(_DOUBLE, 8) + struct.pack(">d", value)
    if isinstance(value, bytes):
        return _control(_BYTES, len(value)) + value
    if isinstance(value, dict):
        return _control(_MAP, len(value)) + b"".join(encode(key) + encode(item) for key, item in value.items())
    if isinstance(value, list):
        return _control(_ARRAY, len(value)) + b"".join(encode(item) for item in value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def write_database(
    path: Path,
    networks: dict[str, dict[str, Any]],
    *,
    ip_version: int = 6,
    database_type: str = "Nexora-Test-City",
) -> Path:
    """A database at ``path`` answering each network ("81.2.69.0/24", "2a02:ec0::/29") with its record."""
    depth = 128 if ip_version == 6 else 32
    nodes: list[list[tuple[str, int] | None]] = [[None, None]]  # ("node", index) | ("data", offset) | empty
    data = bytearray()
    offsets: dict[bytes, int] = {}  # identical records are written once

    for text, record in networks.items():
        network = ipaddress.ip_network(text)
        if network.version == 6 and ip_version == 4:
            raise ValueError(f"{text} does not fit an IPv4-only tree")
        bits, prefix = int(network.network_address), network.prefixlen
        if network.version == 4 and ip_version == 6:
            prefix += 96  # ::a.b.c.d/96+prefix: the leading 96 bits are zeros
        encoded = encode(record)
        if encoded not in offsets:
            offsets[encoded] = len(data)
            data += encoded
        _insert(nodes, bits, depth, prefix, offsets[encoded])

    node_count = len(nodes)

    def record_value(child: tuple[str, int] | None) -> int:
        if child is None:
            return node_count
        kind, target = child
        return target if kind == "node" else node_count + 16 + target

    tree = b"".join(
        record_value(left).to_bytes(_RECORD_BITS // 8, "big") + record_value(right).to_bytes(_RECORD_BITS // 8, "big")
        for left, right in nodes
    )
    metadata = {
        "binary_format_major_version": Uint16(2),
        "binary_format_minor_version": Uint16(0),
        "build_epoch": Uint64(int(time.time())),
        "database_type": database_type,
        "description": {"en": "Nexora test database"},
        "ip_version": Uint16(ip_version),
        "languages": ["en"],
        "node_count": Uint32(node_count),
        "record_size": Uint16(_RECORD_BITS),
    }
    path.write_bytes(tree + bytes(16) + bytes(data) + METADATA_MARKER + encode(metadata))
    return path


def _insert(nodes: list[list[tuple[str, int] | None]], bits: int, depth: int, prefix: int, offset: int) -> None:
    if prefix == 0:
        raise ValueError("a network of prefix length 0 is not supported")
    node = 0
    for position in range(prefix):
        bit = (bits >> (depth - 1 - position)) & 1
        child = nodes[node][bit]
        if position == prefix - 1:
            if child is not None:
                raise ValueError("overlapping networks are not supported")
            nodes[node][bit] = ("data", offset)
            return
        if child is None:
            nodes.append([None, None])
            child = ("node", len(nodes) - 1)
            nodes[node][bit] = child
        elif child[0] == "data":
            raise ValueError("overlapping networks are not supported")
        node = child[1]
