"""Every rule's examples, in both prefilter modes, plus the rule-file contract itself."""

from __future__ import annotations

import pytest

from nexora.scanner.detect import Detector, Document
from nexora.scanner.model import ScanStats
from nexora.scanner.ruleset import Rule, RuleError, load_rules, parse_rules
from tests.scanner.fixtures.samples import expand

RULES = load_rules()


def _found(detector: Detector, rule: Rule, text: str) -> list[str]:
    findings = detector.detect(Document("example.cfg", text.encode()), ScanStats())
    return [finding.secret for finding in findings if finding.rule_id == rule.id]


def test_there_are_at_least_150_credential_types() -> None:
    assert len(RULES) >= 150
    assert len({rule.provider for rule in RULES}) >= 80


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
def test_true_positive_examples_are_found(rule: Rule, detector: Detector, keyword_detector: Detector) -> None:
    for example in rule.tp:
        text = expand(example)
        assert _found(detector, rule, text), f"hyperscan missed a tp example of {rule.id}"
        assert _found(keyword_detector, rule, text), f"keyword prefilter missed a tp example of {rule.id}"


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.id)
def test_false_positive_examples_are_not_reported(rule: Rule, detector: Detector, keyword_detector: Detector) -> None:
    for example in rule.fp:
        text = expand(example)
        assert not _found(detector, rule, text), f"{rule.id} reported an fp example"
        assert not _found(keyword_detector, rule, text), f"{rule.id} reported an fp example (keywords)"


def test_rule_metadata_is_complete() -> None:
    for rule in RULES:
        assert rule.title
        assert rule.provider
        assert rule.nhi_kind
        assert rule.severity in ("critical", "high", "medium", "low")
        assert 0 < rule.width <= 16384


def test_offline_validators_cover_the_formats_the_issue_names() -> None:
    validators = {rule.validator for rule in RULES}
    assert {
        "github-checksum",
        "npm-checksum",
        "grafana-service-checksum",
        "atlassian-checksum",
        "gitlab-routable",
        "aws-access-key-id",
        "pypi-macaroon",
        "jwt",
        "private-key",
        "age-bech32",
        "openai-marker",
        "anthropic-marker",
        "azure-marker",
        "nexora-api-key",
    } <= validators


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[rule]]\nid = 'x'\n", "missing"),
        ("[[rule]\n", "not valid TOML"),
        (
            "[[rule]]\nid='open-ended'\ntitle='t'\nprovider='p'\nnhi_kind='k'\nseverity='high'\n"
            "regex='(?P<secret>a+)'\nkeywords=['a']\ntp=['a']\nfp=['b']\n",
            "unbounded",
        ),
        (
            "[[rule]]\nid='no-group'\ntitle='t'\nprovider='p'\nnhi_kind='k'\nseverity='high'\n"
            "regex='a{3}'\nkeywords=['a']\ntp=['a']\nfp=['b']\n",
            "named group",
        ),
        (
            "[[rule]]\nid='bad-regex'\ntitle='t'\nprovider='p'\nnhi_kind='k'\nseverity='high'\n"
            "regex='(?P<secret>a{3}'\nkeywords=['a']\ntp=['a']\nfp=['b']\n",
            "does not compile",
        ),
        (
            "[[rule]]\nid='bad-validator'\ntitle='t'\nprovider='p'\nnhi_kind='k'\nseverity='high'\n"
            "regex='(?P<secret>a{3})'\nkeywords=['a']\nvalidator='nope'\ntp=['a']\nfp=['b']\n",
            "unknown validator",
        ),
    ],
)
def test_invalid_rules_are_rejected_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        parse_rules(text, "custom.toml")


def test_disabling_an_unknown_rule_is_an_error() -> None:
    with pytest.raises(RuleError, match="unknown rule"):
        load_rules(disabled=["no-such-rule"])
