"""The Kubernetes connector: service accounts, token secrets, RBAC and the workloads using each account.

Live mode reads the API with the ``kubernetes`` client through a kubeconfig; offline mode reads a
folder of manifests or ``kubectl get -o yaml`` output. Both feed the same pure transform.
"""

from __future__ import annotations

import json
from collections import defaultdict
from functools import partial
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator

from nexora.core.errors import ValidationFailed
from nexora.core.outbound import guard_kubernetes_client
from nexora.core.resilience import Throttled
from nexora.discovery.connectors import kubeconfig
from nexora.discovery.connectors.base import (
    CollectContext,
    ConfigModel,
    ConnectorType,
    CredentialsModel,
    Read,
    retry_after,
)
from nexora.discovery.connectors.files import files_under, read_documents, read_root
from nexora.discovery.records import Collection, EdgeRecord, NhiRecord, infer_environment, infer_owner, parse_time

PROVIDER = "kubernetes"
WORKLOAD_KINDS = ("Deployment", "DaemonSet", "StatefulSet", "CronJob", "Job", "Pod")
READ_VERBS = frozenset({"get", "list", "watch", "*"})
ESCALATION_VERBS = frozenset({"escalate", "bind", "impersonate"})


class KubernetesConfig(ConfigModel):
    mode: Literal["live", "offline"] = "live"
    cluster: str = Field(default="default", min_length=1, max_length=100, description="Name shown as the account.")
    context: str | None = Field(default=None, max_length=200, description="kubeconfig context (live mode).")
    path: str | None = Field(
        default=None,
        max_length=4096,
        description="Manifest folder on the host (offline mode); without it, manifests are uploaded for each run.",
    )


