"""What every report writer reads: the context of a scan and the records of findings and of the summary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from nexora.scanner.model import Finding, ScanStats
from nexora.scanner.ruleset import Rule

FORMATS = ("text", "json", "sarif", "junit")


@dataclass(slots=True)
class ReportContext:
    """Everything a report needs; ``findings`` are sorted by path, line and column."""

    findings: Sequence[Finding]
    stats: ScanStats
    elapsed: float
    rules: Sequence[Rule] = ()
    redact: bool = True
    prefilter: str = ""
    root: str = "."
    extra: dict[str, Any] = field(default_factory=dict)

    def shown(self, finding: Finding) -> str:
        """The secret as the report may show it."""
        return finding.redacted if self.redact else finding.secret


def sort_findings(findings: Sequence[Finding]) -> list[Finding]:
    """Stable report order."""
    return sorted(findings, key=lambda f: (f.path, f.line, f.column, f.rule_id))


def finding_record(finding: Finding, context: ReportContext) -> dict[str, Any]:
    """The JSON form of a finding: every field, the secret redacted unless asked otherwise."""
    record: dict[str, Any] = {
        "rule_id": finding.rule_id,
        "title": finding.title,
        "provider": finding.provider,
        "nhi_kind": finding.nhi_kind,
        "severity": finding.severity,
        "confidence": str(finding.confidence),
        "path": finding.path,
        "line": finding.line,
        "end_line": finding.end_line,
        "column": finding.column,
        "end_column": finding.end_column,
        "secret": context.shown(finding),
        "redacted": finding.redacted,
        "fingerprint": finding.fingerprint,
        "validator": finding.validator,
        "validator_result": finding.validator_result,
        "encoding": finding.encoding,
        "verification": str(finding.verification) if finding.verification else None,
        "verification_detail": finding.verification_detail,
        "verification_identity": dict(finding.verification_identity) if finding.verification_identity else None,
        "commit": None,
    }
    if finding.commit is not None:
        record["commit"] = {
            "sha": finding.commit.commit,
            "author": finding.commit.author,
            "email": finding.commit.email,
            "date": finding.commit.date,
        }
    return record


def summary_record(context: ReportContext) -> dict[str, Any]:
    """Counts and throughput for the summary of every format."""
    stats = context.stats
    severities: dict[str, int] = {}
    for finding in context.findings:
        severities[finding.severity] = severities.get(finding.severity, 0) + 1
    return {
        "findings": len(context.findings),
        "by_severity": severities,
        "files": stats.files,
        "blobs": stats.blobs,
        "bytes": stats.bytes,
        "seconds": round(context.elapsed, 3),
        "bytes_per_second": int(stats.bytes / context.elapsed) if context.elapsed > 0 else 0,
        "skipped_binary": stats.skipped_binary,
        "skipped_large": stats.skipped_large,
        "skipped_ignored": stats.skipped_ignored,
        "suppressed": {
            "inline": stats.suppressed_inline,
            "config": stats.suppressed_config,
            "baseline": stats.suppressed_baseline,
        },
        "issues": [{"path": issue.path, "reason": issue.reason} for issue in stats.issues],
        "prefilter": context.prefilter,
    }
