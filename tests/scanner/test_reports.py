"""Reports: text, JSON, SARIF 2.1.0 and JUnit carry the right fields and never a raw secret by default."""

from __future__ import annotations

import json
import random
from pathlib import Path
from xml.etree import ElementTree

from tests.scanner.fixtures.files import commit_all, git, write
from tests.scanner.fixtures.samples import aws_key_pair, github_token

RNG = random.Random(5)


def _project(tmp_path: Path) -> tuple[Path, str, str]:
    token = github_token(RNG)
    key_id, _ = aws_key_pair(RNG)
    write(tmp_path / "src" / "settings.py", f'DEBUG = True\nGITHUB_TOKEN = "{token}"\n')
    write(tmp_path / "deploy" / "aws.env", f"AWS_ACCESS_KEY_ID={key_id}\n")
    return tmp_path, token, key_id


def test_text_report_shows_location_rule_and_redacted_value_with_a_summary(tmp_path: Path, cli: object) -> None:
    root, token, key_id = _project(tmp_path)
    result = cli(root, "--no-progress")  # type: ignore[operator]
    assert result.exit_code == 1
    assert f"src/settings.py:2:17  github-ghp  {token[:4]}…{token[-4:]}" in result.stdout
    assert f"deploy/aws.env:1:19  aws-access-key-id  {key_id[:4]}…{key_id[-4:]}" in result.stdout
    assert "2 findings in 2 files" in result.stdout
    assert "/s)" in result.stdout
    assert token not in result.stdout
    assert key_id not in result.stdout


def test_no_redact_shows_raw_values(tmp_path: Path, cli: object) -> None:
    root, token, _ = _project(tmp_path)
    result = cli(root, "--no-redact", "--format", "json")  # type: ignore[operator]
    assert token in result.stdout


def test_json_report_carries_provider_kind_confidence_and_validation(tmp_path: Path, cli: object) -> None:
    root, token, key_id = _project(tmp_path)
    result = cli(root, "--format", "json")  # type: ignore[operator]
    document = json.loads(result.stdout)
    by_rule = {f["rule_id"]: f for f in document["findings"]}
    aws = by_rule["aws-access-key-id"]
    assert aws["provider"] == "AWS"
    assert aws["nhi_kind"] == "cloud-access-key"
    assert aws["confidence"] == "high"
    assert aws["validator_result"].startswith("account ")
    assert aws["secret"] == aws["redacted"] != key_id
    assert by_rule["github-ghp"]["validator_result"] == "checksum ok"
    assert document["summary"]["findings"] == 2
    assert token not in result.stdout


def test_json_report_carries_commit_metadata_for_history_findings(tmp_path: Path, cli: object) -> None:
    git(tmp_path, "init", "-q")
    write(tmp_path / "a.env", f"GITHUB_TOKEN={github_token(RNG)}\n")
    sha = commit_all(tmp_path, "oops")
    result = cli(tmp_path, "--git", "--format", "json")  # type: ignore[operator]
    commit = json.loads(result.stdout)["findings"][0]["commit"]
    assert commit == {"sha": sha, "author": "Test Author", "email": "author@test.invalid", "date": commit["date"]}


def test_sarif_report_follows_2_1_0_with_relative_uris_and_regions(tmp_path: Path, cli: object) -> None:
    root, token, _ = _project(tmp_path)
    result = cli(root, "--format", "sarif")  # type: ignore[operator]
    log = json.loads(result.stdout)
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    rule_ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert sorted(rule_ids) == ["aws-access-key-id", "github-ghp"]
    result_by_rule = {r["ruleId"]: r for r in run["results"]}
    github = result_by_rule["github-ghp"]
    assert github["level"] == "error"
    assert rule_ids[github["ruleIndex"]] == "github-ghp"
    location = github["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "src/settings.py", "uriBaseId": "SRCROOT"}
    assert location["region"] == {"startLine": 2, "endLine": 2, "startColumn": 17, "endColumn": 57}
    assert set(github["partialFingerprints"]) == {"secretFingerprint/v1"}
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"].startswith("file://")
    assert token not in result.stdout


def test_sarif_fingerprints_stay_stable_when_lines_move(tmp_path: Path, cli: object) -> None:
    root, _, _ = _project(tmp_path)
    before = json.loads(cli(root, "--format", "sarif").stdout)["runs"][0]["results"]  # type: ignore[operator]
    settings = root / "src" / "settings.py"
    settings.write_text("# new header\n\n\n" + settings.read_text())
    after = json.loads(cli(root, "--format", "sarif").stdout)["runs"][0]["results"]  # type: ignore[operator]
    fingerprint = {r["ruleId"]: r["partialFingerprints"] for r in before}
    moved = {r["ruleId"]: r for r in after}
    assert moved["github-ghp"]["partialFingerprints"] == fingerprint["github-ghp"]
    assert moved["github-ghp"]["locations"][0]["physicalLocation"]["region"]["startLine"] == 5


def test_junit_report_has_one_failure_per_finding(tmp_path: Path, cli: object) -> None:
    root, token, _ = _project(tmp_path)
    output = tmp_path / "report.xml"
    result = cli(root, "--format", "junit", "--output", output)  # type: ignore[operator]
    assert result.exit_code == 1
    suites = ElementTree.fromstring(output.read_text())  # noqa: S314 - our own report
    assert suites.get("failures") == "2"
    failures = suites.findall(".//failure")
    assert {f.get("type") for f in failures} == {"github-ghp", "aws-access-key-id"}
    assert token not in output.read_text()


def test_clean_junit_report_is_a_single_passing_case(tmp_path: Path, cli: object) -> None:
    write(tmp_path / "clean.py", "print('hello')\n")
    result = cli(tmp_path, "--format", "junit")  # type: ignore[operator]
    assert result.exit_code == 0
    suites = ElementTree.fromstring(result.stdout)  # noqa: S314 - our own report
    assert suites.get("failures") == "0"
    assert len(suites.findall(".//testcase")) == 1
