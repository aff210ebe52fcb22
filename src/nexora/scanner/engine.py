"""Matching engine: one Hyperscan database over all rules as a prefilter, Python ``re`` to confirm.

Hyperscan compiles every rule with ``HS_FLAG_PREFILTER`` (a superset of the rule's language, so no true
match is missed; :mod:`nexora.scanner.prefilter` derives cheaper supersets still) and reports end
offsets. Each reported end opens a bounded window that Python ``re`` searches exactly; every rule has a
bounded width (checked at load), so confirmation is local and linear even on 1 MB minified lines. If
Hyperscan cannot load, a keyword prefilter takes its place and a warning is emitted: slower, never silent.

The same database holds the encoding triggers of :mod:`nexora.scanner.decoders` after the rules: their
hits are handed back as hints, so the detector decodes only where a document is percent-encoded,
JSON-escaped or base64.
"""

from __future__ import annotations

import hashlib
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nexora.scanner import cache as disk_cache
from nexora.scanner import decoders
from nexora.scanner.prefilter import hyperscan_expression, reported_along_runs
from nexora.scanner.ruleset import Rule

# Matches reported within this many bytes after a noted hit are covered by that hit's window.
_GAP = 64
# Upper bound of the stride between windows of one rule, so very wide rules keep windows small.
_MAX_STEP = 4096
# Bytes of right context given to lookaheads; matches ending inside it are left to a later window.
_SLACK = 256
_DATABASE_CACHE: dict[str, bytes] = {}
# Bump when the engine hands Hyperscan expressions of a new shape, so no stale cached database is loaded
# (changes to nexora.scanner.prefilter reach the key through its source digest).
_DATABASE_FORMAT = "4"


class PrefilterFallbackWarning(RuntimeWarning):
    """Hyperscan is unavailable; the slower keyword prefilter is in use."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A confirmed regex match of one rule."""

    rule: Rule
    match: re.Match[bytes]


def _ruleset_key(
    rules: Sequence[Rule],
    engine_version: str = "",
    triggers: Sequence[decoders.Trigger] = (),
    open_bound: Sequence[bool] = (),
) -> str:
    digest = hashlib.sha256(f"{_DATABASE_FORMAT}\0{engine_version}\0{len(rules)}\0".encode())
    # The expressions are derived from the rules by nexora.scanner.prefilter: a change there is a new database.
    digest.update(disk_cache.source_digest("nexora.scanner.prefilter").encode() + bytes(open_bound) + b"\3")
    for trigger in triggers:
        digest.update(trigger.expression + b"\2")
    for rule in rules:
        digest.update(rule.regex.encode() + b"\0" + "\0".join(rule.keywords).encode() + b"\1")
    return digest.hexdigest()


def _keyword_pattern(rules: Sequence[Rule]) -> bytes:
    keywords = sorted({keyword for rule in rules for keyword in rule.keywords}, key=len, reverse=True)
    return b"(?i)" + b"|".join(re.escape(keyword.encode()) for keyword in keywords)


