"""The code connector: the secret scanner over folders and repositories.

Each detected secret becomes a ``leaked_secret`` NHI stored only as an HMAC-SHA256 fingerprint
under the tenant's key plus a redacted preview; the raw value never leaves this module. A leaked
AWS access key id is matched to the inventoried access key (``exposed_in``); the same secret in
several places is linked with ``same_secret_as``.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable
from itertools import pairwise
from pathlib import Path

from pydantic import Field

from nexora.core.crypto import fingerprint, redact
from nexora.core.errors import ValidationFailed
from nexora.discovery.connectors.base import CollectContext, ConfigModel, ConnectorType, error_message
from nexora.discovery.connectors.files import NO_HOST_PATH, HostPaths, resolve_host_path
from nexora.discovery.records import Collection, EdgeRecord, NhiRecord, infer_environment
from nexora.scanner import Finding
from nexora.scanner.config import CONFIG_NAME, ConfigError, ScanConfig, discover_config
from nexora.scanner.sources.files import OUTSIDE_LINK as OUTSIDE_SCANNED_FOLDER

PROVIDER = "code"
# Rules whose match is an identifier of an inventoried credential (not the secret half of it).
IDENTIFIER_RULES = frozenset({"aws-access-key-id"})


class CodeConfig(ConfigModel):
    paths: list[str] = Field(
        default_factory=list,
        max_length=50,
        description=(
            "Folders or repositories on the Nexora host, inside NEXORA_CONNECTOR_PATH_ROOTS. Empty: runs read"
            " the files sent with an upload."
        ),
    )
    git: bool = Field(default=False, description="Scan the git history instead of the working tree.")


def transform(findings: Iterable[Finding], key: bytes, roots: list[str]) -> Collection:
    """Scanner findings into leaked-secret records (pure): fingerprints and previews only."""
    collection = Collection()
    by_fingerprint: dict[str, list[str]] = defaultdict(list)
    seen: set[str] = set()
    for finding in findings:
        digest = fingerprint(key, finding.secret)
        external_id = f"{digest[:40]}:{finding.path}"
        if external_id in seen:
            continue  # the same secret twice in one file is one exposure
        seen.add(external_id)
        collection.nhis.append(
            NhiRecord(
                provider=PROVIDER,
                kind="leaked_secret",
                external_id=external_id,
                name=f"{finding.path}:{finding.line}",
                account=next((root for root in roots if finding.path.startswith(root)), roots[0] if roots else ""),
                environment=infer_environment(None, finding.path),
                privilege_level="unknown",
                fingerprint=digest,
                attributes={
                    "rule": finding.rule_id,
                    "title": finding.title,
                    "secret_provider": finding.provider,
                    "severity": finding.severity,
                    "confidence": str(finding.confidence),
                    "location": finding.path,
                    "line": finding.line,
                    "preview": redact(finding.secret),
                    "commit": finding.commit.commit if finding.commit else None,
                },
            )
        )
        by_fingerprint[digest].append(external_id)
        if finding.rule_id in IDENTIFIER_RULES:
            # The key id names the inventoried access key; it is an identifier, not the secret half.
            collection.edges.append(
                EdgeRecord(finding.secret, external_id, "exposed_in", {"rule": finding.rule_id}, source_anywhere=True)
            )
    for places in by_fingerprint.values():
        for first, other in pairwise(places):
            collection.edges.append(EdgeRecord(first, other, "same_secret_as"))
    return collection


def collect(config: CodeConfig, credentials: None, context: CollectContext) -> Collection:
    if context.fingerprint_key is None:
        raise ValidationFailed("the code connector needs the tenant's fingerprint key")
    if context.input_dir is not None:
        # An upload is scanned as it came: its own scan settings (.nexora-scan.toml) are not applied, and
        # only a git bundle (cloned by Nexora) is read with git, never a .git folder from an archive.
        paths = [str(context.input_dir)]
        return _scan(paths, context.input_git, ScanConfig(), context.fingerprint_key, ["upload"], Collection())
    collection = Collection()
    if not config.paths:
        collection.error("paths", NO_HOST_PATH)
    roots: list[tuple[str, Path]] = []
    for path in config.paths:
        try:
            real = resolve_host_path(path, context.host)
        except ValidationFailed as error:
            collection.error(path, error.message)
            continue
        if not real.exists():
            collection.error(path, "no such file or folder")
        elif config.git and (problem := _repository_problem(real, context.host)):
            collection.error(path, problem)
        else:
            roots.append((path, real))
    if not roots:
        return collection
    scan_config = _host_scan_config(roots[0][1], context.host, collection)
    paths = [str(real) for _, real in roots]
    return _scan(paths, config.git, scan_config, context.fingerprint_key, [path for path, _ in roots], collection)


def _scan(
    paths: list[str], git: bool, config: ScanConfig, key: bytes, roots: list[str], collection: Collection
) -> Collection:
    """Scan ``paths``; links leading out of a scanned folder are run errors (they were not followed)."""
    from nexora.scanner.runner import ScanOptions, ScanRun

    try:
        run = ScanRun(ScanOptions(paths=paths, git=git, jobs=1, config=config))
        findings = list(run.findings())
    except Exception as error:
        collection.error("scanner", error_message(error))
        return collection
    for issue in run.stats.issues:
        if issue.reason == OUTSIDE_SCANNED_FOLDER:
            collection.error(issue.path, issue.reason)
    collection.extend(transform(findings, key, roots))
    return collection


def _repository_problem(path: Path, host: HostPaths) -> str | None:
    """Why git may not read ``path``'s history: its git folders (or borrowed objects) lie outside the roots."""
    from nexora.scanner.sources.git import GitError, repository_folders

    try:
        folders = repository_folders(path)
    except GitError:
        return "not a git repository"
    if not all(host.allows(Path(os.path.realpath(folder))) for folder in folders):
        return "the repository's git folder is outside the folders this Nexora allows connectors to read"
    return None


def _host_scan_config(root: Path, host: HostPaths, collection: Collection) -> ScanConfig:
    """The ``.nexora-scan.toml`` at the first root, with rule files outside the allowed folders dropped."""
    try:
        found = discover_config(root)
    except ConfigError as error:
        collection.error(CONFIG_NAME, error_message(error))
        return ScanConfig()
    if found is None:
        return ScanConfig()
    kept = [rules for rules in found.rule_files if host.allows(Path(os.path.realpath(rules)))]
    if len(kept) < len(found.rule_files):
        collection.error(CONFIG_NAME, "rule files outside the allowed folders were not read")
    found.rule_files = kept
    return found


def test(config: CodeConfig, credentials: None, context: CollectContext) -> str:
    if not config.paths:
        return "no host paths: runs read the files sent with an upload"
    missing = [path for path in config.paths if not resolve_host_path(path, context.host).exists()]
    if missing:
        raise ValidationFailed(f"not found: {', '.join(missing[:3])}")
    return f"{len(config.paths)} path(s) readable"


TYPE = ConnectorType(
    kind="code",
    provider=PROVIDER,
    description="Secrets leaked in code (Nexora's scanner over folders and git history)",
    config_model=CodeConfig,
    credentials_model=None,
    collect=collect,
    test=test,
)
