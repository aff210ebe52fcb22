"""Reading activity logs: layouts, gzip, damage, size limits, folders, standard input and request bodies."""

from __future__ import annotations

import gzip
import io
import json
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from nexora.analytics.activity import Reject
from nexora.analytics.ingest import read_path, read_records, read_source, spool, stream_from_chunks
from nexora.analytics.ingest.arrays import read_with_ijson
from nexora.core.errors import PayloadTooLarge

DATA = Path(__file__).parent / "data"
RECORDS = json.loads((DATA / "cloudtrail.json").read_bytes())["Records"]


def read(data: bytes, name: str = "log", **options: Any) -> list[tuple[str, dict[str, Any]] | Reject]:
    return list(read_records(io.BytesIO(data), name, **options))


def records_object(records: list[Any], *, indent: int | None = None) -> bytes:
    return json.dumps({"Records": records}, indent=indent).encode()


def rejects(results: list[Any]) -> list[Reject]:
    return [item for item in results if isinstance(item, Reject)]


def values(results: list[Any]) -> list[dict[str, Any]]:
    return [item[1] for item in results if not isinstance(item, Reject)]


def positions(results: list[Any]) -> list[str]:
    """The positions of the records read (not of the rejects)."""
    return [item[0] for item in results if not isinstance(item, Reject)]


def test_a_cloudtrail_file_yields_each_record_with_its_position() -> None:
    results = read((DATA / "cloudtrail.json").read_bytes(), "cloudtrail.json")

    assert positions(results) == [f"cloudtrail.json:record {n}" for n in range(1, 9)]
    assert values(results) == RECORDS


def test_compact_and_pretty_records_objects_read_the_same() -> None:
    compact = read(records_object(RECORDS))
    pretty = read(records_object(RECORDS, indent=4))

    assert values(compact) == values(pretty) == RECORDS


def test_a_json_array_of_records_is_read() -> None:
    results = read(json.dumps(RECORDS[:3]).encode())

    assert values(results) == RECORDS[:3]
    assert rejects(results) == []


def test_json_lines_are_read_one_record_per_line() -> None:
    data = b"".join(json.dumps(record).encode() + b"\n" for record in RECORDS[:3])

    results = read(data, "log.jsonl")

    assert positions(results) == ["log.jsonl:line 1", "log.jsonl:line 2", "log.jsonl:line 3"]
    assert values(results) == RECORDS[:3]


def test_gzip_is_known_by_its_magic_bytes_not_its_name() -> None:
    compressed = gzip.compress(records_object(RECORDS))

    assert values(read(compressed, "looks-plain.json")) == RECORDS
    assert values(read(records_object(RECORDS), "looks-compressed.json.gz")) == RECORDS


def test_gzip_json_lines_are_read() -> None:
    data = gzip.compress(b"".join(json.dumps(record).encode() + b"\n" for record in RECORDS))

    assert values(read(data)) == RECORDS


def test_several_records_objects_one_after_another_are_all_read() -> None:
    data = records_object(RECORDS[:2]) + b"\n" + records_object(RECORDS[2:5])

    results = read(data)

    assert values(results) == RECORDS[:5]
    assert rejects(results) == []


def test_pretty_printed_objects_one_after_another_are_read_as_records() -> None:
    data = b"".join(json.dumps(record, indent=2).encode() + b"\n" for record in RECORDS[:3])

    assert values(read(data)) == RECORDS[:3]


def test_a_leading_byte_order_mark_and_white_space_are_ignored() -> None:
    assert values(read(b"\xef\xbb\xbf \n\t" + records_object(RECORDS[:2]))) == RECORDS[:2]


def test_blank_lines_before_the_first_json_line_still_count_in_positions() -> None:
    results = read(b"\n\r\n  \n" + json.dumps(RECORDS[0]).encode() + b"\n\n{bad\n", "x.jsonl")

    assert positions(results) == ["x.jsonl:line 4"]
    assert [reject.position for reject in rejects(results)] == ["x.jsonl:line 6"]


