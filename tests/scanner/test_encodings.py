"""Distinctive tokens are found wherever they sit: bare, in logs, JSON (escaped too), URLs, base64, notebooks.

The matrix places synthetic tokens of a handful of distinctive rules in every encoding the scanner must see
through, and asserts that the right rule reports the exact raw token (decoded, never the encoded form), on
the line where the encoded form sits, once.
"""

from __future__ import annotations

import base64
import json
import random
import string
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from nexora.scanner.batch import Worker, WorkerSpec
from nexora.scanner.detect import Detector, Document
from nexora.scanner.model import Finding, ScanStats
from nexora.scanner.ruleset import Rule
from tests.scanner.fixtures.samples import aws_key_pair, github_token, random_token, rsa_pem

RNG = random.Random(20261127)
_ALNUM = string.ascii_letters + string.digits


@dataclass(frozen=True)
class Token:
    """A synthetic token and the rule that must report it."""

    rule_id: str
    value: str
    # Other rules that may report the same value (a PEM key's rule may be specific to its type).
    also: tuple[str, ...] = ()
    # Rules that may report the encoded form itself instead (a base64 private key is its own rule).
    alternatives: tuple[str, ...] = ()


def _tokens() -> list[Token]:
    rng = RNG
    slack_bot = f"xoxb-{random_token(rng, 12, string.digits)}-{random_token(rng, 13, string.digits)}-"
    webhook = (
        "https://hooks.slack.com/services/T"
        + random_token(rng, 10, string.ascii_uppercase + string.digits)
        + "/B"
        + random_token(rng, 10, string.ascii_uppercase + string.digits)
        + "/"
        + random_token(rng, 24)
    )
    return [
        Token("github-ghp", github_token(rng)),
        Token("gitlab-pat", "glpat-" + random_token(rng, 9) + "-" + random_token(rng, 10)),
        Token("slack-bot-token", slack_bot + random_token(rng, 24)),
        Token("slack-webhook-url", webhook),
        Token("stripe-secret-key", "sk_live_" + random_token(rng, 40)),
        Token("aws-access-key-id", aws_key_pair(rng)[0]),
        Token("sendgrid-api-key", f"SG.{random_token(rng, 22, _ALNUM + '_-')}.{random_token(rng, 43, _ALNUM + '_-')}"),
        Token("private-key", rsa_pem().strip(), also=("rsa-private-key",), alternatives=("base64-private-key",)),
    ]


TOKENS = _tokens()


# -- placements: (path, content, 1-based line of the (encoded) token) -----------------------------------------
def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _percent_all(text: str) -> str:
    """Every character except letters and digits percent-encoded (the strictest encoders)."""
    return "".join(c if c in _ALNUM else "".join(f"%{b:02X}" for b in c.encode()) for c in text)


def _json_escaped(text: str) -> str:
    """JSON string body with ``\\/`` and every other punctuation as ``\\u00XX`` (PHP-, Go- and Rails-style)."""
    out = []
    for char in text:
        if char == "/":
            out.append("\\/")
        elif char == "\n":
            out.append("\\n")
        elif char in _ALNUM:
            out.append(char)
        else:
            out.append(f"\\u{ord(char):04x}")
    return "".join(out)


def _line_of(content: str, needle: str) -> int:
    return content[: content.index(needle)].count("\n") + 1


Placement = Callable[[str], tuple[str, str, str]]  # token -> (path, content, needle on the expected line)


def bare(token: str) -> tuple[str, str, str]:
    return "token.txt", token, token


def own_line(token: str) -> tuple[str, str, str]:
    return "notes.txt", f"deploy notes\n\n{token}\n\nend\n", token


def log_line(token: str) -> tuple[str, str, str]:
    one_line = token.replace("\n", "\\n")
    content = (
        "2026-11-27T10:00:00Z INFO server started\n"
        f"2026-11-27T10:00:01Z DEBUG upstream call failed with credential={one_line} status=401\n"
    )
    return "app.log", content, one_line


def json_plain(token: str) -> tuple[str, str, str]:
    content = json.dumps({"name": "ci", "settings": {"upstream": token, "retries": 3}}, indent=2)
    return "settings.json", content, json.dumps(token)[1:-1]


