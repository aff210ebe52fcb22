"""Bad input gets RFC 9457 problem+json 4xx, never echoes secrets, and changes nothing."""

import httpx
import psycopg
import pytest

from tests.fixtures.app import SignedIn

PROBLEM = "application/problem+json"


def _user_count(database) -> int:
    with psycopg.connect(database.superuser_url) as connection:
        return connection.execute('SELECT count(*) FROM auth."user"').fetchone()[0]


def _assert_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("https://nexora.dev/problems/")
    assert body["title"]
    assert body["detail"]
    return body


@pytest.mark.parametrize(
    ("content", "expected_detail"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2, 3]", "does not match"),
        (b'{"email": 42, "password": ["x"], "roles": "admin"}', "does not match"),
        (
            b'{"email": "a@b.example", "password": "long-enough-pass", "roles": ["admin"], "is_root": true}',
            "does not match",
        ),
        (b'{"email": "a@b.example", "password": "long-enough-pass", "roles": ["god"]}', "does not match"),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
    ],
)
async def test_malformed_bodies_get_422_and_create_nothing(
    client: httpx.AsyncClient, tenant_admin: SignedIn, database, content: bytes, expected_detail: str
) -> None:
    before = _user_count(database)
    response = await client.post(
        "/api/v1/users", headers={**tenant_admin.headers, "content-type": "application/json"}, content=content
    )
    body = _assert_problem(response, 422)
    assert expected_detail in body["detail"]
    assert body["errors"]
    assert _user_count(database) == before


async def test_validation_errors_never_echo_the_submitted_password(client: httpx.AsyncClient) -> None:
    secret = "hunter2-very-secret-password"
    response = await client.post("/api/v1/auth/login", json={"email": "not-an-email", "password": secret})
    _assert_problem(response, 422)
    assert secret not in response.text
    response = await client.post(
        "/api/v1/auth/login", json={"email": "a@b.example", "password": secret, "extra": secret}
    )
    _assert_problem(response, 422)
    assert secret not in response.text


async def test_oversized_body_is_refused_with_413(client: httpx.AsyncClient, tenant_admin: SignedIn, database) -> None:
    before = _user_count(database)
    padding = "x" * (70 * 1024)
    response = await client.post(
        "/api/v1/users",
        headers=tenant_admin.headers,
        json={"email": "big@b.example", "password": padding, "roles": ["viewer"]},
    )
    body = _assert_problem(response, 413)
    assert "larger than the limit" in body["detail"]
    assert _user_count(database) == before


async def test_oversized_streamed_body_without_length_is_refused(
    client: httpx.AsyncClient, tenant_admin: SignedIn
) -> None:
    async def chunks():
        for _ in range(100):
            yield b"x" * 1024

    response = await client.post(
        "/api/v1/users", headers={**tenant_admin.headers, "content-type": "application/json"}, content=chunks()
    )
    _assert_problem(response, 413)


async def test_unknown_routes_and_methods_are_problems(client: httpx.AsyncClient, tenant_admin: SignedIn) -> None:
    _assert_problem(await client.get("/api/v1/does-not-exist"), 404)
    _assert_problem(await client.post("/api/v1/does-not-exist", json={}), 404)
    _assert_problem(await client.put("/api/v1/auth/me", headers=tenant_admin.headers), 405)
    _assert_problem(await client.get("/api/v1/users/not-a-uuid", headers=tenant_admin.headers), 422)
    _assert_problem(await client.get("/api/v1/users?limit=100000", headers=tenant_admin.headers), 422)
    _assert_problem(await client.get("/api/v1/users?cursor=%%%%", headers=tenant_admin.headers), 422)


async def test_hostile_strings_are_stored_and_returned_verbatim_not_executed(
    client: httpx.AsyncClient, tenant_admin: SignedIn
) -> None:
    name = "x'); DROP TABLE auth.api_key; -- <script>alert(1)</script> \u202e"
    created = await client.post(
        "/api/v1/api-keys", headers=tenant_admin.headers, json={"name": name, "scopes": ["read"]}
    )
    assert created.status_code == 201
    listed = (await client.get("/api/v1/api-keys", headers=tenant_admin.headers)).json()["items"]
    assert [item["name"] for item in listed] == [name]


async def test_values_the_database_cannot_store_are_422_not_500(
    client: httpx.AsyncClient, tenant_admin: SignedIn
) -> None:
    response = await client.post(
        "/api/v1/api-keys", headers=tenant_admin.headers, json={"name": "nul\u0000byte", "scopes": ["read"]}
    )
    body = _assert_problem(response, 422)
    assert "cannot be stored" in body["detail"]
    listed = (await client.get("/api/v1/api-keys", headers=tenant_admin.headers)).json()["items"]
    assert listed == []
