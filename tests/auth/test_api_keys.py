import httpx
import psycopg

from nexora.core.keyformat import is_well_formed_api_key
from tests.fixtures.app import SignedIn


async def _create(client: httpx.AsyncClient, admin: SignedIn, **body: object) -> httpx.Response:
    return await client.post("/api/v1/api-keys", headers=admin.headers, json={"name": "ci", "scopes": ["read"], **body})


async def test_created_key_is_shown_once_and_authenticates(client: httpx.AsyncClient, tenant_admin: SignedIn) -> None:
    created = await _create(client, tenant_admin, scopes=["admin"])
    assert created.status_code == 201
    body = created.json()
    key = body["key"]
    assert is_well_formed_api_key(key)
    assert body["prefix"] == key[:12]
    assert body["scopes"] == ["admin"]
    assert body["expires_at"] is not None

    listed = (await client.get("/api/v1/api-keys", headers=tenant_admin.headers)).json()
    assert [item["id"] for item in listed["items"]] == [body["id"]]
    assert "key" not in listed["items"][0]

    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {key}"})
    assert me.status_code == 200
    assert me.json()["auth_method"] == "api_key"
    assert me.json()["tenant_id"] == str(tenant_admin.tenant_id)

    used = (await client.get("/api/v1/api-keys", headers=tenant_admin.headers)).json()["items"][0]
    assert used["last_used_at"] is not None


async def test_only_the_hash_of_a_key_is_stored(client: httpx.AsyncClient, tenant_admin: SignedIn, database) -> None:
    key = (await _create(client, tenant_admin)).json()["key"]
    with psycopg.connect(database.superuser_url) as connection:
        dump = connection.execute("SELECT row_to_json(k)::text FROM auth.api_key k").fetchall()
        events = connection.execute("SELECT envelope::text FROM core.outbox").fetchall()
    assert dump
    assert all(key not in row[0] and key[4:] not in row[0] for row in dump + events)


async def test_read_only_key_cannot_change_anything(client: httpx.AsyncClient, tenant_admin: SignedIn) -> None:
    key = (await _create(client, tenant_admin, scopes=["read"])).json()["key"]
    headers = {"Authorization": f"Bearer {key}"}
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200
    response = await client.post("/api/v1/api-keys", headers=headers, json={"name": "x", "scopes": ["read"]})
    assert response.status_code == 403
    assert response.json()["detail"] == "this API key is read-only"


async def test_revoked_key_is_rejected_even_before_expiry(client: httpx.AsyncClient, tenant_admin: SignedIn) -> None:
    created = (await _create(client, tenant_admin, expires_in_days=30)).json()
    headers = {"Authorization": f"Bearer {created['key']}"}
    assert (await client.get("/api/v1/auth/me", headers=headers)).status_code == 200
    revoked = await client.delete(f"/api/v1/api-keys/{created['id']}", headers=tenant_admin.headers)
    assert revoked.status_code == 204
    response = await client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


async def test_expired_key_is_rejected(client: httpx.AsyncClient, tenant_admin: SignedIn, database) -> None:
    created = (await _create(client, tenant_admin, expires_in_days=1)).json()
    with psycopg.connect(database.superuser_url) as connection:
        connection.execute(
            "UPDATE auth.api_key SET expires_at = now() - interval '1 minute' WHERE id = %s", (created["id"],)
        )
    response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {created['key']}"})
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


async def test_unknown_well_formed_key_is_rejected(client: httpx.AsyncClient) -> None:
    from nexora.core.keyformat import generate_api_key

    response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {generate_api_key()}"})
    assert response.status_code == 401
    assert response.json()["detail"] == "the API key is not valid"


async def test_a_user_cannot_grant_a_role_they_do_not_hold(client: httpx.AsyncClient, tenant_admin: SignedIn) -> None:
    viewer = {"email": "viewer@keys.example", "password": "viewer-password-1", "roles": ["viewer"]}
    viewer["email"] = f"viewer-{tenant_admin.tenant_id.hex[:8]}@keys.example"
    assert (await client.post("/api/v1/users", headers=tenant_admin.headers, json=viewer)).status_code == 201
    login = await client.post("/api/v1/auth/login", json={"email": viewer["email"], "password": viewer["password"]})
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    denied = await client.post("/api/v1/api-keys", headers=headers, json={"name": "x", "scopes": ["admin"]})
    assert denied.status_code == 403
    allowed = await client.post("/api/v1/api-keys", headers=headers, json={"name": "x", "scopes": ["viewer"]})
    assert allowed.status_code == 201


async def test_api_keys_cannot_mint_api_keys(client: httpx.AsyncClient, tenant_admin: SignedIn) -> None:
    key = (await _create(client, tenant_admin, scopes=["admin"])).json()["key"]
    response = await client.post(
        "/api/v1/api-keys", headers={"Authorization": f"Bearer {key}"}, json={"name": "x", "scopes": ["read"]}
    )
    assert response.status_code == 403


async def test_keys_are_listed_newest_first_with_their_creator_and_pages_follow(
    client: httpx.AsyncClient, tenant_admin: SignedIn
) -> None:
    created = [(await _create(client, tenant_admin, name=f"k{i}")).json()["id"] for i in range(3)]
    first = (await client.get("/api/v1/api-keys?limit=2", headers=tenant_admin.headers)).json()
    assert [item["id"] for item in first["items"]] == created[::-1][:2]
    assert {item["created_by_email"] for item in first["items"]} == {tenant_admin.email}
    second = (
        await client.get(f"/api/v1/api-keys?limit=2&cursor={first['next_cursor']}", headers=tenant_admin.headers)
    ).json()
    assert [item["id"] for item in second["items"]] == [created[0]]
    assert second["next_cursor"] is None
