"""Property-based API testing from the OpenAPI document (schemathesis) against a real `nexora api`.

Every generated request, valid or not, must get a documented status code, a response that matches
the declared schema, and never a 5xx.
"""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.fixtures.live import LiveApi


@pytest.fixture(scope="module")
def api_schema(live_api: LiveApi) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{live_api.url}/api/v1/openapi.json")


@pytest.fixture(scope="module")
async def fuzz_headers(live_api: LiveApi, new_tenant) -> dict[str, str]:
    admin = await new_tenant()
    # A separate user to act as: fuzzing may disable or delete users, and the admin must survive.
    email = f"fuzz-{admin.tenant_id.hex[:8]}@fuzz.example"
    async with httpx.AsyncClient(base_url=live_api.url) as http:
        await http.post(
            "/api/v1/users",
            headers=admin.headers,
            json={"email": email, "password": "fuzz-password-123", "roles": ["admin"]},
        )
        tokens = (await http.post("/api/v1/auth/login", json={"email": email, "password": "fuzz-password-123"})).json()
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def test_every_operation_conforms_to_its_documented_contract(api_schema, fuzz_headers: dict[str, str]) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:
        if (operation.method.upper(), operation.path) == ("POST", "/api/v1/tenants"):
            continue  # needs a platform admin; covered by tests/auth

        @given(case=operation.as_strategy())
        @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case) -> None:
            # Business rules (cursor integrity, password length, the last admin) rightly refuse some
            # schema-valid input with 4xx, so "positive data must be accepted" does not apply.
            case.call_and_validate(headers=fuzz_headers, excluded_checks=[positive_data_acceptance])

        check()
