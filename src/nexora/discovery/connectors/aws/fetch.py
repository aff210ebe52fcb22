"""``get_*``: the only AWS I/O. Each returns raw API payloads; a failing API is recorded, never hidden."""

from __future__ import annotations

import csv
import io
import time
from functools import partial
from typing import Any

from nexora.discovery.connectors.aws.client import AwsClients, error_code
from nexora.discovery.connectors.base import Read
from nexora.discovery.records import Collection

CREDENTIAL_REPORT_WAIT_SECONDS = 20.0


def get_account(clients: AwsClients) -> str:
    return str(clients.call("sts", "get_caller_identity")["Account"])


def get_authorization_details(clients: AwsClients) -> dict[str, list[dict[str, Any]]]:
    merged: dict[str, list[dict[str, Any]]] = {
        "UserDetailList": [],
        "GroupDetailList": [],
        "RoleDetailList": [],
        "Policies": [],
    }
    for page in clients.pages("iam", "get_account_authorization_details", "Marker", "Marker"):
        for key in merged:
            merged[key].extend(page.get(key, []))
    return merged


def _optional(clients: AwsClients, operation: str, missing: str = "NoSuchEntity", **kwargs: Any) -> Any:
    try:
        return clients.call("iam", operation, **kwargs)
    except Exception as error:
        if error_code(error) == missing:
            return None
        raise


def get_user_credentials(clients: AwsClients, user_name: str) -> dict[str, Any]:
    """Access keys (with last use), console password and MFA devices of one user."""
    keys = []
    for page in clients.pages("iam", "list_access_keys", "Marker", "Marker", UserName=user_name):
        for key in page.get("AccessKeyMetadata", []):
            last = clients.call("iam", "get_access_key_last_used", AccessKeyId=key["AccessKeyId"])
            keys.append({**key, "LastUsed": last.get("AccessKeyLastUsed", {})})
    profile = _optional(clients, "get_login_profile", UserName=user_name)
    mfa = clients.call("iam", "list_mfa_devices", UserName=user_name).get("MFADevices", [])
    return {"keys": keys, "login_profile": profile.get("LoginProfile") if profile else None, "mfa": mfa}


def get_credential_report(clients: AwsClients) -> list[dict[str, str]]:
    """The IAM credential report as rows; generates one and waits for it with a deadline.

    AWS answers ``COMPLETE`` at once when a report from the last four hours exists; otherwise the
    report is polled with a growing delay (0.1 s doubling to 2 s), never a fixed sleep.
    """
    deadline = time.monotonic() + CREDENTIAL_REPORT_WAIT_SECONDS
    clients.call("iam", "generate_credential_report")
    delay = 0.1
    while True:
        try:
            content = clients.call("iam", "get_credential_report")["Content"]
            break
        except Exception as error:
            if error_code(error) not in ("ReportInProgress", "ReportNotPresent") or time.monotonic() > deadline:
                raise
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 2, 2.0)
    text = content.decode() if isinstance(content, bytes) else str(content)
    return list(csv.DictReader(io.StringIO(text)))


def get_oidc_providers(clients: AwsClients) -> list[dict[str, Any]]:
    providers = []
    for item in clients.call("iam", "list_open_id_connect_providers").get("OpenIDConnectProviderList", []):
        detail = clients.call("iam", "get_open_id_connect_provider", OpenIDConnectProviderArn=item["Arn"])
        providers.append({"Arn": item["Arn"], "Url": detail.get("Url"), "ClientIDList": detail.get("ClientIDList", [])})
    return providers


def get_secrets(clients: AwsClients) -> list[dict[str, Any]]:
    secrets: list[dict[str, Any]] = []
    for page in clients.pages("secretsmanager", "list_secrets", "NextToken", "NextToken"):
        secrets.extend(page.get("SecretList", []))
    return secrets


def get_all(clients: AwsClients, collection: Collection) -> dict[str, Any]:
    """Everything the transform needs; each failing API adds a run error to ``collection``.

    Independent APIs are read at once, then every user's credentials (keys, last use, console
    password, MFA) at once: a run costs a few round trips, not one per user and key in turn.
    """
    context = clients.context
    account, details, report, oidc, secrets = context.gather(
        collection,
        [
            Read("sts:GetCallerIdentity", None, partial(get_account, clients)),
            Read("iam:GetAccountAuthorizationDetails", None, partial(get_authorization_details, clients)),
            Read("iam:GetCredentialReport", [], partial(get_credential_report, clients)),
            Read("iam:ListOpenIDConnectProviders", [], partial(get_oidc_providers, clients)),
            Read("secretsmanager:ListSecrets", [], partial(get_secrets, clients)),
        ],
    )
    names = [user["UserName"] for user in (details or {}).get("UserDetailList", [])]
    found = context.gather(
        collection,
        [Read(f"iam:user-credentials:{name}", None, partial(get_user_credentials, clients, name)) for name in names],
    )
    return {
        "region": clients.region,
        "account": account,
        "details": details or {},
        "credentials": {name: value for name, value in zip(names, found, strict=True) if value is not None},
        "credential_report": report,
        "oidc_providers": oidc,
        "secrets": secrets,
    }
