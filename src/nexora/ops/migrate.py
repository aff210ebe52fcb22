"""Alembic runner and the helpers migrations use for schemas, grants and row-level security.

Migrations live in ``migrations/`` (one linear history, files named ``YYYYMMDD_HHMM_slug.py``) and run
as the owner role. They grant the app role only what it needs and put an RLS policy on every
tenant-owned table, keyed on ``core.current_tenant_id()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from nexora.core.db import to_url

DEFAULT_APP_ROLE = "nexora_app"


def migrations_dir() -> Path:
    """Packaged migrations (wheel install) or the repository's ``migrations/`` (editable install)."""
    package_root = Path(__file__).resolve().parents[1]
    for candidate in (package_root / "migrations", package_root.parents[1] / "migrations"):
        if (candidate / "env.py").exists():
            return candidate
    raise FileNotFoundError("Nexora's migrations folder was not found next to the package")


def alembic_config(owner_url: str, app_role: str = DEFAULT_APP_ROLE) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["url"] = to_url(owner_url, "psycopg")
    config.attributes["app_role"] = app_role
    return config


def upgrade(owner_url: str, app_role: str = DEFAULT_APP_ROLE, revision: str = "head") -> None:
    """Bring the schema to ``revision`` as the owner role."""
    command.upgrade(alembic_config(owner_url, app_role), revision)


def downgrade(owner_url: str, revision: str, app_role: str = DEFAULT_APP_ROLE) -> None:
    command.downgrade(alembic_config(owner_url, app_role), revision)


@dataclass(frozen=True)
class MigrationStatus:
    current: str | None
    head: str
    pending: list[str]

    @property
    def up_to_date(self) -> bool:
        return not self.pending


def status(url: str) -> MigrationStatus:
    """Current revision against the newest one, with the revisions still to apply."""
    script = ScriptDirectory.from_config(alembic_config(url))
    engine = create_engine(to_url(url, "psycopg"))
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
    head = script.get_current_head()
    assert head is not None
    pending = [rev.revision for rev in script.iterate_revisions(head, current)]
    return MigrationStatus(current=current, head=head, pending=list(reversed(pending)))


# ---- helpers for migration scripts -------------------------------------------------------------


def app_role() -> str:
    from alembic import context

    role = context.config.attributes.get("app_role", DEFAULT_APP_ROLE)
    assert isinstance(role, str)
    return role


def create_schema(name: str) -> None:
    """Create a domain schema the app role may use (but not create objects in)."""
    from alembic import op

    op.execute(f'CREATE SCHEMA IF NOT EXISTS "{name}"')
    op.execute(f'GRANT USAGE ON SCHEMA "{name}" TO "{app_role()}"')


def grant(table: str, privileges: str = "SELECT, INSERT, UPDATE, DELETE") -> None:
    """Grant ``privileges`` on ``schema.table`` (and its sequences) to the app role."""
    from alembic import op

    schema, name = table.split(".")
    role = app_role()
    op.execute(f'GRANT {privileges} ON "{schema}"."{name}" TO "{role}"')
    op.execute(
        f"""DO $$ DECLARE s record; BEGIN
        FOR s IN SELECT seq.relname FROM pg_class seq
                 JOIN pg_depend d ON d.objid = seq.oid
                 JOIN pg_class t ON d.refobjid = t.oid
                 JOIN pg_namespace n ON t.relnamespace = n.oid
                 WHERE seq.relkind = 'S' AND t.relname = '{name}' AND n.nspname = '{schema}'
        LOOP EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %I.%I TO %I', '{schema}', s.relname, '{role}');
        END LOOP; END $$"""
    )


def tenant_table(table: str, privileges: str = "SELECT, INSERT, UPDATE, DELETE") -> None:
    """Make ``schema.table`` a tenant table: RLS on, one isolation policy, grants to the app role.

    The policy compares ``tenant_id`` with ``core.current_tenant_id()``, which is NULL when no tenant
    is set, so an unscoped session reads and writes nothing.
    """
    from alembic import op

    schema, name = table.split(".")
    op.execute(f'ALTER TABLE "{schema}"."{name}" ENABLE ROW LEVEL SECURITY')
    op.execute(
        f'CREATE POLICY tenant_isolation ON "{schema}"."{name}" '
        "USING (tenant_id = core.current_tenant_id()) WITH CHECK (tenant_id = core.current_tenant_id())"
    )
    grant(table, privileges)