def test_an_empty_file_has_no_records_and_no_rejects() -> None:
    assert read(b"") == []
    assert read(b"  \n ") == []
    assert read(b'{"Records": []}') == []


def test_a_csv_file_is_one_reject_for_the_file() -> None:
    results = read(b"eventTime,eventName\n2026-03-02T09:15:27Z,CreateAccessKey\n", "export.csv")

    assert len(results) == 1
    assert isinstance(results[0], Reject)
    assert results[0].position == "export.csv"
    assert results[0].reason.startswith("not a recognised layout")


def test_a_binary_file_is_one_reject_for_the_file() -> None:
    results = read(bytes(range(256)) * 4, "blob.bin")

    assert [type(item) for item in results] == [Reject]


def test_a_bad_gzip_stream_is_one_reject() -> None:
    results = read(b"\x1f\x8b\x08\x00garbage-not-deflate", "broken.gz")

    assert len(results) == 1
    assert isinstance(results[0], Reject)
    assert results[0].reason.startswith("cannot read the file")


def test_elements_that_are_not_objects_are_rejected_and_the_others_kept() -> None:
    data = json.dumps({"Records": [RECORDS[0], 42, "text", [1, 2], None, RECORDS[1]]}).encode()

    results = read(data, "mixed.json")

    assert values(results) == [RECORDS[0], RECORDS[1]]
    assert [(reject.position, reject.reason) for reject in rejects(results)] == [
        ("mixed.json:record 2", "record is a number, expected an object"),
        ("mixed.json:record 3", "record is a string, expected an object"),
        ("mixed.json:record 4", "record is an array, expected an object"),
        ("mixed.json:record 5", "record is null, expected an object"),
    ]
    assert results[-1] == ("mixed.json:record 6", RECORDS[1])


def test_a_bad_json_line_is_rejected_and_the_next_lines_still_read() -> None:
    data = json.dumps(RECORDS[0]).encode() + b"\n{not json\n\n[1, 2]\n" + json.dumps(RECORDS[1]).encode() + b"\n"

    results = read(data, "audit.log")

    assert values(results) == [RECORDS[0], RECORDS[1]]
    assert [reject.position for reject in rejects(results)] == ["audit.log:line 2", "audit.log:line 4"]
    assert rejects(results)[0].reason.startswith("line is not valid JSON")
    assert rejects(results)[1].reason == "record is an array, expected an object"
    assert positions(results) == ["audit.log:line 1", "audit.log:line 5"]


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "gzip"])
def test_a_truncated_records_file_keeps_the_records_before_the_cut(compressed: bool) -> None:
    data = records_object(RECORDS)
    cut = data.index(b'"eventID": "0b1d6f0e-1c9a-4d6b-9f00-3a2e4c5d6e04"')  # inside record 4
    truncated = gzip.compress(data[:cut]) if compressed else data[:cut]

    results = read(truncated, "cut.json")

    assert values(results)[:3] == RECORDS[:3]
    assert len(rejects(results)) == 1
    reject = rejects(results)[0]
    kept = len(values(results))
    assert reject.position == f"cut.json:record {kept + 1}"
    assert reject.reason.startswith(f"file is truncated or malformed after record {kept}: ")


