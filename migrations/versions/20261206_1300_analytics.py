"""Analytics: activity (time series), identities with their behaviour profiles, alerts, batches, rejects.

``analytics.activity`` is a TimescaleDB hypertable (compressed after 7 days, retention by policy) when
the ``timescaledb`` extension is installed in the database before this migration runs; otherwise a
table partitioned by day, whose partitions ``analytics.ensure_activity_partitions`` creates ahead of
the data and ``analytics.drop_activity_partitions`` drops after the retention period. Both functions
run as the owner (the app role may not create or drop tables) and touch nothing but those partitions.

Revision ID: 20261206_1300
Revises: 20261127_1200
Create Date: 2026-12-06 13:00
"""

from __future__ import annotations

from alembic import op

from nexora.ops import migrate

revision = "20261206_1300"
down_revision = "20261127_1200"
branch_labels = None
depends_on = None

ACTIVITY_COLUMNS = """
    time timestamptz NOT NULL,
    tenant_id uuid NOT NULL,
    source text NOT NULL,
    source_event_id text NOT NULL,
    identity text NOT NULL,
    nhi_id uuid,
    action text NOT NULL,
    service text NOT NULL,
    resource text,
    source_ip text,
    user_agent text,
    outcome text NOT NULL,
    error_code text,
    region text,
    country text,
    asn integer,
    batch_id uuid,
    raw bytea NOT NULL,
    ingested_at timestamptz NOT NULL DEFAULT now()
"""


def _timescale() -> bool:
    bind = op.get_bind()
    return bool(bind.exec_driver_sql("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").first())