def json_escaped(token: str) -> tuple[str, str, str]:
    escaped = _json_escaped(token)
    content = '{\n  "name": "ci",\n  "upstream": "' + escaped + '",\n  "retries": 3\n}\n'
    return "settings.json", content, escaped


def url_query(token: str) -> tuple[str, str, str]:
    encoded = urllib.parse.quote_plus(token)
    content = f"GET /v1/callback?session=1&token={encoded}&next=%2Fhome HTTP/1.1\nHost: example.test\n"
    return "access.log", content, encoded


def url_encoded_all(token: str) -> tuple[str, str, str]:
    encoded = _percent_all(token)
    content = f"# forwarded\nredirect=https%3A%2F%2Fexample.test%2Fcb%3Fv%3D{encoded}&x=1\n"
    return "forward.txt", content, encoded


def base64_value(token: str) -> tuple[str, str, str]:
    encoded = _b64(token)
    content = f"service:\n  name: billing\n  upstream_b64: {encoded}\n  retries: 3\n"
    return "config.yaml", content, encoded


def base64url_value(token: str) -> tuple[str, str, str]:
    encoded = base64.urlsafe_b64encode(f"cred:{token}".encode()).decode().rstrip("=")
    return "link.txt", f"https://app.example.test/connect?state={encoded}&x=1\n", encoded


def base64_env(token: str) -> tuple[str, str, str]:
    encoded = _b64(f"UPSTREAM={token}\n")
    content = f'{{"kind": "bundle", "payload": "{encoded}"}}\n'
    return "bundle.json", content, encoded


def dotenv(token: str) -> tuple[str, str, str]:
    value = f'"{token}"' if "\n" in token else token
    content = f"# local settings\nDEBUG=1\nUPSTREAM={value}\nPORT=8080\n"
    return ".env", content, value.split("\n")[0]


def _notebook(outputs: list[dict[str, object]]) -> str:
    notebook = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Calls\n"]},
            {
                "cell_type": "code",
                "execution_count": 1,
                "metadata": {},
                "source": ["client = connect()\n", "client.describe()"],
                "outputs": outputs,
            },
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(notebook, indent=1)


def _first_line_escaped(token: str) -> str:
    return json.dumps(token.split("\n")[0])[1:-1]


def notebook_stream(token: str) -> tuple[str, str, str]:
    lines = [f"{line}\n" for line in f"connected with {token}".split("\n")]
    content = _notebook([{"name": "stdout", "output_type": "stream", "text": lines}])
    return "calls.ipynb", content, _first_line_escaped(f"connected with {token}")


def notebook_result(token: str) -> tuple[str, str, str]:
    lines = [f"{line}\n" for line in f"Client(credential='{token}')".split("\n")]
    lines[-1] = lines[-1].rstrip("\n")
    output = {"output_type": "execute_result", "execution_count": 1, "metadata": {}, "data": {"text/plain": lines}}
    return "calls.ipynb", _notebook([output]), _first_line_escaped(f"Client(credential='{token}')")


def notebook_error(token: str) -> tuple[str, str, str]:
    evalue = f"rejected credential {token}"
    output = {
        "output_type": "error",
        "ename": "AuthError",
        "evalue": evalue,
        "traceback": [
            "\x1b[0;31m---------------------------------------------------------------------------\x1b[0m",
            "\x1b[0;31mAuthError\x1b[0m                                 Traceback (most recent call last)",
            "Cell \x1b[0;32mIn[1], line 2\x1b[0m\n\x1b[1;32m      1\x1b[0m client = connect()\n",
            f"\x1b[0;31mAuthError\x1b[0m: {evalue}",
        ],
    }
    return "calls.ipynb", _notebook([output]), "\\u001b[0;31mAuthError\\u001b[0m: " + _first_line_escaped(evalue)


def k8s_data(token: str) -> tuple[str, str, str]:
    encoded = _b64(token)
    content = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: upstream\ntype: Opaque\ndata:\n"
        f"  region: {_b64('eu-west-1')}\n  credential: {encoded}\n"
    )
    return "secret.yaml", content, encoded


