"""``nexora login --tenant``: signing in when an e-mail has accounts in several tenants."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

from nexora.auth import service as auth_service
from nexora.core.config import Settings
from nexora.core.runtime import Runtime
from tests.fixtures.live import LiveApi, process_env

PASSWORD = "one-password-for-two-tenants"


def _nexora(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nexora", *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


async def test_login_asks_for_a_tenant_when_the_password_opens_several_and_tenant_picks_one(
    live_api: LiveApi, runtime: Runtime, settings: Settings
) -> None:
    email = f"cli-{uuid.uuid4().hex[:8]}@login.example"
    names = []
    for _ in range(2):
        name = f"cli-{uuid.uuid4().hex[:8]}"
        async with runtime.db.unit_of_work() as session:
            await auth_service.create_tenant(
                session, runtime.services["auth"], name=name, admin_email=email, admin_password=PASSWORD
            )
        names.append(name)
    env = {**process_env(settings), "NEXORA_PASSWORD": PASSWORD}

    ambiguous = _nexora("login", "--url", live_api.url, "--email", email, env=env)
    chosen = _nexora("login", "--url", live_api.url, "--email", email, "--tenant", names[1], env=env)
    whoami = _nexora("whoami", "--url", live_api.url, "--format", "json", env=env)

    assert ambiguous.returncode == 1
    assert "several tenants" in ambiguous.stderr
    assert all(name in ambiguous.stderr for name in names)
    assert chosen.returncode == 0, chosen.stderr
    assert names[1] in chosen.stdout
    assert whoami.returncode == 0, whoami.stderr
    async with runtime.db.unit_of_work() as session:
        tenants = {tenant.name: str(tenant.id) for tenant in await auth_service.list_tenants(session)}
    assert json.loads(whoami.stdout)["tenant_id"] == tenants[names[1]]
