"""Baselines: known findings keyed by fingerprints without line numbers, so moving code causes no churn."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from nexora.scanner.model import Finding

BASELINE_VERSION = 1


class BaselineError(ValueError):
    """The baseline file is missing fields or is not JSON."""


def load_baseline(path: Path) -> set[str]:
    """Fingerprints recorded in a baseline file."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        entries = document["findings"]
        return {str(entry["fingerprint"]) for entry in entries}
    except OSError as error:
        raise BaselineError(f"{path}: cannot read baseline: {error.strerror}") from error
    except (ValueError, KeyError, TypeError) as error:
        raise BaselineError(
            f"{path}: not a nexora baseline (expected {{'findings': [{{'fingerprint': ...}}]}})"
        ) from error


def write_baseline(path: Path, findings: Iterable[Finding]) -> int:
    """Write a baseline (redacted values only, sorted for stable diffs); returns the number of entries."""
    entries = {
        finding.fingerprint: {
            "fingerprint": finding.fingerprint,
            "rule_id": finding.rule_id,
            "path": finding.path,
            "redacted": finding.redacted,
        }
        for finding in findings
    }
    document = {"version": BASELINE_VERSION, "tool": "nexora scan", "findings": [entries[k] for k in sorted(entries)]}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return len(entries)