def k8s_data_env(token: str) -> tuple[str, str, str]:
    encoded = _b64(f"UPSTREAM_CREDENTIAL={token}")
    content = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: upstream\ntype: Opaque\ndata:\n"
        f"  region: {_b64('eu-west-1')}\n  app.env: {encoded}\n"
    )
    return "secret.yaml", content, encoded


PLACEMENTS: dict[str, Placement] = {
    placement.__name__.replace("_", "-"): placement
    for placement in (
        bare,
        own_line,
        log_line,
        json_plain,
        json_escaped,
        url_query,
        url_encoded_all,
        base64_value,
        base64url_value,
        base64_env,
        dotenv,
        notebook_stream,
        notebook_result,
        notebook_error,
        k8s_data,
        k8s_data_env,
    )
}


@pytest.fixture(scope="module")
def workers(detector: Detector, rules: list[Rule]) -> dict[str, Worker]:
    database = detector.engine.serialized_database()
    return {
        "hyperscan": Worker(WorkerSpec(rules=rules, prefilter="hyperscan", database=database)),
        "keywords": Worker(WorkerSpec(rules=rules, prefilter="keywords", database=None)),
    }


def _scan(worker: Worker, path: str, content: str) -> list[Finding]:
    return worker.scan_bytes(path, content.encode(), None, ScanStats())


@pytest.mark.parametrize("prefilter", ["hyperscan", "keywords"])
@pytest.mark.parametrize("placement", list(PLACEMENTS))
@pytest.mark.parametrize("token", TOKENS, ids=[token.rule_id for token in TOKENS])
def test_distinctive_token_is_found_in_every_encoding(
    workers: dict[str, Worker], token: Token, placement: str, prefilter: str
) -> None:
    path, content, needle = PLACEMENTS[placement](token.value)
    line = _line_of(content, needle)
    findings = _scan(workers[prefilter], path, content)
    on_line = [f for f in findings if f.line == line]
    found = [(f.rule_id, f.line) for f in findings]
    # A PEM written on one line with "\\n" escapes is reported as written (the private-key rule reads it so).
    secrets = {token.value, token.value.replace("\n", "\\n")}
    rule_ids = {token.rule_id, *token.also}
    assert any(f.rule_id in rule_ids and f.secret in secrets for f in on_line) or any(
        f.rule_id in token.alternatives for f in on_line
    ), f"{token.rule_id} not found on line {line} of {placement}: {found}"
    # One finding for one secret: the decoded view never repeats what the raw view (or a container rule) found.
    assert len(on_line) == 1, found


# -- markers, de-duplication, bounds -------------------------------------------------------------------------
def _detect(detector: Detector, text: str, path: str = "example.cfg") -> list[Finding]:
    return detector.detect(Document(path, text.encode()), ScanStats())


def test_decoded_findings_carry_their_encoding_and_raw_ones_none(detector: Detector) -> None:
    raw, encoded = github_token(RNG), github_token(RNG)
    text = f"raw={raw}\nb64={_b64(encoded)}\nurl=https%3A%2F%2Fx.test%2F%3Ft%3D{_percent_all(encoded)}\n"
    text += 'json="https:\\/\\/x.test\\/?t=' + raw + '"\n'
    findings = _detect(detector, text)
    assert [(f.line, f.encoding) for f in findings] == [(1, None), (2, "base64"), (3, "percent"), (4, None)]


def test_json_escaped_slash_in_url_is_decoded(detector: Detector) -> None:
    webhook = TOKENS[3].value
    findings = _detect(detector, '{"hook": "' + webhook.replace("/", "\\/") + '"}')
    assert [(f.rule_id, f.secret, f.encoding) for f in findings] == [("slack-webhook-url", webhook, "json")]


def test_columns_point_into_the_encoded_form(detector: Detector) -> None:
    token = github_token(RNG)
    encoded = _b64(token)
    text = f"first line\n  value: {encoded}  # trailing\n"
    (finding,) = _detect(detector, text)
    line = text.split("\n")[1]
    start = line.index(encoded) + 1
    assert finding.line == 2
    assert start <= finding.column < finding.end_column <= start + len(encoded) + 1


