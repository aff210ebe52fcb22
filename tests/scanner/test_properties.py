"""Property tests: surrounding text never hides a secret, and no input makes the scanner raise."""

from __future__ import annotations

import os
import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nexora.scanner.detect import Detector, Document
from nexora.scanner.model import ScanStats
from nexora.scanner.worker import Worker, WorkerSpec
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


@SETTINGS
@given(data=st.binary(max_size=4096))
def test_arbitrary_bytes_never_raise(detector: Detector, keyword_detector: Detector, data: bytes) -> None:
    detector.detect(Document("blob.bin", data), ScanStats())
    keyword_detector.detect(Document("blob.bin", data), ScanStats())


@SETTINGS
@given(data=st.binary(max_size=2048), name=st.sampled_from(["a.zip", "a.tar.gz", "a.ipynb", "a.whl", "a.py", "a.tgz"]))
def test_arbitrary_bytes_under_any_file_name_never_raise(detector: Detector, data: bytes, name: str) -> None:
    worker = Worker(
        WorkerSpec(rules=detector.engine.rules, prefilter="hyperscan", database=detector.engine.serialized_database())
    )
    stats = ScanStats()
    worker.scan_bytes(name, data, None, stats)
