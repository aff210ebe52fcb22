"""The log tables are append-only: the app role may only read and insert; triggers stop everyone else."""

import uuid

import psycopg
import pytest

from tests.fixtures.audit import AuditLogs

TABLES = ("audit.entry", "audit.node", "audit.tree_head", "audit.signing_key")
CHANGES = ("UPDATE {table} SET tenant_id = tenant_id", "DELETE FROM {table}", "TRUNCATE {table}")


@pytest.fixture(scope="module")
async def signed_log(runtime, audit_consumer) -> uuid.UUID:
    return await AuditLogs(runtime, audit_consumer).build((3,), 3)


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("change", CHANGES)
def test_the_app_role_cannot_update_delete_or_truncate(
    database, signed_log: uuid.UUID, table: str, change: str
) -> None:
    with psycopg.connect(database.app_url) as connection:
        connection.execute("SELECT set_config('nexora.tenant_id', %s, false)", (str(signed_log),))
        count = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        assert count > 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute(change.format(table=table))
        connection.rollback()
        connection.execute("SELECT set_config('nexora.tenant_id', %s, false)", (str(signed_log),))
        assert connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == count


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("change", CHANGES)
def test_even_the_owner_is_stopped_by_the_append_only_triggers(
    database, signed_log: uuid.UUID, table: str, change: str
) -> None:
    with psycopg.connect(database.owner_url) as connection:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="the audit log is append-only"):
            connection.execute(change.format(table=table))
        connection.rollback()
        assert connection.execute(f"SELECT count(*) FROM {table} WHERE tenant_id = %s", (signed_log,)).fetchone()[0]


def test_the_app_role_cannot_switch_the_triggers_off(database) -> None:
    with psycopg.connect(database.app_url) as connection, pytest.raises(psycopg.errors.InsufficientPrivilege):
        connection.execute("ALTER TABLE audit.entry DISABLE TRIGGER USER")


def test_the_app_role_cannot_write_into_another_log(database, signed_log: uuid.UUID) -> None:
    with psycopg.connect(database.app_url) as connection:
        connection.execute("SELECT set_config('nexora.tenant_id', %s, false)", (str(uuid.uuid4()),))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute(
                "INSERT INTO audit.node (tenant_id, level, idx, hash) VALUES (%s, 9, 0, %s)", (signed_log, b"\0" * 32)
            )
