"""The rule-file contract: loading, validation, precedence declarations and the generated documentation.

How every rule's ``tp``/``fp`` examples behave against the whole rule set is in ``test_rule_examples.py``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nexora.scanner.ruleset import (
    Rule,
    RuleError,
    builtin_rules_by_family,
    load_rules,
    main,
    parse_rules,
    precedence_ranks,
    render_rules_doc,
    update_rules_doc,
)

RULES = load_rules()
DOC = Path(__file__).parents[2] / "docs" / "scanner.md"
# The rule count must never drop: raise this floor when rules are added, never lower it.
RULE_COUNT_FLOOR = 238
PROVIDER_COUNT_FLOOR = 80
_RULE_TEMPLATE = (
    "[[rule]]\nid='{id}'\ntitle='t'\nprovider='p'\nnhi_kind='k'\nseverity='high'\n"
    "regex='(?P<secret>{id}[0-9]{{8}})'\nkeywords=['{id}']\ntp=['{id}12345678']\nfp=['{id}']\n{extra}\n"
)


def _rule_text(rule_id: str, extra: str = "") -> str:
    return _RULE_TEMPLATE.format(id=rule_id, extra=extra)


def test_the_rule_count_never_drops() -> None:
    assert len(RULES) >= RULE_COUNT_FLOOR
    assert len({rule.provider for rule in RULES}) >= PROVIDER_COUNT_FLOOR


def test_the_generated_rules_block_of_the_docs_is_current() -> None:
    text = DOC.read_text(encoding="utf-8")
    expected = update_rules_doc(text, render_rules_doc(builtin_rules_by_family()))
    assert text == expected, "run: python -m nexora.scanner.ruleset --docs docs/scanner.md"


def test_the_docs_state_the_number_of_rules_that_load() -> None:
    stated = re.search(r"\*\*(\d+) credential types\*\*", DOC.read_text(encoding="utf-8"))
    assert stated is not None, "docs/scanner.md lost its generated rules block"
    assert int(stated.group(1)) == len(RULES) == sum(len(family) for family in builtin_rules_by_family().values())


def test_the_docs_generator_rewrites_only_its_block(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = tmp_path / "scanner.md"
    page.write_text("# Scanner\n\nbefore\n<!-- rules:begin -->\nstale\n<!-- rules:end -->\nafter\n", encoding="utf-8")
    assert main(["--docs", str(page)]) == 0
    text = page.read_text(encoding="utf-8")
    assert text.startswith("# Scanner\n\nbefore\n<!-- rules:begin")
    assert text.endswith("<!-- rules:end -->\nafter\n")
    assert "\nstale\n" not in text
    assert f"**{len(RULES)} credential types**" in text
    for family in ("keys", "databases", "hashes"):
        assert f"| `{family}` |" in text
    assert main([]) == 0
    assert capsys.readouterr().out.strip() == render_rules_doc(builtin_rules_by_family())
    with pytest.raises(ValueError, match="no <!-- rules:begin"):
        update_rules_doc("no markers here", "block")


def test_every_rule_has_a_true_and_a_false_positive_example() -> None:
    for rule in RULES:
        assert rule.tp, f"{rule.id} has no tp example"
        assert rule.fp, f"{rule.id} has no fp example"


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
        "jwt-claims",
        "private-key",
        "pem-private-key",
        "putty-ppk",
        "openpgp-secret-key",
        "jwk-private",
        "pkcs12",
        "java-keystore",
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
        (_rule_text("self-first", "supersedes=['self-first']"), "cannot supersede itself"),
        (_rule_text("not-a-list", "supersedes='other-rule'"), "supersedes must be a list of rule ids"),
        (_rule_text("bad-id", "supersedes=['Not An Id']"), "supersedes must be a list of rule ids"),
    ],
)
def test_invalid_rules_are_rejected_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(RuleError, match=message):
        parse_rules(text, "custom.toml")


def test_disabling_an_unknown_rule_is_an_error() -> None:
    with pytest.raises(RuleError, match="unknown rule"):
        load_rules(disabled=["no-such-rule"])


def test_supersedes_names_rules_that_exist(tmp_path: Path) -> None:
    extra = tmp_path / "extra.toml"
    extra.write_text(_rule_text("acme-token", "supersedes=['no-such-rule']"), encoding="utf-8")
    with pytest.raises(RuleError, match=r"'acme-token' supersedes unknown rule\(s\): no-such-rule"):
        load_rules(extra_files=[extra])


def test_precedence_cycles_are_rejected() -> None:
    rules = parse_rules(
        _rule_text("alpha-token", "supersedes=['beta-token']")
        + _rule_text("beta-token", "supersedes=['gamma-token']")
        + _rule_text("gamma-token", "supersedes=['alpha-token']"),
        "cycle.toml",
    )
    with pytest.raises(RuleError, match="precedence cycle: alpha-token -> beta-token -> gamma-token -> alpha-token"):
        precedence_ranks(rules)


def test_ranks_follow_the_supersedes_chain(tmp_path: Path) -> None:
    extra = tmp_path / "extra.toml"
    extra.write_text(
        _rule_text("acme-db-url", "supersedes=['postgresql-uri']")
        + _rule_text("acme-db-replica-url", "supersedes=['acme-db-url', 'mysql-uri']"),
        encoding="utf-8",
    )
    rules: dict[str, Rule] = {rule.id: rule for rule in load_rules(extra_files=[extra])}
    assert rules["postgresql-uri"].rank == 0
    assert rules["acme-db-url"].rank == 1
    assert rules["acme-db-replica-url"].rank == 2
    # A superseded rule may still be disabled: the declaration names it, it does not require it.
    remaining = {rule.id for rule in load_rules(extra_files=[extra], disabled=["postgresql-uri"])}
    assert "acme-db-url" in remaining
    assert "postgresql-uri" not in remaining


def test_a_context_is_found_exactly_where_its_regex_matches() -> None:
    from tests.scanner.fixtures.samples import expand

    documents = [b"", b"kind: Secret\n", b"apiVersion: v1\nkind:  Secret\n", b"kind: SecretList\n", b"[api]\n"]
    for rule in RULES:
        if rule.context is None:
            continue
        examples = [expand(example).encode() for example in (*rule.tp, *rule.fp)]
        for document in (*documents, *examples):
            assert rule.context_found(document) == (rule.context.search(document) is not None), rule.id


def test_a_rule_without_a_context_is_found_in_any_document() -> None:
    rule = parse_rules(_rule_text("acme-token"), "custom.toml")[0]

    assert rule.context is None
    assert rule.context_found(b"")
