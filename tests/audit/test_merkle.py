"""The iterative, subtree-based RFC 9162 code against an independent recursive reference."""

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from nexora.audit import merkle
from tests.audit import rfc9162


def _leaves(n: int) -> list[bytes]:
    return [rfc9162.leaf(f"entry-{i}".encode()) for i in range(n)]


def _stored_subtrees(leaves: list[bytes]) -> dict[merkle.Subtree, bytes]:
    """What the log stores: every leaf (level 0) and every closed perfect subtree, via the frontier."""
    frontier = merkle.Frontier()
    stored: dict[merkle.Subtree, bytes] = {}
    for index, leaf in enumerate(leaves):
        stored[(0, index)] = leaf
        for level, node_index, value in frontier.append(leaf):
            stored[(level, node_index)] = value
    return stored


def _range(stored: dict[merkle.Subtree, bytes], start: int, end: int) -> bytes:
    return merkle.fold([stored[s] for s in merkle.subtrees(start, end)])


def test_hashes_use_the_rfc_prefixes_and_the_empty_tree_is_the_hash_of_nothing() -> None:
    assert merkle.leaf_hash(b"x") == hashlib.sha256(b"\x00x").digest()
    assert merkle.node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    assert merkle.Frontier().root() == hashlib.sha256(b"").digest() == rfc9162.mth([])


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=600))
def test_root_after_each_append_equals_the_reference_tree_hash(size: int) -> None:
    leaves = _leaves(size)
    frontier = merkle.Frontier()
    for count, leaf in enumerate(leaves, start=1):
        frontier.append(leaf)
        if count in (1, size) or count % 97 == 0:
            assert frontier.root() == rfc9162.mth(leaves[:count])


@settings(max_examples=120, deadline=None)
@given(st.integers(min_value=1, max_value=300).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))))
def test_inclusion_proofs_from_stored_subtrees_equal_the_reference_path(case: tuple[int, int]) -> None:
    size, index = case
    leaves = _leaves(size)
    stored = _stored_subtrees(leaves)
    path = [_range(stored, a, b) for a, b in merkle.inclusion_ranges(index, size)]
    assert path == rfc9162.path(index, leaves)
    root = rfc9162.mth(leaves)
    assert rfc9162.root_from_path(index, size, leaves[index], path) == root
    assert merkle.verify_inclusion(index, size, leaves[index], path, root)


@settings(max_examples=120, deadline=None)
@given(st.integers(min_value=1, max_value=300).flatmap(lambda n: st.tuples(st.integers(1, n), st.just(n))))
def test_consistency_proofs_from_stored_subtrees_equal_the_reference_proof(case: tuple[int, int]) -> None:
    first, second = case
    leaves = _leaves(second)
    stored = _stored_subtrees(leaves)
    proof = [_range(stored, a, b) for a, b in merkle.consistency_ranges(first, second)]
    assert proof == rfc9162.proof(first, leaves)
    assert merkle.verify_consistency(first, second, rfc9162.mth(leaves[:first]), rfc9162.mth(leaves), proof)


@settings(max_examples=100, deadline=None)
@given(
    st.integers(min_value=2, max_value=200).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n - 1))),
    st.integers(min_value=0, max_value=31),
)
def test_a_proof_with_any_flipped_bit_or_wrong_index_is_rejected(case: tuple[int, int], bit: int) -> None:
    size, index = case
    leaves = _leaves(size)
    root = rfc9162.mth(leaves)
    path = rfc9162.path(index, leaves)
    if path:
        position = bit % len(path)
        broken = [*path]
        broken[position] = bytes([path[position][0] ^ (1 << (bit % 8)), *path[position][1:]])
        assert not merkle.verify_inclusion(index, size, leaves[index], broken, root)
    assert not merkle.verify_inclusion((index + 1) % size, size, leaves[index], path, root)
    assert not merkle.verify_inclusion(index, size, leaves[index], [*path, root], root)
    first = index + 1
    if first < size:
        proof = rfc9162.proof(first, leaves)
        forged = rfc9162.mth([rfc9162.leaf(b"forged"), *leaves[1:first]])
        assert merkle.verify_consistency(first, size, rfc9162.mth(leaves[:first]), root, proof)
        assert not merkle.verify_consistency(first, size, forged, root, proof)
        assert not merkle.verify_consistency(first, size, rfc9162.mth(leaves[:first]), forged, proof)


def test_edge_cases_of_consistency_verification() -> None:
    leaves = _leaves(5)
    root = rfc9162.mth(leaves)
    assert merkle.verify_consistency(5, 5, root, root, [])
    assert not merkle.verify_consistency(5, 5, root, rfc9162.mth(leaves[:4]), [])
    assert merkle.verify_consistency(0, 5, rfc9162.mth([]), root, [])
    assert not merkle.verify_consistency(6, 5, root, root, [])
    assert merkle.consistency_ranges(0, 5) == [] == merkle.consistency_ranges(5, 5)
