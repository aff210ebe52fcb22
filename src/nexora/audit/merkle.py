"""RFC 9162 Merkle trees: hashing, proof shapes, proof checks and the append frontier.

Standard library only, so the offline verifier can use it. Leaves hash as ``SHA-256(0x00 || data)``,
nodes as ``SHA-256(0x01 || left || right)``, the empty tree as ``SHA-256()``.

A *perfect subtree* ``(level, index)`` covers leaves ``[index * 2**level, (index + 1) * 2**level)``.
The log stores each one as it closes, so the hash of any range a proof needs is the fold of at most
``log2(n)`` stored subtrees: proofs are O(log n) reads, never a rehash of the log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

Subtree = tuple[int, int]  # (level, index)
Range = tuple[int, int]  # leaves [start, end)

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(size: int) -> int:
    """The largest power of two strictly smaller than ``size`` (``size`` >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def subtrees(start: int, end: int) -> list[Subtree]:
    """The perfect subtrees covering leaves ``[start, end)``, left to right, largest first.

    ``start`` is a multiple of a power of two >= ``end - start`` (true of every range in RFC 9162
    proofs and of every prefix ``[0, n)``), so the pieces follow the binary digits of the length.
    """
    pieces: list[Subtree] = []
    while start < end:
        level = (end - start).bit_length() - 1
        pieces.append((level, start >> level))
        start += 1 << level
    return pieces


def fold(hashes: Sequence[bytes]) -> bytes:
    """The root of adjacent perfect subtrees given left to right, largest first (a right fold)."""
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The ranges whose hashes form ``PATH(index, D[size])`` (RFC 9162 2.1.3.1), leaf side first."""
    if not 0 <= index < size:
        raise ValueError("the leaf index must be inside the tree")
    ranges: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def consistency_ranges(first: int, second: int) -> list[Range]:
    """The ranges whose hashes form ``PROOF(first, D[second])`` (RFC 9162 2.1.4.1), deepest first."""
    if not 0 <= first <= second:
        raise ValueError("the first tree size must be between 0 and the second")
    if first in (0, second):
        return []
    ranges: list[Range] = []
    start, end, remaining, whole = 0, second, first, True
    while True:
        size = end - start
        if remaining == size:
            if not whole:
                ranges.append((start, end))
            break
        k = split_point(size)
        if remaining <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            remaining -= k
            whole = False
    ranges.reverse()
    return ranges


def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 2.1.3.2: does ``path`` prove leaf hash ``leaf`` at ``index`` in the tree ``root``?"""
    if not 0 <= index < size:
        return False
    fn, sn, result = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and result == root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]) -> bool:
    """RFC 9162 2.1.4.2: does ``proof`` show tree ``first_root`` is a prefix of ``second_root``?"""
    if not 0 <= first <= second:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    if not path:
        return False
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    first_result = second_result = path[0]
    for hash_ in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            first_result = node_hash(hash_, first_result)
            second_result = node_hash(hash_, second_result)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            second_result = node_hash(second_result, hash_)
        fn >>= 1
        sn >>= 1
    return sn == 0 and first_result == first_root and second_result == second_root


class Frontier:
    """The perfect subtrees of ``[0, size)``: enough to append leaves and to compute the root.

    ``append`` returns the subtrees of level >= 1 that the new leaf closes, which the log stores.
    """

    def __init__(self, size: int = 0, hashes: Iterable[bytes] = ()) -> None:
        shape = subtrees(0, size)
        values = list(hashes)
        if len(values) != len(shape):
            raise ValueError("a frontier needs one hash per perfect subtree of its size")
        self.size = size
        self._stack: list[tuple[int, int, bytes]] = [(lv, ix, h) for (lv, ix), h in zip(shape, values, strict=True)]

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add a leaf hash; return the ``(level, index, hash)`` subtrees of level >= 1 it completes."""
        stack = self._stack
        stack.append((0, self.size, leaf))
        closed: list[tuple[int, int, bytes]] = []
        while len(stack) >= 2 and stack[-1][0] == stack[-2][0]:
            level, _, right = stack.pop()
            _, index, left = stack.pop()
            parent = (level + 1, index >> 1, node_hash(left, right))
            stack.append(parent)
            closed.append(parent)
        self.size += 1
        return closed

    def root(self) -> bytes:
        return fold([h for _, _, h in self._stack])
