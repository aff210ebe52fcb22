import httpx

from tests.fixtures.app import SignedIn, TenantFactory


def _user(admin: SignedIn, name: str, roles: list[str]) -> dict[str, object]:
    return {"email": f"{name}-{admin.tenant_id.hex[:8]}@users.example", "password": "a-long-password-1", "roles": roles}


async def test_admin_manages_users_and_roles_take_effect(client: httpx.AsyncClient, tenant_admin: SignedIn) -> None:
    body = _user(tenant_admin, "analyst", ["analyst"])
    created = await client.post("/api/v1/users", headers=tenant_admin.headers, json=body)
    assert created.status_code == 201
    user = created.json()
    assert user["roles"] == ["analyst"]

    login = await client.post("/api/v1/auth/login", json={"email": body["email"], "password": body["password"]})
    analyst = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert (await client.get("/api/v1/users", headers=analyst)).status_code == 403

    patched = await client.patch(
        f"/api/v1/users/{user['id']}", headers=tenant_admin.headers, json={"roles": ["auditor", "viewer"]}
    )
    assert patched.status_code == 200
    assert patched.json()["roles"] == ["auditor", "viewer"]

    listed = (await client.get("/api/v1/users", headers=tenant_admin.headers)).json()["items"]
    assert {u["email"] for u in listed} == {tenant_admin.email, body["email"]}

    assert (await client.delete(f"/api/v1/users/{user['id']}", headers=tenant_admin.headers)).status_code == 204
    assert (await client.get(f"/api/v1/users/{user['id']}", headers=tenant_admin.headers)).status_code == 404


async def test_disabled_user_cannot_sign_in_or_refresh(client: httpx.AsyncClient, tenant_admin: SignedIn) -> None:
    body = _user(tenant_admin, "soon-disabled", ["viewer"])
    user = (await client.post("/api/v1/users", headers=tenant_admin.headers, json=body)).json()
    tokens = (
        await client.post("/api/v1/auth/login", json={"email": body["email"], "password": body["password"]})
    ).json()
    await client.patch(f"/api/v1/users/{user['id']}", headers=tenant_admin.headers, json={"is_active": False})
    login = await client.post("/api/v1/auth/login", json={"email": body["email"], "password": body["password"]})
    assert login.status_code == 401
    assert "disabled" in login.json()["detail"]
    assert (
        await client.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    ).status_code == 401


async def test_the_last_admin_cannot_be_demoted_or_deleted(client: httpx.AsyncClient, tenant_admin: SignedIn) -> None:
    demote = await client.patch(
        f"/api/v1/users/{tenant_admin.user_id}", headers=tenant_admin.headers, json={"roles": ["viewer"]}
    )
    assert demote.status_code == 409
    delete_self = await client.delete(f"/api/v1/users/{tenant_admin.user_id}", headers=tenant_admin.headers)
    assert delete_self.status_code == 409


async def test_duplicate_email_and_short_password_are_refused(
    client: httpx.AsyncClient, tenant_admin: SignedIn
) -> None:
    duplicate = await client.post(
        "/api/v1/users",
        headers=tenant_admin.headers,
        json={"email": tenant_admin.email, "password": "a-long-password-1", "roles": ["viewer"]},
    )
    assert duplicate.status_code == 409
    short = await client.post(
        "/api/v1/users",
        headers=tenant_admin.headers,
        json={**_user(tenant_admin, "s", ["viewer"]), "password": "short"},
    )
    assert short.status_code == 422
    assert "at least 12" in short.json()["detail"]


async def test_platform_admin_creates_tenants_and_others_cannot(
    client: httpx.AsyncClient, new_tenant: TenantFactory, tenant_admin: SignedIn
) -> None:
    platform = await new_tenant(platform_admin=True)
    name = f"acme-{tenant_admin.tenant_id.hex[:8]}"
    body = {"name": name, "admin_email": f"root@{name}.example", "admin_password": "acme-admin-password"}
    denied = await client.post("/api/v1/tenants", headers=tenant_admin.headers, json=body)
    assert denied.status_code == 403
    created = await client.post("/api/v1/tenants", headers=platform.headers, json=body)
    assert created.status_code == 201
    assert created.json()["name"] == name
    login = await client.post(
        "/api/v1/auth/login", json={"email": body["admin_email"], "password": body["admin_password"]}
    )
    me = (
        await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"})
    ).json()
    assert me["tenant_id"] == created.json()["id"]
    assert me["roles"] == ["admin"]
    again = await client.post("/api/v1/tenants", headers=platform.headers, json={**body, "admin_email": "x@y.example"})
    assert again.status_code == 409


async def test_tenant_settings_are_read_by_members_and_changed_by_admins(
    client: httpx.AsyncClient, tenant_admin: SignedIn
) -> None:
    response = await client.patch("/api/v1/tenant", headers=tenant_admin.headers, json={"settings": {"stale_days": 60}})
    assert response.status_code == 200
    assert response.json()["settings"] == {"stale_days": 60}
    assert (await client.get("/api/v1/tenant", headers=tenant_admin.headers)).json()["settings"] == {"stale_days": 60}


async def test_a_null_tenant_setting_removes_it(client: httpx.AsyncClient, tenant_admin: SignedIn) -> None:
    await client.patch("/api/v1/tenant", headers=tenant_admin.headers, json={"settings": {"a": 1, "b": "x"}})
    response = await client.patch("/api/v1/tenant", headers=tenant_admin.headers, json={"settings": {"a": None}})
    assert response.json()["settings"] == {"b": "x"}


async def test_password_policy_is_published(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/auth/password-policy")).json() == {"min_length": 12}


async def test_user_pages_follow_the_cursor(client: httpx.AsyncClient, tenant_admin: SignedIn) -> None:
    for i in range(3):
        await client.post(
            "/api/v1/users", headers=tenant_admin.headers, json=_user(tenant_admin, f"page{i}", ["viewer"])
        )
    seen: list[str] = []
    cursor = None
    while True:
        query = "/api/v1/users?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = (await client.get(query, headers=tenant_admin.headers)).json()
        seen += [user["email"] for user in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 4
    assert len(set(seen)) == 4
