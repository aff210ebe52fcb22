"""The scan configuration file (``.nexora-scan.toml`` at the scan root, or ``--config FILE``)."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nexora.scanner.detect import Allowlist

CONFIG_NAME = ".nexora-scan.toml"
_SECTIONS = {"rule", "rules", "allowlist", "scan"}


class ConfigError(ValueError):
    """The configuration file is invalid; the message names the file and the key."""


@dataclass(slots=True)
class ScanConfig:
    """Extra rules, disabled rules and allowlists from a configuration file."""

    source: str | None = None
    extra_rules: list[dict[str, Any]] = field(default_factory=list)
    rule_files: list[Path] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)
    allow_paths: list[str] = field(default_factory=list)
    allow_regexes: list[str] = field(default_factory=list)
    stopwords: list[str] = field(default_factory=list)

    def allowlist(self) -> Allowlist:
        """The compiled allowlist (patterns were validated when the file was loaded)."""
        return Allowlist(
            paths=[re.compile(p) for p in self.allow_paths],
            regexes=[re.compile(p) for p in self.allow_regexes],
            stopwords=[word.lower() for word in self.stopwords],
        )


def _strings(section: dict[str, Any], key: str, where: str) -> list[str]:
    value = section.get(key, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where}: '{key}' must be a list of strings")
    return list(value)


def _regexes(values: list[str], where: str) -> list[str]:
    for value in values:
        try:
            re.compile(value)
        except re.error as error:
            raise ConfigError(f"{where}: invalid regex {value!r}: {error}") from error
    return values


def load_config(path: Path) -> ScanConfig:
    """Parse and validate a configuration file; raises :class:`ConfigError` on any problem."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{path}: cannot read config: {error.strerror}") from error
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from error
    unknown = set(document) - _SECTIONS
    if unknown:
        raise ConfigError(f"{path}: unknown section(s) {', '.join(sorted(unknown))}; expected rule, rules, allowlist")
    rules = document.get("rules", {})
    allowlist = document.get("allowlist", {})
    extra = document.get("rule", [])
    if not isinstance(rules, dict) or not isinstance(allowlist, dict) or not isinstance(extra, list):
        raise ConfigError(f"{path}: [rules] and [allowlist] must be tables, [[rule]] an array of tables")
    where = str(path)
    return ScanConfig(
        source=where,
        extra_rules=[dict(table) for table in extra],
        rule_files=[path.parent / name for name in _strings(rules, "files", f"{where} [rules]")],
        disabled=_strings(rules, "disabled", f"{where} [rules]"),
        allow_paths=_regexes(_strings(allowlist, "paths", f"{where} [allowlist]"), f"{where} [allowlist]"),
        allow_regexes=_regexes(_strings(allowlist, "regexes", f"{where} [allowlist]"), f"{where} [allowlist]"),
        stopwords=_strings(allowlist, "stopwords", f"{where} [allowlist]"),
    )


def discover_config(root: Path) -> ScanConfig | None:
    """The ``.nexora-scan.toml`` at the scan root, if there is one."""
    candidate = (root if root.is_dir() else root.parent) / CONFIG_NAME
    return load_config(candidate) if candidate.is_file() else None
