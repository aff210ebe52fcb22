"""Rules as data: loading and validating the TOML rule files under ``nexora/scanner/rules``.

``python -m nexora.scanner.ruleset --docs docs/scanner.md`` regenerates the rule counts and provider
list in the scanner documentation (between the ``rules:begin``/``rules:end`` markers); a test fails
when that block is stale.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import textwrap
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from nexora.scanner import cache as disk_cache
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
    # A regex the whole document must match for this rule's findings to count (``kind: Secret``).
    context_regex: str | None = None
    width: int = 0
    ignorecase: bool = False  # the whole regex is case-insensitive (a leading ``(?i)``)
    # Ids of rules this one wins over when both report the same secret (see ``precedence_ranks``).
    supersedes: tuple[str, ...] = ()
    # Depth in the precedence graph: 0 for a rule that supersedes nothing; set by ``load_rules``.
    rank: int = 0

    @property
    def pattern(self) -> re.Pattern[bytes]:
        """The compiled bytes regex, compiled on first use: most rules never confirm a candidate in a scan,
        and compiling every one of them at start-up cost a quarter of a second per process."""
        return _compiled(self.regex)

    @property
    def context(self) -> re.Pattern[bytes] | None:
        """The compiled ``context_regex``, compiled on first use like ``pattern``."""
        return _compiled(self.context_regex) if self.context_regex is not None else None

    def context_found(self, document: bytes) -> bool:
        """Whether ``document`` matches ``context_regex`` (always, for a rule without one)."""
        if self.context_regex is None:
            return True
        # ``(?m)^kind:...`` runs at a fifth of the speed of a search for its text; most documents lack it.
        literal = _required_literal(self.context_regex)
        if literal is not None and literal not in document:
            return False
        return _compiled(self.context_regex).search(document) is not None


@cache
def _compiled(regex: str) -> re.Pattern[bytes]:
    return re.compile(regex.encode())


@cache
def _required_literal(regex: str) -> bytes | None:
    """Text every match of ``regex`` holds: the case-sensitive literal run after its leading anchors, if any."""
    from re import _constants as sre  # type: ignore[attr-defined]  # the stdlib parser's opcodes
    from re import _parser  # type: ignore[attr-defined]

    parsed = _parser.parse(regex.encode())
    if parsed.state.flags & re.IGNORECASE:
        return None
    items = list(parsed)
    while items and items[0][0] is sre.AT:
        items.pop(0)
    literal = bytearray()
    for op, argument in items:
        if op is not sre.LITERAL:
            break
        literal.append(argument)
    return bytes(literal) if len(literal) >= 3 else None


def _parsed(regex: str) -> tuple[int, frozenset[str], bool]:
    """The widest match of ``regex`` in bytes, its group names and whether it ignores case (one parse: the
    stdlib parser checks the syntax, knows the width and the groups; compiling waits until a rule is used)."""
    from re import _parser  # type: ignore[attr-defined]  # the stdlib parser is the only width oracle

    tree = _parser.parse(regex.encode())
    _low, high = tree.getwidth()
    return int(high), frozenset(tree.state.groupdict), bool(tree.state.flags & re.IGNORECASE)


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
        width, groups, ignorecase = _parsed(regex)
    except (re.error, OverflowError, RecursionError) as error:
        raise RuleError(f"{where}: regex does not compile: {error}") from error
    if "secret" not in groups:
        raise RuleError(f"{where}: regex needs a named group (?P<secret>...)")
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
    supersedes = raw.get("supersedes", [])
    if not isinstance(supersedes, list) or not all(isinstance(i, str) and _ID.fullmatch(i) for i in supersedes):
        raise RuleError(f"{where}: supersedes must be a list of rule ids")
    if rule_id in supersedes:
        raise RuleError(f"{where}: a rule cannot supersede itself")
    entropy = raw.get("entropy")
    context = str(raw["context"]) if raw.get("context") else None
    if context is not None:
        try:
            _compiled(context)
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
        context_regex=context,
        width=width,
        ignorecase=ignorecase,
        supersedes=tuple(supersedes),
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


# Rule fields held as tuples, which JSON gives back as lists.
_TUPLE_FIELDS = frozenset({"keywords", "tp", "fp", "supersedes"})


def builtin_rules() -> list[Rule]:
    """Every packaged rule, validated and parsed, in file order (precedence ranks not yet set).

    Parsing and validating 825 rules costs more than the rest of a small scan's start-up, so the result is
    kept in the on-disk cache (:mod:`nexora.scanner.cache`) under a digest of the rule files, of this
    module's source and of the validators' names, and read back from there while none of them changes.
    """
    files = builtin_rule_files()
    digest = hashlib.sha256(disk_cache.source_digest(__name__).encode())
    digest.update("\0".join(sorted(validators.REGISTRY)).encode() + b"\1")
    for name, text in files:
        digest.update(name.encode() + b"\0" + text.encode() + b"\1")
    cache_name = f"rules-{digest.hexdigest()[:32]}.json"
    cached = disk_cache.read(cache_name)
    if cached is not None:
        try:
            return [_cached_rule(entry) for entry in json.loads(cached)]
        except (ValueError, TypeError, AttributeError):
            pass  # written by an interrupted or foreign process: parse afresh and overwrite
    rules = [rule for name, text in files for rule in parse_rules(text, name)]
    names = [item.name for item in fields(Rule)]
    entries = [{name: getattr(rule, name) for name in names} for rule in rules]
    disk_cache.write(cache_name, json.dumps(entries, ensure_ascii=False).encode())
    return rules


def _cached_rule(entry: dict[str, Any]) -> Rule:
    values: dict[str, Any] = {key: tuple(value) if key in _TUPLE_FIELDS else value for key, value in entry.items()}
    return Rule(**values)


def load_rules(
    extra_files: Iterable[Path] = (),
    extra_tables: Iterable[Mapping[str, Any]] = (),
    disabled: Iterable[str] = (),
    include_builtin: bool = True,
) -> list[Rule]:
    """The built-in rules plus extra rule files/tables, minus disabled ids; ids must be unique."""
    rules: list[Rule] = builtin_rules() if include_builtin else []
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
    ranks = precedence_ranks(rules)
    blocked = set(disabled)
    return [replace(rule, rank=ranks[rule.id]) if ranks[rule.id] else rule for rule in rules if rule.id not in blocked]


def precedence_ranks(rules: Sequence[Rule]) -> dict[str, int]:
    """Each rule's depth in the ``supersedes`` graph: 1 + the highest rank among the rules it supersedes.

    Two specific rules may match the same secret (a provider's database URL is also a PostgreSQL URL);
    the one that declares ``supersedes = ['other-id']`` must win: a detector orders the candidates for
    one span by descending rank. Unknown ids and cycles are errors.
    """
    by_id = {rule.id: rule for rule in rules}
    for rule in rules:
        missing = [other for other in rule.supersedes if other not in by_id]
        if missing:
            raise RuleError(f"rule {rule.id!r} supersedes unknown rule(s): {', '.join(missing)}")
    ranks: dict[str, int] = {}

    def rank(rule_id: str, path: tuple[str, ...]) -> int:
        if rule_id in path:
            raise RuleError(f"precedence cycle: {' -> '.join((*path[path.index(rule_id) :], rule_id))}")
        if rule_id not in ranks:
            below = [rank(other, (*path, rule_id)) for other in by_id[rule_id].supersedes]
            ranks[rule_id] = 1 + max(below) if below else 0
        return ranks[rule_id]

    for rule in rules:
        rank(rule.id, ())
    return ranks


# -- generated documentation ---------------------------------------------------------------------------
DOCS_BEGIN = "<!-- rules:begin"
DOCS_END = "<!-- rules:end -->"
_DOCS_COMMAND = "python -m nexora.scanner.ruleset --docs docs/scanner.md"


def builtin_rules_by_family() -> dict[str, list[Rule]]:
    """The packaged rules grouped by family: the name of the TOML file that holds them, without ``.toml``."""
    return {name.removesuffix(".toml"): parse_rules(text, name) for name, text in builtin_rule_files()}


def render_rules_doc(families: Mapping[str, Sequence[Rule]]) -> str:
    """The generated block of ``docs/scanner.md``: totals, rules and providers per family, every provider."""
    rules = [rule for family in families.values() for rule in family]
    providers = Counter(rule.provider for rule in rules)
    lines = [
        f"{DOCS_BEGIN} (generated by `{_DOCS_COMMAND}`; a test fails when it is stale) -->",
        f"**{len(rules)} credential types** from {len(providers)} providers, in {len(families)} rule files "
        "(a family is the file a rule lives in):",
        "",
        "| family | rules | providers |",
        "|---|---:|---:|",
    ]
    for family, members in families.items():
        lines.append(f"| `{family}` | {len(members)} | {len({rule.provider for rule in members})} |")
    lines += [f"| **total** | **{len(rules)}** | **{len(providers)}** |", "", "Providers (rules each):", ""]
    listing = ", ".join(f"{name} ({count})" for name, count in sorted(providers.items(), key=lambda i: i[0].lower()))
    lines += textwrap.wrap(listing, width=110, break_long_words=False, break_on_hyphens=False)
    lines.append(DOCS_END)
    return "\n".join(lines)


def update_rules_doc(text: str, block: str) -> str:
    """``text`` with the generated block between the markers replaced by ``block``."""
    start, end = text.find(DOCS_BEGIN), text.find(DOCS_END)
    if start < 0 or end < start:
        raise ValueError(f"no {DOCS_BEGIN} ... {DOCS_END} block to update")
    return text[:start] + block + text[end + len(DOCS_END) :]


def main(argv: Sequence[str] | None = None) -> int:
    """Print the generated rules block, or rewrite it in place in the Markdown file given to ``--docs``."""
    parser = argparse.ArgumentParser(prog="python -m nexora.scanner.ruleset", description=main.__doc__)
    parser.add_argument("--docs", type=Path, metavar="FILE", help="rewrite the generated block of this file")
    arguments = parser.parse_args(argv)
    families = builtin_rules_by_family()
    load_rules()  # the whole set must load (unique ids, known precedences) before it is documented
    block = render_rules_doc(families)
    if arguments.docs is None:
        sys.stdout.write(block + "\n")
        return 0
    text = arguments.docs.read_text(encoding="utf-8")
    updated = update_rules_doc(text, block)
    if updated != text:
        arguments.docs.write_text(updated, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
