"""The code connector: the secret scanner over folders and repositories.

Each detected secret becomes a ``leaked_secret`` NHI stored only as an HMAC-SHA256 fingerprint
under the tenant's key plus a redacted preview; the raw value never leaves this module. A leaked
AWS access key id is matched to the inventoried access key (``exposed_in``); the same secret in
several places is linked with ``same_secret_as``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from itertools import pairwise
from pathlib import Path

from pydantic import Field

from nexora.core.crypto import fingerprint, redact
from nexora.core.errors import ValidationFailed
from nexora.discovery.connectors.base import CollectContext, ConfigModel, ConnectorType, error_message
from nexora.discovery.records import Collection, EdgeRecord, NhiRecord, infer_environment
from nexora.scanner import Finding

PROVIDER = "code"
# Rules whose match is an identifier of an inventoried credential (not the secret half of it).
IDENTIFIER_RULES = frozenset({"aws-access-key-id"})


class CodeConfig(ConfigModel):
    paths: list[str] = Field(min_length=1, max_length=50, description="Folders or repositories on the Nexora host.")
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
    from nexora.scanner.runner import scan

    collection = Collection()
    for path in config.paths:
        if not Path(path).exists():
            collection.error(path, "no such file or folder on the Nexora host")
    roots = [path for path in config.paths if Path(path).exists()]
    if not roots:
        return collection
    try:
        findings = list(scan(*roots, git=config.git, jobs=1))
    except Exception as error:
        collection.error("scanner", error_message(error))
        return collection
    collection.extend(transform(findings, context.fingerprint_key, roots))
    return collection


def test(config: CodeConfig, credentials: None, context: CollectContext) -> str:
    missing = [path for path in config.paths if not Path(path).exists()]
    if missing:
        raise ValidationFailed(f"not found on the Nexora host: {', '.join(missing[:3])}")
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
