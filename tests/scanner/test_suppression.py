"""Suppression: inline ``nexora:allow``, the config file, and baselines that survive moving code."""

from __future__ import annotations

import json
import random
from pathlib import Path

from tests.scanner.fixtures.files import write
from tests.scanner.fixtures.samples import github_token

RNG = random.Random(9)


def _rules(result: object) -> list[str]:
    return sorted(f["rule_id"] for f in json.loads(result.stdout)["findings"])  # type: ignore[attr-defined]


def test_inline_allow_comment_suppresses_that_line_only(tmp_path: Path, cli: object) -> None:
    write(tmp_path / "a.py", f'T1 = "{github_token(RNG)}"  # nexora:allow test token\nT2 = "{github_token(RNG)}"\n')
    result = cli(tmp_path, "--format", "json")  # type: ignore[operator]
    document = json.loads(result.stdout)
    assert [f["line"] for f in document["findings"]] == [2]
    assert document["summary"]["suppressed"]["inline"] == 1


def test_config_at_the_scan_root_disables_rules_and_allowlists(tmp_path: Path, cli: object) -> None:
    write(
        tmp_path / ".nexora-scan.toml",
        """
[rules]
disabled = ["generic-password"]

[allowlist]
paths = ["^vendor/"]
regexes = ["^ghp_KNOWN"]
stopwords = ["sandbox"]
""",
    )
    write(tmp_path / "vendor" / "lib.py", f'T = "{github_token(RNG)}"\n')
    write(tmp_path / "app.py", f'password = "Zx8#kL2!qP9w"\nT = "{github_token(RNG)}"\n')
    write(tmp_path / "sandbox.env", "STRIPE_SECRET_KEY=sk_live_sandbox" + "Qw8Er5Ty2Ui9Op4As7Df1Gh\n")
    result = cli(tmp_path, "--format", "json")  # type: ignore[operator]
    document = json.loads(result.stdout)
    assert [(f["path"], f["rule_id"]) for f in document["findings"]] == [("app.py", "github-ghp")]
    assert document["summary"]["suppressed"]["config"] >= 1
    assert document["summary"]["skipped_ignored"] == 1


def test_config_can_add_rules(tmp_path: Path, cli: object) -> None:
    config = write(
        tmp_path / "custom.toml",
        """
[[rule]]
id = "acme-internal-token"
title = "ACME internal token"
provider = "ACME"
nhi_kind = "api-token"
severity = "high"
regex = '''\\b(?P<secret>acme_[a-z0-9]{24})\\b'''
keywords = ["acme_"]
tp = ["acme_k2j4h5g6f7d8s9a0q1w2e3r4"]
fp = ["acme_short"]
""",
    )
    write(tmp_path / "src" / "x.txt", "token: acme_k2j4h5g6f7d8s9a0q1w2e3r4\n")
    result = cli(tmp_path / "src", "--config", config, "--format", "json")  # type: ignore[operator]
    assert _rules(result) == ["acme-internal-token"]


def test_invalid_config_is_a_clear_error_with_exit_code_2(tmp_path: Path, cli: object) -> None:
    bad = write(tmp_path / "bad.toml", "[allowlist]\nregexes = ['(unclosed']\n")
    result = cli(tmp_path, "--config", bad)  # type: ignore[operator]
    assert result.exit_code == 2
    assert "invalid regex" in result.stderr


def test_invalid_rule_in_config_is_a_clear_error_with_exit_code_2(tmp_path: Path, cli: object) -> None:
    bad = write(
        tmp_path / ".nexora-scan.toml",
        "[[rule]]\nid='greedy'\ntitle='t'\nprovider='p'\nnhi_kind='k'\nseverity='high'\nregex='(?P<secret>x+)'\n"
        "keywords=['x']\ntp=['x']\nfp=['y']\n",
    )
    result = cli(bad.parent)  # type: ignore[operator]
    assert result.exit_code == 2
    assert "greedy" in result.stderr
    assert "unbounded" in result.stderr


def test_unknown_config_section_is_rejected(tmp_path: Path, cli: object) -> None:
    bad = write(tmp_path / "c.toml", "[allowlists]\npaths = []\n")
    result = cli(tmp_path, "--config", bad)  # type: ignore[operator]
    assert result.exit_code == 2
    assert "unknown section" in result.stderr


def test_baseline_suppresses_known_findings_even_after_code_moves(tmp_path: Path, cli: object) -> None:
    known = github_token(RNG)
    source = write(tmp_path / "src" / "app.py", f'OLD = "{known}"\n')
    baseline = tmp_path / "baseline.json"
    created = cli(tmp_path / "src", "--update-baseline", baseline)  # type: ignore[operator]
    assert created.exit_code == 0
    source.write_text(f'# moved down\n\n\nOLD = "{known}"\nNEW = "{github_token(RNG)}"\n')

    result = cli(tmp_path / "src", "--baseline", baseline, "--format", "json")  # type: ignore[operator]

    document = json.loads(result.stdout)
    assert result.exit_code == 1
    assert [f["line"] for f in document["findings"]] == [5]
    assert document["summary"]["suppressed"]["baseline"] == 1
    stored = baseline.read_text()
    assert known not in stored
    assert "line" not in json.loads(stored)["findings"][0]


def test_a_baseline_that_is_not_json_is_an_error(tmp_path: Path, cli: object) -> None:
    bad = write(tmp_path / "b.json", "not json")
    write(tmp_path / "src" / "a.txt", "hello")
    result = cli(tmp_path / "src", "--baseline", bad)  # type: ignore[operator]
    assert result.exit_code == 2
    assert "not a nexora baseline" in result.stderr
