import base64
import hashlib
import hmac
import json
import uuid

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import OKPKey

from nexora.auth import service as auth_service
from nexora.core.config import DatabaseSettings
from nexora.core.db import Database
from nexora.core.errors import Unauthenticated
from nexora.core.keyformat import generate_api_key
from tests.fixtures.app import SignedIn


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _claims(admin: SignedIn) -> dict[str, object]:
    return {"sub": str(admin.user_id), "tid": str(admin.tenant_id), "email": admin.email, "roles": ["admin"]}


async def _me(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})


async def test_expired_token_is_rejected(client: httpx.AsyncClient, tenant_admin: SignedIn, runtime) -> None:
    signer = runtime.services["auth"].signer
    token = signer.issue(_claims(tenant_admin), ttl_seconds=-5)
    response = await _me(client, token)
    assert response.status_code == 401
    assert "expired" in response.json()["detail"]


async def test_token_signed_by_another_key_is_rejected(
    client: httpx.AsyncClient, tenant_admin: SignedIn, runtime
) -> None:
    signer = runtime.services["auth"].signer
    attacker = OKPKey.generate_key("Ed25519", private=True)
    header = {"alg": "EdDSA", "kid": signer.active.kid, "typ": "at+jwt"}
    payload = {**_claims(tenant_admin), "iss": "nexora", "exp": 4_000_000_000, "iat": 1}
    forged = jwt.encode(header, payload, attacker, algorithms=["EdDSA"])
    assert (await _me(client, forged)).status_code == 401


async def test_alg_none_token_is_rejected(client: httpx.AsyncClient, tenant_admin: SignedIn, runtime) -> None:
    signer = runtime.services["auth"].signer
    header = _b64(json.dumps({"alg": "none", "kid": signer.active.kid}).encode())
    payload = _b64(json.dumps({**_claims(tenant_admin), "iss": "nexora", "exp": 4_000_000_000}).encode())
    for token in (f"{header}.{payload}.", f"{header}.{payload}"):
        assert (await _me(client, token)).status_code == 401


async def test_hs256_token_signed_with_the_public_key_is_rejected(
    client: httpx.AsyncClient, tenant_admin: SignedIn
) -> None:
    jwks = (await client.get("/.well-known/jwks.json")).json()
    public = jwks["keys"][0]
    header = _b64(json.dumps({"alg": "HS256", "kid": public["kid"], "typ": "JWT"}).encode())
    payload = _b64(json.dumps({**_claims(tenant_admin), "iss": "nexora", "exp": 4_000_000_000}).encode())
    for secret in (public["x"].encode(), json.dumps(public).encode(), base64.urlsafe_b64decode(public["x"] + "==")):
        signature = _b64(hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest())
        assert (await _me(client, f"{header}.{payload}.{signature}")).status_code == 401


async def test_tampered_token_is_rejected(client: httpx.AsyncClient, tenant_admin: SignedIn) -> None:
    header, payload, signature = tenant_admin.access_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["tid"] = str(uuid.uuid4())
    tampered = f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
    assert (await _me(client, tampered)).status_code == 401


async def test_garbage_and_missing_credentials_are_rejected(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    assert (await _me(client, "not.a.jwt")).status_code == 401
    assert (await client.get("/api/v1/auth/me", headers={"Authorization": "Basic Zm9vOmJhcg=="})).status_code == 401


async def test_jwks_publishes_the_signing_key(client: httpx.AsyncClient, tenant_admin: SignedIn) -> None:
    jwks = (await client.get("/.well-known/jwks.json")).json()
    kid = json.loads(base64.urlsafe_b64decode(tenant_admin.access_token.split(".")[0] + "=="))["kid"]
    published = {key["kid"]: key for key in jwks["keys"]}
    assert published[kid]["alg"] == "EdDSA"
    assert published[kid]["crv"] == "Ed25519"
    assert "d" not in published[kid]
    verified = jwt.decode(tenant_admin.access_token, OKPKey.import_key(published[kid]), algorithms=["EdDSA"])
    assert verified.claims["sub"] == str(tenant_admin.user_id)


async def test_api_key_with_a_bad_checksum_is_rejected_before_any_database_lookup(runtime) -> None:
    # This database points at a closed port: any lookup would fail with a connection error.
    unreachable = Database("postgresql://nobody@127.0.0.1:9/none", DatabaseSettings(pool_size=1, max_overflow=0))
    key = generate_api_key()
    corrupted = key[:-1] + ("A" if key[-1] != "A" else "B")
    try:
        with pytest.raises(Unauthenticated, match="malformed"):
            await auth_service.authenticate(unreachable, runtime.services["auth"], corrupted)
        with pytest.raises(OSError, match=r"Connect call failed|connect"):
            await auth_service.authenticate(unreachable, runtime.services["auth"], key)
    finally:
        await unreachable.dispose()


async def test_a_token_issued_before_token_versions_counts_as_version_zero(
    client: httpx.AsyncClient, tenant_admin: SignedIn, runtime
) -> None:
    signer = runtime.services["auth"].signer
    token = signer.issue(_claims(tenant_admin), ttl_seconds=60)  # no "tv" claim, as before versions existed

    response = await _me(client, token)

    assert response.status_code == 200


async def test_a_token_whose_version_is_not_an_integer_is_refused(
    client: httpx.AsyncClient, tenant_admin: SignedIn, runtime
) -> None:
    signer = runtime.services["auth"].signer
    statuses = [
        (await _me(client, signer.issue({**_claims(tenant_admin), "tv": version}, ttl_seconds=60))).status_code
        for version in ("0", False, 0.0, None)
    ]

    assert statuses == [401, 401, 401, 401]


async def test_a_token_with_an_older_version_is_refused(
    client: httpx.AsyncClient, tenant_admin: SignedIn, runtime
) -> None:
    signer = runtime.services["auth"].signer
    async with runtime.db.unit_of_work(tenant_admin.tenant_id) as session:
        await auth_service.bump_token_version(session, tenant_admin.tenant_id, tenant_admin.user_id, "test")
    older, current = (signer.issue({**_claims(tenant_admin), "tv": v}, ttl_seconds=60) for v in (0, 1))

    refused, accepted = await _me(client, older), await _me(client, current)

    assert refused.status_code == 401
    assert accepted.status_code == 200
