"""Alembic environment: runs migrations as the owner role with a synchronous psycopg connection."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool, text

config = context.config
url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
app_role = config.attributes.get("app_role", "nexora_app")


def run_migrations_online() -> None:
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        role_found = connection.execute(
            text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": app_role}
        ).first()
        if role_found is None:
            raise SystemExit(
                f"the app role '{app_role}' does not exist: create it (LOGIN NOSUPERUSER NOBYPASSRLS) "
                "or run 'nexora db provision', then migrate again"
            )
        connection.commit()
        context.configure(connection=connection, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) migrations are not supported; run 'nexora db upgrade'")
run_migrations_online()
