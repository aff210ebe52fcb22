"""Audit log tables.

One append-only log per tenant (and one platform log under the nil UUID): entries (the leaves of an
RFC 9162 Merkle tree), the perfect subtrees of level >= 1 stored as they close, signed tree heads and
the Ed25519 signing keys (private halves envelope-encrypted). The app role may only SELECT and
INSERT; triggers refuse UPDATE, DELETE and TRUNCATE to everyone, the owner included.

Revision ID: 20261126_1400
Revises: 20261126_1300
Create Date: 2026-11-26 14:00
"""

from __future__ import annotations

from alembic import op

from nexora.ops import migrate

revision = "20261126_1400"
down_revision = "20261126_1300"
branch_labels = None
depends_on = None

LOG_TABLES = ("audit.entry", "audit.node", "audit.tree_head", "audit.signing_key")


def upgrade() -> None:
    migrate.create_schema("audit")
    op.execute(
        """
        CREATE TABLE audit.entry (
            tenant_id uuid NOT NULL,
            seq bigint NOT NULL CHECK (seq >= 0),
            event_id uuid NOT NULL,
            occurred_at timestamptz NOT NULL,
            recorded_at timestamptz NOT NULL,
            actor text NOT NULL,
            action text NOT NULL,
            target text,
            outcome text NOT NULL CHECK (outcome IN ('success', 'failure', 'denied')),
            source text NOT NULL,
            source_address text,
            request_id text,
            payload text NOT NULL,
            leaf_hash bytea NOT NULL CHECK (length(leaf_hash) = 32),
            CONSTRAINT pk_entry PRIMARY KEY (tenant_id, seq)
        )
        """
    )
    # Redelivered events are recognised by id; searches filter by actor, action, target or time.
    op.execute("CREATE UNIQUE INDEX uq_entry_event_id ON audit.entry (tenant_id, event_id)")
    op.execute("CREATE INDEX ix_entry_actor ON audit.entry (tenant_id, actor, seq)")
    op.execute("CREATE INDEX ix_entry_action ON audit.entry (tenant_id, action, seq)")
    op.execute("CREATE INDEX ix_entry_target ON audit.entry (tenant_id, target, seq)")
    op.execute("CREATE INDEX ix_entry_occurred_at ON audit.entry (tenant_id, occurred_at)")
    op.execute(
        """
        CREATE TABLE audit.node (
            tenant_id uuid NOT NULL,
            level smallint NOT NULL CHECK (level BETWEEN 1 AND 62),
            idx bigint NOT NULL CHECK (idx >= 0),
            hash bytea NOT NULL CHECK (length(hash) = 32),
            CONSTRAINT pk_node PRIMARY KEY (tenant_id, level, idx)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE audit.signing_key (
            tenant_id uuid NOT NULL,
            key_id text NOT NULL,
            algorithm text NOT NULL CHECK (algorithm = 'Ed25519'),
            public_key bytea NOT NULL,
            sealed_private_key text NOT NULL,
            created_at timestamptz NOT NULL,
            CONSTRAINT pk_signing_key PRIMARY KEY (tenant_id, key_id)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE audit.tree_head (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL,
            tree_size bigint NOT NULL CHECK (tree_size >= 0),
            root_hash bytea NOT NULL CHECK (length(root_hash) = 32),
            signed_at timestamptz NOT NULL,
            key_id text NOT NULL,
            signature bytea NOT NULL
        )
        """
    )
    op.execute("CREATE INDEX ix_tree_head_signed_at ON audit.tree_head (tenant_id, signed_at, id)")

    op.execute(
        """
        CREATE FUNCTION audit.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the audit log is append-only: % on %.% is refused', TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
                USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    for table in LOG_TABLES:
        name = table.split(".")[1]
        op.execute(
            f"CREATE TRIGGER {name}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit.refuse_change()"
        )
        migrate.tenant_table(table, "SELECT, INSERT")

    # The signing schedule must find every log that grew since its last head. This answers just that
    # (log ids, no content), running as the owner because RLS hides other tenants from the app role.
    op.execute(
        """
        CREATE FUNCTION audit.logs_to_sign() RETURNS SETOF uuid
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
            WITH RECURSIVE logs AS (
                (SELECT tenant_id FROM audit.entry ORDER BY tenant_id LIMIT 1)
                UNION ALL
                SELECT (SELECT e.tenant_id FROM audit.entry e WHERE e.tenant_id > logs.tenant_id
                        ORDER BY e.tenant_id LIMIT 1)
                FROM logs WHERE logs.tenant_id IS NOT NULL
            )
            SELECT logs.tenant_id FROM logs
            WHERE logs.tenant_id IS NOT NULL
              AND (SELECT max(e.seq) + 1 FROM audit.entry e WHERE e.tenant_id = logs.tenant_id)
                  > coalesce((SELECT max(h.tree_size) FROM audit.tree_head h WHERE h.tenant_id = logs.tenant_id), 0)
        $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION audit.logs_to_sign() FROM PUBLIC")
    op.execute(f'GRANT EXECUTE ON FUNCTION audit.logs_to_sign() TO "{migrate.app_role()}"')


def downgrade() -> None:
    op.execute('DROP SCHEMA "audit" CASCADE')
