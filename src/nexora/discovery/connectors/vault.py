"""The HashiCorp Vault connector (hvac): auth methods, AppRoles and secret-id TTLs, token roles, policies."""

from __future__ import annotations

import re
from typing import Any

import hvac
import requests
from hvac import exceptions as vault_errors
from pydantic import Field, SecretStr

from nexora.core.errors import UpstreamUnavailable
from nexora.core.outbound import guarded_requests_session
from nexora.core.resilience import Throttled
from nexora.discovery.connectors.base import (
    CollectContext,
    ConfigModel,
    ConnectorType,
    CredentialsModel,
    HttpUrl,
    error_message,
)
from nexora.discovery.records import Collection, EdgeRecord, NhiRecord, infer_environment, infer_owner

PROVIDER = "vault"
_PATH_RULE = re.compile(r'path\s+"([^"]+)"\s*\{([^}]*)\}', re.S)
_CAPABILITIES = re.compile(r"capabilities\s*=\s*\[([^\]]*)\]")
WRITE = frozenset({"create", "update", "delete", "sudo", "patch"})


class VaultConfig(ConfigModel):
    url: HttpUrl = Field(max_length=2048, description="Vault address, e.g. https://vault.example:8200.")
    namespace: str | None = Field(default=None, max_length=200, description="Vault Enterprise namespace.")
    environment: str | None = Field(default=None, pattern="^(prod|staging|dev|unknown)$")


class VaultCredentials(CredentialsModel):
    token: SecretStr = Field(min_length=1, max_length=1024, description="A token with read access to sys and auth.")


def _classify(error: Exception) -> Exception:
    if isinstance(error, vault_errors.RateLimitExceeded):
        return Throttled("Vault throttled the request")
    if isinstance(error, requests.ConnectionError | requests.Timeout):
        return UpstreamUnavailable(f"Vault cannot be reached ({type(error).__name__})")
    return error


_ANSWERS = (vault_errors.InvalidRequest, vault_errors.Unauthorized, vault_errors.Forbidden, vault_errors.InvalidPath)


def _answered(error: Exception) -> bool:
    """Vault answered (400/401/403/404): the endpoint is up."""
    return isinstance(error, _ANSWERS)


class VaultApi:
    def __init__(self, config: VaultConfig, credentials: VaultCredentials | None, context: CollectContext) -> None:
        context.check_url(config.url)
        self.context = context
        self.endpoint = f"vault:{config.url}"
        token = credentials.token.get_secret_value() if credentials else None
        # The guarded session checks every connection, including those of redirects (hvac follows them).
        self.client = hvac.Client(
            url=config.url,
            token=token,
            timeout=context.timeout,
            namespace=config.namespace,
            session=guarded_requests_session(context.guard, credential_headers=("X-Vault-Token",)),
        )

    def call(self, operation: Any) -> Any:
        return self.context.call(self.endpoint, operation, _classify, _answered)

    def keys(self, operation: Any) -> list[str]:
        try:
            response = self.call(operation)
        except vault_errors.InvalidPath:
            return []
        return list(((response or {}).get("data") or {}).get("keys") or [])


def parse_policy(text: str) -> dict[str, Any]:
    """Paths and capabilities of an HCL ACL policy, summarised: admin, wildcard paths, secret access."""
    rules = []
    for path, body in _PATH_RULE.findall(text or ""):
        found = _CAPABILITIES.search(body)
        capabilities = sorted(
            {c.strip().strip('"') for c in found.group(1).split(",") if c.strip()} if found else set()
        )
        rules.append({"path": path, "capabilities": capabilities})
    admin = any(
        rule["path"] in ("*", "+/*") and ("sudo" in rule["capabilities"] or "*" in rule["capabilities"])
        for rule in rules
    )
    wildcard = sorted(
        rule["path"] for rule in rules if rule["path"].endswith("*") and WRITE & set(rule["capabilities"])
    )
    secrets = sorted(
        rule["path"]
        for rule in rules
        if rule["path"].startswith(("secret/", "kv/")) and {"read", "list"} & set(rule["capabilities"])
    )
    escalation = sorted(
        rule["path"]
        for rule in rules
        if rule["path"].startswith(("sys/policies", "sys/policy", "auth/token/create"))
        and WRITE & set(rule["capabilities"])
    )
    return {"rules": rules, "admin": admin, "wildcard": wildcard, "secrets": secrets, "escalation": escalation}


def get_all(api: VaultApi, collection: Collection) -> dict[str, Any]:
    raw: dict[str, Any] = {"auth_methods": {}, "approles": {}, "token_roles": {}, "policies": {}}
    try:
        methods = api.call(api.client.sys.list_auth_methods)
        raw["auth_methods"] = {
            k: v for k, v in ((methods or {}).get("data") or methods or {}).items() if isinstance(v, dict)
        }
    except Exception as error:
        collection.error("vault:sys/auth", error_message(error))
    for mount, method in raw["auth_methods"].items():
        if method.get("type") != "approle":
            continue
        mount_point = mount.strip("/")
        try:
            names = api.keys(
                lambda mount_point=mount_point: api.client.auth.approle.list_roles(mount_point=mount_point)
            )
            for name in names:
                role = api.call(
                    lambda name=name, mount_point=mount_point: api.client.auth.approle.read_role(
                        name, mount_point=mount_point
                    )
                )
                raw["approles"][f"{mount_point}/{name}"] = (role or {}).get("data") or {}
        except Exception as error:
            collection.error(f"vault:auth/{mount_point}/role", error_message(error))
    try:
        for name in api.keys(lambda: api.client.adapter.list("/v1/auth/token/roles")):
            role = api.call(lambda name=name: api.client.adapter.get(f"/v1/auth/token/roles/{name}"))
            raw["token_roles"][name] = (role or {}).get("data") or {}
    except Exception as error:
        collection.error("vault:auth/token/roles", error_message(error))
    try:
        for name in api.keys(api.client.sys.list_acl_policies):
            policy = api.call(lambda name=name: api.client.sys.read_acl_policy(name))
            raw["policies"][name] = ((policy or {}).get("data") or {}).get("policy", "")
    except Exception as error:
        collection.error("vault:sys/policies/acl", error_message(error))
    return raw