def test_same_secret_raw_and_encoded_on_one_line_is_one_finding(detector: Detector) -> None:
    token = github_token(RNG)
    findings = _detect(detector, f"{token} https://x.test/?t={_percent_all(token)}")
    assert len(findings) == 2  # two occurrences at two positions, as for any repeated secret
    findings = _detect(detector, f'key="{token}" note="%20"')
    assert [(f.rule_id, f.encoding) for f in findings] == [("github-ghp", None)]


def test_decoding_happens_once_not_recursively(detector: Detector) -> None:
    token = github_token(RNG)
    assert _detect(detector, f"value: {_b64(_b64(token))}\n") == []


def test_inline_allow_on_the_encoded_line_suppresses_the_decoded_finding(detector: Detector) -> None:
    stats = ScanStats()
    findings = detector.detect(Document("c.yaml", f"v: {_b64(github_token(RNG))}  # nexora:allow\n".encode()), stats)
    assert findings == []
    assert stats.suppressed_inline == 1


def test_suppressed_raw_match_is_not_counted_again_by_a_decoded_view(detector: Detector) -> None:
    stats = ScanStats()
    text = f"key={github_token(RNG)} %20 \\/ # nexora:allow\n"
    assert detector.detect(Document("c.txt", text.encode()), stats) == []
    assert stats.suppressed_inline == 1


def test_a_failed_validator_still_drops_the_decoded_match(detector: Detector) -> None:
    token = github_token(RNG)
    broken = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert _detect(detector, f"v: {_b64(broken)}\n") == []


BENIGN = {
    "base64 of English text": _b64("The quick brown fox jumps over the lazy dog, again and again. " * 4),
    "base64 of JSON": _b64(json.dumps({"alg": "HS256", "typ": "JWT", "name": "a sample document"})),
    "base64 of random bytes": base64.b64encode(random.Random(1).randbytes(300)).decode(),
    "a data URI of an SVG": "data:image/svg+xml;base64," + _b64('<svg xmlns="http://www.w3.org/2000/svg"/>' * 3),
    "percent-encoded prose": urllib.parse.quote("a sentence with spaces / slashes & ampersands = equals"),
    "format strings": 'print("%02d:%02d %5d%%" % (h, m, n))',
    "JSON escapes": '{"path": "C:\\/Users\\/me", "dash": "a\\u002db\\u002dc", "e": "caf\\u00e9"}',
}


@pytest.mark.parametrize("name", list(BENIGN))
def test_benign_encoded_text_yields_nothing(detector: Detector, name: str) -> None:
    assert _detect(detector, f"value = {BENIGN[name]}\n") == []


