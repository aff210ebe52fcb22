"""From engine matches to findings: filters, offline validators, inline suppression, positions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from nexora.scanner import decoders, validators
from nexora.scanner.engine import Candidate, Engine
from nexora.scanner.entropy import shannon_entropy
from nexora.scanner.filters import generic_value_rejected, looks_like_placeholder
from nexora.scanner.model import CommitInfo, Confidence, Finding, ScanStats

ALLOW_MARKER = b"nexora:allow"
# Beyond this length a value is a structured token; dictionary words inside it are chance, not placeholders.
_WORD_FILTER_MAX = 64
# Rules whose finding is "some encoded value": a specific rule matching the decoded value replaces them.
_CONTAINER_VALIDATORS = frozenset({"base64-secret-value", "basic-auth-base64"})
_LOWER = {Confidence.HIGH: Confidence.MEDIUM, Confidence.MEDIUM: Confidence.LOW, Confidence.LOW: Confidence.LOW}


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


@dataclass(slots=True)
class _Kept:
    """A finding and the span of the document's bytes it was found in (the encoded form, if decoded)."""

    start: int
    end: int
    generic: bool
    container: bool
    finding: Finding


class Detector:
    """Runs the engine over documents and keeps only matches that survive every filter."""

    def __init__(self, engine: Engine, allowlist: Allowlist | None = None) -> None:
        self.engine = engine
        self.allowlist = allowlist or Allowlist()

    def detect(self, document: Document, stats: ScanStats) -> list[Finding]:
        """Findings in ``document``; suppressed matches are counted in ``stats``, not returned.

        The raw bytes are matched first; then each decoded view (:mod:`nexora.scanner.decoders`) built
        where the engine saw encoded text, keeping only matches the decoding changed.
        """
        hints: list[decoders.Hint] = []
        kept: list[_Kept] = []
        silenced: list[tuple[int, int]] = []
        context_seen: dict[str, bool] = {}
        self._collect(document, None, self.engine.find(document.data, hints), kept, silenced, context_seen, stats)
        if hints:
            for view in decoders.views(document.data, hints):
                self._collect(document, view, self.engine.find(view.data), kept, silenced, context_seen, stats)
        findings = [entry.finding for entry in kept]
        findings.sort(key=lambda f: (f.line, f.column))
        return findings

    def _collect(
        self,
        document: Document,
        view: decoders.View | None,
        candidates: list[Candidate],
        kept: list[_Kept],
        silenced: list[tuple[int, int]],
        context_seen: dict[str, bool],
        stats: ScanStats,
    ) -> None:
        """Judge ``candidates`` (of the raw bytes, or of a decoded ``view``) into ``kept``.

        ``silenced`` holds the spans of suppressed matches, so overlapping views never count one twice.
        """
        # Specific rules claim their span first, so a generic rule never re-reports the same secret; among
        # specific rules a declared precedence (``supersedes``, hence a higher rank) comes first.
        candidates.sort(key=lambda c: (c.rule.generic, -c.rule.rank, c.match.start("secret"), c.rule.validator is None))
        # Spans a specific rule's validator judged not to be its credential (a bad checksum or marker): a
        # generic rule, or a rule it supersedes, reporting the same text would only repeat a refuted guess.
        refuted: list[tuple[int, int, frozenset[str]]] = []
        for candidate in candidates:
            rule = candidate.rule
            if view is None:
                span = candidate.match.span("secret")
            elif view.touches_escape(*candidate.match.span()):
                span = view.span(*candidate.match.span("secret"))
                if any(start < span[1] and span[0] < end for start, end in silenced):
                    continue
            else:
                continue  # unchanged by decoding: the raw pass has already judged it
            if any(
                start < span[1] and span[0] < end and (rule.generic or rule.id in superseded)
                for start, end, superseded in refuted
            ):
                continue
            clash = [index for index, entry in enumerate(kept) if entry.start < span[1] and span[0] < entry.end]
            # A decoded specific secret replaces a raw generic or "encoded value" finding at the same place.
            if clash and (
                view is None
                or rule.generic
                or not all(
                    kept[index].finding.encoding is None and (kept[index].generic or kept[index].container)
                    for index in clash
                )
            ):
                continue
            if rule.context_regex is not None:
                if rule.id not in context_seen:
                    context_seen[rule.id] = rule.context_found(document.data)
                if not context_seen[rule.id]:
                    continue
            suppressed = stats.suppressed_inline + stats.suppressed_config
            finding = self._finding(document, candidate, stats, view, span, refuted)
            if stats.suppressed_inline + stats.suppressed_config != suppressed:
                silenced.append(span)
            if finding is not None:
                for index in reversed(clash):
                    del kept[index]
                container = rule.validator in _CONTAINER_VALIDATORS
                kept.append(_Kept(span[0], span[1], rule.generic, container, finding))

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

    def _finding(
        self,
        document: Document,
        candidate: Candidate,
        stats: ScanStats,
        view: decoders.View | None,
        span: tuple[int, int],
        refuted: list[tuple[int, int, frozenset[str]]],
    ) -> Finding | None:
        """``span`` locates the match in the document's bytes; filters read the (decoded) matched text.

        A specific rule whose validator rejects the value adds ``span`` to ``refuted``.
        """
        rule, match = candidate.rule, candidate.match
        matched = document.data if view is None else view.data
        secret = match.group("secret").decode("utf-8", "replace")
        context_start, context_end = _line_bounds(matched, match.start("secret"), _CONTEXT)
        if self._rejected(candidate, secret, document, matched[context_start:context_end]):
            return None
        outcome = validators.run(rule.validator, secret) if rule.validator else None
        if outcome is not None and not outcome.passed:
            if not rule.generic:
                refuted.append((span[0], span[1], frozenset(rule.supersedes)))
            return None
        data = document.data
        start, end = span
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
        confidence = _confidence(candidate, secret, outcome)
        if view is not None and rule.generic:
            confidence = _LOWER[confidence]  # a keyword-less guess inside decoded text: one step less sure
        return Finding(
            rule_id=rule.id,
            title=rule.title,
            provider=rule.provider,
            nhi_kind=rule.nhi_kind,
            severity=rule.severity,
            confidence=confidence,
            path=document.path,
            line=line,
            end_line=end_line,
            column=column,
            end_column=end_column,
            secret=secret,
            validator=rule.validator,
            validator_result=outcome.detail if outcome is not None else None,
            commit=document.commit,
            encoding=view.encoding if view is not None else None,
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