def test_a_truncated_gzip_file_reports_the_decompressor_message() -> None:
    whole = gzip.compress(records_object(RECORDS * 50))

    results = read(whole[: len(whole) // 2], "half.json.gz")

    assert len(values(results)) > 10
    assert rejects(results)[-1].reason.endswith("Compressed file ended before the end-of-stream marker was reached")


def test_a_syntax_error_mid_file_keeps_what_came_before_and_never_echoes_the_input() -> None:
    data = records_object(RECORDS[:2])[:-2] + b', {"eventID": "x", "secretAccessKey": oops-hunter2}, {}]}'

    results = read(data, "bad.json")

    assert values(results) == RECORDS[:2]
    assert len(rejects(results)) == 1
    assert rejects(results)[0].position == "bad.json:record 3"
    assert rejects(results)[0].reason.startswith("file is truncated or malformed after record 2: ")
    assert "hunter2" not in rejects(results)[0].reason


def test_a_truncated_json_lines_file_rejects_only_the_last_line() -> None:
    data = b"".join(json.dumps(record).encode() + b"\n" for record in RECORDS[:3])

    results = read(data[:-40], "cut.jsonl")

    assert values(results) == RECORDS[:2]
    assert [reject.position for reject in rejects(results)] == ["cut.jsonl:line 3"]


def test_braces_and_quotes_inside_strings_do_not_split_records() -> None:
    tricky = [
        {"eventID": "1", "policy": '{"Statement":[{"Effect":"Allow"},{"Effect":"Deny"}]}'},
        {"eventID": "2", "note": "}, {", "more": '\\"}]}'},
        {"eventID": "3", "unbalanced": "{{{{", "list": [{"a": 1}, {"b": {"c": []}}]},
        {"eventID": "4", "unicode": "caf\u00e9 \u2603", "escaped": "\u0000\u001f"},
    ]

    assert values(read(records_object(tricky))) == tricky
    assert values(read(records_object(tricky, indent=1))) == tricky
    assert values(read(json.dumps(tricky).encode())) == tricky


def test_nested_objects_that_look_like_the_next_record_do_not_split_records() -> None:
    records = [
        {"type": "a", "children": [{"type": "b"}, {"type": "c", "more": [{"type": "d"}, {"type": "e"}]}]},
        {"type": "f", "child": {"type": "g"}},
        {"type": "h"},
        {"other": "first key differs", "items": [{"other": 1}, {"other": 2}]},
        {"type": "i", "children": [{"type": "j"}, {"type": "k"}]},
    ]

    for indent in (None, 2):
        assert values(read(records_object(records, indent=indent))) == records
        assert values(read(json.dumps(records, indent=indent).encode())) == records


def test_the_fast_reader_and_ijson_agree_on_every_record() -> None:
    data = records_object(RECORDS * 3, indent=2)

    fast = read(data, "f")
    exact = list(read_with_ijson(io.BytesIO(data), "f", "Records.item", max_record_bytes=1 << 20))

    assert fast == exact


def test_a_record_over_the_size_limit_is_rejected_and_reading_goes_on() -> None:
    big = dict(RECORDS[0], padding="x" * 5000)
    data = records_object([RECORDS[1], big, RECORDS[2]])

    results = read(data, "big.json", max_record_bytes=4096)

    assert values(results) == [RECORDS[1], RECORDS[2]]
    assert [(reject.position, reject.reason) for reject in rejects(results)] == [
        ("big.json:record 2", "record larger than 4096 bytes")
    ]


def test_a_json_line_over_the_size_limit_is_rejected_and_reading_goes_on() -> None:
    big = dict(RECORDS[0], padding="x" * 50_000)
    data = b"\n".join(json.dumps(record).encode() for record in (RECORDS[1], big, RECORDS[2])) + b"\n"

    results = read(data, "big.jsonl", max_record_bytes=8192)

    assert values(results) == [RECORDS[1], RECORDS[2]]
    assert [(reject.position, reject.reason) for reject in rejects(results)] == [
        ("big.jsonl:line 2", "record larger than 8192 bytes")
    ]


@pytest.mark.parametrize(
    ("before", "position"), [([], "huge.json:record 2"), ([7], "huge.json:record 3")], ids=["fast", "ijson"]
)
def test_a_huge_record_stops_the_file_without_loading_it(before: list[Any], position: str) -> None:
    huge = {"eventID": "x", "padding": "y" * 3_000_000}
    data = records_object([RECORDS[0], *before, huge, RECORDS[1]])  # a 7 hands the file over to ijson

    tracemalloc.start()
    results = read(data, "huge.json", max_record_bytes=100_000)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    assert values(results) == [RECORDS[0]]
    assert rejects(results)[-1] == Reject(
        position, "record larger than 100000 bytes; the rest of the file was not read"
    )
    assert peak < 2_000_000  # the record is 3 MB; reading stopped well before its end


def _generated_records(count: int, first: bytes = b"") -> Iterator[bytes]:
    yield b'{"Records":[' + first
    for index in range(count):
        record = dict(RECORDS[index % len(RECORDS)], eventID=f"event-{index}")
        yield (b"," if index else b"") + json.dumps(record).encode()
    yield b"]}"


@pytest.mark.parametrize("first", [b"", b"1,"], ids=["fast", "ijson"])
def test_memory_stays_flat_however_long_the_file(first: bytes) -> None:
    chunks = _generated_records(8_000, first)  # about 10 MB; a leading 1 hands the file over to ijson

    tracemalloc.start()
    count = sum(1 for item in read_records(stream_from_chunks(chunks), "long") if not isinstance(item, Reject))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    assert count == 8_000
    assert peak < 2_000_000


def test_a_folder_is_walked_recursively_in_name_order_without_following_links(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.json").write_bytes(records_object(RECORDS[7:8]))
    logs = tmp_path / "logs"
    (logs / "2026" / "03").mkdir(parents=True)
    (logs / "b.json").write_bytes(records_object(RECORDS[1:2]))
    (logs / "a.json.gz").write_bytes(gzip.compress(records_object(RECORDS[0:1])))
    (logs / "2026" / "03" / "c.jsonl").write_bytes(json.dumps(RECORDS[2]).encode() + b"\n")
    (logs / "link-to-outside").symlink_to(outside, target_is_directory=True)
    (logs / "link.json").symlink_to(outside / "secret.json")

    results = list(read_path(logs))

    assert positions(results) == [
        f"{logs}/2026/03/c.jsonl:line 1",
        f"{logs}/a.json.gz:record 1",
        f"{logs}/b.json:record 1",
    ]
    assert values(results) == [RECORDS[2], RECORDS[0], RECORDS[1]]
    assert rejects(results) == [
        Reject(f"{logs}/link-to-outside", "symbolic link, not followed"),
        Reject(f"{logs}/link.json", "symbolic link, not followed"),
    ]


def test_a_file_named_directly_is_read(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_bytes(records_object(RECORDS[:2]))

    assert values(list(read_path(path))) == RECORDS[:2]
    assert values(list(read_source(str(path)))) == RECORDS[:2]


def test_a_missing_file_is_one_reject(tmp_path: Path) -> None:
    results = list(read_path(tmp_path / "absent.json"))

    assert results == [Reject(str(tmp_path / "absent.json"), "cannot open the file: No such file or directory")]


def test_a_dash_reads_standard_input() -> None:
    stdin = io.BytesIO(gzip.compress(records_object(RECORDS[:2])))

    results = list(read_source("-", stdin=stdin))

    assert positions(results) == ["stdin:record 1", "stdin:record 2"]


def test_a_stream_of_small_chunks_reads_like_a_file() -> None:
    data = gzip.compress(records_object(RECORDS))
    chunks = (data[index : index + 7] for index in range(0, len(data), 7))

    assert values(list(read_records(stream_from_chunks(chunks), "body"))) == RECORDS


async def _body(data: bytes, size: int) -> AsyncIterator[bytes]:
    for index in range(0, len(data), size):
        yield data[index : index + size]


async def test_a_request_body_is_spooled_and_read() -> None:
    data = records_object(RECORDS)

    spooled = await spool(_body(data, 1000), max_bytes=len(data), memory_bytes=4096)
    with spooled:
        results = list(read_records(spooled, "upload"))

    assert values(results) == RECORDS


async def test_a_request_body_over_the_limit_is_refused() -> None:
    with pytest.raises(PayloadTooLarge):
        await spool(_body(b"x" * 10_000, 1000), max_bytes=5000)