MEGABYTE = 1 << 20
HOSTILE = {
    "1 MB of percent escapes": b"%41%2F" * (MEGABYTE // 6),
    "1 MB of JSON unicode escapes": b"\\u0041\\/" * (MEGABYTE // 8),
    "1 MB base64 line of printable text": base64.b64encode(b"ghp_ key=value " * (MEGABYTE // 20)),
    "1 MB of short base64 runs of text": (_b64("UPSTREAM=abcdefghijklmnop") + " ").encode() * (MEGABYTE // 38),
    "1 MB of percent escapes across many lines": b"a=%41%42%43\n" * (MEGABYTE // 12),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_encoded_hostile_input_stays_linear(detector: Detector, keyword_detector: Detector, name: str) -> None:
    started = time.perf_counter()
    detector.detect(Document("blob.txt", HOSTILE[name]), ScanStats())
    assert time.perf_counter() - started < 5.0, f"{name} took too long"
    started = time.perf_counter()
    keyword_detector.detect(Document("blob.txt", HOSTILE[name][: MEGABYTE // 4]), ScanStats())
    assert time.perf_counter() - started < 3.0, f"{name} took too long with the keyword prefilter"


def test_reports_name_the_encoding(tmp_path: Path, cli: Callable[..., Any]) -> None:
    (tmp_path / "config.yaml").write_text(f"upstream: {_b64(github_token(RNG))}\n")
    finding = json.loads(cli(tmp_path, "--format", "json").stdout)["findings"][0]
    assert (finding["rule_id"], finding["line"], finding["encoding"]) == ("github-ghp", 1, "base64")
    result = json.loads(cli(tmp_path, "--format", "sarif").stdout)["runs"][0]["results"][0]
    assert result["properties"]["encoding"] == "base64"
    assert "decoded from base64" in cli(tmp_path).stdout


def test_every_encoded_value_is_decoded_not_only_the_first_nearby(detector: Detector) -> None:
    tokens = [github_token(RNG) for _ in range(6)]
    lines = ["apiVersion: v1", "kind: Secret", "data:"] + [f"  t{i}: {_b64(t)}" for i, t in enumerate(tokens)]
    lines += [f"u{i}=https%3A%2F%2Fx.test%2F%3Ft%3D{_percent_all(t)}" for i, t in enumerate(tokens)]
    lines += ['{"j": "' + _json_escaped(t) + '"}' for t in tokens]
    findings = _detect(detector, "\n".join(lines) + "\n", "secret.yaml")
    assert [(f.line, f.secret) for f in findings] == [(i + 4, t) for i, t in enumerate(tokens * 3)]


def test_encoded_tokens_in_notebook_outputs_point_at_the_file_line(workers: dict[str, Worker]) -> None:
    encoded, percent = github_token(RNG), TOKENS[3].value
    text = [f"config {_b64('KEY=' + encoded)}\n", f"hook=https%3A%2F%2F{_percent_all(percent[8:])}\n"]
    content = _notebook([{"name": "stdout", "output_type": "stream", "text": text}])
    lines = content.split("\n")
    expected = [
        (next(i for i, line in enumerate(lines, 1) if _b64("KEY=" + encoded) in line), encoded, "base64"),
        (next(i for i, line in enumerate(lines, 1) if "hook=" in line), percent, "percent"),
    ]
    for worker in workers.values():
        findings = _scan(worker, "calls.ipynb", content)
        assert [(f.line, f.secret, f.encoding) for f in findings] == expected


@pytest.mark.parametrize(
    ("regex", "prefixes"),
    [
        (r"\b(?P<secret>ghp_[A-Za-z0-9]{36})(?![A-Za-z0-9_])", [b"ghp_"]),
        (r"(?<![A-Z0-9])(?P<secret>(?:AKIA|ASIA)[A-Z2-7]{16})", [b"AKIA", b"ASIA"]),
        (r"\b(?P<secret>sk-(?:proj|admin)-[A-Za-z0-9]{20})", [b"sk-admin-", b"sk-proj-"]),
        (r"(?P<secret>https://hooks\.slack\.com/services/T[A-Z0-9]{8})", [b"https://hooks.slack.com/services/T"]),
        (r"\b(?P<secret>abcd?[0-9]{8})", [b"abc"]),
        (r"\b(?P<secret>abc[0-9]{8}|xyz[a-z]{8})", [b"abc", b"xyz"]),  # each match starts with one
        (r"\b(?P<secret>(?:abc)?[0-9]{8})", []),
        (r"(?i)key[ =]{1,3}(?P<secret>tok_[a-z]{8})", [b"TOK_", b"tok_"]),
        (r"(?P<secret>AAAA[A-Za-z0-9]{40})", []),  # low variety: common in base64 of binary data
        (r"\b(?P<secret>[A-Za-z0-9]{40})", []),
    ],
)
def test_rule_prefixes_are_what_every_match_starts_with(regex: str, prefixes: list[bytes]) -> None:
    from nexora.scanner.decoders import rule_prefixes

    assert sorted(rule_prefixes(regex, "(?i)" in regex)) == prefixes


@pytest.mark.parametrize("prefix", [b"SG.", b"ghp_", b"xoxb-", b"-----BEGIN ", b"https://hooks.slack.com/"])
def test_base64_fragments_find_the_prefix_at_every_alignment_and_point_at_its_group(prefix: bytes) -> None:
    import re

    from nexora.scanner.decoders import base64_fragments

    fragments = [(re.compile(expression), shift) for expression, shift in base64_fragments(prefix)]
    rng = random.Random(7)
    for before in range(9):
        for _ in range(20):
            data = rng.randbytes(before) + prefix + rng.randbytes(rng.randrange(6))
            for encoded in (base64.b64encode(data), base64.urlsafe_b64encode(data)):
                group = 4 * (before // 3)  # the 4-character group holding the prefix's first byte
                hits = {m.end() - shift for pattern, shift in fragments for m in pattern.finditer(encoded)}
                assert group in hits, (prefix, before, encoded)
