"""An independent RFC 9162 reference, written from the RFC's recursive definitions (section 2.1).

It shares no code with ``nexora.audit.merkle`` (which is iterative and reads stored subtrees), so the
tests compare two implementations. Inputs are leaf *hashes* (``SHA-256(0x00 || data)``).
"""

from __future__ import annotations

import hashlib


def leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) over leaf hashes."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = _k(len(leaves))
    return _node(mth(leaves[:k]), mth(leaves[k:]))


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n])."""
    n = len(leaves)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def _subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if whole else [mth(leaves)]
    k = _k(n)
    if m <= k:
        return [*_subproof(m, leaves[:k], whole), mth(leaves[k:])]
    return [*_subproof(m - k, leaves[k:], False), mth(leaves[:k])]


def proof(m: int, leaves: list[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) for 0 < m <= n (empty when m == n)."""
    return _subproof(m, leaves, True)


def root_from_path(m: int, n: int, leaf_hash: bytes, audit_path: list[bytes]) -> bytes:
    """Rebuild the root from an inclusion proof by following the PATH recursion backwards."""
    if n == 1:
        assert not audit_path, "a one-leaf tree has an empty path"
        return leaf_hash
    assert audit_path, "the path is too short"
    k = _k(n)
    if m < k:
        return _node(root_from_path(m, k, leaf_hash, audit_path[:-1]), audit_path[-1])
    return _node(audit_path[-1], root_from_path(m - k, n - k, leaf_hash, audit_path[:-1]))
