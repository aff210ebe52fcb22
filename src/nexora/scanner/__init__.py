"""Nexora's secret scanner: rules as data, a Hyperscan prefilter, and Python ``re`` confirmation.

Importing this package has no side effects: rules load and Hyperscan compiles on first use.
"""

from __future__ import annotations

from nexora.scanner.model import CommitInfo, Confidence, Finding, ScanIssue, ScanStats, Verification

__all__ = ["CommitInfo", "Confidence", "Finding", "ScanIssue", "ScanStats", "Verification", "scan"]


def __getattr__(name: str) -> object:
    # The library entry point pulls in the runner lazily to keep ``import nexora.scanner`` cheap.
    if name == "scan":
        from nexora.scanner.runner import scan

        return scan
    raise AttributeError(name)
