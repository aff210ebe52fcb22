"""The engine: linear on hostile input, a loud fallback when Hyperscan is missing, no import side effects."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import time

import pytest

from nexora.scanner.detect import Detector, Document
from nexora.scanner.model import ScanStats

MEGABYTE = 1 << 20
HOSTILE = {
    "one 1 MB run of a letter": b"a" * MEGABYTE,
    "an assignment followed by 1 MB": b"password=" + b"a" * MEGABYTE,
    "1 MB of equals signs": b"=" * MEGABYTE,
    "a 1 MB base64 line": base64.b64encode(os.urandom(MEGABYTE * 3 // 4)),
    "a PEM header followed by 1 MB": b"-----BEGIN PRIVATE KEY-----" + b"A" * MEGABYTE,
    "a 1 MB minified line full of near-misses": (b'var token="' + b"x" * 30 + b"\";password:'abc" + b"y" * 20 + b"',")
    * (MEGABYTE // 80),
    "1 MB of token prefixes": b"ghp_AKIAeyJ.sk_live_xoxb-https://a:" * (MEGABYTE // 35),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_input_is_scanned_in_linear_time_with_hyperscan(detector: Detector, name: str) -> None:
    started = time.perf_counter()
    detector.detect(Document("bundle.min.js", HOSTILE[name]), ScanStats())
    assert time.perf_counter() - started < 5.0, f"{name} took too long"


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_input_stays_bounded_with_the_keyword_fallback(keyword_detector: Detector, name: str) -> None:
    # The fallback is slower by design (and says so); a quarter megabyte keeps the suite fast.
    started = time.perf_counter()
    keyword_detector.detect(Document("bundle.min.js", HOSTILE[name][: MEGABYTE // 4]), ScanStats())
    assert time.perf_counter() - started < 3.0, f"{name} took too long"


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)


def test_importing_the_scanner_compiles_nothing_and_loads_no_hyperscan() -> None:
    result = _python(
        "import sys, nexora.scanner; print('hyperscan' in sys.modules, 'nexora.scanner.engine' in sys.modules)"
    )
    assert result.stdout.split() == ["False", "False"]


def test_missing_hyperscan_falls_back_to_keywords_with_a_warning(tmp_path: object) -> None:
    code = (
        "import sys, warnings\n"
        "sys.modules['hyperscan'] = None\n"  # the import now fails, as on a platform without the wheel
        "warnings.simplefilter('always')\n"
        "from nexora.scanner.ruleset import load_rules\n"
        "from nexora.scanner.engine import Engine\n"
        "from nexora.scanner.detect import Detector, Document\n"
        "from nexora.scanner.model import ScanStats\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    engine = Engine(load_rules())\n"
        "    mode = engine.prepare()\n"
        "token = 'glpat-' + 'Zq3xW9vKp2LmN8rT4yHb'\n"
        "found = Detector(engine).detect(Document('a.env', ('GITLAB_TOKEN=' + token).encode()), ScanStats())\n"
        "print(mode, [str(w.message)[:40] for w in caught], [f.rule_id for f in found])\n"
    )
    result = _python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("keywords")
    assert "Hyperscan is unavailable" in result.stdout
    assert "gitlab-pat" in result.stdout


def test_both_prefilters_agree_on_a_mixed_document(detector: Detector, keyword_detector: Detector) -> None:
    from nexora.scanner.ruleset import load_rules
    from tests.scanner.fixtures.samples import expand

    document = "\n".join(expand(rule.tp[0]) for rule in load_rules()).encode()
    with_hyperscan = {(f.rule_id, f.line) for f in detector.detect(Document("mixed.cfg", document), ScanStats())}
    with_keywords = {(f.rule_id, f.line) for f in keyword_detector.detect(Document("mixed.cfg", document), ScanStats())}
    assert with_hyperscan == with_keywords
    assert len(with_hyperscan) >= 200


def _prefilter_ends(detector: Detector, data: bytes) -> dict[int, list[int]]:
    """Where the engine's Hyperscan database reports each expression in ``data``."""
    ends: dict[int, list[int]] = {}

    def note(expression: int, _start: int, end: int, _flags: int, _context: object) -> None:
        ends.setdefault(expression, []).append(end)

    detector.engine._database.scan(data, match_event_handler=note, scratch=detector.engine._scratch)
    return ends


def test_the_prefilter_reports_the_end_of_every_example_match(detector: Detector) -> None:
    from tests.scanner.fixtures.samples import expand

    engine = detector.engine
    missed: list[str] = []
    for index, rule in enumerate(engine.rules):
        for example in rule.tp:
            data = expand(example).encode()
            ends = _prefilter_ends(detector, data).get(index, [])
            for match in rule.pattern.finditer(data):
                # An open-bound rule reports its first hit only and is confirmed from there to the end.
                reported = any(end <= match.end() for end in ends) if engine._open[index] else match.end() in ends
                if not reported:
                    missed.append(f"{rule.id}: {example[:60]!r}")
    assert missed == []


@pytest.mark.parametrize(
    ("expression", "loosened"),
    [
        (rb"(?i:acme[\w.-]{0,20}?(?:token|api_?key))=", rb"(?i:acme[\w.-]{0,27})="),
        (rb"(?i:acme[\w.-]{0,20}?secret|acme_key)=", rb"(?i:acme[\w.-]{0,26}|acme_key)="),
        (rb"(?i:acme[\w.-]{0,20}?hmac[\w.-]{0,10}?secret)", rb"(?i:acme[\w.-]{0,40})"),
    ],
)
def test_a_kind_of_key_after_a_provider_name_is_loosened_to_name_characters(expression: bytes, loosened: bytes) -> None:
    from nexora.scanner.prefilter import loosen_key_kinds

    assert loosen_key_kinds(expression) == loosened


@pytest.mark.parametrize(
    "expression",
    [
        rb"(?i:acme[\w.-]{0,20}?(?:to ken|key))",  # a space is not a name character
        rb"(?i:acme[\w.-]{0,20}?[^=]{3})",  # neither is whatever a negated class allows
        rb"acme[\w.-]{0,20}?(?P<secret>[a-z]{8})",  # the secret group stays exact
        rb"acme[\w.-]{0,20}?",  # nothing follows the gap
    ],
)
def test_anything_but_plain_name_characters_after_the_gap_is_kept(expression: bytes) -> None:
    from nexora.scanner.prefilter import loosen_key_kinds

    assert loosen_key_kinds(expression) == expression