class Engine:
    """Finds confirmed rule matches in bytes. Compiles lazily on first use and caches per process."""

    def __init__(self, rules: Sequence[Rule], prefilter: str = "auto") -> None:
        if prefilter not in ("auto", "hyperscan", "keywords"):
            raise ValueError("prefilter must be auto, hyperscan or keywords")
        self.rules = list(rules)
        self._widths = [rule.width for rule in self.rules]
        self._steps = [max(_GAP, min(width, _MAX_STEP)) for width in self._widths]
        # Rules whose prefilter expression has an open bound would be reported at every end position along a
        # long run; they report their first hit only and are confirmed from there to the end.
        self._open = [reported_along_runs(rule.regex) for rule in self.rules]
        self.requested = prefilter
        self.mode: str | None = None
        self._database: Any = None
        self._serialized: bytes | None = None
        self._scratch: Any = None
        self._keyword_rules: dict[bytes, list[int]] = {}
        self.triggers = decoders.Triggers(self.rules)

    # -- compilation -------------------------------------------------------------------------------
    def prepare(self, serialized: bytes | None = None) -> str:
        """Compile (or load ``serialized``) now; returns the prefilter mode in use."""
        if self.mode is not None:
            return self.mode
        if self.requested != "keywords":
            try:
                self._load_hyperscan(serialized)
                self.mode = "hyperscan"
                return self.mode
            except (ImportError, OSError, RuntimeError) as error:
                if self.requested == "hyperscan":
                    raise
                warnings.warn(
                    f"Hyperscan is unavailable ({error}); falling back to the slower keyword prefilter",
                    PrefilterFallbackWarning,
                    stacklevel=2,
                )
        self._prepare_keywords()
        self.mode = "keywords"
        return self.mode

    def serialized_database(self) -> bytes | None:
        """The compiled Hyperscan database as bytes, for handing to worker processes."""
        self.prepare()
        return self._serialized if self.mode == "hyperscan" else None

    def _load_hyperscan(self, serialized: bytes | None) -> None:
        import hyperscan

        version = str(getattr(hyperscan, "__version__", ""))
        key = _ruleset_key(self.rules, version, self.triggers.expressions, self._open)
        cache_name = f"hyperscan-{key[:32]}.db"
        blob = serialized or _DATABASE_CACHE.get(key) or disk_cache.read(cache_name)
        database = None
        if blob is not None:
            try:
                database = hyperscan.loadb(blob, hyperscan.HS_MODE_BLOCK)
            except hyperscan.error:
                database = None  # built by another Hyperscan version or CPU: compile afresh
        if database is None:
            database = self._compile(hyperscan)
            blob = hyperscan.dumpb(database)
            # Compiling all rules takes seconds; caching makes the next start (pre-commit) instant.
            disk_cache.write(cache_name, blob)
        assert blob is not None
        _DATABASE_CACHE[key] = blob
        self._serialized = blob
        self._database = database
        self._scratch = hyperscan.Scratch(database)

    def _compile(self, hyperscan: Any) -> Any:
        expressions = [hyperscan_expression(rule.regex) for rule in self.rules]
        flag = hyperscan.HS_FLAG_PREFILTER | hyperscan.HS_FLAG_ALLOWEMPTY
        flags = [flag | hyperscan.HS_FLAG_SINGLEMATCH if open_bound else flag for open_bound in self._open]
        # Triggers are exact (no prefilter superset) and follow the rules, so their ids start at len(rules).
        triggers = [trigger.expression for trigger in self.triggers.expressions]
        trigger_flags = [0] * len(triggers)
        try:
            return self._compile_list(hyperscan, expressions + triggers, flags + trigger_flags)
        except hyperscan.error:
            # Find the rules Hyperscan rejects and prefilter those on their keywords instead.
            for index, expression in enumerate(expressions):
                try:
                    self._compile_list(hyperscan, [expression], [flags[index]])
                except hyperscan.error:
                    expressions[index] = _keyword_pattern([self.rules[index]])
            return self._compile_list(hyperscan, expressions + triggers, flags + trigger_flags)

    @staticmethod
    def _compile_list(hyperscan: Any, expressions: list[bytes], flags: list[int]) -> Any:
        database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        database.compile(
            expressions=expressions,
            ids=list(range(len(expressions))),
            elements=len(expressions),
            flags=flags,
        )
        return database

    def _prepare_keywords(self) -> None:
        for index, rule in enumerate(self.rules):
            for keyword in rule.keywords:
                self._keyword_rules.setdefault(keyword.encode(), []).append(index)

    # -- scanning ----------------------------------------------------------------------------------
    def find(self, data: bytes, hints: list[decoders.Hint] | None = None) -> list[Candidate]:
        """All confirmed matches in ``data``, ordered by position, each reported once.

        When ``hints`` is a list, the places where ``data`` looks encoded are appended to it.
        """
        self.prepare()
        if self.mode == "hyperscan":
            windows = self._hyperscan_windows(data, hints)
        else:
            windows = self._keyword_windows(data)
            if hints is not None:
                hints.extend(self.triggers.fallback_hints(data))
        return self._confirm(data, windows)

    def _hyperscan_windows(self, data: bytes, hints: list[decoders.Hint] | None) -> list[tuple[int, int, int]]:
        noted: list[tuple[int, int, int]] = []
        rules = len(self.rules)
        triggers = self.triggers.expressions
        # Most documents report nothing or a few expressions: a dict costs nothing until a hit.
        next_allowed: dict[int, int] = {}
        widths, steps, open_bound = self._widths, self._steps, self._open
        size = len(data)

        def on_match(index: int, _start: int, end: int, _flags: int, _context: object) -> None:
            if end < next_allowed.get(index, -1):
                return
            if index >= rules:
                if hints is None:
                    next_allowed[index] = size + 1  # a decoded view: never decoded again
                    return
                trigger = triggers[index - rules]
                next_allowed[index] = end + decoders.STRIDES[trigger.encoding]
                hints.append((trigger.encoding, end - trigger.shift))
                return
            if open_bound[index]:
                # Reported once per scan (HS_FLAG_SINGLEMATCH): confirm from here to the end of the data.
                next_allowed[index] = size + 1
                noted.append((index, max(0, end - widths[index]), size))
                return
            # One window confirms every match ending within ``step`` of this hit; later ends open the next.
            next_allowed[index] = end + steps[index]
            noted.append((index, max(0, end - widths[index]), min(size, end + steps[index] + _SLACK)))

        self._database.scan(data, match_event_handler=on_match, scratch=self._scratch)
        return noted

    def _keyword_windows(self, data: bytes) -> list[tuple[int, int, int]]:
        # bytes.find on lowered data beats one big case-insensitive alternation by orders of magnitude.
        lowered = data.lower()
        size = len(data)
        noted: list[tuple[int, int, int]] = []
        for keyword, indexes in self._keyword_rules.items():
            for index in indexes:
                width = self.rules[index].width
                position = lowered.find(keyword)
                while position >= 0:
                    # This window holds every match around any occurrence up to ``width`` bytes further on.
                    noted.append(
                        (index, max(0, position - width), min(size, position + len(keyword) + 2 * width + _SLACK))
                    )
                    position = lowered.find(keyword, position + width)
        return noted

    def _confirm(self, data: bytes, windows: list[tuple[int, int, int]]) -> list[Candidate]:
        seen: set[tuple[int, int]] = set()
        found: list[Candidate] = []
        size = len(data)
        for index, low, high in windows:
            rule = self.rules[index]
            limit = size if high >= size else high - _SLACK
            for match in rule.pattern.finditer(data, low, high):
                if match.end() > limit or (index, match.start()) in seen:
                    continue
                seen.add((index, match.start()))
                found.append(Candidate(rule, match))
        found.sort(key=lambda candidate: candidate.match.start())
        return found
