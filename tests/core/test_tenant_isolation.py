"""Multi-tenancy is enforced twice: services filter by tenant, and PostgreSQL RLS hides other rows."""

import httpx
import psycopg
import pytest

from tests.fixtures.app import SignedIn, TenantFactory

# Platform tables: shared infrastructure without row-level security, by design (see ARCHITECTURE.md).
PLATFORM_TABLES = {"core.outbox", "core.dead_letter"}


def _tenant_tables(database) -> list[str]:
    with psycopg.connect(database.superuser_url) as connection:
        rows = connection.execute(
            """
            SELECT table_schema || '.' || table_name FROM information_schema.columns
            WHERE column_name = 'tenant_id' AND table_schema NOT IN ('pg_catalog', 'information_schema')
            ORDER BY 1
            """
        ).fetchall()
    return [row[0] for row in rows if row[0] not in PLATFORM_TABLES]


def _quoted(table: str) -> str:
    schema, name = table.split(".")
    return f'"{schema}"."{name}"'


async def _two_tenants_with_data(client: httpx.AsyncClient, new_tenant: TenantFactory) -> tuple[SignedIn, SignedIn]:
    a, b = await new_tenant(), await new_tenant()
    for admin in (a, b):
        await client.post("/api/v1/api-keys", headers=admin.headers, json={"name": "k", "scopes": ["read"]})
        await client.post(
            "/api/v1/users",
            headers=admin.headers,
            json={
                "email": f"u-{admin.tenant_id.hex[:8]}@iso.example",
                "password": "a-long-password-1",
                "roles": ["viewer"],
            },
        )
    return a, b


def test_every_tenant_table_has_row_level_security(database) -> None:
    tables = _tenant_tables(database)
    assert "auth.user" in tables
    assert "auth.api_key" in tables
    with psycopg.connect(database.superuser_url) as connection:
        for table in tables:
            schema, name = table.split(".")
            enabled, policies = connection.execute(
                """
                SELECT c.relrowsecurity,
                       (SELECT count(*) FROM pg_policies p WHERE p.schemaname = %s AND p.tablename = %s)
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s
                """,
                (schema, name, schema, name),
            ).fetchone()
            assert enabled, f"{table} has no row-level security"
            assert policies >= 1, f"{table} has no policy"


async def test_app_role_sees_only_the_tenant_it_set_and_nothing_without_one(
    client: httpx.AsyncClient, new_tenant: TenantFactory, database
) -> None:
    a, b = await _two_tenants_with_data(client, new_tenant)
    with psycopg.connect(database.app_url) as connection:
        for table in _tenant_tables(database):
            with connection.transaction():
                connection.execute("SELECT set_config('nexora.tenant_id', %s, true)", (str(a.tenant_id),))
                tenants = {row[0] for row in connection.execute(f"SELECT DISTINCT tenant_id FROM {_quoted(table)}")}
                assert b.tenant_id not in tenants, f"{table} leaks tenant B to tenant A"
                assert tenants <= {a.tenant_id}
            with connection.transaction():
                count = connection.execute(f"SELECT count(*) FROM {_quoted(table)}").fetchone()[0]
                assert count == 0, f"{table} returns rows with no tenant set"
        with connection.transaction():
            connection.execute("SELECT set_config('nexora.tenant_id', %s, true)", (str(a.tenant_id),))
            users = connection.execute('SELECT count(*) FROM auth."user"').fetchone()[0]
            assert users == 2


def test_app_role_cannot_write_into_another_tenant(database, tenant_admin_sync) -> None:
    a, b = tenant_admin_sync
    with psycopg.connect(database.app_url) as connection:
        connection.execute("SELECT set_config('nexora.tenant_id', %s, false)", (str(a),))
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute(
                "INSERT INTO auth.api_key (id, tenant_id, name, prefix, key_hash, scopes, created_by) "
                "SELECT gen_random_uuid(), %s, 'x', 'x', md5(random()::text), '{read}', id FROM auth.\"user\" LIMIT 1",
                (str(b),),
            )


def test_app_role_cannot_alter_drop_or_disable_security(database) -> None:
    statements = [
        'ALTER TABLE auth."user" DISABLE ROW LEVEL SECURITY',
        'ALTER TABLE auth."user" NO FORCE ROW LEVEL SECURITY',
        'DROP POLICY tenant_isolation ON auth."user"',
        'DROP TABLE auth."user"',
        "ALTER TABLE auth.api_key ADD COLUMN x int",
        "TRUNCATE auth.api_key",
        "CREATE TABLE auth.sneaky (id int)",
        "SET row_security = off; SELECT count(*) FROM auth.api_key",
    ]
    for statement in statements:
        with psycopg.connect(database.app_url) as connection, pytest.raises(psycopg.errors.Error):
            connection.execute(statement)
    with psycopg.connect(database.app_url) as connection:
        superuser, bypass = connection.execute(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        ).fetchone()
    assert (superuser, bypass) == (False, False)


async def test_no_route_reads_or_changes_another_tenants_rows(
    client: httpx.AsyncClient, new_tenant: TenantFactory
) -> None:
    a, b = await _two_tenants_with_data(client, new_tenant)
    b_users = (await client.get("/api/v1/users", headers=b.headers)).json()["items"]
    b_keys = (await client.get("/api/v1/api-keys", headers=b.headers)).json()["items"]

    a_users = (await client.get("/api/v1/users", headers=a.headers)).json()["items"]
    assert {u["id"] for u in a_users}.isdisjoint({u["id"] for u in b_users})
    a_keys = (await client.get("/api/v1/api-keys", headers=a.headers)).json()["items"]
    assert {k["id"] for k in a_keys}.isdisjoint({k["id"] for k in b_keys})

    for user in b_users:
        assert (await client.get(f"/api/v1/users/{user['id']}", headers=a.headers)).status_code == 404
        patch = await client.patch(f"/api/v1/users/{user['id']}", headers=a.headers, json={"roles": ["viewer"]})
        assert patch.status_code == 404
        assert (await client.delete(f"/api/v1/users/{user['id']}", headers=a.headers)).status_code == 404
    for key in b_keys:
        assert (await client.delete(f"/api/v1/api-keys/{key['id']}", headers=a.headers)).status_code == 404

    assert (await client.get("/api/v1/tenant", headers=a.headers)).json()["id"] == str(a.tenant_id)
    assert (await client.get("/api/v1/users", headers=b.headers)).json()["items"] == b_users
    assert (await client.get("/api/v1/api-keys", headers=b.headers)).json()["items"] == b_keys


@pytest.fixture
def tenant_admin_sync(database):
    """Two tenant ids with users, created directly as the owner (no API involved)."""
    import uuid

    ids = (uuid.uuid4(), uuid.uuid4())
    with psycopg.connect(database.owner_url) as connection:
        for tenant_id in ids:
            connection.execute(
                "INSERT INTO auth.tenant (id, name, fingerprint_key) VALUES (%s, %s, 'x')",
                (tenant_id, f"t-{tenant_id}"),
            )
            connection.execute(
                'INSERT INTO auth."user" (id, tenant_id, email, password_hash, roles) VALUES (%s, %s, %s, %s, %s)',
                (uuid.uuid4(), tenant_id, f"{tenant_id}@sync.example", "x", ["admin"]),
            )
    return ids
