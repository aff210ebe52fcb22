"""Tampering with the live log as the database owner (triggers switched off) is caught and located.

Each log has 24 entries (0..23) and signed heads at sizes 10 and 20, filled through the real bus.
"""

import uuid

import psycopg
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from nexora.audit import encoding, merkle
from nexora.audit.verifier import Report
from tests.fixtures.audit import AuditLogs, tampering

HEADS = (10, 20)
TOTAL = 24
COLUMNS = [name for name in encoding.LEAF_FIELDS if name != "log"]
ENTRY_COLUMNS = ", ".join(COLUMNS)


@pytest.fixture
async def log(audit_logs: AuditLogs) -> uuid.UUID:
    return await audit_logs.build(HEADS, TOTAL)


def _kinds(report: Report) -> set[str]:
    return {problem.kind for problem in report.problems}


def _leaf_of(connection: psycopg.Connection, log: uuid.UUID, seq: int) -> bytes:
    row = connection.execute(
        f"SELECT {ENTRY_COLUMNS} FROM audit.entry WHERE tenant_id = %s AND seq = %s", (log, seq)
    ).fetchone()
    assert row is not None
    fields = dict(zip(COLUMNS, row, strict=True))
    fields.update(
        log=str(log),
        event_id=str(fields["event_id"]),
        occurred_at=encoding.timestamp(fields["occurred_at"]),
        recorded_at=encoding.timestamp(fields["recorded_at"]),
    )
    return merkle.leaf_hash(encoding.leaf_document(fields))


def _rewrite_hashes(connection: psycopg.Connection, log: uuid.UUID) -> None:
    """What a careful attacker adds: recompute every leaf hash and every stored subtree."""
    seqs = [
        row[0] for row in connection.execute("SELECT seq FROM audit.entry WHERE tenant_id = %s ORDER BY seq", (log,))
    ]
    frontier = merkle.Frontier()
    connection.execute("DELETE FROM audit.node WHERE tenant_id = %s", (log,))
    for seq in seqs:
        leaf = _leaf_of(connection, log, seq)
        connection.execute("UPDATE audit.entry SET leaf_hash = %s WHERE tenant_id = %s AND seq = %s", (leaf, log, seq))
        for level, index, value in frontier.append(leaf):
            connection.execute(
                "INSERT INTO audit.node (tenant_id, level, idx, hash) VALUES (%s, %s, %s, %s)",
                (log, level, index, value),
            )


def _move(connection: psycopg.Connection, log: uuid.UUID, where: str, delta: int) -> None:
    # Two steps, so the primary key never sees two rows with the same number mid-statement.
    connection.execute(f"UPDATE audit.entry SET seq = seq + 1000000 WHERE tenant_id = %s AND {where}", (log,))
    connection.execute(
        "UPDATE audit.entry SET seq = seq - 1000000 + %s WHERE tenant_id = %s AND seq >= 1000000", (delta, log)
    )


async def test_an_untouched_log_verifies(audit_logs: AuditLogs, log: uuid.UUID) -> None:
    report = await audit_logs.verify(log)
    assert report.ok, report.problems
    assert (report.entries, report.heads, report.signed_size, report.unsigned_entries) == (TOTAL, 2, 20, 4)
    assert report.first_bad_seq is None
    assert report.warnings == []


async def test_a_modified_entry_is_named(audit_logs: AuditLogs, log: uuid.UUID, database) -> None:
    with tampering(database, "audit.entry") as connection:
        connection.execute("UPDATE audit.entry SET actor = 'user:mallory' WHERE tenant_id = %s AND seq = 5", (log,))
    report = await audit_logs.verify(log)
    assert not report.ok
    assert report.first_bad_seq == 5
    assert report.problems[0].kind == "modified"
    assert "entry 5" in report.problems[0].message


async def test_a_modified_entry_with_recomputed_hashes_is_located_between_signed_heads(
    audit_logs: AuditLogs, log: uuid.UUID, database
) -> None:
    with tampering(database, "audit.entry", "audit.node") as connection:
        connection.execute("UPDATE audit.entry SET outcome = 'failure' WHERE tenant_id = %s AND seq = 15", (log,))
        _rewrite_hashes(connection, log)
    report = await audit_logs.verify(log)
    assert not report.ok
    assert report.first_bad_seq == 10
    assert report.problems[0].kind == "modified"
    assert "entries 10..19" in report.problems[0].message


async def test_a_deleted_entry_is_named(audit_logs: AuditLogs, log: uuid.UUID, database) -> None:
    with tampering(database, "audit.entry") as connection:
        connection.execute("DELETE FROM audit.entry WHERE tenant_id = %s AND seq = 7", (log,))
    report = await audit_logs.verify(log)
    assert report.first_bad_seq == 7
    assert report.problems[0].kind == "deleted"


async def test_a_deleted_entry_hidden_by_renumbering_is_named(audit_logs: AuditLogs, log: uuid.UUID, database) -> None:
    with tampering(database, "audit.entry") as connection:
        connection.execute("DELETE FROM audit.entry WHERE tenant_id = %s AND seq = 7", (log,))
        _move(connection, log, "seq > 7", -1)
    report = await audit_logs.verify(log)
    assert report.first_bad_seq == 7
    assert report.problems[0].kind == "deleted"


