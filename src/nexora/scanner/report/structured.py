"""JSON report: the same fields as SARIF plus provider, NHI kind, confidence, validation and commits."""

from __future__ import annotations

import json

from nexora.scanner.report.context import ReportContext, finding_record, summary_record


def render(context: ReportContext) -> str:
    """JSON document with ``findings`` and ``summary``."""
    document = {
        "version": 1,
        "tool": "nexora scan",
        "findings": [finding_record(finding, context) for finding in context.findings],
        "summary": summary_record(context),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
