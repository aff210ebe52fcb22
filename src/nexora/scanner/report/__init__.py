"""Reports: text, JSON, SARIF 2.1.0 and JUnit. Raw secrets appear only when ``redact`` is False."""

from __future__ import annotations

from nexora.scanner.report import junit, sarif, structured, text
from nexora.scanner.report.context import (
    FORMATS,
    ReportContext,
    finding_record,
    sort_findings,
    summary_record,
)

__all__ = ["FORMATS", "ReportContext", "finding_record", "render", "sort_findings", "summary_record"]


def render(format_name: str, context: ReportContext) -> str:
    """The report in ``format_name`` (one of :data:`FORMATS`)."""

    renderers = {"text": text.render, "json": structured.render, "sarif": sarif.render, "junit": junit.render}
    if format_name not in renderers:
        raise ValueError(f"unknown format {format_name!r}; choose one of {', '.join(FORMATS)}")
    return renderers[format_name](context)
