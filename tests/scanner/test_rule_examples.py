"""Every rule's examples against the whole rule set, in both prefilter modes.

- Each ``tp`` example is reported, and by exactly its rule: another specific rule that also reports the
  same secret fails the test unless the example's rule declares (directly or through a chain) that it
  ``supersedes`` the other. Generic rules (``generic = true``) may overlap anything: their examples only
  have to be found by the generic rule on its own, and still be reported by the whole set.
- Each ``fp`` example is quiet for every rule, not only for its own.

Known problems that belong to other rule files or to the detector are listed below as strict xfails, so
fixing one turns its entry into a failure until the entry is removed.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import cache

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from nexora.scanner.detect import Detector, Document
from nexora.scanner.engine import Engine
from nexora.scanner.model import Finding, ScanStats
from nexora.scanner.ruleset import Rule, load_rules, parse_rules
from nexora.scanner.validators import run
from tests.scanner.fixtures.samples import expand

RULES = load_rules()
BY_ID = {rule.id: rule for rule in RULES}
Span = tuple[tuple[int, int], tuple[int, int]]

# (rule id, example index) -> why the example currently fails; each entry is a strict xfail.
KNOWN_TP_FAILURES: dict[tuple[str, int], str] = {}
KNOWN_FP_FAILURES: dict[tuple[str, int], str] = {}


def _cases(kind: str, known: dict[tuple[str, int], str]) -> list[object]:
    cases: list[object] = []
    for rule in RULES:
        for index in range(len(rule.tp if kind == "tp" else rule.fp)):
            reason = known.get((rule.id, index))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            cases.append(pytest.param(rule.id, index, id=f"{rule.id}-{kind}{index}", marks=marks))
    return cases


def _span(finding: Finding) -> Span:
    return (finding.line, finding.column), (finding.end_line, finding.end_column)


def _overlap(first: Span, second: Span) -> bool:
    return first[0] < second[1] and second[0] < first[1]


def _detect(detector: Detector, data: bytes) -> list[Finding]:
    return detector.detect(Document("example.cfg", data), ScanStats())


def _superseded(rule: Rule) -> set[str]:
    """Every rule id ``rule`` wins over, following ``supersedes`` chains."""
    found: set[str] = set()
    pending = list(rule.supersedes)
    while pending:
        other = pending.pop()
        if other not in found and other in BY_ID:
            found.add(other)
            pending.extend(BY_ID[other].supersedes)
    return found


@cache
def _alone(rule_id: str) -> Detector:
    """A detector holding one rule: what that rule reports when no other rule competes for the span."""
    engine = Engine([BY_ID[rule_id]], "keywords")
    engine.prepare()
    return Detector(engine)


@pytest.mark.parametrize(("rule_id", "index"), _cases("tp", KNOWN_TP_FAILURES))
def test_a_true_positive_example_is_reported_by_exactly_its_rule(
    rule_id: str, index: int, detector: Detector, keyword_detector: Detector
) -> None:
    rule = BY_ID[rule_id]
    data = expand(rule.tp[index]).encode()
    own = _detect(_alone(rule_id), data)
    assert own, f"{rule_id} does not find its tp{index} example even on its own"
    for mode, full in (("hyperscan", detector), ("keywords", keyword_detector)):
        findings = _detect(full, data)
        if rule.generic:
            # A specific rule may claim the span first; the secret must still be reported.
            lost = [span for span in map(_span, own) if not any(_overlap(span, _span(f)) for f in findings)]
            assert not lost, f"{mode}: the rule set does not report {rule_id} tp{index} at all"
        else:
            reporters = sorted({f.rule_id for f in findings if any(_overlap(_span(f), _span(o)) for o in own)})
            assert rule_id in reporters, f"{mode}: {rule_id} tp{index} is reported as {reporters or 'nothing'}"
    if rule.generic:
        return
    wins_over = _superseded(rule)
    rivals = sorted({c.rule.id for c in detector.engine.find(data)} - {rule_id} - wins_over)
    clashes = [
        other
        for other in rivals
        if not BY_ID[other].generic
        and any(_overlap(_span(theirs), _span(mine)) for theirs in _detect(_alone(other), data) for mine in own)
    ]
    assert not clashes, (
        f"{rule_id} tp{index} is also reported by {clashes}: narrow one regex, or declare "
        f"supersedes = {clashes!r} in the rule that should win"
    )


@pytest.mark.parametrize(("rule_id", "index"), _cases("fp", KNOWN_FP_FAILURES))
def test_a_false_positive_example_is_quiet_for_every_rule(
    rule_id: str, index: int, detector: Detector, keyword_detector: Detector
) -> None:
    data = expand(BY_ID[rule_id].fp[index]).encode()
    for mode, full in (("hyperscan", detector), ("keywords", keyword_detector)):
        noisy = [(f.rule_id, f.redacted) for f in _detect(full, data)]
        assert not noisy, f"{mode}: {rule_id} fp{index} is reported by {noisy}"


@pytest.mark.parametrize("mode", ["hyperscan", "keywords"])
def test_the_superseding_rule_reports_a_secret_both_rules_match(mode: str) -> None:
    # The broad rule's match starts first, so only a declared precedence can make the narrow one win.
    broad = (
        "[[rule]]\nid='acme-key'\ntitle='t'\nprovider='Acme'\nnhi_kind='k'\nseverity='high'\n"
        "regex='x [a-z]{1,8}=(?P<secret>acme_[0-9a-f]{16})'\nkeywords=['acme_']\ntp=['x']\nfp=['y']\n"
    )
    narrow = (
        "[[rule]]\nid='acme-prod-key'\ntitle='t'\nprovider='Acme'\nnhi_kind='k'\nseverity='high'\n"
        "regex='prod=(?P<secret>acme_[0-9a-f]{16})'\nkeywords=['acme_']\nsupersedes=['acme-key']\n"
        "tp=['x']\nfp=['y']\n"
    )
    data = b"x prod=acme_4f1c9a7be2d05c83\n"
    for text in (broad + narrow, narrow + broad):  # the answer must not depend on declaration order
        rules = parse_rules(text, "precedence.toml")
        rules = [replace(rule, rank=1 if rule.supersedes else 0) for rule in rules]
        engine = Engine(rules, mode)
        engine.prepare()
        assert [f.rule_id for f in _detect(Detector(engine), data)] == ["acme-prod-key"]


# -- real keys, generated now, in every container the key rules claim --------------------------------------
def _pem(key: object, form: serialization.PrivateFormat, password: bytes | None = None) -> str:
    encryption = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    return key.private_bytes(serialization.Encoding.PEM, form, encryption).decode()  # type: ignore[attr-defined]


def _b64url(number: int, size: int) -> str:
    return base64.urlsafe_b64encode(number.to_bytes(size, "big")).decode().rstrip("=")


def _ec_jwk() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_numbers()
    members = {"kty": "EC", "crv": "P-256", "x": _b64url(public.x, 32), "y": _b64url(public.y, 32)}
    return json.dumps({**members, "d": _b64url(key.private_numbers().private_value, 32)})


def _pkcs12_in_config() -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    blob = pkcs12.serialize_key_and_certificates(
        b"api", key, None, None, serialization.BestAvailableEncryption(b"keystore-pass")
    )
    return f"server:\n  ssl:\n    keystore.p12: {base64.b64encode(blob).decode()}\n"


REAL_KEYS: dict[str, tuple[str, Callable[[], str], str]] = {
    "rsa-pkcs1": ("rsa-private-key", lambda: _pem(_rsa(), serialization.PrivateFormat.TraditionalOpenSSL), "parsed"),
    "ec-sec1": (
        "ec-private-key",
        lambda: _pem(ec.generate_private_key(ec.SECP384R1()), serialization.PrivateFormat.TraditionalOpenSSL),
        "parsed: EC secp384r1",
    ),
    "dsa": (
        "dsa-private-key",
        lambda: _pem(dsa.generate_private_key(1024), serialization.PrivateFormat.TraditionalOpenSSL),  # noqa: S505
        "parsed: DSA 1024-bit",
    ),
    "ed25519-pkcs8": (
        "private-key",
        lambda: _pem(ed25519.Ed25519PrivateKey.generate(), serialization.PrivateFormat.PKCS8),
        "parsed: Ed25519",
    ),
    "rsa-legacy-encrypted": (
        "pem-encrypted-private-key",
        lambda: _pem(_rsa(), serialization.PrivateFormat.TraditionalOpenSSL, b"correct horse"),
        "encrypted (AES-256-CBC)",
    ),
    "ec-pkcs8-encrypted": (
        "pkcs8-encrypted-private-key",
        lambda: _pem(ec.generate_private_key(ec.SECP256R1()), serialization.PrivateFormat.PKCS8, b"correct horse"),
        "encrypted",
    ),
    "openssh-ecdsa": (
        "openssh-private-key",
        lambda: _pem(ec.generate_private_key(ec.SECP256R1()), serialization.PrivateFormat.OpenSSH),
        "parsed",
    ),
    "ec-jwk": ("jwk-private-key", _ec_jwk, "EC P-256 private key"),
    "pkcs12": ("pkcs12-base64", _pkcs12_in_config, "PKCS#12"),
}


@cache
def _rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")  # DSA generation
@pytest.mark.parametrize("kind", sorted(REAL_KEYS))
def test_real_keys_are_reported_by_the_rule_of_their_container(
    kind: str, detect: Callable[[str], list[Finding]]
) -> None:
    rule_id, make, detail = REAL_KEYS[kind]
    findings = detect(make())
    assert [f.rule_id for f in findings] == [rule_id]
    assert (findings[0].validator_result or "").startswith(detail)


def _flip_last_hex(text: str) -> str:
    head, tail = text[:-1], text[-1]
    return head + ("0" if tail != "0" else "1")


def _drop_line(text: str, index: int) -> str:
    lines = text.splitlines()
    return "\n".join(lines[:index] + lines[index + 1 :])


def _tp(rule_id: str, index: int = 0) -> str:
    """The secret of a rule's tp example, as that rule alone reports it."""
    findings = _detect(_alone(rule_id), expand(BY_ID[rule_id].tp[index]).encode())
    return findings[0].secret


