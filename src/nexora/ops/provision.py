"""Create the database and its two roles: an owner that runs migrations and an app role under RLS.

Used by embedded mode, by ``nexora db provision`` and by the test fixtures. Idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from nexora.core.db import to_url


@dataclass(frozen=True)
class ProvisionedDatabase:
    owner_url: str
    app_url: str
    superuser_url: str


def _role_exists(connection: psycopg.Connection, role: str) -> bool:
    return connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is not None


def provision(
    superuser_url: str,
    database: str,
    *,
    owner_role: str = "nexora_owner",
    app_role: str = "nexora_app",
    owner_password: str | None = None,
    app_password: str | None = None,
) -> ProvisionedDatabase:
    """Ensure ``owner_role`` (owns the database), ``app_role`` (NOSUPERUSER NOBYPASSRLS) and ``database``.

    Returns URLs for the owner and the app role on the same server as ``superuser_url``.
    """
    admin_url = make_url(superuser_url)
    with psycopg.connect(_libpq(superuser_url), autocommit=True) as connection:
        for role, password in ((owner_role, owner_password), (app_role, app_password)):
            if not _role_exists(connection, role):
                try:
                    connection.execute(
                        sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB").format(
                            sql.Identifier(role)
                        )
                    )
                except psycopg.errors.DuplicateObject:
                    pass  # created concurrently by another provisioning run
            if password:
                connection.execute(
                    sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(role), sql.Literal(password))
                )
        # The app role must never bypass RLS, even if an operator created it by hand.
        connection.execute(sql.SQL("ALTER ROLE {} NOSUPERUSER NOBYPASSRLS").format(sql.Identifier(app_role)))
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone()
        if not exists:
            connection.execute(
                sql.SQL("CREATE DATABASE {} OWNER {} ENCODING 'UTF8'").format(
                    sql.Identifier(database), sql.Identifier(owner_role)
                )
            )
        connection.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(sql.Identifier(database)))
        connection.execute(
            sql.SQL("GRANT CONNECT, TEMPORARY ON DATABASE {} TO {}").format(
                sql.Identifier(database), sql.Identifier(app_role)
            )
        )
    with psycopg.connect(_libpq(admin_url.set(database=database).render_as_string(False)), autocommit=True) as c:
        # PostgreSQL 15 no longer lets PUBLIC create in the public schema; make sure of it on older ones.
        c.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        c.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(owner_role)))

    def url_for(role: str, password: str | None) -> str:
        return admin_url.set(username=role, password=password, database=database).render_as_string(False)

    return ProvisionedDatabase(
        owner_url=url_for(owner_role, owner_password),
        app_url=url_for(app_role, app_password),
        superuser_url=admin_url.set(database=database).render_as_string(False),
    )


def drop(superuser_url: str, database: str) -> None:
    """Drop ``database`` (terminating its connections). Roles are shared and left in place."""
    with psycopg.connect(_libpq(superuser_url), autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))


def _libpq(url: str) -> str:
    """psycopg takes libpq URLs: strip any SQLAlchemy driver suffix."""
    return to_url(url, "psycopg").replace("postgresql+psycopg://", "postgresql://", 1)