def _principal_privilege(policy_names: list[str], policies: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    chosen = [policies[name] for name in policy_names if name in policies]
    admin = [name for name in policy_names if name == "root" or (name in policies and policies[name]["admin"])]
    permissions = {
        "admin_sources": admin,
        "wildcard_actions": sorted({p for policy in chosen for p in policy["wildcard"]}),
        "escalation_actions": sorted({p for policy in chosen for p in policy["escalation"]}),
        "secrets_access": False,
        "secrets_rules": sorted({p for policy in chosen for p in policy["secrets"]}),
        "policies": policy_names,
    }
    if admin:
        return "admin", permissions
    if permissions["wildcard_actions"] or permissions["escalation_actions"]:
        return "high", permissions
    return ("medium" if permissions["secrets_rules"] else "low"), permissions


def _seconds(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def transform(raw: dict[str, Any], environment: str | None = None) -> Collection:
    """Vault payloads into AppRole, token-role, auth-method and policy records (pure)."""
    collection = Collection()
    policies = {name: parse_policy(text) for name, text in raw.get("policies", {}).items()}
    for name, summary in policies.items():
        collection.nhis.append(
            NhiRecord(
                PROVIDER,
                "policy",
                f"policy/{name}",
                name,
                "vault",
                environment or "unknown",
                privilege_level="admin" if summary["admin"] else "none",
                attributes={"rules": summary["rules"]},
            )
        )
    for mount, method in raw.get("auth_methods", {}).items():
        collection.nhis.append(
            NhiRecord(
                PROVIDER,
                "auth_method",
                f"auth/{mount.strip('/')}",
                mount.strip("/"),
                "vault",
                environment or "unknown",
                privilege_level="none",
                attributes={"type": method.get("type"), "local": method.get("local", False)},
            )
        )
    for key, role in raw.get("approles", {}).items():
        names = list(role.get("token_policies") or role.get("policies") or [])
        level, permissions = _principal_privilege(names, policies)
        secret_id_ttl = _seconds(role.get("secret_id_ttl"))
        metadata = role.get("token_meta") or {}
        owner = infer_owner(metadata)
        collection.nhis.append(
            NhiRecord(
                PROVIDER,
                "vault_approle",
                f"approle/{key}",
                f"approle/{key.split('/', 1)[-1]}",
                "vault",
                environment or infer_environment(metadata, key),
                owner,
                "metadata" if owner else None,
                privilege_level=level,
                permissions=permissions,
                attributes={
                    "secret_id_ttl": secret_id_ttl,
                    "secret_id_num_uses": _seconds(role.get("secret_id_num_uses")),
                    "token_ttl": _seconds(role.get("token_ttl")),
                    "token_max_ttl": _seconds(role.get("token_max_ttl")),
                    "bound_cidrs": role.get("secret_id_bound_cidrs") or [],
                    "expiry_applies": secret_id_ttl == 0,
                },
            )
        )
        for name in names:
            collection.edges.append(EdgeRecord(f"approle/{key}", f"policy/{name}", "grants_access_to"))
    for name, role in raw.get("token_roles", {}).items():
        names = list(role.get("allowed_policies") or [])
        level, permissions = _principal_privilege(names, policies)
        max_ttl, period = (
            _seconds(role.get("token_explicit_max_ttl")),
            _seconds(role.get("token_period") or role.get("period")),
        )
        collection.nhis.append(
            NhiRecord(
                PROVIDER,
                "vault_token",
                f"token-role/{name}",
                f"token role {name}",
                "vault",
                environment or infer_environment(None, name),
                privilege_level=level,
                permissions=permissions,
                attributes={
                    "orphan": bool(role.get("orphan")),
                    "explicit_max_ttl": max_ttl,
                    "period": period,
                    "renewable": role.get("renewable", True),
                    "expiry_applies": max_ttl == 0 and period == 0,
                },
            )
        )
        for policy in names:
            collection.edges.append(EdgeRecord(f"token-role/{name}", f"policy/{policy}", "grants_access_to"))
    return collection


def collect(config: VaultConfig, credentials: VaultCredentials | None, context: CollectContext) -> Collection:
    api = VaultApi(config, credentials, context)
    collection = Collection()
    raw = get_all(api, collection)
    collection.extend(transform(raw, config.environment))
    return collection


def test(config: VaultConfig, credentials: VaultCredentials | None, context: CollectContext) -> str:
    api = VaultApi(config, credentials, context)
    methods = api.call(api.client.sys.list_auth_methods)
    count = len([v for v in ((methods or {}).get("data") or methods or {}).values() if isinstance(v, dict)])
    return f"connected to Vault ({count} auth methods)"


TYPE = ConnectorType(
    kind="vault",
    provider=PROVIDER,
    description="HashiCorp Vault auth methods, AppRoles, token roles and policies (hvac)",
    config_model=VaultConfig,
    credentials_model=VaultCredentials,
    collect=collect,
    test=test,
)
