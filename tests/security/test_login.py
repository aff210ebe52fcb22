"""Sign-in cannot be turned against an account's owner, and says nothing about other tenants' users.

* Lockout is per account and source address; failures from everywhere only slow the account down.
* E-mails are unique per tenant: creating one used elsewhere succeeds, and sign-in finds the right tenant.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from nexora.assembly import create_api
from nexora.auth import service as auth_service
from nexora.auth.service.sessions import SEVERAL_TENANTS
from nexora.core.config import Settings
from nexora.core.errors import RateLimited
from nexora.core.ratelimit import LoginThrottle
from nexora.core.runtime import Runtime
from tests.fixtures.app import ADMIN_PASSWORD

Client = Callable[[str], Awaitable[httpx.AsyncClient]]
ATTACKER, OWNER = "198.51.100.66", "203.0.113.10"


@pytest.fixture(scope="module")
async def from_address(settings: Settings, runtime: Runtime) -> AsyncIterator[Client]:
    """HTTP clients of one API process, each calling from its own source address."""
    app = create_api(settings, runtime=runtime)
    clients: dict[str, httpx.AsyncClient] = {}

    async def client(address: str) -> httpx.AsyncClient:
        if address not in clients:
            transport = httpx.ASGITransport(app=app, client=(address, 40000))
            clients[address] = httpx.AsyncClient(transport=transport, base_url="http://nexora.test")
        return clients[address]

    async with app.router.lifespan_context(app):
        yield client
        for opened in clients.values():
            await opened.aclose()


@pytest.fixture
def throttle(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Callable[..., LoginThrottle]:
    """Swap the process's sign-in throttle for one with the given limits (restored after the test)."""

    def install(*, max_failures: int, delay_after: int, max_delay_seconds: int = 30) -> LoginThrottle:
        chosen = LoginThrottle(
            None,
            max_failures=max_failures,
            window_seconds=60,
            ip_limit="1000/minute",
            delay_after=delay_after,
            max_delay_seconds=max_delay_seconds,
        )
        monkeypatch.setattr(runtime.services["auth"], "throttle", chosen)
        return chosen

    return install


async def _tenant(runtime: Runtime, *, email: str | None = None, password: str = ADMIN_PASSWORD) -> tuple[str, str]:
    """A new tenant whose admin has ``email``; returns the tenant's name and id."""
    suffix = uuid.uuid4().hex[:10]
    async with runtime.db.unit_of_work() as session:
        tenant, _ = await auth_service.create_tenant(
            session,
            runtime.services["auth"],
            name=f"login-{suffix}",
            admin_email=email or f"admin-{suffix}@login.example",
            admin_password=password,
        )
    return tenant.name, str(tenant.id)


async def _login(client: httpx.AsyncClient, email: str, password: str, **extra: str) -> httpx.Response:
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password, **extra})


async def _tenant_of(client: httpx.AsyncClient, response: httpx.Response) -> str:
    assert response.status_code == 200, response.json()["detail"]
    me = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {response.json()['access_token']}"})
    return str(me.json()["tenant_id"])


# ---- lockout -------------------------------------------------------------------------------------


async def test_a_correct_password_from_another_address_signs_in_while_one_address_is_locked_out(
    from_address: Client, runtime: Runtime, throttle: Callable[..., LoginThrottle]
) -> None:
    throttle(max_failures=3, delay_after=10)
    email = f"owner-{uuid.uuid4().hex[:8]}@login.example"
    await _tenant(runtime, email=email)
    attacker, owner = await from_address(ATTACKER), await from_address(OWNER)
    for _ in range(3):
        assert (await _login(attacker, email, "a-wrong-guess")).status_code == 401

    locked = await _login(attacker, email, ADMIN_PASSWORD)
    signed_in = await _login(owner, email, ADMIN_PASSWORD)

    assert locked.status_code == 429
    assert "locked for this address" in locked.json()["detail"]
    assert int(locked.headers["retry-after"]) >= 1
    assert signed_in.status_code == 200


async def test_failures_from_many_addresses_make_the_account_wait_but_never_lock_it(
    from_address: Client, runtime: Runtime, throttle: Callable[..., LoginThrottle]
) -> None:
    throttle(max_failures=5, delay_after=2, max_delay_seconds=30)
    email = f"owner-{uuid.uuid4().hex[:8]}@login.example"
    await _tenant(runtime, email=email)
    for i in range(3):  # three addresses, one failure each: the third is beyond the two free ones
        assert (await _login(await from_address(f"198.51.100.{i + 1}"), email, "a-wrong-guess")).status_code == 401

    waiting = await _login(await from_address(OWNER), email, ADMIN_PASSWORD)

    assert waiting.status_code == 429
    assert waiting.headers["content-type"] == "application/problem+json"
    assert waiting.json()["detail"] == "repeated failed sign-ins for this account: wait before trying again"
    assert int(waiting.headers["retry-after"]) == 1
    deadline = time.monotonic() + 10
    while (response := await _login(await from_address(OWNER), email, ADMIN_PASSWORD)).status_code == 429:
        assert time.monotonic() < deadline, "the wait ends by itself"
        await asyncio.sleep(0.1)
    assert response.status_code == 200


