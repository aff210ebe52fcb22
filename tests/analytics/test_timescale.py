"""The activity table on TimescaleDB: a hypertable with compression, and retention through drop_chunks.

CI's PostgreSQL has no TimescaleDB (Debian has no package for it and nothing may be downloaded at run time),
so this test runs wherever the extension is available to the server and skips, saying so, elsewhere; the
daily-partition path is tested everywhere (test_pipeline.py)."""

from __future__ import annotations

import secrets

import psycopg
import pytest

from nexora.ops import migrate, provision


def _available(superuser_url: str) -> bool:
    with psycopg.connect(superuser_url) as connection:
        row = connection.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'").fetchone()
    return row is not None


def test_the_activity_table_is_a_compressed_hypertable_when_timescaledb_is_installed(
    postgres_superuser_url: str,
) -> None:
    if not _available(postgres_superuser_url):
        pytest.skip(
            "TimescaleDB is not available to this PostgreSQL (no Debian package; no downloads at run time): "
            "the daily-partition path is the one tested here"
        )
    name = f"nexora_tsdb_{secrets.token_hex(4)}"
    provisioned = provision.provision(postgres_superuser_url, name)
    try:
        with psycopg.connect(provisioned.superuser_url, autocommit=True) as connection:
            connection.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        migrate.upgrade(provisioned.owner_url)
        with psycopg.connect(provisioned.superuser_url) as connection:
            hypertable = connection.execute(
                "SELECT compression_enabled FROM timescaledb_information.hypertables "
                "WHERE hypertable_schema = 'analytics' AND hypertable_name = 'activity'"
            ).fetchone()
            assert hypertable == (True,)
            created = connection.execute(
                "SELECT analytics.ensure_activity_partitions(current_date, current_date + 1)"
            ).fetchone()
            assert created == (0,), "TimescaleDB makes its own chunks"
            connection.execute("SELECT analytics.drop_activity_partitions(current_date - 90)")
    finally:
        provision.drop(postgres_superuser_url, name)
