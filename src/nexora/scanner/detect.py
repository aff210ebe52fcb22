"""From engine matches to findings: filters, offline validators, inline suppression, positions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from nexora.scanner import validators
from nexora.scanner.engine import Candidate, Engine
from nexora.scanner.entropy import shannon_entropy
from nexora.scanner.filters import generic_value_rejected, looks_like_placeholder
from nexora.scanner.model import CommitInfo, Confidence, Finding, ScanStats

ALLOW_MARKER = b"nexora:allow"
# Beyond this length a value is a structured token; dictionary words inside it are chance, not placeholders.
_WORD_FILTER_MAX = 64


@dataclass(slots=True)
class Document:
    """Bytes to scan and where they came from. ``line_map`` maps virtual lines (notebook cells) to the file."""

    path: str
    data: bytes
    commit: CommitInfo | None = None
    line_map: list[tuple[int, int]] | None = None


@dataclass(slots=True)
class Allowlist:
    """User suppressions from the config file: path regexes, secret regexes and stopwords."""

    paths: list[re.Pattern[str]] = field(default_factory=list)
    regexes: list[re.Pattern[str]] = field(default_factory=list)
    stopwords: list[str] = field(default_factory=list)

    def path_allowed(self, path: str) -> bool:
        """True when the path is excluded by the config."""
        return any(pattern.search(path) for pattern in self.paths)

    def secret_allowed(self, secret: str) -> bool:
        """True when the secret matches an allowlist regex or contains a stopword."""
        lowered = secret.lower()
        return any(word in lowered for word in self.stopwords) or any(p.search(secret) for p in self.regexes)


# Filters look this far around a match: minified 1 MB lines must not make each check O(line).
_CONTEXT = 256


def _line_bounds(data: bytes, position: int, reach: int | None = None) -> tuple[int, int]:
    low = 0 if reach is None else max(0, position - reach)
    high = len(data) if reach is None else min(len(data), position + reach)
    start = data.rfind(b"\n", low, position) + 1 or low
    end = data.find(b"\n", position, high)
    return start, high if end < 0 else end


def _column(data: bytes, line_start: int, position: int) -> int:
    return len(data[line_start:position].decode("utf-8", "replace")) + 1


class Detector:
    """Runs the engine over documents and keeps only matches that survive every filter."""

    def __init__(self, engine: Engine, allowlist: Allowlist | None = None) -> None:
        self.engine = engine
        self.allowlist = allowlist or Allowlist()

    def detect(self, document: Document, stats: ScanStats) -> list[Finding]:
        """Findings in ``document``; suppressed matches are counted in ``stats``, not returned."""
        findings: list[Finding] = []
        taken: list[tuple[int, int]] = []
        candidates = self.engine.find(document.data)
        context_seen: dict[str, bool] = {}
        # Specific rules claim their span first, so a generic rule never re-reports the same secret.
        candidates.sort(key=lambda c: (c.rule.generic, c.match.start("secret"), c.rule.validator is None))
        for candidate in candidates:
            span = candidate.match.span("secret")
            if any(span[0] < end and start < span[1] for start, end in taken):
                continue
            context = candidate.rule.context
            if context is not None:
                if candidate.rule.id not in context_seen:
                    context_seen[candidate.rule.id] = context.search(document.data) is not None
                if not context_seen[candidate.rule.id]:
                    continue
            finding = self._finding(document, candidate, stats)
            if finding is not None:
                taken.append(span)
                findings.append(finding)
        findings.sort(key=lambda f: (f.line, f.column))
        return findings

    def _rejected(self, candidate: Candidate, secret: str, document: Document, line: bytes) -> bool:
        rule = candidate.rule
        if len(secret) < rule.min_length:
            return True
        if looks_like_placeholder(secret, words=rule.generic or len(secret) <= _WORD_FILTER_MAX):
            return True
        if rule.entropy is not None and shannon_entropy(secret) < rule.entropy:
            return True
        if rule.generic:
            groups = candidate.match.groupdict()
            key = (groups.get("key") or b"").decode("utf-8", "replace")
            quoted = bool(groups.get("quote")) if "quote" in candidate.match.re.groupindex else None
            reason = generic_value_rejected(
                secret,
                key,
                quoted,
                document.path,
                line.decode("utf-8", "replace"),
                rule.entropy or 0.0,
                comma=bool(groups.get("comma")),
            )
            return reason is not None
        return False

    def _finding(self, document: Document, candidate: Candidate, stats: ScanStats) -> Finding | None:
        rule, match, data = candidate.rule, candidate.match, document.data
        start, end = match.span("secret")
        secret = match.group("secret").decode("utf-8", "replace")
        context_start, context_end = _line_bounds(data, start, _CONTEXT)
        if self._rejected(candidate, secret, document, data[context_start:context_end]):
            return None
        outcome = validators.run(rule.validator, secret) if rule.validator else None
        if outcome is not None and not outcome.passed:
            return None
        line_start, line_end = _line_bounds(data, start)
        last_start, last_end = _line_bounds(data, max(start, end - 1))
        if ALLOW_MARKER in data[line_start:line_end] or ALLOW_MARKER in data[last_start:last_end]:
            stats.suppressed_inline += 1
            return None
        if self.allowlist.secret_allowed(secret):
            stats.suppressed_config += 1
            return None
        line = data.count(b"\n", 0, start) + 1
        end_line = line + data.count(b"\n", start, end)
        column, end_column = _column(data, line_start, start), _column(data, last_start, end)
        if document.line_map is not None:
            line, column = _map(document.line_map, line, column)
            end_line, end_column = _map(document.line_map, end_line, end_column)
        return Finding(
            rule_id=rule.id,
            title=rule.title,
            provider=rule.provider,
            nhi_kind=rule.nhi_kind,
            severity=rule.severity,
            confidence=_confidence(candidate, secret, outcome),
            path=document.path,
            line=line,
            end_line=end_line,
            column=column,
            end_column=end_column,
            secret=secret,
            validator=rule.validator,
            validator_result=outcome.detail if outcome is not None else None,
            commit=document.commit,
        )


def _map(line_map: list[tuple[int, int]], line: int, column: int) -> tuple[int, int]:
    file_line, offset = line_map[min(line, len(line_map)) - 1]
    return file_line, column + offset


def _confidence(candidate: Candidate, secret: str, outcome: validators.Outcome | None) -> Confidence:
    if outcome is not None and outcome.passed:
        return Confidence.HIGH
    if candidate.rule.generic:
        return Confidence.MEDIUM if shannon_entropy(secret) >= 3.5 else Confidence.LOW
    return Confidence(candidate.rule.confidence)
