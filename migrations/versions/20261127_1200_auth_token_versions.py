"""Auth: access tokens end when access ends, e-mails unique per tenant, idempotent refresh replays.

* ``auth.user.token_version``: access tokens carry it (claim ``tv``); deactivating a user, changing
  their roles or password, signing out and deleting them bumps it, and a token with an older version
  is refused. ``auth.user_token_version`` reads it across tenants (the request is authenticated before
  its tenant is known), answering NULL for a deleted or disabled user.
* E-mails are unique per tenant, not across the installation: a global index told a tenant admin that
  an e-mail was taken in some other tenant. ``auth.find_login`` now answers every account of an e-mail
  (bounded), optionally narrowed to one tenant by name or id; called with the e-mail alone, as the
  previous release does, it still answers the first columns that release reads.
* ``auth.server_key``: per-installation secrets (envelope-encrypted), first the key that derives a
  refresh token's successor from the hash of its parent, so a replay within the grace gets the same
  successor although only hashes of refresh tokens are stored.

The downgrade restores the installation-wide index and fails, saying why, if an e-mail is used in
several tenants by then.

Revision ID: 20261127_1200
Revises: 20261127_0000
Create Date: 2026-11-27 12:00
"""

from __future__ import annotations

from alembic import op

from nexora.ops import migrate

revision = "20261127_1200"
down_revision = "20261127_0000"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute('ALTER TABLE auth."user" ADD COLUMN token_version integer NOT NULL DEFAULT 0')

    op.execute("DROP INDEX auth.uq_user_email")
    op.execute('CREATE UNIQUE INDEX uq_user_tenant_email ON auth."user" (tenant_id, lower(email))')
    op.execute('CREATE INDEX ix_user_email ON auth."user" (lower(email))')

    op.execute(
        """
        CREATE TABLE auth.server_key (
            name text PRIMARY KEY,
            wrapped_key text NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    migrate.grant("auth.server_key", "SELECT, INSERT")

    op.execute("DROP FUNCTION auth.find_login(text)")
    op.execute(
        """
        CREATE FUNCTION auth.find_login(p_email text, p_tenant text DEFAULT NULL, p_limit integer DEFAULT 10)
        RETURNS TABLE (tenant_id uuid, user_id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
            SELECT u.tenant_id, u.id FROM auth."user" u JOIN auth.tenant t ON t.id = u.tenant_id
            WHERE lower(u.email) = lower(p_email)
              AND (p_tenant IS NULL OR t.name = p_tenant OR t.id::text = lower(p_tenant))
            ORDER BY u.created_at, u.id
            LIMIT greatest(p_limit, 0)
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION auth.user_token_version(p_tenant_id uuid, p_user_id uuid) RETURNS integer
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
            SELECT u.token_version FROM auth."user" u
            WHERE u.id = p_user_id AND u.tenant_id = p_tenant_id AND u.is_active
        $$
        """
    )
    for fn in ("auth.find_login(text, text, integer)", "auth.user_token_version(uuid, uuid)"):
        op.execute(f"REVOKE ALL ON FUNCTION {fn} FROM PUBLIC")
        op.execute(f'GRANT EXECUTE ON FUNCTION {fn} TO "{migrate.app_role()}"')


def downgrade() -> None:
    op.execute(
        """
        DO $$ BEGIN
            IF EXISTS (SELECT 1 FROM auth."user" GROUP BY lower(email) HAVING count(*) > 1) THEN
                RAISE EXCEPTION 'cannot downgrade: some e-mails are used in several tenants; '
                    'rename or delete those users first';
            END IF;
        END $$
        """
    )
    op.execute("DROP FUNCTION auth.user_token_version(uuid, uuid)")
    op.execute("DROP FUNCTION auth.find_login(text, text, integer)")
    op.execute(
        """
        CREATE FUNCTION auth.find_login(p_email text) RETURNS TABLE (tenant_id uuid, user_id uuid)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$ SELECT u.tenant_id, u.id FROM auth."user" u WHERE lower(u.email) = lower(p_email) $$
        """
    )
    op.execute("REVOKE ALL ON FUNCTION auth.find_login(text) FROM PUBLIC")
    op.execute(f'GRANT EXECUTE ON FUNCTION auth.find_login(text) TO "{migrate.app_role()}"')
    op.execute("DROP TABLE auth.server_key")
    op.execute("DROP INDEX auth.ix_user_email")
    op.execute("DROP INDEX auth.uq_user_tenant_email")
    op.execute('CREATE UNIQUE INDEX uq_user_email ON auth."user" (lower(email))')
    op.execute('ALTER TABLE auth."user" DROP COLUMN token_version')
