"""Logs of random sizes, appended in random batches, answer proofs from stored subtrees exactly as the
independent RFC 9162 reference computes them from the leaves."""

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from nexora.audit import merkle, service
from nexora.core.events import Event
from tests.audit import rfc9162


def _drafts(log: uuid.UUID, start: int, count: int) -> list[service.EntryDraft]:
    return [
        service.draft_from_event(
            Event(type="auth.logout", data={"user_id": f"u-{i}"}, source="tests", tenant_id=log, subject=f"u-{i}")
        )
        for i in range(start, start + count)
    ]


@settings(max_examples=15, deadline=None)
@given(batches=st.lists(st.integers(1, 45), min_size=1, max_size=5), data=st.data())
async def test_proofs_and_roots_of_random_logs_match_the_reference(runtime, batches: list[int], data) -> None:
    log = uuid.uuid4()
    size = 0
    for count in batches:
        async with runtime.db.unit_of_work(log) as session:
            await service.append(session, log, _drafts(log, size, count))
        size += count
    async with runtime.db.unit_of_work(log) as session:
        leaves = [
            bytes(h)
            for h in await session.scalars(
                text("SELECT leaf_hash FROM audit.entry WHERE tenant_id = :l ORDER BY seq"), {"l": log}
            )
        ]
        nodes = await session.scalar(text("SELECT count(*) FROM audit.node WHERE tenant_id = :l"), {"l": log})
        assert len(leaves) == size
        assert nodes == size - bin(size).count("1")  # every closed perfect subtree, stored once
        for tree_size in sorted({1, size, data.draw(st.integers(1, size))}):
            assert await service.root_at(session, log, tree_size) == rfc9162.mth(leaves[:tree_size])
        tree_size = data.draw(st.integers(1, size))
        seq = data.draw(st.integers(0, tree_size - 1))
        inclusion = await service.inclusion_proof(session, log, seq, tree_size)
        assert inclusion.path == rfc9162.path(seq, leaves[:tree_size])
        assert rfc9162.root_from_path(seq, tree_size, leaves[seq], inclusion.path) == inclusion.root_hash
        first = data.draw(st.integers(1, tree_size))
        consistency = await service.consistency_proof(session, log, first, tree_size)
        assert consistency.path == rfc9162.proof(first, leaves[:tree_size])
        assert merkle.verify_consistency(
            first, tree_size, consistency.first_root, consistency.second_root, consistency.path
        )
