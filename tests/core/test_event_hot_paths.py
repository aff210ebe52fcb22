"""The small pieces the bus's hot paths are built from behave exactly like what they replace."""

from __future__ import annotations

import dataclasses
import random
import uuid
from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry, Histogram

from nexora.core.events import Event, all_finite
from nexora.core.observability import observe_many


def test_an_event_is_frozen_and_gets_a_time_ordered_id_and_a_utc_time_by_default() -> None:
    before = datetime.now(UTC)
    first = Event(type="auth.logout", data={"user_id": "u"}, source="tests")
    second = Event("auth.logout", {"user_id": "u"}, "tests")
    assert first.id.version == 7
    assert second.id.version == 7
    assert first.id != second.id
    assert before <= first.time <= datetime.now(UTC)
    assert first.time.tzinfo is not None
    assert (first.subject, first.tenant_id, first.actor, first.schema_version) == (None, None, None, None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.type = "auth.login_failed"  # type: ignore[misc]


def test_events_with_the_same_fields_are_equal_and_replace_builds_a_new_one() -> None:
    fields = {
        "type": "auth.logout",
        "data": {"user_id": "u"},
        "source": "tests",
        "subject": "s",
        "tenant_id": uuid.uuid4(),
        "id": uuid.uuid4(),
        "time": datetime.now(UTC),
    }
    event = Event(**fields)  # type: ignore[arg-type]
    assert event == Event(**fields)  # type: ignore[arg-type]
    changed = dataclasses.replace(event, subject="other")
    assert changed.subject == "other"
    assert event.subject == "s"
    assert changed.id == event.id
    assert [f.name for f in dataclasses.fields(Event)] == list(vars(event))


def _samples(histogram: Histogram) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for metric in histogram.collect()
        for sample in metric.samples
        if not sample.name.endswith("_created")
    }


def test_observe_many_records_the_same_buckets_sum_and_count_as_observing_each_value() -> None:
    buckets = (0.005, 0.01, 0.1, 1, 10)
    one_by_one = Histogram("h", "h", ["group"], buckets=buckets, registry=CollectorRegistry())
    at_once = Histogram("h", "h", ["group"], buckets=buckets, registry=CollectorRegistry())
    values = [random.uniform(0, 20) for _ in range(500)] + [0.0, 0.005, 0.01, 1.0, 10.0, 25.0]
    for value in values:
        one_by_one.labels("g").observe(value)
    observe_many(at_once.labels("g"), values)
    observe_many(at_once.labels("g"), [])
    expected, got = _samples(one_by_one), _samples(at_once)
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value), key
    assert got[("h_count", (("group", "g"),))] == len(values)
    assert got[("h_bucket", (("group", "g"), ("le", "0.005")))] == sum(1 for v in values if v <= 0.005)


def test_non_finite_numbers_are_found_wherever_they_are_nested() -> None:
    assert all_finite({"a": 1.5, "b": [1, 2.0, {"c": "nan"}], "d": None})
    for bad in (float("nan"), float("inf"), -float("inf")):
        assert not all_finite({"a": bad})
        assert not all_finite({"a": [1.0, {"b": bad}]})
