"""Value types shared by every part of the scanner: findings, commit metadata, scan statistics."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from enum import StrEnum


class Confidence(StrEnum):
    """How sure the scanner is that a match is a real credential."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Verification(StrEnum):
    """Three-way outcome of a live check: ``unknown`` covers throttling, blocking and errors."""

    VALID = "valid"
    INVALID = "invalid"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class CommitInfo:
    """The commit that first introduced a blob into history."""

    commit: str
    author: str
    email: str
    date: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected secret. ``secret`` is raw and never shown in ``repr``; reports use ``redacted``."""

    rule_id: str
    title: str
    provider: str
    nhi_kind: str
    severity: str
    confidence: Confidence
    path: str
    line: int
    end_line: int
    column: int
    end_column: int
    secret: str = field(repr=False)
    validator: str | None = None
    validator_result: str | None = None
    commit: CommitInfo | None = None
    verification: Verification | None = None
    verification_detail: str | None = None
    # How the secret was written where it was found: None (as is), "percent", "json" or "base64".
    encoding: str | None = None
    # Whose the key is, as the provider's answer to a live check says: (field, value) pairs such as
    # ("user", "ci-bot"), ("email", ...), ("org", ...), ("scopes", ...). Never contains the secret.
    verification_identity: tuple[tuple[str, str], ...] | None = None

    @property
    def redacted(self) -> str:
        """The secret with its middle hidden (``AKIA…MPLE``); short secrets are fully hidden."""
        return redact(self.secret)

    @property
    def fingerprint(self) -> str:
        """Stable id of (rule, path, secret): independent of line numbers, so moving code keeps it."""
        return fingerprint(self.rule_id, self.path, self.secret)

    @property
    def secret_hash(self) -> str:
        """SHA-256 of (rule, secret) alone: the same secret in two files shares it."""
        digest = hashlib.sha256(f"{self.rule_id}\0{self.secret}".encode("utf-8", "surrogatepass"))
        return digest.hexdigest()[:32]

    def with_verification(
        self, result: Verification, detail: str, identity: tuple[tuple[str, str], ...] | None = None
    ) -> Finding:
        """A copy carrying the outcome of a live check (and the identity it revealed, if any)."""
        return replace(self, verification=result, verification_detail=detail, verification_identity=identity)


def fingerprint(rule_id: str, path: str, secret: str) -> str:
    """The baseline key of a finding: a truncated SHA-256 over rule id, path and secret."""
    payload = f"{rule_id}\0{path}\0{secret}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(payload).hexdigest()[:32]


def redact(secret: str) -> str:
    """Keep at most four characters at each end, and only when the secret is long enough to spare them."""
    secret = secret.replace("\n", " ")
    if len(secret) >= 16:
        return f"{secret[:4]}…{secret[-4:]}"
    if len(secret) >= 10:
        return f"{secret[:2]}…{secret[-2:]}"
    return "…"


@dataclass(slots=True)
class ScanIssue:
    """Something that could not be scanned (unreadable file, zip bomb, bad notebook…)."""

    path: str
    reason: str


@dataclass(slots=True)
class ScanStats:
    """Counters for the summary line; merged across worker processes."""

    files: int = 0
    bytes: int = 0
    skipped_binary: int = 0
    skipped_large: int = 0
    skipped_ignored: int = 0
    blobs: int = 0
    suppressed_inline: int = 0
    suppressed_config: int = 0
    suppressed_baseline: int = 0
    issues: list[ScanIssue] = field(default_factory=list)

    def merge(self, other: ScanStats) -> None:
        """Add ``other``'s counters and issues into this one."""
        self.files += other.files
        self.bytes += other.bytes
        self.skipped_binary += other.skipped_binary
        self.skipped_large += other.skipped_large
        self.skipped_ignored += other.skipped_ignored
        self.blobs += other.blobs
        self.suppressed_inline += other.suppressed_inline
        self.suppressed_config += other.suppressed_config
        self.suppressed_baseline += other.suppressed_baseline
        self.issues.extend(other.issues)
