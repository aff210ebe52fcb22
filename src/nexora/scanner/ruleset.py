"""Rules as data: loading and validating the TOML rule files under ``nexora/scanner/rules``."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from nexora.scanner import validators

SEVERITIES = ("critical", "high", "medium", "low")
CONFIDENCES = ("high", "medium", "low")
# Every match must fit in a bounded window so confirmation stays local and linear.
MAX_RULE_WIDTH = 16384
_ID = re.compile(r"[a-z0-9][a-z0-9-]{1,80}")
_REQUIRED = ("id", "title", "provider", "nhi_kind", "severity", "regex", "keywords", "tp", "fp")


class RuleError(ValueError):
    """A rule file or a rule in it is invalid; the message names the file, rule and problem."""


@dataclass(frozen=True, slots=True)
class Rule:
    """One credential type. ``pattern`` is the compiled bytes regex with a ``secret`` group."""

    id: str
    title: str
    provider: str
    nhi_kind: str
    severity: str
    regex: str
    keywords: tuple[str, ...]
    tp: tuple[str, ...]
    fp: tuple[str, ...]
    entropy: float | None = None
    validator: str | None = None
    verifier: str | None = None
    generic: bool = False
    confidence: str = "high"
    min_length: int = 0
    context: re.Pattern[bytes] | None = field(default=None, compare=False)
    pattern: re.Pattern[bytes] = field(repr=False, compare=False, default=re.compile(b""))
    width: int = 0


def _max_width(regex: str) -> int:
    from re import _parser  # type: ignore[attr-defined]  # the stdlib parser is the only width oracle

    _low, high = _parser.parse(regex).getwidth()
    return int(high)


def build_rule(raw: Mapping[str, Any], origin: str) -> Rule:
    """Validate one rule table and compile it; raises :class:`RuleError` with a precise message."""
    rule_id = str(raw.get("id", "?"))
    where = f"{origin}: rule {rule_id!r}"
    missing = [key for key in _REQUIRED if key not in raw]
    if missing:
        raise RuleError(f"{where}: missing {', '.join(missing)}")
    if not _ID.fullmatch(rule_id):
        raise RuleError(f"{where}: id must be lowercase letters, digits and dashes")
    if raw["severity"] not in SEVERITIES:
        raise RuleError(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
    confidence = str(raw.get("confidence", "medium" if raw.get("generic") else "high"))
    if confidence not in CONFIDENCES:
        raise RuleError(f"{where}: confidence must be one of {', '.join(CONFIDENCES)}")
    regex = str(raw["regex"])
    try:
        pattern = re.compile(regex.encode())
    except re.error as error:
        raise RuleError(f"{where}: regex does not compile: {error}") from error
    if "secret" not in pattern.groupindex:
        raise RuleError(f"{where}: regex needs a named group (?P<secret>...)")
    width = _max_width(regex)
    if width > MAX_RULE_WIDTH:
        raise RuleError(f"{where}: regex is unbounded or wider than {MAX_RULE_WIDTH} bytes; bound every repeat")
    keywords = tuple(str(k).lower() for k in raw["keywords"])
    if not keywords or any(not k for k in keywords):
        raise RuleError(f"{where}: keywords must be a non-empty list of non-empty strings")
    validator = raw.get("validator")
    if validator is not None and validator not in validators.REGISTRY:
        raise RuleError(f"{where}: unknown validator {validator!r}")
    tp, fp = tuple(map(str, raw["tp"])), tuple(map(str, raw["fp"]))
    if not tp or not fp:
        raise RuleError(f"{where}: needs at least one tp and one fp example")
    entropy = raw.get("entropy")
    context = None
    if raw.get("context"):
        try:
            context = re.compile(str(raw["context"]).encode())
        except re.error as error:
            raise RuleError(f"{where}: context regex does not compile: {error}") from error
    return Rule(
        id=rule_id,
        title=str(raw["title"]),
        provider=str(raw["provider"]),
        nhi_kind=str(raw["nhi_kind"]),
        severity=str(raw["severity"]),
        regex=regex,
        keywords=keywords,
        tp=tp,
        fp=fp,
        entropy=float(entropy) if entropy is not None else None,
        validator=str(validator) if validator is not None else None,
        verifier=str(raw["verifier"]) if raw.get("verifier") else None,
        generic=bool(raw.get("generic", False)),
        confidence=confidence,
        min_length=int(raw.get("min_length", 0)),
        context=context,
        pattern=pattern,
        width=width,
    )


def parse_rules(text: str, origin: str) -> list[Rule]:
    """Parse the ``[[rule]]`` tables of one TOML document."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RuleError(f"{origin}: not valid TOML: {error}") from error
    tables = document.get("rule", [])
    if not isinstance(tables, list):
        raise RuleError(f"{origin}: 'rule' must be an array of tables ([[rule]])")
    return [build_rule(table, origin) for table in tables]


def builtin_rule_files() -> list[tuple[str, str]]:
    """(name, text) of every packaged rule file, in name order."""
    folder = resources.files("nexora.scanner") / "rules"
    files = sorted((entry for entry in folder.iterdir() if entry.name.endswith(".toml")), key=lambda e: e.name)
    return [(entry.name, entry.read_text(encoding="utf-8")) for entry in files]


def load_rules(
    extra_files: Iterable[Path] = (),
    extra_tables: Iterable[Mapping[str, Any]] = (),
    disabled: Iterable[str] = (),
    include_builtin: bool = True,
) -> list[Rule]:
    """The built-in rules plus extra rule files/tables, minus disabled ids; ids must be unique."""
    rules: list[Rule] = []
    if include_builtin:
        for name, text in builtin_rule_files():
            rules.extend(parse_rules(text, name))
    for path in extra_files:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise RuleError(f"{path}: cannot read rule file: {error.strerror}") from error
        rules.extend(parse_rules(text, str(path)))
    rules.extend(build_rule(table, "config") for table in extra_tables)
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise RuleError(f"rule id {rule.id!r} is defined twice")
        seen.add(rule.id)
    unknown = set(disabled) - seen
    if unknown:
        raise RuleError(f"cannot disable unknown rule(s): {', '.join(sorted(unknown))}")
    blocked = set(disabled)
    return [rule for rule in rules if rule.id not in blocked]