def _cases_of_broken_values() -> Iterator[tuple[str, Callable[[], str], str]]:
    yield "putty-ppk", lambda: _flip_last_hex(_tp("putty-private-key")), "bad MAC"
    yield "openpgp-secret-key", lambda: re.sub(r"\n=\S{4}\n", "\n=AAAA\n", _tp("pgp-private-key")), "bad armour"
    yield "pem-private-key", lambda: _drop_line(_tp("ec-private-key"), 2), "does not parse"
    yield "pkcs12", lambda: _tp("pkcs12-base64")[:-40], "truncated"
    yield "java-keystore", lambda: _tp("java-keystore-base64")[:-40], "not a Java keystore"
    yield "bip32-private-key", lambda: _tp("bip32-extended-private-key")[:-1] + "1", "bad checksum"
    # Each byte XORs to 0x01 against Cisco's published key from offset 5: not text.
    yield "cisco-type7", lambda: "05" + "".join(f"{byte ^ 1:02X}" for byte in b"kfoA,.i"), "does not decode"
    yield "hex-password-digest", lambda: "*6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9", "placeholder"


@pytest.mark.parametrize(("validator", "make", "reason"), list(_cases_of_broken_values()))
def test_validators_reject_damaged_values(validator: str, make: Callable[[], str], reason: str) -> None:
    outcome = run(validator, make())
    assert not outcome.passed
    assert reason in outcome.detail or outcome.detail == "malformed"
