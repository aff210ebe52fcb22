"""Reading and parsing together: each source's parser from the table, skips and rejects in order."""

from __future__ import annotations

import gzip
import io
from pathlib import Path
from typing import Any

import pytest

from nexora.analytics.activity import SOURCES, ActivityEvent, Reject
from nexora.analytics.ingest import PARSERS, Skip, parse_records, read_events, read_path
from nexora.analytics.ingest import pipeline as ingest_pipeline

DATA = Path(__file__).parent / "data"


def test_there_is_a_parser_for_every_source() -> None:
    assert set(PARSERS) == set(SOURCES)


@pytest.mark.parametrize(
    ("file", "source", "events", "skips"),
    [
        ("cloudtrail.json", "cloudtrail", 8, 0),
        ("k8s_audit.jsonl", "k8s-audit", 5, 1),
        ("github_audit.json", "github", 4, 0),
        ("generic.jsonl", "generic", 3, 0),
    ],
)
def test_each_sample_log_parses_without_rejects(file: str, source: Any, events: int, skips: int) -> None:
    data = gzip.compress((DATA / file).read_bytes())

    results = list(read_events(io.BytesIO(data), file, source))

    assert sum(isinstance(result, ActivityEvent) for result in results) == events
    assert sum(isinstance(result, Skip) for result in results) == skips
    assert [result for result in results if isinstance(result, Reject)] == []


def test_read_rejects_and_parse_rejects_come_out_in_order() -> None:
    data = b'{"time": 1, "id": "a", "identity": "x", "action": "y"}\nnot json\n{"time": 1}\n'

    results = list(read_events(io.BytesIO(data), "g", "generic"))

    assert isinstance(results[0], ActivityEvent)
    assert [(result.position, result.reason[:22]) for result in results[1:] if isinstance(result, Reject)] == [
        ("g:line 2", "line is not valid JSON"),
        ("g:line 3", "id is missing"),
    ]


def test_a_parser_bug_is_a_reject_not_an_exception(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(record: dict[str, Any], position: str) -> ActivityEvent:
        raise KeyError("boom")

    monkeypatch.setitem(ingest_pipeline.PARSERS, "generic", broken)

    results = list(parse_records([("g:line 1", {"a": 1})], "generic"))

    assert results == [Reject("g:line 1", "could not parse the record (KeyError)")]


def test_a_folder_of_mixed_files_parses_with_one_parser(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_bytes((DATA / "cloudtrail.json").read_bytes())
    (tmp_path / "b.csv").write_text("not,json\n")

    results = list(parse_records(read_path(tmp_path), "cloudtrail"))

    assert sum(isinstance(result, ActivityEvent) for result in results) == 8
    assert [result.position for result in results if isinstance(result, Reject)] == [str(tmp_path / "b.csv")]
