"""The on-disk cache of state derived from the rules: read back equal to a fresh derivation, keyed by
everything it derives from, and never an error when missing, corrupt or turned off."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from nexora.scanner import cache, decoders, ruleset
from nexora.scanner.decoders import Triggers
from nexora.scanner.ruleset import Rule, builtin_rules

_EXTRA_RULE = (
    "\n[[rule]]\nid='acme-cache-token'\ntitle='t'\nprovider='Acme'\nnhi_kind='api-key'\nseverity='high'\n"
    "regex='(?P<secret>acmecache_[0-9]{8})'\nkeywords=['acmecache_']\ntp=['acmecache_12345678']\nfp=['acme']\n"
)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NEXORA_SCANNER_CACHE", str(tmp_path))
    return tmp_path


def _refuse(*_args: object) -> list[Rule]:
    raise AssertionError("derived again although the cache holds it")


def test_the_built_in_rules_read_back_from_the_cache_equal_the_parsed_ones(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed = builtin_rules()
    assert len(list(folder.glob("rules-*.json"))) == 1
    monkeypatch.setattr(ruleset, "parse_rules", _refuse)

    assert builtin_rules() == parsed


def test_rules_read_back_compile_their_regex_and_context_on_first_use(folder: Path) -> None:
    builtin_rules()
    cached = {rule.id: rule for rule in builtin_rules()}

    secret_data = cached["kubernetes-secret-data"]
    assert secret_data.pattern.search(b"data:\n  password: c2VjcmV0LXZhbHVlLTEyMzQ=\n") is not None
    assert secret_data.context_found(b"apiVersion: v1\nkind: Secret\n")
    assert not secret_data.context_found(b"apiVersion: v1\nkind: ConfigMap\n")


def test_an_edited_rule_file_is_parsed_again(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    builtin_rules()
    files = ruleset.builtin_rule_files()
    edited = [(files[0][0], files[0][1] + _EXTRA_RULE), *files[1:]]
    monkeypatch.setattr(ruleset, "builtin_rule_files", lambda: edited)

    assert "acme-cache-token" in {rule.id for rule in builtin_rules()}
    assert len(list(folder.glob("rules-*.json"))) == 2


def test_a_corrupt_cache_file_is_parsed_afresh_and_replaced(folder: Path) -> None:
    parsed = builtin_rules()
    (path,) = folder.glob("rules-*.json")
    for corrupt in (b'[{"id": "half-written', b'{"not": "a list"}', b'[{"unknown_field": 1}]', b"\xff\xfe"):
        path.write_bytes(corrupt)

        assert builtin_rules() == parsed
        assert path.read_bytes() != corrupt


def test_triggers_read_back_from_the_cache_equal_the_derived_ones(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rules = builtin_rules()
    prefixes, expressions = decoders._triggers(rules)
    Triggers(rules)
    assert len(list(folder.glob("triggers-*.json"))) == 1
    monkeypatch.setattr(decoders, "_triggers", _refuse)

    triggers = Triggers(rules)

    assert (triggers.prefixes, triggers.expressions) == (prefixes, expressions)


def test_nothing_is_written_when_the_cache_is_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEXORA_SCANNER_CACHE", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))

    rules = builtin_rules()
    Triggers(rules)

    assert rules
    assert list(tmp_path.iterdir()) == []
    assert cache.read("anything") is None


def test_an_unwritable_cache_folder_is_not_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be", encoding="utf-8")
    monkeypatch.setenv("NEXORA_SCANNER_CACHE", str(blocker / "cache"))

    assert builtin_rules()
    assert cache.read("rules.json") is None


def test_the_source_digest_follows_the_code_that_derives_the_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "deriving.py"
    source.write_text("WIDTH = 1\n", encoding="utf-8")
    module = types.ModuleType("deriving")
    module.__file__ = str(source)
    monkeypatch.setitem(sys.modules, "deriving", module)
    before = cache.source_digest("deriving")

    source.write_text("WIDTH = 2\n", encoding="utf-8")

    assert cache.source_digest("deriving") != before
