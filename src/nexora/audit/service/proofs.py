"""Inclusion and consistency proofs and tree roots, read from the stored perfect subtrees.

Every range a proof needs is the fold of at most ``log2(n)`` stored subtrees, and all of them are
fetched in one indexed query: a proof costs O(log n) reads and no rehashing of the log.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.audit import merkle
from nexora.core.errors import Conflict, ValidationFailed

_SUBTREES = text(
    """
    SELECT 0 AS level, e.seq AS idx, e.leaf_hash AS hash FROM audit.entry e
    WHERE e.tenant_id = :log AND e.seq = ANY(CAST(:leaves AS bigint[]))
    UNION ALL
    SELECT n.level, n.idx, n.hash
    FROM unnest(CAST(:levels AS smallint[]), CAST(:indexes AS bigint[])) AS w(level, idx)
    JOIN audit.node n ON n.tenant_id = :log AND n.level = w.level AND n.idx = w.idx
    """
)


@dataclass(frozen=True)
class InclusionProof:
    seq: int
    tree_size: int
    leaf_hash: bytes
    root_hash: bytes
    path: list[bytes]


@dataclass(frozen=True)
class ConsistencyProof:
    first: int
    second: int
    first_root: bytes
    second_root: bytes
    path: list[bytes]


async def subtree_hashes(
    session: AsyncSession, log: uuid.UUID, wanted: Iterable[merkle.Subtree], *, partial: bool = False
) -> dict[merkle.Subtree, bytes]:
    """Hashes of the perfect subtrees ``wanted`` (level 0 = leaves) in one query.

    Raises :class:`Conflict` if one is missing (the stored tree was damaged), unless ``partial``.
    """
    wanted = set(wanted)
    if not wanted:
        return {}
    leaves = [index for level, index in wanted if level == 0]
    inner = [(level, index) for level, index in wanted if level > 0]
    rows = await session.execute(
        _SUBTREES,
        {
            "log": log,
            "leaves": leaves,
            "levels": [level for level, _ in inner],
            "indexes": [index for _, index in inner],
        },
    )
    found = {(int(row.level), int(row.idx)): bytes(row.hash) for row in rows}
    missing = wanted - found.keys()
    if missing and not partial:
        level, index = min(missing)
        raise Conflict(
            f"the stored Merkle tree of this log lacks subtree (level {level}, index {index}); "
            "run 'nexora audit verify' to find out what was changed"
        )
    return found


async def log_size(session: AsyncSession, log: uuid.UUID) -> int:
    """How many entries ``log`` holds (its next sequence number)."""
    size = await session.scalar(
        text("SELECT coalesce(max(seq) + 1, 0) FROM audit.entry WHERE tenant_id = :log"), {"log": log}
    )
    return int(size or 0)


def _range_hash(hashes: dict[merkle.Subtree, bytes], start: int, end: int) -> bytes:
    return merkle.fold([hashes[s] for s in merkle.subtrees(start, end)])


def _ranges_subtrees(ranges: Iterable[merkle.Range]) -> set[merkle.Subtree]:
    return {s for start, end in ranges for s in merkle.subtrees(start, end)}


async def root_at(session: AsyncSession, log: uuid.UUID, size: int) -> bytes:
    """The root hash of the first ``size`` entries."""
    hashes = await subtree_hashes(session, log, merkle.subtrees(0, size))
    return _range_hash(hashes, 0, size)


async def _proof_hashes(
    session: AsyncSession, log: uuid.UUID, tree_size: int, wanted: set[merkle.Subtree]
) -> dict[merkle.Subtree, bytes]:
    """The subtrees a proof in the tree of ``tree_size`` entries needs, in one query.

    A tree larger than the log is told apart from a damaged store only when something is missing,
    so a proof costs a single round trip.
    """
    hashes = await subtree_hashes(session, log, wanted, partial=True)
    if len(hashes) < len(wanted):
        size = await log_size(session, log)
        if tree_size > size:
            raise ValidationFailed(f"tree_size {tree_size} is larger than the log, which holds {size} entries")
        await subtree_hashes(session, log, wanted)  # raises Conflict naming the missing subtree
    return hashes


async def inclusion_proof(session: AsyncSession, log: uuid.UUID, seq: int, tree_size: int) -> InclusionProof:
    """The RFC 9162 audit path of entry ``seq`` in the tree of the first ``tree_size`` entries."""
    if not 0 <= seq < tree_size:
        raise ValidationFailed("the entry's sequence number must be below tree_size")
    ranges = merkle.inclusion_ranges(seq, tree_size)
    wanted = {(0, seq)} | _ranges_subtrees([*ranges, (0, tree_size)])
    hashes = await _proof_hashes(session, log, tree_size, wanted)
    return InclusionProof(
        seq=seq,
        tree_size=tree_size,
        leaf_hash=hashes[(0, seq)],
        root_hash=_range_hash(hashes, 0, tree_size),
        path=[_range_hash(hashes, start, end) for start, end in ranges],
    )


async def consistency_proof(session: AsyncSession, log: uuid.UUID, first: int, second: int) -> ConsistencyProof:
    """The RFC 9162 proof that the tree of ``first`` entries is a prefix of the tree of ``second``."""
    if not 0 <= first <= second:
        raise ValidationFailed("first must be between 0 and second")
    ranges = merkle.consistency_ranges(first, second)
    wanted = _ranges_subtrees([*ranges, (0, first), (0, second)])
    hashes = await _proof_hashes(session, log, second, wanted)
    return ConsistencyProof(
        first=first,
        second=second,
        first_root=_range_hash(hashes, 0, first),
        second_root=_range_hash(hashes, 0, second),
        path=[_range_hash(hashes, start, end) for start, end in ranges],
    )


async def consistency_paths(
    session: AsyncSession, log: uuid.UUID, pairs: Sequence[tuple[int, int]], *, chunk: int = 200
) -> dict[tuple[int, int], list[bytes]]:
    """Consistency proof paths for many ``(first, second)`` pairs, a few queries per ``chunk`` pairs.

    Pairs whose subtrees are not all stored are left out (the caller reports them as unproven).
    """
    paths: dict[tuple[int, int], list[bytes]] = {}
    for offset in range(0, len(pairs), chunk):
        group = pairs[offset : offset + chunk]
        wanted = {pair: merkle.consistency_ranges(*pair) for pair in group}
        needed = _ranges_subtrees(r for ranges in wanted.values() for r in ranges)
        hashes = await subtree_hashes(session, log, needed, partial=True)
        for pair, ranges in wanted.items():
            if _ranges_subtrees(ranges) <= hashes.keys():
                paths[pair] = [_range_hash(hashes, start, end) for start, end in ranges]
    return paths
