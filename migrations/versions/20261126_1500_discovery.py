"""Discovery inventory and posture tables.

Revision ID: 20261126_1500
Revises: 20261126_1400
Create Date: 2026-11-26 15:00
"""

from __future__ import annotations

from alembic import op

from nexora.ops import migrate

revision = "20261126_1500"
down_revision = "20261126_1400"
branch_labels = None
depends_on = None


def upgrade() -> None:
    migrate.create_schema("discovery")
    op.execute(
        """
        CREATE TABLE discovery.connector (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL,
            name text NOT NULL,
            kind text NOT NULL,
            config jsonb NOT NULL DEFAULT '{}',
            credentials text,
            interval_seconds integer,
            enabled boolean NOT NULL DEFAULT true,
            baseline_run_id uuid,
            last_run_at timestamptz,
            last_status text,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT uq_connector_tenant_name UNIQUE (tenant_id, name)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE discovery.run (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL,
            connector_id uuid NOT NULL REFERENCES discovery.connector (id) ON DELETE CASCADE,
            trigger text NOT NULL,
            status text NOT NULL,
            stage text NOT NULL DEFAULT 'queued',
            started_at timestamptz NOT NULL DEFAULT now(),
            finished_at timestamptz,
            duration_ms integer,
            counts jsonb NOT NULL DEFAULT '{}',
            errors jsonb NOT NULL DEFAULT '[]',
            is_baseline boolean NOT NULL DEFAULT false
        )
        """
    )
    op.execute("CREATE INDEX ix_run_connector_started ON discovery.run (tenant_id, connector_id, started_at DESC)")
    # One running run per connector: a second replica's scheduler cannot start the same connector twice.
    op.execute("CREATE UNIQUE INDEX uq_run_one_running ON discovery.run (connector_id) WHERE status = 'running'")
    op.execute("CREATE INDEX ix_run_tenant_started ON discovery.run (tenant_id, started_at DESC, id DESC)")
    op.execute(
        """
        CREATE TABLE discovery.nhi (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL,
            connector_id uuid NOT NULL REFERENCES discovery.connector (id) ON DELETE CASCADE,
            provider text NOT NULL,
            kind text NOT NULL,
            account text NOT NULL DEFAULT '',
            external_id text NOT NULL,
            name text NOT NULL,
            environment text NOT NULL DEFAULT 'unknown',
            environment_inferred text NOT NULL DEFAULT 'unknown',
            environment_override text,
            owner text,
            owner_source text,
            owner_inferred text,
            owner_override text,
            created_at timestamptz,
            last_used_at timestamptz,
            last_rotated_at timestamptz,
            expires_at timestamptz,
            privilege_level text NOT NULL DEFAULT 'unknown',
            permissions jsonb NOT NULL DEFAULT '{}',
            status text NOT NULL DEFAULT 'active',
            fingerprint text,
            attributes jsonb NOT NULL DEFAULT '{}',
            content_hash text NOT NULL,
            risk_score smallint NOT NULL DEFAULT 0,
            risk_factors jsonb NOT NULL DEFAULT '[]',
            open_findings integer NOT NULL DEFAULT 0,
            first_seen_at timestamptz NOT NULL DEFAULT now(),
            last_seen_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            last_run_id uuid,
            CONSTRAINT uq_nhi_tenant_connector_external UNIQUE (tenant_id, connector_id, external_id),
            CONSTRAINT ck_nhi_risk_score CHECK (risk_score BETWEEN 0 AND 100)
        ) WITH (fillfactor = 85)
        """
    )
    # One index per list sort (keyset pagination walks it), plus kind/provider filters in risk order.
    # Re-runs rewrite last_seen_at/last_run_id on every row: no index covers them (nor updated_at), so
    # those updates stay HOT in the free space fillfactor leaves; the sweep walks the unique key instead.
    op.execute("CREATE INDEX ix_nhi_risk ON discovery.nhi (tenant_id, risk_score DESC, id DESC)")
    op.execute("CREATE INDEX ix_nhi_kind_risk ON discovery.nhi (tenant_id, kind, risk_score DESC, id DESC)")
    op.execute("CREATE INDEX ix_nhi_provider_risk ON discovery.nhi (tenant_id, provider, risk_score DESC, id DESC)")
    op.execute("CREATE INDEX ix_nhi_name ON discovery.nhi (tenant_id, name, id)")
    op.execute(
        "CREATE INDEX ix_nhi_last_used ON discovery.nhi "
        "(tenant_id, coalesce(last_used_at, '1970-01-01 00:00:00+00'::timestamptz), id)"
    )
    op.execute("CREATE INDEX ix_nhi_first_seen ON discovery.nhi (tenant_id, first_seen_at, id)")
    op.execute("CREATE INDEX ix_nhi_external ON discovery.nhi (tenant_id, external_id)")
    op.execute(
        "CREATE INDEX ix_nhi_fingerprint ON discovery.nhi (tenant_id, fingerprint) WHERE fingerprint IS NOT NULL"
    )
    # Text search (?q=) is a substring match: a trigram index answers it without reading every row.
    # pg_trgm is a trusted extension, but embedded PostgreSQL (pgserver) does not ship it: there the
    # search falls back to a scan, which small inventories afford. chr(1) keeps a match from spanning
    # two fields. The index is read through discovery.search_nhi_ids (below).
    op.execute(
        """
        DO $$
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
                CREATE EXTENSION IF NOT EXISTS pg_trgm;
                CREATE INDEX ix_nhi_search ON discovery.nhi USING gin (
                    (name || chr(1) || external_id || chr(1) || coalesce(owner, '')) gin_trgm_ops);
            END IF;
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'pg_trgm cannot be created by this role: text search will scan';
        END
        $$
        """
    )
    op.execute(
        """
        CREATE TABLE discovery.edge (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            tenant_id uuid NOT NULL,
            -- No foreign key: one end of every edge belongs to this connector, so deleting the connector
            -- deletes the edge through that NHI, and the load saves a third key check per edge.
            connector_id uuid NOT NULL,
            source_id uuid NOT NULL REFERENCES discovery.nhi (id) ON DELETE CASCADE,
            target_id uuid NOT NULL REFERENCES discovery.nhi (id) ON DELETE CASCADE,
            kind text NOT NULL,
            attributes jsonb NOT NULL DEFAULT '{}',
            first_seen_at timestamptz NOT NULL DEFAULT now(),
            last_seen_at timestamptz NOT NULL DEFAULT now(),
            last_run_id uuid,
            -- NHI ids are unique across tenants, so (source, kind, target) is the key; it also serves
            -- the outward graph walks (source and edge kind, then target, without a heap visit).
            CONSTRAINT uq_edge_source_kind_target UNIQUE (source_id, kind, target_id)
        ) WITH (fillfactor = 85)
        """
    )
    op.execute("CREATE INDEX ix_edge_target ON discovery.edge (target_id, kind) INCLUDE (source_id)")
    op.execute("CREATE INDEX ix_edge_connector ON discovery.edge (connector_id)")
    op.execute(
        """
        CREATE TABLE discovery.finding (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL,
            nhi_id uuid REFERENCES discovery.nhi (id) ON DELETE SET NULL,
            connector_id uuid REFERENCES discovery.connector (id) ON DELETE SET NULL,
            check_id text NOT NULL,
            category text NOT NULL,
            severity text NOT NULL,
            title text NOT NULL,
            evidence jsonb NOT NULL DEFAULT '{}',
            recommendation text NOT NULL,
            status text NOT NULL DEFAULT 'open',
            nhi_name text NOT NULL,
            nhi_kind text NOT NULL,
            first_seen_at timestamptz NOT NULL DEFAULT now(),
            last_seen_at timestamptz NOT NULL DEFAULT now(),
            resolved_at timestamptz,
            CONSTRAINT uq_finding_nhi_check UNIQUE (tenant_id, nhi_id, check_id)
        )
        """
    )
    op.execute("CREATE INDEX ix_finding_open ON discovery.finding (tenant_id, status, severity, id)")
    op.execute("CREATE INDEX ix_finding_nhi ON discovery.finding (nhi_id)")
    op.execute(
        """
        CREATE TABLE discovery.change (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            tenant_id uuid NOT NULL,
            connector_id uuid NOT NULL REFERENCES discovery.connector (id) ON DELETE CASCADE,
            run_id uuid NOT NULL,
            nhi_id uuid,
            external_id text NOT NULL,
            kind text NOT NULL,
            name text NOT NULL,
            change text NOT NULL,
            changed_fields text[] NOT NULL DEFAULT '{}',
            at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute("CREATE INDEX ix_change_connector ON discovery.change (tenant_id, connector_id, id)")
    for table in ("connector", "run", "nhi", "edge", "finding", "change"):
        migrate.tenant_table(f"discovery.{table}")
    # The app role does not own the tables, so it cannot ANALYZE them; after a run it asks this function
    # (autovacuum's rule: 50 rows + 10% changed) so the planner does not work blind. It also merges the
    # search index's pending list, which only autovacuum merges otherwise and every search reads.
    op.execute(
        """
        CREATE FUNCTION discovery.refresh_statistics(p_nhis bigint, p_edges bigint) RETURNS text[]
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
            done text[] := '{}';
        BEGIN
            IF p_nhis >= 50 + 0.1 * greatest(
                (SELECT reltuples FROM pg_class WHERE oid = 'discovery.nhi'::regclass), 0) THEN
                ANALYZE discovery.nhi;
                done := done || 'discovery.nhi'::text;
            END IF;
            IF p_edges >= 50 + 0.1 * greatest(
                (SELECT reltuples FROM pg_class WHERE oid = 'discovery.edge'::regclass), 0) THEN
                ANALYZE discovery.edge;
                done := done || 'discovery.edge'::text;
            END IF;
            IF to_regclass('discovery.ix_nhi_search') IS NOT NULL
               AND gin_clean_pending_list(to_regclass('discovery.ix_nhi_search')) > 0 THEN
                done := done || 'discovery.ix_nhi_search'::text;
            END IF;
            RETURN done;
        END
        $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION discovery.refresh_statistics(bigint, bigint) FROM PUBLIC")
    op.execute(f'GRANT EXECUTE ON FUNCTION discovery.refresh_statistics(bigint, bigint) TO "{migrate.app_role()}"')
    # Under RLS, ILIKE (not leakproof) may not be an index condition, so a search through the policy
    # reads every row of the tenant. This function runs as the owner, applies the same tenant rule
    # (core.current_tenant_id(), NULL without a tenant) itself, and can use ix_nhi_search.
    op.execute(
        """
        CREATE FUNCTION discovery.search_nhi_ids(p_pattern text, p_limit integer) RETURNS SETOF uuid
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
            -- OFFSET 0 keeps the limit from steering the plan away from the index towards a scan.
            SELECT id FROM (
                SELECT n.id FROM discovery.nhi n
                WHERE n.tenant_id = core.current_tenant_id()
                  AND (n.name || chr(1) || n.external_id || chr(1) || coalesce(n.owner, '')) ILIKE p_pattern
                OFFSET 0
            ) found
            LIMIT p_limit
        $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION discovery.search_nhi_ids(text, integer) FROM PUBLIC")
    op.execute(f'GRANT EXECUTE ON FUNCTION discovery.search_nhi_ids(text, integer) TO "{migrate.app_role()}"')


def downgrade() -> None:
    op.execute('DROP SCHEMA "discovery" CASCADE')
