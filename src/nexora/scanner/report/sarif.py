"""SARIF 2.1.0: rule metadata, results with relative URIs, regions and line-independent fingerprints."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from nexora import __version__
from nexora.scanner.report.context import ReportContext

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note"}
# GitHub code scanning reads this 0-10 score to rank security results.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}


def render(context: ReportContext) -> str:
    """A SARIF log with one run; ``partialFingerprints`` do not depend on line numbers."""
    used = sorted({finding.rule_id for finding in context.findings})
    by_id = {rule.id: rule for rule in context.rules}
    rules: list[dict[str, Any]] = []
    for rule_id in used:
        rule = by_id.get(rule_id)
        finding = next(f for f in context.findings if f.rule_id == rule_id)
        title = rule.title if rule else finding.title
        severity = rule.severity if rule else finding.severity
        rules.append(
            {
                "id": rule_id,
                "name": "".join(part.capitalize() for part in rule_id.split("-")),
                "shortDescription": {"text": title},
                "fullDescription": {"text": f"{title} ({rule.provider if rule else finding.provider})"},
                "defaultConfiguration": {"level": LEVELS[severity]},
                "properties": {
                    "tags": ["security", "secret"],
                    "security-severity": SECURITY_SEVERITY[severity],
                    "provider": rule.provider if rule else finding.provider,
                    "nhi_kind": rule.nhi_kind if rule else finding.nhi_kind,
                },
            }
        )
    index = {rule_id: position for position, rule_id in enumerate(used)}
    results = []
    for finding in context.findings:
        properties: dict[str, Any] = {"confidence": str(finding.confidence), "redacted": finding.redacted}
        if not context.redact:
            properties["secret"] = finding.secret
        if finding.validator_result:
            properties["validator_result"] = finding.validator_result
        if finding.encoding:
            properties["encoding"] = finding.encoding
        if finding.verification:
            properties["verification"] = str(finding.verification)
        if finding.verification_identity:
            properties["verification_identity"] = dict(finding.verification_identity)
        if finding.commit:
            properties["commit"] = {
                "sha": finding.commit.commit,
                "author": finding.commit.author,
                "email": finding.commit.email,
                "date": finding.commit.date,
            }
        results.append(
            {
                "ruleId": finding.rule_id,
                "ruleIndex": index[finding.rule_id],
                "level": LEVELS[finding.severity],
                "message": {"text": f"{finding.title} found: {finding.redacted}"},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": quote(finding.path, safe="/!-._~"), "uriBaseId": "SRCROOT"},
                            "region": {
                                "startLine": finding.line,
                                "endLine": finding.end_line,
                                "startColumn": finding.column,
                                "endColumn": finding.end_column,
                            },
                        }
                    }
                ],
                "partialFingerprints": {"secretFingerprint/v1": finding.fingerprint},
                "properties": properties,
            }
        )
    root = Path(context.root).resolve()
    base = root.as_uri() + ("/" if not root.as_uri().endswith("/") else "")
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "nexora-scan",
                        "version": __version__,
                        "informationUri": "https://github.com/nexora/nexora",
                        "rules": rules,
                    }
                },
                "originalUriBaseIds": {"SRCROOT": {"uri": base}},
                "results": results,
                "columnKind": "unicodeCodePoints",
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
