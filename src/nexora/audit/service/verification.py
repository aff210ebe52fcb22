"""Checking the live log, and writing the self-contained bundle that is checked offline.

Both read heads first and then the log's size, and read only entries below that size: the log is
append-only, so that is a consistent snapshot without holding the writer lock (appends go on).
"""

from __future__ import annotations

import base64
import itertools
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

from cryptography.hazmat.primitives import serialization
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.audit import encoding, merkle, verifier
from nexora.audit.models import SigningKey, TreeHead
from nexora.audit.service.heads import all_tree_heads, list_keys, sealed_keys, unseal
from nexora.audit.service.proofs import consistency_paths, log_size
from nexora.core.crypto import EnvelopeCipher
from nexora.core.db import Database
from nexora.core.ids import utcnow

STREAM_CHUNK = 5000
MAX_NODE_PROBLEMS = 20

_ENTRIES = text(
    """
    SELECT seq, event_id, occurred_at, recorded_at, actor, action, target, outcome, source, source_address,
           request_id, payload, leaf_hash
    FROM audit.entry WHERE tenant_id = :log AND seq < :size ORDER BY seq
    """
)
# In the order the frontier closes them: by the leaf that completes them, then bottom-up.
_NODES = text(
    """
    SELECT level, idx, hash FROM audit.node
    WHERE tenant_id = :log AND ((idx + 1) << level) <= :size
    ORDER BY ((idx + 1) << level), level
    """
)


def _entry_fields(log: str, row: Any) -> dict[str, Any]:
    return {
        "log": log,
        "seq": row.seq,
        "event_id": str(row.event_id),
        "occurred_at": encoding.timestamp(row.occurred_at),
        "recorded_at": encoding.timestamp(row.recorded_at),
        "actor": row.actor,
        "action": row.action,
        "target": row.target,
        "outcome": row.outcome,
        "source": row.source,
        "source_address": row.source_address,
        "request_id": row.request_id,
        "payload": row.payload,
    }


def _head(head: TreeHead) -> verifier.TreeHead:
    return verifier.TreeHead(
        tree_size=head.tree_size,
        root_hash=head.root_hash,
        timestamp=encoding.timestamp(head.signed_at),
        key_id=head.key_id,
        signature=head.signature,
    )


def _consecutive_sizes(heads: Sequence[TreeHead], size: int) -> list[tuple[int, int]]:
    sizes = sorted({h.tree_size for h in heads if 0 < h.tree_size <= size})
    return list(itertools.pairwise(sizes))


async def _proofs(
    session: AsyncSession, log: uuid.UUID, heads: Sequence[TreeHead], size: int
) -> list[verifier.ConsistencyProof]:
    paths = await consistency_paths(session, log, _consecutive_sizes(heads, size))
    return [verifier.ConsistencyProof(first, second, tuple(path)) for (first, second), path in paths.items()]


def sealed_key_problem(cipher: EnvelopeCipher, key: SigningKey) -> verifier.Problem | None:
    """Why ``key`` cannot be trusted, or ``None``: its sealed private half must unseal and match it."""
    try:
        private = unseal(cipher, key)
    except Exception:
        return verifier.Problem(
            "unknown_key",
            None,
            f"key '{key.key_id}' was not made by this installation: its private half does not unseal",
        )
    public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    if public != key.public_key:
        return verifier.Problem(
            "swapped_key",
            None,
            f"key '{key.key_id}': its public key does not match its sealed private key: it was swapped",
        )
    return None


class _StoredNodes:
    """Compares the stored subtrees with those the stored leaf hashes close, in one merged pass.

    Only meaningful while sequence numbers equal positions; mismatches are kept with their leaf range
    so that those already explained by a leaf-level problem are not reported twice.
    """

    def __init__(self, rows: AsyncIterator[Any]) -> None:
        self._rows = rows
        self._next: Any = None
        self._done = False
        self._frontier = merkle.Frontier()
        self._stopped = False
        self.mismatches: list[tuple[int, int, verifier.Problem]] = []

    async def _peek(self) -> Any:
        if self._next is None and not self._done:
            self._next = await anext(self._rows, None)
            self._done = self._next is None
        return self._next

    async def add(self, seq: int, stored_leaf: bytes) -> None:
        if self._stopped or seq != self._frontier.size:
            self._stopped = True
            return
        for level, index, value in self._frontier.append(stored_leaf):
            key = ((index + 1) << level, level)
            row = await self._peek()
            while row is not None and ((row.idx + 1) << row.level, row.level) < key:
                self._next = None
                row = await self._peek()
            if row is not None and ((row.idx + 1) << row.level, row.level) == key:
                self._next = None
                if bytes(row.hash) == value:
                    continue
                reason = "does not match the leaf hashes below it"
            else:
                reason = "is missing"
            if len(self.mismatches) < MAX_NODE_PROBLEMS:
                start = index << level
                message = f"stored subtree (level {level}, index {index}) {reason}: proofs served from it would fail"
                self.mismatches.append((start, start + (1 << level), verifier.Problem("modified", start, message)))