async def test_an_inserted_entry_is_named(audit_logs: AuditLogs, log: uuid.UUID, database) -> None:
    with tampering(database, "audit.entry") as connection:
        _move(connection, log, "seq >= 7", +1)
        connection.execute(
            f"INSERT INTO audit.entry (tenant_id, leaf_hash, {ENTRY_COLUMNS}) "
            "SELECT tenant_id, leaf_hash, 7, gen_random_uuid(), occurred_at, recorded_at, 'user:mallory', action, "
            "target, outcome, source, source_address, request_id, payload FROM audit.entry "
            "WHERE tenant_id = %s AND seq = 6",
            (log,),
        )
        forged = _leaf_of(connection, log, 7)
        connection.execute("UPDATE audit.entry SET leaf_hash = %s WHERE tenant_id = %s AND seq = 7", (forged, log))
    report = await audit_logs.verify(log)
    assert report.first_bad_seq == 7
    assert report.problems[0].kind == "inserted"


async def test_reordered_entries_are_named(audit_logs: AuditLogs, log: uuid.UUID, database) -> None:
    with tampering(database, "audit.entry") as connection:
        connection.execute("UPDATE audit.entry SET seq = 999 WHERE tenant_id = %s AND seq = 3", (log,))
        connection.execute("UPDATE audit.entry SET seq = 3 WHERE tenant_id = %s AND seq = 4", (log,))
        connection.execute("UPDATE audit.entry SET seq = 4 WHERE tenant_id = %s AND seq = 999", (log,))
    report = await audit_logs.verify(log)
    assert report.first_bad_seq == 3
    assert report.problems[0].kind == "reordered"


async def test_truncation_after_a_signed_head_is_named(audit_logs: AuditLogs, log: uuid.UUID, database) -> None:
    with tampering(database, "audit.entry", "audit.node") as connection:
        connection.execute("DELETE FROM audit.entry WHERE tenant_id = %s AND seq >= 15", (log,))
        connection.execute("DELETE FROM audit.node WHERE tenant_id = %s AND ((idx + 1) << level) > 15", (log,))
    report = await audit_logs.verify(log)
    assert report.first_bad_seq == 15
    assert _kinds(report) == {"truncated"}
    assert "covers 20 entries but the log holds 15" in report.problems[0].message


async def test_a_forged_head_is_named(audit_logs: AuditLogs, log: uuid.UUID, database) -> None:
    with tampering(database, "audit.tree_head") as connection:
        connection.execute(
            "UPDATE audit.tree_head SET root_hash = %s WHERE tenant_id = %s AND tree_size = 20", (b"\x07" * 32, log)
        )
    report = await audit_logs.verify(log)
    assert _kinds(report) == {"forged_head"}
    assert report.first_bad_seq == 10  # entries from the last valid head on are no longer vouched for


def _attacker_key() -> tuple[Ed25519PrivateKey, bytes]:
    private = Ed25519PrivateKey.generate()
    return private, private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _resign_heads(connection: psycopg.Connection, log: uuid.UUID, private: Ed25519PrivateKey, key_id: str) -> None:
    heads = connection.execute(
        "SELECT id, tree_size, root_hash, signed_at FROM audit.tree_head WHERE tenant_id = %s", (log,)
    ).fetchall()
    for head_id, size, root, signed_at in heads:
        message = encoding.tree_head_message(str(log), size, bytes(root), encoding.timestamp(signed_at), key_id)
        connection.execute(
            "UPDATE audit.tree_head SET signature = %s, key_id = %s WHERE id = %s",
            (private.sign(message), key_id, head_id),
        )


async def test_a_swapped_public_key_is_named(audit_logs: AuditLogs, log: uuid.UUID, database) -> None:
    private, public = _attacker_key()
    with tampering(database, "audit.signing_key", "audit.tree_head") as connection:
        key_id = connection.execute("SELECT key_id FROM audit.signing_key WHERE tenant_id = %s", (log,)).fetchone()[0]
        connection.execute("UPDATE audit.signing_key SET public_key = %s WHERE tenant_id = %s", (public, log))
        _resign_heads(connection, log, private, key_id)
    report = await audit_logs.verify(log)
    assert "swapped_key" in _kinds(report)
    assert report.first_bad_seq == 0
    assert any("does not match its sealed private key" in p.message for p in report.problems)


async def test_a_head_signed_by_an_unknown_key_is_named(audit_logs: AuditLogs, log: uuid.UUID, database) -> None:
    private, public = _attacker_key()
    key_id = encoding.key_id(public)
    with tampering(database, "audit.signing_key", "audit.tree_head") as connection:
        connection.execute(
            "INSERT INTO audit.signing_key (tenant_id, key_id, algorithm, public_key, sealed_private_key, created_at) "
            "VALUES (%s, %s, 'Ed25519', %s, '{}', now())",
            (log, key_id, public),
        )
        root = b"\x09" * 32
        signed_at = "2026-01-01T00:00:00.000000Z"
        signature = private.sign(encoding.tree_head_message(str(log), 24, root, signed_at, key_id))
        connection.execute(
            "INSERT INTO audit.tree_head (id, tenant_id, tree_size, root_hash, signed_at, key_id, signature) "
            "VALUES (gen_random_uuid(), %s, 24, %s, %s, %s, %s)",
            (log, root, signed_at, key_id, signature),
        )
    report = await audit_logs.verify(log)
    assert _kinds(report) == {"unknown_key"}
    assert report.first_bad_seq == 20


async def test_history_rewritten_before_a_later_head_is_a_fork(audit_logs: AuditLogs, database) -> None:
    log = await audit_logs.build((10,), 14)
    with tampering(database, "audit.entry", "audit.node") as connection:
        connection.execute("UPDATE audit.entry SET target = 'covered-up' WHERE tenant_id = %s AND seq = 3", (log,))
        _rewrite_hashes(connection, log)
    await audit_logs.sign(log)  # the server now signs the rewritten history at size 14
    report = await audit_logs.verify(log)
    assert "fork" in _kinds(report)
    assert report.first_bad_seq == 0
    assert any("not an extension of the head at size 10" in p.message for p in report.problems)
