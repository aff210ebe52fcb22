"""Property tests: no record makes a parser raise, and no secret-keyed string survives scrubbing."""

from __future__ import annotations

import io
import json
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nexora.analytics.activity import ActivityEvent, Reject
from nexora.analytics.ingest import PARSERS, REDACTED, Skip, read_records, scrub
from nexora.analytics.ingest.scrub import is_secret_key

SETTINGS = settings(
    max_examples=int(os.environ.get("NEXORA_HYPOTHESIS_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
FIELD_NAMES = """
    eventID eventTime eventName eventSource userIdentity type arn accountId accessKeyId userName principalId
    sessionContext sessionIssuer attributes mfaAuthenticated resources ARN requestParameters responseElements
    additionalEventData ConsoleLogin MFAUsed readOnly sourceIPAddress auditID stage stageTimestamp verb user username
    objectRef resource responseStatus code sourceIPs @timestamp _document_id action actor hashed_token token_id
    actor_location time id identity details outcome password secretAccessKey sessionToken Authorization
""".split()
VALUES = """
    2026-03-02T09:15:27Z AKIA4TESTKEYALICE001 AssumedRole Root IAMUser AWSService 81.2.69.160
    system:serviceaccount:a:b ResponseComplete Failure
""".split()
KEYS = st.sampled_from(FIELD_NAMES) | st.text(max_size=12)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63)
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | st.sampled_from(VALUES)
)
JSON = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=6), max_leaves=30
)
RECORDS = st.dictionaries(KEYS, JSON, max_size=12)


@SETTINGS
@given(record=RECORDS)
def test_no_record_makes_a_parser_raise(record: dict[str, Any]) -> None:
    for parse in PARSERS.values():
        result = parse(record, "p")
        assert isinstance(result, ActivityEvent | Reject | Skip)


def _secret_strings(value: Any, secret: bool = False) -> list[Any]:
    if isinstance(value, dict):
        return [found for key, item in value.items() for found in _secret_strings(item, secret or is_secret_key(key))]
    if isinstance(value, list):
        return [found for item in value for found in _secret_strings(item, secret)]
    return [value] if secret and isinstance(value, str) and value != REDACTED else []


@SETTINGS
@given(record=RECORDS)
def test_scrubbing_leaves_no_string_under_a_secret_key(record: dict[str, Any]) -> None:
    before = json.dumps(record, sort_keys=True)

    scrubbed = scrub(record)

    leaked = _secret_strings(scrubbed)
    identifiers = _identifier_strings(record)
    assert all(value in identifiers for value in leaked)
    assert json.dumps(record, sort_keys=True) == before  # the input is never changed


def _identifier_strings(value: Any) -> set[str]:
    """Strings kept on purpose under identifier keys (accessKeyId, *Id, *Arn...) inside secret objects."""
    if isinstance(value, dict):
        found: set[str] = set()
        for key, item in value.items():
            if isinstance(item, str) and not is_secret_key(key):
                found.add(item)
            found |= _identifier_strings(item)
        return found
    if isinstance(value, list):
        return set().union(*(_identifier_strings(item) for item in value)) if value else set()
    return set()


@SETTINGS
@given(data=st.binary(max_size=400))
def test_no_bytes_make_the_reader_raise(data: bytes) -> None:
    for item in read_records(io.BytesIO(data), "fuzz"):
        assert isinstance(item, Reject) or isinstance(item[1], dict)


@SETTINGS
@given(records=st.lists(RECORDS, max_size=5), indent=st.sampled_from([None, 1]), cut=st.integers(min_value=0))
def test_any_prefix_of_a_records_file_keeps_the_whole_records_before_the_cut(
    records: list[dict[str, Any]], indent: int | None, cut: int
) -> None:
    data = json.dumps({"Records": records}, indent=indent).encode()
    cut %= len(data) + 1

    results = list(read_records(io.BytesIO(data[:cut]), "cut"))

    read = [item[1] for item in results if not isinstance(item, Reject)]
    assert read == records[: len(read)]
    assert sum(isinstance(item, Reject) for item in results) <= 1