class KubernetesCredentials(CredentialsModel):
    kubeconfig: SecretStr = Field(
        min_length=10,
        max_length=256 * 1024,
        description="kubeconfig YAML (live mode): static credentials only (token, inline certificate and key data).",
    )

    @field_validator("kubeconfig")
    @classmethod
    def _static_credentials_only(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        # Checked again with the operator's settings before every load (get_live).
        allow_insecure = bool((info.context or {}).get("allow_insecure_tls", False))
        try:
            kubeconfig.parse(value.get_secret_value(), allow_insecure_tls=allow_insecure)
        except ValidationFailed as error:
            raise ValueError(error.message) from None
        return value


# ---- get ---------------------------------------------------------------------------------------------


def _classify(error: Exception) -> Exception:
    status = getattr(error, "status", None)
    if status == 429:
        headers = getattr(error, "headers", None) or {}
        return Throttled("the Kubernetes API throttled the request", retry_after(headers.get("Retry-After")))
    return error


def get_live(
    config: KubernetesConfig, credentials: KubernetesCredentials | None, context: CollectContext
) -> tuple[dict[str, list[dict[str, Any]]], Collection]:
    """Raw API objects by kind, read with the kubeconfig; each failing list is a run error."""
    from kubernetes import config as k8s_config

    if credentials is None:
        raise ValidationFailed("live mode needs credentials with a kubeconfig")
    # Again at load time: a config stored by an older version is refused too.
    document = kubeconfig.parse(
        credentials.kubeconfig.get_secret_value(),
        allow_insecure_tls=context.connector.allow_insecure_tls,
        allowed_networks=context.allowed,
    )
    api_client = k8s_config.new_client_from_config_dict(document, context=config.context)  # type: ignore[no-untyped-call]
    guard_kubernetes_client(api_client, context.guard)  # every connection goes to a checked address
    context.check_url(api_client.configuration.host)
    errors = Collection()
    endpoint = f"kubernetes:{api_client.configuration.host}"
    try:
        # The lists are independent: read them at once (a failing one is a run error, None here).
        reads = [
            Read(f"kubernetes:list {kind}", None, partial(_list_all, context, endpoint, api_client, path))
            for kind, path in LIST_PATHS.items()
        ]
        listed = context.gather(errors, reads)
    finally:
        api_client.close()
    objects = {
        kind: [_without_secret_values(item) for item in items]
        for kind, items in zip(LIST_PATHS, listed, strict=True)
        if items is not None
    }
    return objects, errors


# What each list reads (all namespaces). Requests go through the client's ApiClient (kubeconfig auth,
# TLS, proxies) as the generated CoreV1Api & co. build them, without importing those modules: they
# are generated pydantic models that take seconds to import.
LIST_PATHS = {
    "ServiceAccount": "/api/v1/serviceaccounts",
    "Secret": "/api/v1/secrets",
    "Pod": "/api/v1/pods",
    "Deployment": "/apis/apps/v1/deployments",
    "DaemonSet": "/apis/apps/v1/daemonsets",
    "StatefulSet": "/apis/apps/v1/statefulsets",
    "CronJob": "/apis/batch/v1/cronjobs",
    "Job": "/apis/batch/v1/jobs",
    "Role": "/apis/rbac.authorization.k8s.io/v1/roles",
    "ClusterRole": "/apis/rbac.authorization.k8s.io/v1/clusterroles",
    "RoleBinding": "/apis/rbac.authorization.k8s.io/v1/rolebindings",
    "ClusterRoleBinding": "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
}


def _get(api_client: Any, path: str, query: list[tuple[str, Any]], timeout: float) -> Any:
    from kubernetes.client.exceptions import ApiException

    request = api_client.param_serialize(
        method="GET",
        resource_path=path,
        query_params=query,
        header_params={"Accept": "application/json"},
        auth_settings=["BearerToken"],
    )
    response = api_client.call_api(*request, _request_timeout=timeout)
    response.read()
    if not 200 <= response.status <= 299:
        raise ApiException.from_response(http_resp=response, body=None, data=None)
    return json.loads(response.data)


def _list_all(context: CollectContext, endpoint: str, api_client: Any, path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        query: list[tuple[str, Any]] = [("limit", 500)]
        if token:
            query.append(("continue", token))
        page = context.call(endpoint, partial(_get, api_client, path, query, context.timeout), _classify)
        items.extend(page.get("items") or [])
        token = (page.get("metadata") or {}).get("continue")
        if not token:
            return items


def _without_secret_values(item: dict[str, Any]) -> dict[str, Any]:
    # Token secrets carry the token itself: drop every value before anything else sees it.
    return {key: value for key, value in item.items() if key not in ("data", "stringData")}


def get_offline(
    config: KubernetesConfig, context: CollectContext
) -> tuple[dict[str, list[dict[str, Any]]], Collection]:
    """Objects by kind from a folder of manifests (single objects, ``List`` documents, multi-document YAML).

    The folder is the uploaded input, or the configured path if it lies inside the operator's roots.
    """
    errors = Collection()
    objects: dict[str, list[dict[str, Any]]] = defaultdict(list)
    root = read_root(config.path, context.input_dir, context.host)
    for path in files_under(root, (".yaml", ".yml", ".json"), errors):
        shown = root.shown(path)
        documents = read_documents(path, context.settings.max_export_bytes, errors, shown)
        for document in documents or []:
            for item in _flatten(document):
                if not isinstance(item, dict) or not isinstance(item.get("kind"), str):
                    errors.error(shown, "a document without a 'kind' is not a Kubernetes object")
                    break
                objects[item["kind"]].append(_without_secret_values(item))
    return dict(objects), errors


def _flatten(document: Any) -> list[Any]:
    if isinstance(document, dict) and str(document.get("kind", "")).endswith("List"):
        return list(document.get("items") or [])
    return [document]


# ---- transform ---------------------------------------------------------------------------------------


def _meta(item: dict[str, Any]) -> dict[str, Any]:
    return item.get("metadata") or {}


def _labels(item: dict[str, Any]) -> dict[str, str]:
    meta = _meta(item)
    return {**(meta.get("annotations") or {}), **(meta.get("labels") or {})}


def _pod_spec(kind: str, item: dict[str, Any]) -> dict[str, Any]:
    spec = item.get("spec") or {}
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        return (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec") or {}
    return (spec.get("template") or {}).get("spec") or {}


def _rules_summary(rules: list[dict[str, Any]]) -> dict[str, Any]:
    admin = wildcard = False
    secrets: list[str] = []
    escalation: set[str] = set()
    wildcards: set[str] = set()
    for rule in rules:
        verbs = set(rule.get("verbs") or [])
        resources = set(rule.get("resources") or [])
        groups = set(rule.get("apiGroups") or [""])
        if "*" in verbs and "*" in resources and "*" in groups:
            admin = True
        if "*" in verbs or "*" in resources:
            wildcard = True
            wildcards.add(
                f"{','.join(sorted(groups)) or 'core'}/{','.join(sorted(resources))}:{','.join(sorted(verbs))}"
            )
        if resources & {"secrets", "*"} and verbs & READ_VERBS:
            secrets.append(f"secrets:{','.join(sorted(verbs))}")
        escalation |= {f"rbac:{verb}" for verb in verbs & ESCALATION_VERBS}
        if resources & {"rolebindings", "clusterrolebindings"} and verbs & {"create", "update", "patch", "*"}:
            escalation.add("rbac:create-bindings")
    return {
        "admin": admin,
        "wildcard": sorted(wildcards) if wildcard else [],
        "secrets": secrets,
        "escalation": sorted(escalation),
    }


def transform(objects: dict[str, list[dict[str, Any]]], cluster: str) -> Collection:
    """Service accounts (with privilege from their bindings), token secrets and workloads (pure)."""
    collection = Collection()
    roles = {(_meta(r).get("namespace"), _meta(r).get("name")): r.get("rules") or [] for r in objects.get("Role", [])}
    cluster_roles = {_meta(r).get("name"): r.get("rules") or [] for r in objects.get("ClusterRole", [])}
    grants: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for kind in ("RoleBinding", "ClusterRoleBinding"):
        for binding in objects.get(kind, []):
            ref = binding.get("roleRef") or {}
            namespace = _meta(binding).get("namespace")
            if ref.get("kind") == "ClusterRole":
                rules = cluster_roles.get(ref.get("name"), [])
            else:
                rules = roles.get((namespace, ref.get("name")), [])
            summary = _rules_summary(rules)
            if ref.get("name") == "cluster-admin":
                summary["admin"] = True
            for subject in binding.get("subjects") or []:
                if subject.get("kind") == "ServiceAccount":
                    key = (subject.get("namespace") or namespace or "default", subject.get("name", ""))
                    scope = "cluster" if kind == "ClusterRoleBinding" else namespace
                    grants[key].append(
                        {"binding": _meta(binding).get("name"), "role": ref.get("name"), "scope": scope, **summary}
                    )

    usage: dict[tuple[str, str], list[tuple[str, str, bool | None]]] = defaultdict(list)
    for kind in WORKLOAD_KINDS:
        for item in objects.get(kind, []):
            meta = _meta(item)
            if kind == "Pod" and meta.get("ownerReferences"):
                continue  # pods of a controller are represented by the controller
            namespace = meta.get("namespace") or "default"
            spec = _pod_spec(kind, item)
            account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
            workload_id = f"{cluster}/{namespace}/{kind.lower()}/{meta.get('name')}"
            usage[(namespace, account)].append((workload_id, kind, spec.get("automountServiceAccountToken")))
            collection.nhis.append(
                NhiRecord(
                    provider=PROVIDER,
                    kind="workload",
                    external_id=workload_id,
                    name=f"{namespace}/{meta.get('name')}",
                    account=cluster,
                    environment=infer_environment(_labels(item), namespace, cluster),
                    created_at=parse_time(meta.get("creationTimestamp")),
                    privilege_level="none",
                    attributes={"workload_kind": kind, "service_account": account},
                )
            )

    secrets_by_namespace: dict[str, list[str]] = defaultdict(list)
    for secret in objects.get("Secret", []):
        meta = _meta(secret)
        if secret.get("type") != "kubernetes.io/service-account-token":
            continue
        namespace = meta.get("namespace") or "default"
        secret_id = f"{cluster}/{namespace}/secret/{meta.get('name')}"
        owner_account = (meta.get("annotations") or {}).get("kubernetes.io/service-account.name")
        secrets_by_namespace[namespace].append(secret_id)
        collection.nhis.append(
            NhiRecord(
                provider=PROVIDER,
                kind="k8s_secret",
                external_id=secret_id,
                name=f"{namespace}/{meta.get('name')}",
                account=cluster,
                environment=infer_environment(_labels(secret), namespace, cluster),
                created_at=parse_time(meta.get("creationTimestamp")),
                privilege_level="none",
                attributes={"type": secret.get("type"), "service_account": owner_account},
            )
        )
        if owner_account:
            collection.edges.append(EdgeRecord(f"{cluster}/{namespace}/{owner_account}", secret_id, "has_credential"))

    for account in objects.get("ServiceAccount", []):
        meta = _meta(account)
        namespace = meta.get("namespace") or "default"
        name = meta.get("name", "")
        account_id = f"{cluster}/{namespace}/{name}"
        bound = grants.get((namespace, name), [])
        workloads = usage.get((namespace, name), [])
        default_mount = account.get("automountServiceAccountToken", True) is not False
        mounted = any(setting is not False if setting is not None else default_mount for _, _, setting in workloads)
        level, permissions = _privilege(bound)
        labels = _labels(account)
        owner = infer_owner(labels)
        collection.nhis.append(
            NhiRecord(
                provider=PROVIDER,
                kind="k8s_service_account",
                external_id=account_id,
                name=f"{namespace}/{name}",
                account=cluster,
                environment=infer_environment(labels, namespace, cluster),
                owner=owner,
                owner_source="label" if owner else None,
                created_at=parse_time(meta.get("creationTimestamp")),
                privilege_level=level,
                permissions=permissions,
                attributes={
                    "namespace": namespace,
                    "automount_token": mounted,
                    "automount_default": default_mount,
                    "bindings": [f"{b['scope']}:{b['role']}" for b in bound],
                    "workloads": len(workloads),
                },
            )
        )
        for workload_id, _, _ in workloads:
            collection.edges.append(EdgeRecord(account_id, workload_id, "used_by"))
        for binding in bound:
            if binding["secrets"] or binding["admin"]:
                scope = binding["scope"]
                targets = (
                    [s for values in secrets_by_namespace.values() for s in values]
                    if scope == "cluster"
                    else secrets_by_namespace.get(scope, [])
                )
                for target in targets:
                    collection.edges.append(
                        EdgeRecord(account_id, target, "grants_access_to", {"via": binding["binding"]})
                    )
    return collection


def _privilege(bound: list[dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    admin_sources = [f"{b['scope']}:{b['role']}" for b in bound if b["admin"]]
    wildcard = sorted({w for b in bound for w in b["wildcard"]})
    escalation = sorted({e for b in bound for e in b["escalation"]})
    secrets = sorted({f"{b['scope']}:{s}" for b in bound for s in b["secrets"]})
    permissions = {
        "admin_sources": admin_sources,
        "wildcard_actions": wildcard,
        "escalation_actions": escalation,
        "secrets_access": bool(secrets) and not admin_sources,
        "secrets_rules": secrets,
    }
    if admin_sources:
        return "admin", permissions
    if wildcard or escalation or secrets:
        return "high", permissions
    return ("low" if bound else "none"), permissions


# ---- connector -----------------------------------------------------------------------------------------


def collect(config: KubernetesConfig, credentials: KubernetesCredentials | None, context: CollectContext) -> Collection:
    objects, errors = get_live(config, credentials, context) if config.mode == "live" else get_offline(config, context)
    collection = transform(objects, config.cluster)
    collection.errors.extend(errors.errors)
    return collection


def test(config: KubernetesConfig, credentials: KubernetesCredentials | None, context: CollectContext) -> str:
    objects, errors = get_live(config, credentials, context) if config.mode == "live" else get_offline(config, context)
    if errors.errors:
        raise ValidationFailed(errors.errors[0].message)
    return f"read {sum(len(v) for v in objects.values())} objects from cluster {config.cluster}"


TYPE = ConnectorType(
    kind="kubernetes",
    provider=PROVIDER,
    description="Kubernetes service accounts, token secrets, RBAC and workloads (live API or manifests)",
    config_model=KubernetesConfig,
    credentials_model=KubernetesCredentials,
    collect=collect,
    test=test,
)
