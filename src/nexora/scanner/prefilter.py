"""What Hyperscan is given for a rule: a superset of the rule's regex that is cheap to prefilter with.

The engine compiles one expression per rule with ``HS_FLAG_PREFILTER`` and opens a window around each
reported match end, where Python confirms the rule's own regex. Any expression that matches wherever the
regex does, ending at the same places, is therefore a valid prefilter; this module derives cheaper ones:

* a large bounded repeat (``{12,4096}``) becomes open (``{12,}``): bounds that large blow up Hyperscan's
  compile time;
* the kind of key named after a provider (``huawei[\\w.-]{0,20}?(?:access_?key|_ak)``) becomes any run of
  name characters as long: words such as ``token`` or ``secret`` are everywhere in code, and Hyperscan
  would check the rule at each one.

The engine's database key holds a digest of this module's source, so a change here compiles afresh.
"""

from __future__ import annotations

import re
from re import _constants as sre  # type: ignore[attr-defined]  # the stdlib parser's opcodes
from re import _parser  # type: ignore[attr-defined]  # the stdlib parser: structure and width
from typing import Any

_LARGE_REPEAT = re.compile(rb"(?<!\\)\{(\d+),\d{4,}\}|(?<!\\)\{(\d{4,})\}")
# A regex that ends at a line end (``$``) is reported at most once per line, however long its open run.
_ENDS_AT_LINE_END = re.compile(r"(?<!\\)\$$")


def hyperscan_expression(regex: str) -> bytes:
    """The Hyperscan prefilter expression of a rule's ``regex``."""
    opened = _LARGE_REPEAT.sub(lambda match: b"{" + (match.group(1) or match.group(2)) + b",}", regex.encode())
    return loosen_key_kinds(opened)


def reported_along_runs(regex: str) -> bool:
    """Whether the prefilter expression of ``regex`` has an open bound that Hyperscan would report at every
    end position along a long run (a line end anchor reports it once per line instead)."""
    return bool(_LARGE_REPEAT.search(regex.encode())) and not _ENDS_AT_LINE_END.search(regex)


def loosen_key_kinds(expression: bytes) -> bytes:
    """``expression`` with each kind of key after a provider's name taken as any run of name characters.

    A keyword-context rule names the provider, up to 20 name characters, then the kind of key:
    ``(?i:huawei[\\w.-]{0,20}?(?:access_?key|_ak))``. Words such as ``token``, ``secret`` or ``key`` are all
    over code, and Hyperscan would check the rule at each one; ``(?i:huawei[\\w.-]{0,30})`` only wakes on
    the provider's name. The result matches wherever ``expression`` does, ending at the same places, so it is
    a valid prefilter; Python still confirms the rule's own regex.
    """
    pieces: list[bytes] = []
    done = 0
    while (gap := expression.find(_NAME_GAP, done)) >= 0:
        start = gap + len(_NAME_GAP)
        end = _alternative_end(expression, start)
        width = _name_width(expression[start:end])
        if width is None:
            pieces.append(expression[done:start])
            done = start
            continue
        pieces.append(expression[done:gap] + b"[\\w.-]{0,%d}" % (_NAME_GAP_WIDTH + width))
        done = end
    return b"".join(pieces) + expression[done:]


_NAME_GAP = rb"[\w.-]{0,20}?"
_NAME_GAP_WIDTH = 20
_NAME_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


def _alternative_end(expression: bytes, start: int) -> int:
    """Where the alternative running at ``start`` ends: a ``|`` or ``)`` of the group around it, or the end."""
    depth, index, size = 0, start, len(expression)
    while index < size:
        char = expression[index : index + 1]
        if char == b"\\":
            index += 2
            continue
        if char == b"[":
            index = _class_end(expression, index)
            continue
        if char == b"(":
            depth += 1
        elif char == b")":
            if depth == 0:
                return index
            depth -= 1
        elif char == b"|" and depth == 0:
            return index
        index += 1
    return size


def _class_end(expression: bytes, start: int) -> int:
    """The index just after the character class opening at ``start``."""
    index = start + 1
    if expression[index : index + 1] == b"^":
        index += 1
    if expression[index : index + 1] == b"]":
        index += 1  # a leading ] is a member
    while index < len(expression) and expression[index : index + 1] != b"]":
        index += 2 if expression[index : index + 1] == b"\\" else 1
    return index + 1


def _name_width(text: bytes) -> int | None:
    """The widest match of ``text`` when every character it can match is a name character, else None."""
    if not text:
        return None
    try:
        parsed = _parser.parse(text)
    except (re.error, OverflowError, RecursionError):
        return None
    if not _only_name_characters(list(parsed)):
        return None
    return int(parsed.getwidth()[1])


def _only_name_characters(items: list[tuple[Any, Any]]) -> bool:
    for op, argument in items:
        if op is sre.LITERAL:
            allowed = argument in _NAME_BYTES
        elif op is sre.IN:
            allowed = all(
                (kind is sre.LITERAL and value in _NAME_BYTES)
                or (kind is sre.RANGE and all(code in _NAME_BYTES for code in range(value[0], value[1] + 1)))
                or (kind is sre.CATEGORY and value in (sre.CATEGORY_WORD, sre.CATEGORY_DIGIT))
                for kind, value in argument
            )
        elif op is sre.SUBPATTERN:
            allowed = argument[0] is None and _only_name_characters(list(argument[3]))
        elif op is sre.BRANCH:
            allowed = all(_only_name_characters(list(branch)) for branch in argument[1])
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
            allowed = _only_name_characters(list(argument[2]))
        else:
            allowed = False
        if not allowed:
            return False
    return True
