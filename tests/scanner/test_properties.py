"""Property tests: surrounding text never hides a secret, and no input makes the scanner raise."""

from __future__ import annotations

import os
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nexora.scanner.batch import Worker, WorkerSpec
from nexora.scanner.detect import Detector, Document
from nexora.scanner.model import Finding, ScanStats
from tests.scanner.fixtures.samples import aws_key_pair, github_token, random_token

_RNG = random.Random(7)
# Secrets whose rules need no surrounding context, with the rule that must report them.
SECRETS = [
    ("github-ghp", github_token(_RNG)),
    ("github-ghs", github_token(_RNG, "ghs_")),
    ("aws-access-key-id", aws_key_pair(_RNG)[0]),
    ("gitlab-pat", "glpat-" + random_token(_RNG, 20)),
    (
        "slack-bot-token",
        f"xoxb-{random_token(_RNG, 12, '0123456789')}-{random_token(_RNG, 13, '0123456789')}-{random_token(_RNG, 24)}",
    ),
    ("stripe-secret-key", "sk_live_" + random_token(_RNG, 40)),
    ("sendgrid-api-key", f"SG.{random_token(_RNG, 22)}.{random_token(_RNG, 43)}"),
    ("huggingface-token", "hf_" + random_token(_RNG, 34, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")),
]
SEPARATORS = st.sampled_from([" ", "\n", "\t", "'", '"', "=", ":", "(", ",", "\r\n", "`"])
NOISE = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)
SETTINGS = settings(
    max_examples=int(os.environ.get("NEXORA_HYPOTHESIS_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@SETTINGS
@given(
    choice=st.sampled_from(SECRETS),
    before=NOISE,
    after=NOISE,
    left=SEPARATORS,
    right=SEPARATORS,
)
def test_random_text_around_a_secret_does_not_hide_it(
    detector: Detector, choice: tuple[str, str], before: str, after: str, left: str, right: str
) -> None:
    rule_id, secret = choice
    data = f"{before}{left}{secret}{right}{after}".encode("utf-8", "surrogatepass")
    findings = detector.detect(Document("notes.txt", data), ScanStats())
    assert any(f.rule_id == rule_id and f.secret == secret for f in findings)


def assert_findings_point_into(data: bytes, findings: list[Finding]) -> None:
    """Each finding's secret is in ``data`` at the line and columns it names."""
    lines = data.split(b"\n")
    for finding in findings:
        assert finding.secret
        assert 1 <= finding.line <= finding.end_line <= len(lines)
        assert finding.secret.encode("utf-8") in data or "\ufffd" in finding.secret
        if finding.line == finding.end_line and "\ufffd" not in finding.secret:
            assert finding.secret.encode("utf-8") in lines[finding.line - 1]


@SETTINGS
@given(data=st.binary(max_size=4096))
def test_arbitrary_bytes_never_raise_and_findings_point_into_them(
    detector: Detector, keyword_detector: Detector, data: bytes
) -> None:
    for scanner in (detector, keyword_detector):
        first = scanner.detect(Document("blob.bin", data), ScanStats())
        again = scanner.detect(Document("blob.bin", data), ScanStats())
        assert_findings_point_into(data, first)
        assert [(f.rule_id, f.line, f.column, f.secret) for f in first] == [
            (f.rule_id, f.line, f.column, f.secret) for f in again
        ]


@SETTINGS
@given(choice=st.sampled_from(SECRETS), data=st.binary(max_size=2048))
def test_arbitrary_bytes_before_a_secret_on_its_own_line_do_not_hide_it(
    detector: Detector, choice: tuple[str, str], data: bytes
) -> None:
    rule_id, secret = choice
    document = data.replace(b"\0", b" ") + b"\n" + secret.encode() + b"\n"
    findings = detector.detect(Document("notes.txt", document), ScanStats())
    assert any(f.rule_id == rule_id and f.secret == secret for f in findings)
    assert_findings_point_into(document, findings)


@SETTINGS
@given(data=st.binary(max_size=2048), name=st.sampled_from(["a.zip", "a.tar.gz", "a.ipynb", "a.whl", "a.py", "a.tgz"]))
def test_arbitrary_bytes_under_any_file_name_never_raise_and_are_accounted_for(
    detector: Detector, data: bytes, name: str
) -> None:
    worker = Worker(
        WorkerSpec(rules=detector.engine.rules, prefilter="hyperscan", database=detector.engine.serialized_database())
    )
    stats = ScanStats()
    findings = worker.scan_bytes(name, data, None, stats)
    # Plain text is scanned whole or skipped as binary; a broken archive or notebook is an issue, not a crash.
    assert stats.files >= 1
    if name == "a.py":
        assert stats.bytes == len(data) or stats.skipped_binary == 1
    for finding in findings:
        assert finding.path.startswith(name)
