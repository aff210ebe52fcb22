"""Helpers for discovery tests: connectors through the API, runs, and reading the inventory back."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.fixtures.app import SignedIn


class Api:
    """A signed-in tenant admin talking to the discovery API."""

    def __init__(self, client: httpx.AsyncClient, admin: SignedIn) -> None:
        self.client = client
        self.admin = admin

    async def create_connector(self, name: str, kind: str, config: dict[str, Any], credentials: Any = None) -> dict:
        body: dict[str, Any] = {"name": name, "kind": kind, "config": config}
        if credentials is not None:
            body["credentials"] = credentials
        response = await self.client.post("/api/v1/connectors", headers=self.admin.headers, json=body)
        assert response.status_code == 201, response.text
        return response.json()

    async def run(self, connector_id: str) -> dict:
        response = await self.client.post(
            f"/api/v1/connectors/{connector_id}/runs", headers=self.admin.headers, params={"wait": "true"}
        )
        assert response.status_code == 202, response.text
        return response.json()

    async def every(self, path: str, **params: Any) -> list[dict]:
        """Every item of a list endpoint, following ``next_cursor`` to the end."""
        items: list[dict] = []
        cursor = None
        while True:
            query = {**params, "limit": 500, **({"cursor": cursor} if cursor else {})}
            response = await self.client.get(path, headers=self.admin.headers, params=query)
            assert response.status_code == 200, response.text
            page = response.json()
            items += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                return items

    async def nhis(self, **params: Any) -> list[dict]:
        return await self.every("/api/v1/nhis", **params)

    async def findings(self, **params: Any) -> list[dict]:
        return await self.every("/api/v1/findings", **params)

    async def get(self, path: str, **params: Any) -> Any:
        response = await self.client.get(path, headers=self.admin.headers, params=params)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def api(client: httpx.AsyncClient, tenant_admin: SignedIn) -> Api:
    return Api(client, tenant_admin)


def finding_pairs(findings: list[dict]) -> set[tuple[str, str]]:
    """(NHI name, check id) of each finding: what the scenario tests compare exactly."""
    return {(f["nhi_name"], f["check_id"]) for f in findings}
