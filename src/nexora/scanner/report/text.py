"""Human-readable report: one line per finding and a summary with counts and throughput."""

from __future__ import annotations

from nexora.scanner.report.context import ReportContext, summary_record


def human_bytes(count: float) -> str:
    """``1536`` -> ``1.5 KB``."""
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GB"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def render(context: ReportContext) -> str:
    """Findings as ``path:line:column  rule  value  (title, severity, confidence)`` then a summary."""
    lines: list[str] = []
    for finding in context.findings:
        extra = []
        if finding.encoding:
            extra.append(f"decoded from {finding.encoding}")
        if finding.validator_result:
            extra.append(finding.validator_result)
        if finding.verification:
            extra.append(
                f"verified {finding.verification}"
                + (f": {finding.verification_detail}" if finding.verification_detail else "")
            )
        detail = f"{finding.title}, {finding.severity}, {finding.confidence} confidence" + "".join(
            f", {e}" for e in extra
        )
        lines.append(
            f"{finding.path}:{finding.line}:{finding.column}  {finding.rule_id}  {context.shown(finding)}  ({detail})"
        )
        if finding.verification_identity:
            lines.append("    identity: " + ", ".join(f"{key}={value}" for key, value in finding.verification_identity))
        if finding.commit is not None:
            commit = finding.commit
            lines.append(f"    introduced in {commit.commit[:12]} by {commit.author} <{commit.email}> on {commit.date}")
    summary = summary_record(context)
    severities = ", ".join(f"{count} {name}" for name, count in sorted(summary["by_severity"].items()))
    files = {f.path for f in context.findings}
    scanned = _plural(summary["files"], "file") + (f" ({summary['blobs']} git blobs)" if summary["blobs"] else "")
    rate = human_bytes(summary["bytes_per_second"]) + "/s"
    head = f"{_plural(summary['findings'], 'finding')} in {_plural(len(files), 'file')}" + (
        f" ({severities})" if severities else ""
    )
    lines.append(
        f"{head} · scanned {scanned}, {human_bytes(summary['bytes'])} in {summary['seconds']:.2f} s ({rate})"
        f" · prefilter {summary['prefilter']}"
    )
    skipped = summary["skipped_binary"] + summary["skipped_large"] + summary["skipped_ignored"]
    suppressed = summary["suppressed"]
    if skipped or any(suppressed.values()):
        lines.append(
            f"skipped {summary['skipped_binary']} binary, {summary['skipped_large']} too large, "
            f"{summary['skipped_ignored']} ignored · suppressed {suppressed['inline']} inline, "
            f"{suppressed['config']} by config, {suppressed['baseline']} by baseline"
        )
    if summary["issues"]:
        lines.append(f"{len(summary['issues'])} issues:")
        lines.extend(f"  {issue['path']}: {issue['reason']}" for issue in summary["issues"])
    return "\n".join(lines) + "\n"