def upgrade() -> None:
    migrate.create_schema("analytics")
    app = migrate.app_role()
    timescale = _timescale()
    partitioning = "" if timescale else "PARTITION BY RANGE (time)"
    op.execute(f"CREATE TABLE analytics.activity ({ACTIVITY_COLUMNS}) {partitioning}")
    # Idempotent ingest: a record is (source, source event id); the time is part of the key because a
    # unique index on a partitioned table must hold the partition column (a re-sent record keeps it).
    op.execute(
        "CREATE UNIQUE INDEX uq_activity_source_event ON analytics.activity (tenant_id, source, source_event_id, time)"
    )
    op.execute("CREATE INDEX ix_activity_identity_time ON analytics.activity (tenant_id, identity, time DESC)")
    op.execute(
        "CREATE INDEX ix_activity_nhi_time ON analytics.activity (tenant_id, nhi_id, time DESC) "
        "WHERE nhi_id IS NOT NULL"
    )
    if timescale:
        op.execute("SELECT create_hypertable('analytics.activity', 'time', chunk_time_interval => interval '1 day')")
        op.execute(
            "ALTER TABLE analytics.activity SET (timescaledb.compress, "
            "timescaledb.compress_segmentby = 'tenant_id', timescaledb.compress_orderby = 'time DESC')"
        )
        op.execute("SELECT add_compression_policy('analytics.activity', interval '7 days')")
    migrate.tenant_table("analytics.activity", "SELECT, INSERT")

    op.execute(
        f"""
        CREATE FUNCTION analytics.ensure_activity_partitions(p_from date, p_to date) RETURNS integer
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
            day date;
            created integer := 0;
            name text;
        BEGIN
            IF p_to < p_from OR p_to - p_from > 62 THEN
                RAISE EXCEPTION 'partition range % to % is not allowed', p_from, p_to;
            END IF;
            IF (SELECT c.relkind FROM pg_class c WHERE c.oid = 'analytics.activity'::regclass) <> 'p' THEN
                RETURN 0;  -- a hypertable: TimescaleDB makes its own chunks
            END IF;
            -- One creator at a time (two CREATE TABLEs of one name race on the catalogue's unique indexes).
            PERFORM pg_advisory_xact_lock(hashtext('analytics.ensure_activity_partitions'));
            day := p_from;
            WHILE day <= p_to LOOP
                name := 'activity_' || to_char(day, 'YYYYMMDD');
                IF to_regclass('analytics.' || name) IS NULL THEN
                    BEGIN
                        EXECUTE format(
                            'CREATE TABLE analytics.%I PARTITION OF analytics.activity FOR VALUES FROM (%L) TO (%L)',
                            name, day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
                        EXECUTE format('ALTER TABLE analytics.%I ENABLE ROW LEVEL SECURITY', name);
                        EXECUTE format(
                            'CREATE POLICY tenant_isolation ON analytics.%I '
                            'USING (tenant_id = core.current_tenant_id()) '
                            'WITH CHECK (tenant_id = core.current_tenant_id())', name);
                        EXECUTE format('GRANT SELECT, INSERT ON analytics.%I TO %I', name, '{app}');
                        created := created + 1;
                    EXCEPTION WHEN duplicate_table OR unique_violation THEN NULL;
                    END;
                END IF;
                day := day + 1;
            END LOOP;
            RETURN created;
        END
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION analytics.drop_activity_partitions(p_before date) RETURNS text[]
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
            part record;
            dropped text[] := '{}';
        BEGIN
            IF (SELECT c.relkind FROM pg_class c WHERE c.oid = 'analytics.activity'::regclass) <> 'p' THEN
                PERFORM drop_chunks('analytics.activity', older_than => p_before::timestamptz);
                RETURN dropped;
            END IF;
            FOR part IN
                SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = 'analytics.activity'::regclass
                  AND c.relname ~ '^activity_[0-9]{8}$' AND to_date(substr(c.relname, 10), 'YYYYMMDD') < p_before
                ORDER BY c.relname
            LOOP
                EXECUTE format('DROP TABLE analytics.%I', part.relname);
                dropped := dropped || part.relname::text;
            END LOOP;
            RETURN dropped;
        END
        $$
        """
    )
    for function in ("ensure_activity_partitions(date, date)", "drop_activity_partitions(date)"):
        op.execute(f"REVOKE ALL ON FUNCTION analytics.{function} FROM PUBLIC")
        op.execute(f'GRANT EXECUTE ON FUNCTION analytics.{function} TO "{app}"')

    op.execute(
        """
        CREATE TABLE analytics.identity (
            tenant_id uuid NOT NULL,
            key text NOT NULL,
            name text NOT NULL,
            kind text NOT NULL,
            source text NOT NULL,
            nhi_id uuid,
            account text,
            first_seen_at timestamptz NOT NULL,
            last_seen_at timestamptz NOT NULL,
            event_count bigint NOT NULL DEFAULT 0,
            profile jsonb NOT NULL DEFAULT '{}',
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (tenant_id, key)
        )
        """
    )
    op.execute("CREATE INDEX ix_identity_nhi ON analytics.identity (tenant_id, nhi_id)")
    op.execute(
        "CREATE INDEX ix_identity_unknown ON analytics.identity (tenant_id, last_seen_at DESC) WHERE nhi_id IS NULL"
    )
    op.execute(
        """
        CREATE TABLE analytics.alert (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL,
            detector text NOT NULL,
            discriminator text NOT NULL DEFAULT '',
            identity text NOT NULL,
            identity_name text NOT NULL,
            nhi_id uuid,
            title text NOT NULL,
            severity text NOT NULL,
            status text NOT NULL DEFAULT 'open',
            tactic_id text NOT NULL,
            tactic text NOT NULL,
            technique_id text NOT NULL,
            technique text NOT NULL,
            explanation jsonb NOT NULL DEFAULT '{}',
            event_ids text[] NOT NULL DEFAULT '{}',
            event_count integer NOT NULL DEFAULT 0,
            first_seen_at timestamptz NOT NULL,
            last_seen_at timestamptz NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            status_changed_by text,
            status_changed_at timestamptz,
            note text
        )
        """
    )
    op.execute(
        "CREATE INDEX ix_alert_group ON analytics.alert "
        "(tenant_id, identity, detector, discriminator, last_seen_at DESC)"
    )
    op.execute("CREATE INDEX ix_alert_list ON analytics.alert (tenant_id, status, last_seen_at DESC, id DESC)")
    op.execute("CREATE INDEX ix_alert_nhi ON analytics.alert (tenant_id, nhi_id, last_seen_at DESC)")
    op.execute(
        """
        CREATE TABLE analytics.suppression (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL,
            detector text NOT NULL,
            identity text NOT NULL,
            discriminator text NOT NULL DEFAULT '',
            alert_id uuid,
            reason text,
            created_by text,
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT uq_suppression UNIQUE (tenant_id, detector, identity, discriminator)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE analytics.batch (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL,
            source text NOT NULL,
            origin text NOT NULL,
            status text NOT NULL DEFAULT 'running',
            accepted integer NOT NULL DEFAULT 0,
            duplicates integer NOT NULL DEFAULT 0,
            rejected integer NOT NULL DEFAULT 0,
            skipped integer NOT NULL DEFAULT 0,
            attributed integer NOT NULL DEFAULT 0,
            alerts integer NOT NULL DEFAULT 0,
            started_at timestamptz NOT NULL DEFAULT now(),
            finished_at timestamptz,
            created_by text
        )
        """
    )
    op.execute("CREATE INDEX ix_batch_started ON analytics.batch (tenant_id, started_at DESC)")
    op.execute(
        """
        CREATE TABLE analytics.reject (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            tenant_id uuid NOT NULL,
            batch_id uuid NOT NULL REFERENCES analytics.batch (id) ON DELETE CASCADE,
            position text NOT NULL,
            reason text NOT NULL,
            at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX ix_reject_batch ON analytics.reject (tenant_id, batch_id, id)")
    op.execute(
        """
        CREATE TABLE analytics.tenant_settings (
            tenant_id uuid PRIMARY KEY,
            detectors jsonb NOT NULL DEFAULT '{}',
            model bytea,
            updated_at timestamptz NOT NULL DEFAULT now(),
            updated_by text
        )
        """
    )
    op.execute(
        """
        CREATE TABLE analytics.s3_source (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL,
            name text NOT NULL,
            bucket text NOT NULL,
            prefix text NOT NULL DEFAULT '',
            region text,
            endpoint_url text,
            credentials text,
            interval_seconds integer NOT NULL DEFAULT 300,
            enabled boolean NOT NULL DEFAULT true,
            last_key text,
            last_polled_at timestamptz,
            last_status text,
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT uq_s3_source_name UNIQUE (tenant_id, name)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE analytics.webhook (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL,
            name text NOT NULL,
            url text NOT NULL,
            secret text,
            min_severity text NOT NULL DEFAULT 'high',
            enabled boolean NOT NULL DEFAULT true,
            last_status text,
            last_sent_at timestamptz,
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT uq_webhook_name UNIQUE (tenant_id, name)
        )
        """
    )
    for table in ("identity", "alert", "suppression", "batch", "reject", "tenant_settings", "s3_source", "webhook"):
        migrate.tenant_table(f"analytics.{table}")


def downgrade() -> None:
    op.execute("DROP SCHEMA analytics CASCADE")
