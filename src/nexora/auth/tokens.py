"""EdDSA (Ed25519) JWT access tokens, the signing-key ring and the JWKS document.

Private keys live in ``auth.signing_key`` envelope-encrypted, so every API replica signs with the
same key; retired keys stay in the JWKS until their tokens have expired.
"""

from __future__ import annotations

import time
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey
from joserfc.jws import extract_compact
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from nexora.auth.models import SigningKey
from nexora.core.crypto import EnvelopeCipher
from nexora.core.errors import Unauthenticated
from nexora.core.ids import utcnow, uuid7

ALGORITHM = "EdDSA"
VERIFIED_CACHE_SIZE = 10_000
TOKEN_TYPE = "at+jwt"  # noqa: S105 - RFC 9068 media type, not a secret

# joserfc flags "EdDSA" as superseded by RFC 9864's "Ed25519"; it is still the name every JWT
# verifier in the field (gateways, SDKs) accepts, so we keep it and silence the notice.
warnings.filterwarnings("ignore", message="EdDSA is deprecated")


@dataclass(frozen=True)
class KeyMaterial:
    kid: str
    key: OKPKey
    retired: bool

    @property
    def public(self) -> OKPKey:
        return OKPKey.import_key(self.key.as_dict(private=False))


class TokenSigner:
    """Signs access tokens with the newest active key and verifies against every known key."""

    def __init__(self, keys: list[KeyMaterial], issuer: str) -> None:
        if not any(not k.retired for k in keys):
            raise ValueError("no active signing key")
        self.keys = {k.kid: k for k in keys}
        self.public_keys = {k.kid: k.public for k in keys}
        # Verified tokens, until they expire: a session presents the same token on every request.
        self._verified: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.active = next(k for k in reversed(keys) if not k.retired)
        self.issuer = issuer

    def issue(self, claims: dict[str, Any], ttl_seconds: int) -> str:
        now = utcnow()
        payload = {
            **claims,
            "iss": self.issuer,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int((now + timedelta(seconds=ttl_seconds)).timestamp()),
            "jti": str(uuid7()),
        }
        header = {"alg": ALGORITHM, "kid": self.active.kid, "typ": TOKEN_TYPE}
        return jwt.encode(header, payload, self.active.key, algorithms=[ALGORITHM])

    def knows(self, token: str) -> bool:
        try:
            kid = extract_compact(token.encode()).protected.get("kid")
        except (JoseError, ValueError):
            return True  # malformed: let verify() explain
        return kid in self.keys

    def verify(self, token: str) -> dict[str, Any]:
        """Return the claims of a valid token or raise :class:`Unauthenticated`.

        Only EdDSA with one of our key ids is accepted: ``alg: none``, HMAC algorithms and tokens
        signed by any other key fail, as do expired, not-yet-valid and foreign-issuer tokens.
        """
        cached = self._verified.get(token)
        if cached is not None:
            if cached["exp"] > time.time():
                self._verified.move_to_end(token)
                return dict(cached)
            del self._verified[token]
        try:
            header = extract_compact(token.encode()).protected
        except (JoseError, ValueError, TypeError):
            raise Unauthenticated("the access token is malformed") from None
        if header.get("alg") != ALGORITHM:
            raise Unauthenticated("the access token is not signed with an accepted algorithm")
        public_key = self.public_keys.get(str(header.get("kid")))
        if public_key is None:
            raise Unauthenticated("the access token was signed by an unknown key")
        try:
            decoded = jwt.decode(token, public_key, algorithms=[ALGORITHM])
            registry = jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": self.issuer},
                exp={"essential": True},
                sub={"essential": True},
                tid={"essential": True},
            )
            registry.validate(decoded.claims)
        except JoseError as error:
            reason = "expired" if "expired" in str(error).lower() else "invalid"
            raise Unauthenticated(f"the access token is {reason}; sign in or refresh again") from None
        except (ValueError, TypeError):
            raise Unauthenticated("the access token is invalid; sign in or refresh again") from None
        claims = dict(decoded.claims)
        self._verified[token] = claims
        if len(self._verified) > VERIFIED_CACHE_SIZE:
            self._verified.popitem(last=False)
        return dict(claims)

    def jwks(self) -> dict[str, Any]:
        return {
            "keys": [
                {**public.as_dict(private=False), "kid": kid, "alg": ALGORITHM, "use": "sig"}
                for kid, public in self.public_keys.items()
            ]
        }


async def load_signer(session: AsyncSession, cipher: EnvelopeCipher, issuer: str) -> TokenSigner:
    """Load the key ring, creating the first Ed25519 key if the installation has none."""
    rows = (await session.scalars(select(SigningKey).order_by(SigningKey.created_at))).all()
    if not any(row.retired_at is None for row in rows):
        await rotate_signing_key(session, cipher)
        rows = (await session.scalars(select(SigningKey).order_by(SigningKey.created_at))).all()
    keys = [
        KeyMaterial(
            kid=row.kid,
            key=OKPKey.import_key(cipher.decrypt_text(row.private_key, row.kid)),
            retired=row.retired_at is not None,
        )
        for row in rows
    ]
    return TokenSigner(keys, issuer)


async def rotate_signing_key(session: AsyncSession, cipher: EnvelopeCipher) -> str:
    """Add a new active key and retire the previous ones (they keep verifying until dropped)."""
    key = OKPKey.generate_key("Ed25519", private=True)
    kid = "k" + uuid7().hex[:20]
    for row in (await session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None)))).all():
        row.retired_at = utcnow()
    session.add(
        SigningKey(
            kid=kid,
            algorithm=ALGORITHM,
            public_jwk=key.as_dict(private=False),
            private_key=cipher.encrypt_text(key.as_pem(private=True).decode(), kid),
        )
    )
    await session.flush()
    return kid
