"""The exact bytes that are hashed and signed."""

from datetime import datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from nexora.audit import encoding

text_or_null = st.one_of(st.none(), st.text())


@settings(max_examples=200, deadline=None)
@given(
    fields=st.fixed_dictionaries({name: st.text() for name in encoding.LEAF_FIELDS if name != "seq"}),
    seq=st.integers(min_value=0, max_value=2**62),
    optional=st.fixed_dictionaries(
        {"target": text_or_null, "source_address": text_or_null, "request_id": text_or_null}
    ),
)
def test_the_fast_leaf_writer_gives_exactly_the_canonical_json(fields: dict, seq: int, optional: dict) -> None:
    entry = {**fields, **optional, "seq": seq}
    expected = encoding.canonical_json({**{name: entry[name] for name in encoding.LEAF_FIELDS}, "v": 1})
    assert encoding.leaf_document(entry) == expected


def test_canonical_json_is_sorted_compact_utf8_and_refuses_nan() -> None:
    assert encoding.canonical_json({"b": [1, "é"], "a": None}) == '{"a":null,"b":[1,"é"]}'.encode()
    assert encoding.json_safe({"x": [float("inf"), 1.5]}) == {"x": ["inf", 1.5]}


def test_times_are_utc_with_microseconds_and_z() -> None:
    moment = datetime(2026, 3, 4, 5, 6, 7, tzinfo=timezone(timedelta(hours=-3)))
    assert encoding.timestamp(moment) == "2026-03-04T08:06:07.000000Z"
