"""GCP and Azure from their CLI JSON exports, so teams can feed them in before live connectors exist.

GCP: ``gcloud iam service-accounts list``, ``gcloud iam service-accounts keys list`` and
``gcloud projects get-iam-policy`` (``--format=json``). Azure: ``az ad sp list`` and
``az ad app credential list`` (saved as ``credentials-<appId>.json``). Files are recognised by
their shape; a malformed or unrecognised file is a run error, never silently skipped.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

from pydantic import Field

from nexora.discovery.connectors.base import CollectContext, ConfigModel, ConnectorType
from nexora.discovery.connectors.files import files_under, read_documents, read_root
from nexora.discovery.records import Collection, EdgeRecord, NhiRecord, infer_environment, infer_owner, parse_time

ADMIN_ROLES = frozenset({"roles/owner"})
HIGH_ROLES = frozenset({"roles/editor", "roles/iam.securityAdmin", "roles/resourcemanager.projectIamAdmin"})
ESCALATION_ROLES = frozenset(
    {
        "roles/iam.serviceAccountTokenCreator",
        "roles/iam.serviceAccountKeyAdmin",
        "roles/iam.serviceAccountUser",
        "roles/iam.securityAdmin",
        "roles/resourcemanager.projectIamAdmin",
    }
)
_KEY_NAME = re.compile(r"projects/([^/]+)/serviceAccounts/([^/]+)/keys/([^/]+)$")
_AZURE_CREDENTIALS = re.compile(r"credentials-([0-9a-fA-F-]{36})\.json$")


class ExportConfig(ConfigModel):
    path: str | None = Field(
        default=None,
        min_length=1,
        max_length=4096,
        description=(
            "A file or folder of CLI JSON exports on the host, inside NEXORA_CONNECTOR_PATH_ROOTS. Empty: runs"
            " read the files sent with an upload."
        ),
    )
    project: str | None = Field(default=None, max_length=200, description="GCP project id, when not in the files.")


def read_exports(config: ExportConfig, context: CollectContext) -> tuple[list[tuple[Path, Any]], Collection]:
    """The JSON documents of the uploaded input or the configured host path, each named as the tenant knows it."""
    errors = Collection()
    documents: list[tuple[Path, Any]] = []
    root = read_root(config.path, context.input_dir, context.host)
    for path in files_under(root, (".json",), errors):
        shown = root.shown(path)
        for document in read_documents(path, context.settings.max_export_bytes, errors, shown) or []:
            documents.append((Path(shown), document))
    if not documents and not errors.errors:
        errors.error(root.label or "upload", "no JSON export files were found")
    return documents, errors


# ---- GCP ---------------------------------------------------------------------------------------------


def _gcp_kind(document: Any) -> str | None:
    if isinstance(document, dict) and isinstance(document.get("bindings"), list):
        return "policy"
    if isinstance(document, list) and all(isinstance(item, dict) for item in document):
        if all("email" in item and "uniqueId" in item for item in document):
            return "accounts"
        if all("keyType" in item and "name" in item for item in document):
            return "keys"
    return None


def transform_gcp(documents: list[tuple[Path, Any]], project: str | None = None) -> Collection:
    """Service accounts, user-managed keys and project roles from gcloud exports (pure)."""
    collection = Collection()
    accounts: list[dict[str, Any]] = []
    keys: list[dict[str, Any]] = []
    roles: dict[str, set[str]] = defaultdict(set)
    for path, document in documents:
        kind = _gcp_kind(document)
        if kind == "accounts":
            accounts += document
        elif kind == "keys":
            keys += document
        elif kind == "policy":
            for binding in document["bindings"]:
                for member in binding.get("members") or []:
                    if str(member).startswith("serviceAccount:"):
                        roles[member.split(":", 1)[1]].add(str(binding.get("role")))
        else:
            collection.error(str(path), "not a recognised gcloud export (service accounts, keys or IAM policy)")
    for account in accounts:
        email = account["email"]
        granted = sorted(roles.get(email, set()))
        level = (
            "admin"
            if ADMIN_ROLES & set(granted)
            else "high"
            if HIGH_ROLES & set(granted)
            else "medium"
            if granted
            else "none"
        )
        escalation = sorted(ESCALATION_ROLES & set(granted))
        if escalation and level in ("none", "medium"):
            level = "high"
        owner = (
            infer_owner({"owner": account.get("description", "").removeprefix("owner:").strip()})
            if str(account.get("description", "")).startswith("owner:")
            else None
        )
        account_project = account.get("projectId") or project or ""
        collection.nhis.append(
            NhiRecord(
                "gcp",
                "service_account",
                email,
                account.get("displayName") or email,
                account_project,
                infer_environment(None, account_project, email),
                owner,
                "description" if owner else None,
                privilege_level=level,
                permissions={
                    "roles": granted,
                    "admin_sources": sorted(ADMIN_ROLES & set(granted)),
                    "escalation_actions": escalation,
                },
                status="disabled" if account.get("disabled") else "active",
                attributes={"unique_id": account.get("uniqueId"), "project": account_project},
            )
        )
    active_by_account: dict[str, int] = defaultdict(int)
    for key in keys:
        match = _KEY_NAME.search(str(key.get("name", "")))
        if not match or key.get("keyType") != "USER_MANAGED":
            continue  # Google-managed keys rotate on their own
        key_project, email, key_id = match.groups()
        active = not key.get("disabled")
        active_by_account[email] += active
        collection.nhis.append(
            NhiRecord(
                "gcp",
                "service_account_key",
                key_id,
                f"{email}/{key_id[:12]}",
                key_project,
                infer_environment(None, key_project, email),
                created_at=parse_time(key.get("validAfterTime")),
                last_rotated_at=parse_time(key.get("validAfterTime")),
                expires_at=parse_time(key.get("validBeforeTime")),
                privilege_level="unknown",
                status="active" if active else "disabled",
                attributes={"service_account": email, "algorithm": key.get("keyAlgorithm")},
            )
        )
        collection.edges.append(EdgeRecord(email, key_id, "has_credential"))
    for record in collection.nhis:
        if record.kind == "service_account":
            record.attributes["active_keys"] = active_by_account.get(record.external_id, 0)
    return collection


# ---- Azure -------------------------------------------------------------------------------------------


def transform_azure(documents: list[tuple[Path, Any]]) -> Collection:
    """Service principals and their secrets/certificates from ``az`` exports (pure; secret hints dropped)."""
    collection = Collection()
    principals: list[dict[str, Any]] = []
    credentials: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for path, document in documents:
        match = _AZURE_CREDENTIALS.search(path.name)
        if isinstance(document, list) and all(isinstance(i, dict) and "appId" in i for i in document):
            principals += document
        elif match and isinstance(document, list) and all(isinstance(i, dict) and "keyId" in i for i in document):
            credentials[match.group(1).lower()] += document
        else:
            collection.error(str(path), "not a recognised az export ('az ad sp list' or credentials-<appId>.json)")
    for principal in principals:
        app_id = str(principal["appId"]).lower()
        tags = {str(t).split(":", 1)[0]: str(t).split(":", 1)[-1] for t in principal.get("tags") or [] if ":" in str(t)}
        owner = infer_owner(tags)
        found = (
            credentials.get(app_id, [])
            + [{**c, "type": "password"} for c in principal.get("passwordCredentials") or []]
            + [{**c, "type": "certificate"} for c in principal.get("keyCredentials") or []]
        )
        unique = {c["keyId"]: c for c in found if c.get("keyId")}
        collection.nhis.append(
            NhiRecord(
                "azure",
                "service_account",
                app_id,
                principal.get("displayName") or app_id,
                str(principal.get("appOwnerOrganizationId") or ""),
                infer_environment(tags, principal.get("displayName")),
                owner,
                "tag" if owner else None,
                privilege_level="unknown",
                status="active" if principal.get("accountEnabled", True) else "disabled",
                attributes={"type": principal.get("servicePrincipalType"), "active_keys": len(unique)},
            )
        )
        for key_id, credential in unique.items():
            kind = (
                "certificate"
                if credential.get("type") == "certificate" or credential.get("usage") == "Verify"
                else "api_token"
            )
            collection.nhis.append(
                NhiRecord(
                    "azure",
                    kind,
                    key_id,
                    f"{principal.get('displayName') or app_id}: {credential.get('displayName') or key_id[:8]}",
                    str(principal.get("appOwnerOrganizationId") or ""),
                    infer_environment(tags, principal.get("displayName")),
                    owner,
                    "tag" if owner else None,
                    created_at=parse_time(credential.get("startDateTime")),
                    last_rotated_at=parse_time(credential.get("startDateTime")),
                    expires_at=parse_time(credential.get("endDateTime")),
                    privilege_level="unknown",
                    attributes={"app_id": app_id},
                )
            )
            collection.edges.append(EdgeRecord(app_id, key_id, "has_credential"))
    return collection


def collect_gcp(config: ExportConfig, credentials: None, context: CollectContext) -> Collection:
    documents, errors = read_exports(config, context)
    collection = transform_gcp(documents, config.project)
    collection.errors[:0] = errors.errors
    return collection


def collect_azure(config: ExportConfig, credentials: None, context: CollectContext) -> Collection:
    documents, errors = read_exports(config, context)
    collection = transform_azure(documents)
    collection.errors[:0] = errors.errors
    return collection


def test(config: ExportConfig, credentials: None, context: CollectContext) -> str:
    if not config.path:
        return "no host path: runs read the files sent with an upload"
    documents, errors = read_exports(config, context)
    if errors.errors:
        raise ValueError(errors.errors[0].message)
    return f"found {len(documents)} export documents"


TYPES = {
    "gcp-export": ConnectorType(
        "gcp-export",
        "gcp",
        "GCP service accounts and keys from gcloud JSON exports",
        ExportConfig,
        None,
        collect_gcp,
        test,
    ),
    "azure-export": ConnectorType(
        "azure-export",
        "azure",
        "Azure service principals and credentials from az exports",
        ExportConfig,
        None,
        collect_azure,
        test,
    ),
}