async def verify_log(db: Database, cipher: EnvelopeCipher, log: uuid.UUID) -> verifier.Report:
    """Check every entry of the live log against its signed heads, keys and stored subtrees.

    Guarantees a complete pass over the entries present when it starts; reports each problem with the
    first sequence number it puts in doubt. Reads only; appends continue meanwhile.
    """
    async with db.unit_of_work(log) as session:
        heads = await all_tree_heads(session, log)
        keys = await sealed_keys(session, log)
        size = await log_size(session, log)
        rejected = {k.key_id: p for k in keys if (p := sealed_key_problem(cipher, k)) is not None}
        # A key whose sealed private half unseals with the master key and matches it is pinned.
        sealed = {k.key_id: k.public_key for k in keys if k.key_id not in rejected}
        check = verifier.LogVerifier(
            str(log),
            [verifier.PublicKey(k.key_id, k.public_key) for k in keys],
            [_head(h) for h in heads],
            await _proofs(session, log, heads, size),
            trusted_keys=sealed,
            rejected_keys=rejected,
        )
        parameters = {"log": log, "size": size}
        options = {"yield_per": STREAM_CHUNK}
        nodes = _StoredNodes(aiter(await session.stream(_NODES, parameters, execution_options=options)))
        rows = await session.stream(_ENTRIES, parameters, execution_options=options)
        name = str(log)
        async for row in rows:
            leaf = bytes(row.leaf_hash)
            check.add(_entry_fields(name, row), leaf)
            await nodes.add(row.seq, leaf)
    node_problems = [problem for start, end, problem in nodes.mismatches if not check.explains(start, end)]
    return check.finish(node_problems)


def _line(record: dict[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


async def bundle_lines(db: Database, log: uuid.UUID) -> AsyncIterator[bytes]:
    """The log as a self-contained bundle: header, public keys, signed heads, consistency proofs
    between successive heads, then every entry with its leaf hash (one JSON document per line)."""
    async with db.unit_of_work(log) as session:
        heads = await all_tree_heads(session, log)
        keys = await list_keys(session, log)
        size = await log_size(session, log)
        proofs = await _proofs(session, log, heads, size)
        yield _line(
            {
                "kind": "header",
                "format": verifier.BUNDLE_FORMAT,
                "version": verifier.BUNDLE_VERSION,
                "log": str(log),
                "exported_at": encoding.timestamp(utcnow()),
                "entries": size,
            }
        )
        for key in reversed(keys):
            yield _line(
                {
                    "kind": "key",
                    "key_id": key.key_id,
                    "algorithm": key.algorithm,
                    "public_key": base64.b64encode(key.public_key).decode(),
                    "created_at": encoding.timestamp(key.created_at),
                }
            )
        for head in heads:
            yield _line(
                {
                    "kind": "head",
                    "tree_size": head.tree_size,
                    "root_hash": head.root_hash.hex(),
                    "timestamp": encoding.timestamp(head.signed_at),
                    "key_id": head.key_id,
                    "signature": base64.b64encode(head.signature).decode(),
                }
            )
        for proof in proofs:
            hashes = [h.hex() for h in proof.proof]
            yield _line({"kind": "consistency", "first": proof.first, "second": proof.second, "proof": hashes})
        rows = await session.stream(_ENTRIES, {"log": log, "size": size}, execution_options={"yield_per": STREAM_CHUNK})
        name = str(log)
        async for row in rows:
            record = _entry_fields(name, row)
            record["kind"] = "entry"
            record["leaf_hash"] = bytes(row.leaf_hash).hex()
            yield _line(record)
