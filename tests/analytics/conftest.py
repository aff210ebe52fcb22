"""A tenant with an inventory (the demo) whose access keys the activity tests act as."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.fixtures.app import SignedIn, TenantFactory


@dataclass
class Inventoried:
    admin: SignedIn
    key_id: str
    key_nhi_id: str
    user: str
    account: str


async def inventoried_tenant(client: httpx.AsyncClient, new_tenant: TenantFactory) -> Inventoried:
    admin = await new_tenant()
    loaded = await client.post("/api/v1/demo", headers=admin.headers)
    assert loaded.status_code == 201, loaded.text
    page = await client.get("/api/v1/nhis", headers=admin.headers, params={"kind": "access_key", "limit": 1})
    key: dict[str, Any] = page.json()["items"][0]
    return Inventoried(admin, key["external_id"], key["id"], key["name"].split("/")[0], key["account"])


@pytest.fixture
async def inventoried(client: httpx.AsyncClient, new_tenant: TenantFactory) -> Inventoried:
    return await inventoried_tenant(client, new_tenant)
