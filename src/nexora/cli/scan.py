"""``nexora scan``: find leaked secrets in files, folders, archives, notebooks, stdin or git history.

Exit codes: 0 = clean, 1 = findings, 2 = error (bad config, bad rule, unreadable baseline, git failure).
Works with no server and no database.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from nexora.core.outbound import Network

_SIZE = re.compile(r"(?i)\s*(\d+(?:\.\d+)?)\s*([kmg]?i?b?)?\s*")
_UNITS = {
    "": 1,
    "b": 1,
    "k": 1024,
    "kb": 1024,
    "kib": 1024,
    "m": 1024**2,
    "mb": 1024**2,
    "mib": 1024**2,
    "g": 1024**3,
    "gb": 1024**3,
    "gib": 1024**3,
}


def parse_size(text: str) -> int:
    """``"25MB"`` -> 26214400; raises ``typer.BadParameter`` on nonsense."""
    match = _SIZE.fullmatch(text)
    if match is None or (match.group(2) or "").lower() not in _UNITS:
        raise typer.BadParameter(f"not a size: {text!r} (try 10MB, 512KB, 1GB)")
    return int(float(match.group(1)) * _UNITS[(match.group(2) or "").lower()])


def _fail(message: str) -> typer.Exit:
    typer.echo(f"nexora scan: {message}", err=True)
    return typer.Exit(2)


def scan_command(
    paths: list[str] = typer.Argument(
        None, help="Files or folders (repositories with --git/--staged); '-' reads stdin."
    ),
    git: bool = typer.Option(
        False, "--git", help="Scan every unique blob in the git history of the given repositories."
    ),
    since: str = typer.Option(None, "--since", help="With --git: only history after this ref."),
    staged: bool = typer.Option(False, "--staged", help="Scan the files staged for the next commit (pre-commit)."),
    jobs: int = typer.Option(0, "--jobs", "-j", help="Worker processes (default: one per core)."),
    max_file_size: str = typer.Option("25MB", "--max-file-size", help="Skip files larger than this."),
    gitignore: bool = typer.Option(False, "--gitignore/--no-gitignore", help="Skip files that .gitignore excludes."),
    archives: bool = typer.Option(True, "--archives/--no-archives", help="Look inside zip, jar, whl and tar archives."),
    archive_depth: int = typer.Option(3, "--archive-depth", help="How deep nested archives are opened."),
    archive_max_size: str = typer.Option(
        "256MB", "--archive-max-size", help="Uncompressed bytes one archive may expand to."
    ),
    output_format: str = typer.Option("text", "--format", "-f", help="text, json, sarif or junit."),
    output: Path = typer.Option(None, "--output", "-o", help="Write the report to this file instead of stdout."),
    no_redact: bool = typer.Option(False, "--no-redact", help="Show raw secret values in the report."),
    config: Path = typer.Option(
        None, "--config", help="Configuration file (default: .nexora-scan.toml at the scan root)."
    ),
    baseline: Path = typer.Option(None, "--baseline", help="Ignore findings recorded in this baseline file."),
    update_baseline: Path = typer.Option(
        None, "--update-baseline", help="Write all current findings to this baseline."
    ),
    verify: bool = typer.Option(False, "--verify", help="Check found credentials live against their provider."),
    verify_endpoint: list[str] = typer.Option(
        None, "--verify-endpoint", help="NAME=URL base URL override (repeatable)."
    ),
    verify_timeout: float = typer.Option(5.0, "--verify-timeout", help="Seconds per verification request."),
    verify_allow_network: list[str] = typer.Option(
        None,
        "--verify-allow-network",
        help="CIDR (repeatable) that verification may reach although it is internal, e.g. 127.0.0.0/8 for a"
        " local test server; by default private, loopback, link-local and metadata addresses are refused.",
    ),
    progress: bool = typer.Option(
        None, "--progress/--no-progress", help="Progress bar (default: when stderr is a terminal)."
    ),
    prefilter: str = typer.Option("auto", "--prefilter", help="auto, hyperscan or keywords."),
) -> None:
    """Scan files, folders, archives, notebooks, stdin or git history for leaked secrets."""
    from nexora.scanner.baseline import BaselineError, load_baseline, write_baseline
    from nexora.scanner.config import ConfigError, load_config
    from nexora.scanner.report import FORMATS, ReportContext, render, sort_findings
    from nexora.scanner.ruleset import RuleError
    from nexora.scanner.runner import ScanOptions, ScanRun
    from nexora.scanner.sources.archives import ArchiveLimits
    from nexora.scanner.sources.git import GitError

    if output_format not in FORMATS:
        raise _fail(f"unknown format {output_format!r}; choose one of {', '.join(FORMATS)}")
    if (git or since) and staged:
        raise _fail("--git/--since and --staged cannot be combined")
    if prefilter not in ("auto", "hyperscan", "keywords"):
        raise _fail("--prefilter must be auto, hyperscan or keywords")
    endpoints: dict[str, str] = {}
    for item in verify_endpoint or []:
        name, _, url = item.partition("=")
        if not name or not url:
            raise _fail(f"--verify-endpoint takes NAME=URL, got {item!r}")
        endpoints[name] = url
    allowed: tuple[Network, ...] = ()
    if verify_allow_network:
        from nexora.scanner.verify import allowed_networks

        try:
            allowed = allowed_networks(verify_allow_network)
        except ValueError as error:
            raise _fail(f"--verify-allow-network: {error}") from None
    try:
        options = ScanOptions(
            paths=list(paths or ["."]),
            git=git or bool(since),
            since=since,
            staged=staged,
            jobs=jobs,
            max_file_size=parse_size(max_file_size),
            respect_gitignore=gitignore,
            scan_archives=archives,
            archive_limits=ArchiveLimits(archive_depth, parse_size(archive_max_size)),
            config=load_config(config) if config else None,
            baseline=load_baseline(baseline) if baseline and not update_baseline else set(),
            prefilter=prefilter,
        )
        show_progress = sys.stderr.isatty() if progress is None else progress
        run = ScanRun(options)
        if show_progress:
            from nexora.scanner.progress import ScanProgress

            with ScanProgress(sys.stderr) as bar:
                run.progress = bar
                findings = list(run.findings())
        else:
            findings = list(run.findings())
    except (RuleError, ConfigError, BaselineError, GitError, typer.BadParameter) as error:
        raise _fail(str(error)) from None
    if verify:
        from nexora.scanner.verify import VerifyOptions, verify_findings

        verifiers = {rule.id: rule.verifier for rule in run.rules if rule.verifier}
        findings = verify_findings(
            findings, VerifyOptions(endpoints, verify_timeout, allowed_networks=allowed), verifiers
        )
    ordered = sort_findings(findings)
    if update_baseline:
        count = write_baseline(update_baseline, ordered)
        typer.echo(f"nexora scan: wrote {count} findings to {update_baseline}", err=True)
        raise typer.Exit(0)
    root = options.paths[0] if options.paths[0] != "-" else "."
    context = ReportContext(
        ordered,
        run.stats,
        run.elapsed,
        run.rules,
        redact=not no_redact,
        prefilter=run.prefilter_mode,
        root=root if Path(root).is_dir() else str(Path(root).parent),
    )
    report = render(output_format, context)
    if output:
        output.write_text(report, encoding="utf-8")
        typer.echo(f"nexora scan: {len(ordered)} findings, report written to {output}", err=True)
    else:
        sys.stdout.write(report)
    raise typer.Exit(1 if ordered else 0)
