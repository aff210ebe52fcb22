"""Smoke test of the benchmark corpus generator and its scoring (the benchmark itself is not a test)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from nexora.scanner.runner import ScanOptions, ScanRun

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import scan_bench
import secrets_corpus


def test_corpus_is_seeded_labelled_and_scored(tmp_path: Path) -> None:
    first = secrets_corpus.build(tmp_path / "a", files=25, seed=4, key_pool=2)
    second = secrets_corpus.build(tmp_path / "b", files=25, seed=4, key_pool=2)
    labels = json.loads((tmp_path / "a" / "labels.json").read_text())
    # Private keys come fresh from ``cryptography`` (their length varies by a line); all else is seeded.
    other = json.loads((tmp_path / "b" / "labels.json").read_text())
    assert {k: first[k] for k in ("files", "secrets", "negatives")} == {
        k: second[k] for k in ("files", "secrets", "negatives")
    }
    assert sorted(label["type"] for label in labels) == sorted(label["type"] for label in other)
    assert first["secrets"] > 20
    assert {label["label"] for label in labels} == {"secret", "negative"}

    run = ScanRun(ScanOptions(paths=[str(tmp_path / "a" / "tree")], jobs=1))
    predictions = [(f.path, f.line) for f in run.findings()]
    result = scan_bench.score(predictions, labels)

    assert result["f1"] >= 0.95
    assert scan_bench.score([], labels)["recall"] == 0.0