async def test_each_further_failure_doubles_the_wait_up_to_the_cap() -> None:
    throttle = LoginThrottle(
        None, max_failures=100, window_seconds=600, ip_limit="1000/minute", delay_after=1, max_delay_seconds=4
    )
    email = f"owner-{uuid.uuid4().hex[:8]}@login.example"
    waits = []
    for i in range(5):
        await throttle.record_failure(email, f"198.51.100.{i + 1}")
        try:
            await throttle.check(email, OWNER)
            waits.append(0)
        except RateLimited as limited:
            waits.append(limited.retry_after)

    assert waits == [0, 1, 2, 4, 4]


async def test_a_successful_sign_in_clears_the_accounts_wait() -> None:
    throttle = LoginThrottle(None, max_failures=5, window_seconds=600, ip_limit="1000/minute", delay_after=1)
    email = f"owner-{uuid.uuid4().hex[:8]}@login.example"
    for address in ("198.51.100.1", "198.51.100.2"):
        await throttle.record_failure(email, address)
    with pytest.raises(RateLimited, match="wait"):
        await throttle.check(email, OWNER)

    await throttle.reset(email, OWNER)

    await throttle.check(email, OWNER)
    await throttle.check(email, "198.51.100.1")


# ---- one e-mail, several tenants ------------------------------------------------------------------


async def test_an_admin_can_create_a_user_whose_email_is_taken_in_another_tenant(
    from_address: Client, runtime: Runtime
) -> None:
    shared = f"shared-{uuid.uuid4().hex[:8]}@login.example"
    await _tenant(runtime, email=shared)
    admin_email = f"admin-{uuid.uuid4().hex[:8]}@login.example"
    await _tenant(runtime, email=admin_email)
    client = await from_address(OWNER)
    admin = (await _login(client, admin_email, ADMIN_PASSWORD)).json()["access_token"]

    created = await client.post(
        "/api/v1/users",
        headers={"Authorization": f"Bearer {admin}"},
        json={"email": shared.upper(), "password": "another-long-password", "roles": ["viewer"]},
    )
    again = await client.post(
        "/api/v1/users",
        headers={"Authorization": f"Bearer {admin}"},
        json={"email": shared, "password": "another-long-password", "roles": ["viewer"]},
    )

    assert created.status_code == 201
    assert created.json()["email"] == shared
    assert again.status_code == 409
    assert again.json()["detail"] == "a user with this e-mail already exists in this tenant"


async def test_sign_in_with_a_shared_email_reaches_the_tenant_whose_password_matches(
    from_address: Client, runtime: Runtime
) -> None:
    email = f"shared-{uuid.uuid4().hex[:8]}@login.example"
    _, first = await _tenant(runtime, email=email, password="first-tenant-password")
    _, second = await _tenant(runtime, email=email, password="second-tenant-password")
    client = await from_address(OWNER)

    into_first = await _login(client, email, "first-tenant-password")
    into_second = await _login(client, email, "second-tenant-password")

    assert await _tenant_of(client, into_first) == first
    assert await _tenant_of(client, into_second) == second


async def test_a_password_that_opens_several_tenants_asks_to_choose_one_and_tenant_picks_it(
    from_address: Client, runtime: Runtime
) -> None:
    email = f"shared-{uuid.uuid4().hex[:8]}@login.example"
    first_name, first = await _tenant(runtime, email=email)
    second_name, second = await _tenant(runtime, email=email)
    client = await from_address(OWNER)

    ambiguous = await _login(client, email, ADMIN_PASSWORD)
    by_name = await _login(client, email, ADMIN_PASSWORD, tenant=first_name)
    by_id = await _login(client, email, ADMIN_PASSWORD, tenant=second.upper())

    assert ambiguous.status_code == 409
    assert ambiguous.json()["detail"] == SEVERAL_TENANTS
    assert sorted(ambiguous.json()["tenants"], key=lambda t: t["name"]) == sorted(
        [{"id": first, "name": first_name}, {"id": second, "name": second_name}], key=lambda t: t["name"]
    )
    assert await _tenant_of(client, by_name) == first
    assert await _tenant_of(client, by_id) == second


async def test_a_wrong_password_for_a_shared_email_gets_the_answer_an_unknown_email_gets(
    from_address: Client, runtime: Runtime
) -> None:
    email = f"shared-{uuid.uuid4().hex[:8]}@login.example"
    first_name, _ = await _tenant(runtime, email=email)
    await _tenant(runtime, email=email)
    client = await from_address(OWNER)

    wrong = await _login(client, email, "not-the-password")
    wrong_tenant = await _login(client, email, ADMIN_PASSWORD, tenant=f"no-such-{first_name}")
    unknown = await _login(client, f"nobody-{uuid.uuid4().hex[:8]}@login.example", "not-the-password")

    assert wrong.status_code == wrong_tenant.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == wrong_tenant.json()["detail"] == unknown.json()["detail"]
    assert "tenants" not in wrong.json()
