"""Auth use cases: tenants, sign-in, sessions, authentication of requests, users and API keys.

Services flush and never commit: the caller's unit of work commits. Business failures that must
still leave a trace (a failed sign-in, a reused refresh token) are returned as outcomes instead of
raised, so the unit of work commits the trace before the error is sent.

Other domains import this package (``from nexora.auth import service as auth_service``); the modules
behind it are split by use case.
"""

from nexora.auth.service.api_keys import create_api_key, list_api_keys, revoke_api_key
from nexora.auth.service.authentication import authenticate
from nexora.auth.service.components import SOURCE, TOKEN_VERSIONS, AuthComponents, Outcome
from nexora.auth.service.process import assemble
from nexora.auth.service.sessions import BAD_CREDENTIALS, MAX_LOGIN_ACCOUNTS, login, logout, refresh
from nexora.auth.service.tenants import (
    BootstrapResult,
    bootstrap,
    create_tenant,
    get_fingerprint_key,
    get_tenant,
    list_tenants,
    update_tenant,
)
from nexora.auth.service.users import (
    bump_token_version,
    create_user,
    delete_user,
    get_user,
    list_users,
    update_user,
)

__all__ = [
    "BAD_CREDENTIALS",
    "MAX_LOGIN_ACCOUNTS",
    "SOURCE",
    "TOKEN_VERSIONS",
    "AuthComponents",
    "BootstrapResult",
    "Outcome",
    "assemble",
    "authenticate",
    "bootstrap",
    "bump_token_version",
    "create_api_key",
    "create_tenant",
    "create_user",
    "delete_user",
    "get_fingerprint_key",
    "get_tenant",
    "get_user",
    "list_api_keys",
    "list_tenants",
    "list_users",
    "login",
    "logout",
    "refresh",
    "revoke_api_key",
    "update_tenant",
    "update_user",
]
