"""Encoded views of a document: percent-encoding, JSON escapes and base64, each decoded once, only where it occurs.

A token whose format is distinctive must be found however it is written down: ``?token=ghp_…`` is plain,
but ``https%3A%2F%2Fhooks.slack.com%2F…``, ``"glpat\\u002d…"``, ``"https:\\/\\/hooks…"`` and a Kubernetes
``data:`` value that is base64 of ``KEY=token`` are not. The Hyperscan database that prefilters the rules
also holds the trigger expressions of :class:`Triggers`, so finding where a document is encoded costs no
extra pass over it. Only around those hits is a decoded :class:`View` built:

* ``percent``: every ``%XX``, and ``+`` as a space (query strings), decoded in the lines around an
  escape of printable ASCII (``%2F``, ``%3A``…);
* ``json``: every JSON escape decoded in the lines around a ``\\/`` next to a letter or digit or a
  ``\\u00XX`` of URL or token punctuation (``\\u002d``, ``\\u005f``…);
* ``base64``: a run of the base64 alphabet (standard or URL-safe) that holds the base64 form of a rule's
  fixed prefix (``ghp_``, ``AKIA``, ``-----BEGIN `` …, at any of the three byte alignments) is decoded
  around it. These literal triggers cost the prefilter next to nothing; a class-based "any base64 of
  text" expression, tried first, made it 80% slower.

Every view is bounded (a window of :data:`_WINDOW` bytes each side, percent and JSON hits thinned to one
per :data:`STRIDES` bytes, decoded bytes per document capped) and maps each decoded offset back to the
original bytes, so findings point at the encoded form. Decoded text is never decoded again.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from re import _constants as sre  # type: ignore[attr-defined]  # the stdlib parser's opcodes
from re import _parser  # type: ignore[attr-defined]  # the stdlib parser reads a rule's fixed prefix
from typing import Any

from nexora.scanner import cache as disk_cache
from nexora.scanner.ruleset import Rule

PERCENT, JSON, BASE64 = "percent", "json", "base64"
ENCODINGS = (PERCENT, JSON, BASE64)

# Half-width of the window decoded around a hit: within its line for percent and JSON, within its run
# for base64.
_WINDOW = 4096
# Hits of one trigger closer than this to the previous one are covered by its window. Base64 hits are
# rare (literal fragments) and each may sit in another run, so none is dropped.
STRIDES = {PERCENT: 1024, JSON: 1024, BASE64: 0}
# A window needs this much room after a hint to cover a token starting there; otherwise a new one opens.
_ROOM = 1024
# Decoded bytes per document, beyond the document's own size: encoded views never multiply the work.
_BUDGET_FLOOR = 64 * 1024
# Shortest fixed prefix whose base64 forms are triggers, and shortest base64 run worth decoding.
_MIN_PREFIX = 3
_MIN_RUN = 16
# Alternatives of a rule's prefix (``(?:AKIA|ASIA|…)``) beyond this are not expanded.
_MAX_PREFIXES = 16

_STANDARD = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_ALPHABET = _STANDARD + b"-_"
_URLSAFE = bytes.maketrans(b"-_", b"+/")
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
# Decoded control bytes become line breaks: offsets stay aligned and binary never glues onto a token.
_CONTROL_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_CONTROLS = bytes.maketrans(_CONTROL_BYTES, b"\n" * len(_CONTROL_BYTES))
# Triggers are the escapes a token or its URL is written with; format strings (``%3d``, ``%02x``), UTF-8
# (``%E2%80%93``), regex classes (``[\/]``, ``\u0020-\u007F``) and non-ASCII (``\u2019``), which code is
# full of, open no view. Inside a view every escape is decoded.
_PERCENT_TRIGGER = rb"%(?:[2-7][0-9A-F]|0[ADad]|2[bf]|3a)"
_JSON_TRIGGER = rb"[A-Za-z0-9:]\\/|\\/[A-Za-z0-9]|\\u00(?:2[2-7bdefBDEF]|3[acdeACDE]|40|5[fF])"
_PERCENT = re.compile(rb"%([0-9A-Fa-f]{2})|\+")
_JSON = re.compile(
    rb'\\(?:u([dD][89abAB][0-9a-fA-F]{2})\\u([dD][c-fC-F][0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|(["\\/bfnrt]))'
)
_JSON_SIMPLE = {b'"': b'"', b"\\": b"\\", b"/": b"/", b"b": b"\b", b"f": b"\f", b"n": b"\n", b"r": b"\r", b"t": b"\t"}
_BASE64_RUN = re.compile(rb"[A-Za-z0-9+/_-]{16,}")

Hint = tuple[str, int]
"""An encoding and an offset: the end of a percent or JSON hit, the aligned group start of a base64 one."""


@dataclass(frozen=True, slots=True)
class Trigger:
    """One exact Hyperscan expression; a hit ending at ``end`` gives the hint ``(encoding, end - shift)``."""

    encoding: str
    expression: bytes
    shift: int = 0


class Triggers:
    """The trigger expressions for a rule set, and the same search without Hyperscan."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.prefixes, self.expressions = _cached_triggers(rules)
        self._prefix_pattern: re.Pattern[bytes] | None = None  # compiled on first use, by the fallback only
        self._fallback = ((PERCENT, re.compile(_PERCENT_TRIGGER)), (JSON, re.compile(_JSON_TRIGGER)))

    def fallback_hints(self, data: bytes) -> list[Hint]:
        """Hints without Hyperscan: ``re`` for percent and JSON; base64 runs decoded and searched for prefixes."""
        hints: list[Hint] = []
        for encoding, pattern in self._fallback:
            allowed = -1
            for match in pattern.finditer(data):
                if match.end() >= allowed:
                    hints.append((encoding, match.end()))
                    allowed = match.end() + STRIDES[encoding]
        if not self.prefixes:
            return hints
        if self._prefix_pattern is None:
            by_length = sorted(self.prefixes, key=len, reverse=True)
            self._prefix_pattern = re.compile(b"|".join(re.escape(prefix) for prefix in by_length))
        for run in _BASE64_RUN.finditer(data):
            for low in range(run.start(), run.end(), 2 * _WINDOW):
                chunk = data[low : min(run.end(), low + 2 * _WINDOW + 64)]
                for match in self._prefix_pattern.finditer(_b64decode(chunk)):
                    hints.append((BASE64, low + 4 * (match.start() // 3)))
        return hints


def _triggers(rules: Sequence[Rule]) -> tuple[tuple[bytes, ...], tuple[Trigger, ...]]:
    prefixes = tuple(
        sorted({prefix for rule in rules if not rule.generic for prefix in rule_prefixes(rule.regex, rule.ignorecase)})
    )
    fragments = {fragment for prefix in prefixes for fragment in base64_fragments(prefix)}
    return prefixes, (
        Trigger(PERCENT, _PERCENT_TRIGGER),
        Trigger(JSON, _JSON_TRIGGER),
        *(Trigger(BASE64, expression, shift) for expression, shift in sorted(fragments)),
    )


def _cached_triggers(rules: Sequence[Rule]) -> tuple[tuple[bytes, ...], tuple[Trigger, ...]]:
    """:func:`_triggers`, read from the on-disk cache when the same rules were seen by the same code: reading
    every rule's regex for its prefix costs a whole small scan's start-up."""
    digest = hashlib.sha256(disk_cache.source_digest(__name__).encode())
    for rule in rules:
        digest.update(f"{rule.regex}\0{rule.ignorecase:d}{rule.generic:d}\1".encode())
    name = f"triggers-{digest.hexdigest()[:32]}.json"
    cached = disk_cache.read(name)
    if cached is not None:
        try:
            document = json.loads(cached)
            return tuple(prefix.encode("latin-1") for prefix in document["prefixes"]), tuple(
                Trigger(encoding, expression.encode("latin-1"), shift)
                for encoding, expression, shift in document["triggers"]
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            pass  # written by an interrupted or foreign process: derive afresh and overwrite
    prefixes, triggers = _triggers(rules)
    document = {
        "prefixes": [prefix.decode("latin-1") for prefix in prefixes],
        "triggers": [[trigger.encoding, trigger.expression.decode("latin-1"), trigger.shift] for trigger in triggers],
    }
    disk_cache.write(name, json.dumps(document).encode())
    return prefixes, triggers


@cache
def rule_prefixes(regex: str, ignorecase: bool = False) -> tuple[bytes, ...]:
    """The fixed text every match of a rule's secret starts with (``ghp_``; ``AKIA``, ``ASIA``…), if any.

    Case-insensitive rules give the text as written, in lower and in upper case.
    """
    prefixes = _plain_prefix(regex)
    if prefixes is None:  # not a plain literal run: ask the stdlib parser, about the group alone if it can
        try:
            parsed = _parser.parse(_group_text(regex) or regex)
        except re.error:
            parsed = _parser.parse(regex)
        items = _find_group(list(parsed), parsed.state.groupdict.get("secret"))
        prefixes = _literal_prefixes(items)[0] if items is not None else []
    ignorecase = ignorecase or "(?i" in regex
    found: set[bytes] = set()
    for prefix in prefixes:
        # A prefix of one or two repeated characters (``AAAA``) is common in any base64 of binary data.
        if len(prefix) >= _MIN_PREFIX and prefix.isascii() and len(set(prefix)) > 2:
            found.add(prefix.encode())
            if ignorecase:
                found.update({prefix.lower().encode(), prefix.upper().encode()})
    return tuple(sorted(found))


# Outside a class, everything but these is a literal character; a backslash before a non-alphanumeric too.
_PLAIN = re.compile(r"\(\?P<secret>((?:[^.^$*+?{}\[\]\\|()]|\\[^A-Za-z0-9])+)")


def _plain_prefix(regex: str) -> list[str] | None:
    """The common case without parsing: ``(?P<secret>`` then literal characters, no alternation after it."""
    match = _PLAIN.search(regex)
    if match is None or "|" in regex[match.start() :] or "(?x" in regex:
        return None
    pieces = re.findall(r"\\.|.", match.group(1), re.DOTALL)
    if regex[match.end() : match.end() + 1] in ("?", "*", "{"):
        pieces.pop()  # the quantifier makes the last character optional or repeated
    return ["".join(piece[-1] for piece in pieces)]


def _group_text(regex: str) -> str | None:
    """``(?P<secret>…)`` cut out of ``regex`` (escapes and classes skipped), or None."""
    start = regex.find("(?P<secret>")
    if start < 0:
        return None
    depth, index, in_class = 0, start, False
    while index < len(regex):
        char = regex[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
            if regex[index + 1 : index + 2] == "]" or regex[index + 1 : index + 3] == "^]":
                index += 2 if regex[index + 1] == "]" else 3  # a leading ] is a member
                continue
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return regex[start : index + 1]
        index += 1
    return None


def _find_group(items: list[tuple[Any, Any]], group: int | None) -> list[tuple[Any, Any]] | None:
    for op, argument in items:
        if op is sre.SUBPATTERN:
            if argument[0] == group:
                return list(argument[3])
            inner = _find_group(list(argument[3]), group)
        elif op is sre.BRANCH:
            inner = next((f for b in argument[1] if (f := _find_group(list(b), group)) is not None), None)
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            inner = _find_group(list(argument[2]), group)
        else:
            continue
        if inner is not None:
            return inner
    return None


def _literal_prefixes(items: Iterable[tuple[Any, Any]]) -> tuple[list[str], bool]:
    """Literal prefixes of a parsed sequence, and whether the whole sequence was literal."""
    prefixes = [""]
    for op, argument in items:
        if op in (sre.AT, sre.ASSERT, sre.ASSERT_NOT):
            continue
        if op is sre.LITERAL:
            prefixes = [prefix + chr(argument) for prefix in prefixes]
            continue
        if op is sre.SUBPATTERN:
            alternatives = [_literal_prefixes(argument[3])]
        elif op is sre.BRANCH:
            alternatives = [_literal_prefixes(branch) for branch in argument[1]]
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT) and argument[0] >= 1:
            alternatives = [(_literal_prefixes(argument[2])[0], False)]
        else:
            return prefixes, False
        combined = [prefix + tail for prefix in prefixes for tails, _ in alternatives for tail in tails]
        if len(combined) > _MAX_PREFIXES:
            return prefixes, False
        prefixes = combined
        if not all(complete for _, complete in alternatives):
            return prefixes, False
    return prefixes, True


@cache
def base64_fragments(prefix: bytes) -> tuple[tuple[bytes, int], ...]:
    """Hyperscan expressions for the base64 text of ``prefix`` at each of the three byte alignments.

    Each expression holds the characters the prefix alone determines, and, around them, the class of
    characters it partly determines; it comes with the shift from a hit's end back to the start of the
    first 4-character group it covers. URL-safe spellings are included.
    """
    fragments: set[tuple[bytes, int]] = set()
    for shift in range(3):
        encoded = base64.b64encode(b"\x00" * shift + prefix + b"\x00" * ((-(shift + len(prefix))) % 3))
        literal_low, literal_high = 8 * shift, 8 * (shift + len(prefix))
        columns: list[tuple[int, bytes]] = []
        for index, char in enumerate(encoded):
            low, high = max(6 * index, literal_low), min(6 * index + 6, literal_high)
            if high > low:
                columns.append((index, _column(_STANDARD.index(char), 6 - (high - low), low > 6 * index)))
        first, last = columns[0][0], columns[-1][0]
        fragments.add((b"".join(chars for _index, chars in columns), last + 1 - first + first % 4))
    return tuple(sorted(fragments))


@cache
def _column(value: int, free: int, low_bits: bool) -> bytes:
    """The expression for one base64 character of which ``free`` bits are unknown (high ones if ``low_bits``)."""
    if low_bits:  # the prefix gives the low bits; the byte before it, the rest
        options = {(extra << (6 - free)) | (value & ((1 << (6 - free)) - 1)) for extra in range(1 << free)}
    else:  # the prefix gives the high bits; the byte after it, the rest
        options = {(value & ~((1 << free) - 1)) | extra for extra in range(1 << free)}
    chars = bytes(_STANDARD[option] for option in options)
    chars = bytes(sorted(set(chars + chars.translate(_TO_URLSAFE))))  # either alphabet: + or -, / or _
    return re.escape(chars) if len(chars) == 1 else b"[" + re.escape(chars) + b"]"


@dataclass(slots=True)
class View:
    """Decoded text and how each of its offsets maps back to the original bytes.

    ``pieces`` are ``(decoded start, original start, original end, literal)``: a literal piece maps byte for
    byte, an escape maps all its decoded bytes to the whole escape. A base64 view has no pieces: decoded
    byte ``i`` comes from characters ``origin + 4*(i//3) + i%3`` and the one after.
    """

    encoding: str
    data: bytes
    origin: int
    origin_end: int
    pieces: list[tuple[int, int, int, bool]] | None = None
    starts: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.pieces is not None:
            self.starts = [piece[0] for piece in self.pieces]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original byte span holding decoded ``data[start:end]``."""
        if self.pieces is None:
            last = max(start, end - 1)
            low = self.origin + 4 * (start // 3) + start % 3
            high = self.origin + 4 * (last // 3) + last % 3 + 2
            return low, min(high, self.origin_end)
        return self._start(start), self._end(max(start, end - 1))

    def touches_escape(self, start: int, end: int) -> bool:
        """Whether decoding changed anything in or right next to ``data[start:end]``."""
        if self.pieces is None:
            return True
        index = max(0, bisect_right(self.starts, max(0, start - 1)) - 1)
        while index < len(self.pieces) and self.pieces[index][0] <= end:
            if not self.pieces[index][3]:
                return True
            index += 1
        return False

    def _piece(self, offset: int) -> tuple[int, int, int, bool]:
        assert self.pieces is not None
        return self.pieces[max(0, bisect_right(self.starts, offset) - 1)]

    def _start(self, offset: int) -> int:
        decoded, low, _high, literal = self._piece(offset)
        return low + (offset - decoded) if literal else low

    def _end(self, offset: int) -> int:
        decoded, low, high, literal = self._piece(offset)
        return low + (offset - decoded) + 1 if literal else high


def views(data: bytes, hints: Sequence[Hint]) -> list[View]:
    """The decoded views of ``data`` around ``hints``, within a budget proportional to ``data``."""
    budget = len(data) + _BUDGET_FLOOR
    found: list[View] = []
    by_encoding: dict[str, list[int]] = {}
    for encoding, position in hints:
        by_encoding.setdefault(encoding, []).append(position)
    for encoding in ENCODINGS:
        positions = sorted(by_encoding.get(encoding, ()))
        if encoding == BASE64:
            spans = _base64_spans(data, positions)
        else:
            spans = _line_windows(data, positions, STRIDES[encoding])
        for low, high in spans:
            if budget <= 0:
                return found
            view = _decode_base64(data, low, high) if encoding == BASE64 else _unescape(encoding, data, low, high)
            if view is not None:
                budget -= len(view.data)
                found.append(view)
    return found


def _line_windows(data: bytes, ends: Sequence[int], stride: int) -> list[tuple[int, int]]:
    windows: list[tuple[int, int]] = []
    for end in ends:
        if windows and end + stride <= windows[-1][1]:
            continue
        reach_low, reach_high = max(0, end - _WINDOW), min(len(data), end + _WINDOW)
        low = data.rfind(b"\n", reach_low, end) + 1 or reach_low
        # Up to the end of the line holding ``end + stride``: the hits in between were thinned away.
        newline = data.find(b"\n", min(reach_high, end + stride), reach_high)
        high = reach_high if newline < 0 else newline
        if windows and low <= windows[-1][1]:
            windows[-1] = (windows[-1][0], max(windows[-1][1], high))
        else:
            windows.append((low, high))
    return windows


def _base64_spans(data: bytes, positions: Sequence[int]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    whole = False  # whether the last span reaches the end of its run
    for position in positions:
        position = max(position, position % 4)  # a fragment at the very start: keep its alignment
        if spans and spans[-1][0] <= position < spans[-1][1] and (whole or position + _ROOM <= spans[-1][1]):
            continue  # inside the previous window, with room for a token after it
        floor, ceiling = max(0, position - _WINDOW), min(len(data), position + _WINDOW)
        low = floor + len(data[floor:position].rstrip(_ALPHABET))
        low += (position - low) % 4  # keep the alignment the trigger found
        padded = ceiling - len(data[position:ceiling].lstrip(_ALPHABET))
        padding = data[padded : padded + 2]
        high = padded + len(padding) - len(padding.lstrip(b"="))
        if padded - low >= _MIN_RUN:
            spans.append((low, high))
            whole = padded < ceiling or padded == len(data)
    return spans


def _b64decode(chunk: bytes) -> bytes:
    chunk = chunk.rstrip(b"=")
    if len(chunk) % 4 == 1:
        chunk = chunk[:-1]
    try:
        return binascii.a2b_base64(chunk.translate(_URLSAFE) + b"=" * (-len(chunk) % 4))
    except binascii.Error:
        return b""


def _decode_base64(data: bytes, low: int, high: int) -> View | None:
    decoded = _b64decode(data[low:high])
    if not decoded:
        return None
    return View(BASE64, decoded.translate(_CONTROLS), low, high)


def _unescape(encoding: str, data: bytes, low: int, high: int) -> View | None:
    pattern, replace = (_PERCENT, _percent) if encoding == PERCENT else (_JSON, _json)
    parts: list[bytes] = []
    pieces: list[tuple[int, int, int, bool]] = []
    decoded, cursor = 0, low
    for match in pattern.finditer(data, low, high):
        if match.start() > cursor:
            pieces.append((decoded, cursor, match.start(), True))
            parts.append(data[cursor : match.start()])
            decoded += match.start() - cursor
        value = replace(match)
        pieces.append((decoded, match.start(), match.end(), False))
        parts.append(value)
        decoded += len(value)
        cursor = match.end()
    if not any(not literal for *_, literal in pieces):
        return None
    if high > cursor:
        pieces.append((decoded, cursor, high, True))
        parts.append(data[cursor:high])
    return View(encoding, b"".join(parts), low, high, pieces)


def _percent(match: re.Match[bytes]) -> bytes:
    digits = match.group(1)
    return b" " if digits is None else bytes((int(digits, 16),))


def _json(match: re.Match[bytes]) -> bytes:
    high, low, single, simple = match.groups()
    if simple is not None:
        return _JSON_SIMPLE[simple]
    if high is not None:
        return chr(0x10000 + ((int(high, 16) - 0xD800) << 10) + (int(low, 16) - 0xDC00)).encode()
    return chr(int(single, 16)).encode("utf-8", "replace")
