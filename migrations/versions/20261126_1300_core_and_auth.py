"""Kernel (event bus, tenant function) and auth schemas.

Revision ID: 20261126_1300
Revises:
Create Date: 2026-11-26 13:00
"""

from __future__ import annotations

from alembic import op

from nexora.ops import migrate

revision = "20261126_1300"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    migrate.create_schema("core")
    # The app role may read the schema version (readiness checks refuse a stale schema).
    op.execute(f'GRANT SELECT ON public.alembic_version TO "{migrate.app_role()}"')
    op.execute(
        """
        CREATE FUNCTION core.current_tenant_id() RETURNS uuid
        LANGUAGE sql STABLE PARALLEL SAFE
        AS $$ SELECT NULLIF(current_setting('nexora.tenant_id', true), '')::uuid $$
        """
    )

    # ---- event bus (platform tables: the bus is shared infrastructure, like a Kafka cluster) ----
    op.execute(
        """
        CREATE TABLE core.outbox (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            position bigint UNIQUE,
            event_id uuid NOT NULL,
            topic text NOT NULL,
            type text NOT NULL,
            key text NOT NULL,
            tenant_id uuid,
            target_group text,
            envelope jsonb NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            relayed_at timestamptz
        )
        """
    )
    op.execute("CREATE SEQUENCE core.outbox_position_seq AS bigint")
    # Wake the sequencer at commit: one notification per statement, collapsed per transaction,
    # at no round-trip cost to the publisher.
    op.execute(
        """
        CREATE FUNCTION core.notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM pg_notify('nexora_outbox', ''); RETURN NULL; END $$
        """
    )
    op.execute(
        "CREATE TRIGGER outbox_notify AFTER INSERT ON core.outbox "
        "FOR EACH STATEMENT EXECUTE FUNCTION core.notify_outbox()"
    )
    op.execute("CREATE INDEX ix_outbox_unsequenced ON core.outbox (id) WHERE position IS NULL")
    op.execute("CREATE INDEX ix_outbox_topic_position ON core.outbox (topic, position)")
    op.execute("CREATE INDEX ix_outbox_unrelayed ON core.outbox (position) WHERE relayed_at IS NULL")
    op.execute(
        """
        CREATE TABLE core.consumer_offset (
            group_name text PRIMARY KEY,
            position bigint NOT NULL DEFAULT 0,
            updated_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    op.execute(
        """
        CREATE TABLE core.processed_event (
            group_name text NOT NULL,
            event_id uuid NOT NULL,
            processed_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (group_name, event_id)
        )
        """
    )
    op.execute("CREATE INDEX ix_processed_event_processed_at ON core.processed_event (processed_at)")
    op.execute(
        """
        CREATE TABLE core.delivery_failure (
            group_name text NOT NULL,
            event_id uuid NOT NULL,
            attempts integer NOT NULL,
            last_error text NOT NULL,
            updated_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (group_name, event_id)
        )
        """
    )
    op.execute(
        """
        CREATE TABLE core.dead_letter (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            group_name text NOT NULL,
            event_id uuid NOT NULL,
            topic text NOT NULL,
            type text NOT NULL,
            tenant_id uuid,
            envelope jsonb NOT NULL,
            error text NOT NULL,
            attempts integer NOT NULL,
            failed_at timestamptz NOT NULL DEFAULT now(),
            replayed_at timestamptz
        )
        """
    )
    migrate.grant("core.outbox", "SELECT, INSERT, UPDATE, DELETE")
    op.execute(f'GRANT USAGE, SELECT, UPDATE ON SEQUENCE core.outbox_position_seq TO "{migrate.app_role()}"')
    for table in ("core.consumer_offset", "core.processed_event", "core.delivery_failure", "core.dead_letter"):
        migrate.grant(table)

    # ---- auth ----
    migrate.create_schema("auth")
    op.execute(
        """
        CREATE TABLE auth.tenant (
            id uuid PRIMARY KEY,
            name text NOT NULL,
            fingerprint_key text NOT NULL,
            settings jsonb NOT NULL DEFAULT '{}',
            created_at timestamptz NOT NULL DEFAULT now(),
            CONSTRAINT uq_tenant_name UNIQUE (name)
        )
        """
    )
    migrate.grant("auth.tenant", "SELECT, INSERT, UPDATE")
    op.execute(
        """
        CREATE TABLE auth."user" (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES auth.tenant (id),
            email text NOT NULL,
            password_hash text NOT NULL,
            roles text[] NOT NULL DEFAULT '{}',
            is_platform_admin boolean NOT NULL DEFAULT false,
            is_active boolean NOT NULL DEFAULT true,
            created_at timestamptz NOT NULL DEFAULT now(),
            updated_at timestamptz NOT NULL DEFAULT now(),
            last_login_at timestamptz,
            CONSTRAINT ck_user_roles CHECK (roles <@ ARRAY['admin','analyst','approver','auditor','viewer']::text[])
        )
        """
    )
    # E-mail is the login name, so it is unique across the installation.
    op.execute('CREATE UNIQUE INDEX uq_user_email ON auth."user" (lower(email))')
    op.execute('CREATE INDEX ix_user_tenant_id ON auth."user" (tenant_id, id)')
    migrate.tenant_table("auth.user")

    op.execute(
        """
        CREATE TABLE auth.refresh_token (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES auth.tenant (id),
            user_id uuid NOT NULL REFERENCES auth."user" (id) ON DELETE CASCADE,
            family_id uuid NOT NULL,
            token_hash text NOT NULL UNIQUE,
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz NOT NULL,
            used_at timestamptz,
            revoked_at timestamptz,
            revoked_reason text
        )
        """
    )
    op.execute("CREATE INDEX ix_refresh_token_family ON auth.refresh_token (tenant_id, family_id)")
    migrate.tenant_table("auth.refresh_token")

    op.execute(
        """
        CREATE TABLE auth.api_key (
            id uuid PRIMARY KEY,
            tenant_id uuid NOT NULL REFERENCES auth.tenant (id),
            name text NOT NULL,
            prefix text NOT NULL,
            key_hash text NOT NULL UNIQUE,
            scopes text[] NOT NULL,
            created_by uuid NOT NULL REFERENCES auth."user" (id) ON DELETE CASCADE,
            created_at timestamptz NOT NULL DEFAULT now(),
            expires_at timestamptz,
            last_used_at timestamptz,
            revoked_at timestamptz
        )
        """
    )
    op.execute("CREATE INDEX ix_api_key_tenant ON auth.api_key (tenant_id, created_at, id)")
    migrate.tenant_table("auth.api_key")

    op.execute(
        """
        CREATE TABLE auth.signing_key (
            kid text PRIMARY KEY,
            algorithm text NOT NULL,
            public_jwk jsonb NOT NULL,
            private_key text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            retired_at timestamptz
        )
        """
    )
    migrate.grant("auth.signing_key", "SELECT, INSERT, UPDATE")

    # Narrow cross-tenant lookups. They run as the table owner (RLS does not apply to it) and answer
    # one exact question, so the app role can resolve a login or a key without seeing other rows.
    op.execute(
        """
        CREATE FUNCTION auth.find_login(p_email text) RETURNS TABLE (tenant_id uuid, user_id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$ SELECT u.tenant_id, u.id FROM auth."user" u WHERE lower(u.email) = lower(p_email) $$
        """
    )
    # One round trip resolves a presented API key and its creator (the hot path of machine clients).
    op.execute(
        """
        CREATE FUNCTION auth.resolve_api_key(p_key_hash text) RETURNS TABLE (
            tenant_id uuid, api_key_id uuid, scopes text[], expires_at timestamptz, revoked_at timestamptz,
            last_used_at timestamptz, user_id uuid, email text, roles text[], is_active boolean
        )
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
            SELECT k.tenant_id, k.id, k.scopes, k.expires_at, k.revoked_at, k.last_used_at,
                   u.id, u.email, u.roles, u.is_active
            FROM auth.api_key k JOIN auth."user" u ON u.id = k.created_by AND u.tenant_id = k.tenant_id
            WHERE k.key_hash = p_key_hash
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION auth.count_users() RETURNS bigint
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$ SELECT count(*) FROM auth."user" $$
        """
    )
    for fn in ("auth.find_login(text)", "auth.resolve_api_key(text)", "auth.count_users()"):
        op.execute(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
        op.execute(f'GRANT EXECUTE ON FUNCTION {fn} TO "{migrate.app_role()}"')


def downgrade() -> None:
    op.execute("DROP SCHEMA auth CASCADE")
    op.execute("DROP SCHEMA core CASCADE")
