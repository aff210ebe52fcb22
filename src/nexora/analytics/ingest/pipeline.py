"""One parser per source, and the loop that turns read records into events."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from nexora.analytics.activity import Reject, Source
from nexora.analytics.ingest.base import Parser, ParseResult
from nexora.analytics.ingest.cloudtrail import parse_cloudtrail
from nexora.analytics.ingest.generic import parse_generic
from nexora.analytics.ingest.github import parse_github
from nexora.analytics.ingest.k8s_audit import parse_k8s_audit
from nexora.analytics.ingest.reader import read_records
from nexora.analytics.ingest.streams import DEFAULT_MAX_RECORD_BYTES, Readable, Record

PARSERS: dict[Source, Parser] = {
    "cloudtrail": parse_cloudtrail,
    "k8s-audit": parse_k8s_audit,
    "github": parse_github,
    "generic": parse_generic,
}


def parse_records(records: Iterable[Record | Reject], source: Source) -> Iterator[ParseResult]:
    """Each read record parsed by ``source``'s parser; rejects from reading pass through in order.

    Never raises on content: a parser failing unexpectedly (a bug) gives a ``Reject`` naming the error's type,
    so one odd record cannot stop an import.
    """
    parse = PARSERS[source]
    for item in records:
        if isinstance(item, Reject):
            yield item
            continue
        position, record = item
        try:
            yield parse(record, position)
        except Exception as error:  # a parser bug must not end the import; the record is reported instead
            yield Reject(position, f"could not parse the record ({type(error).__name__})")


def read_events(
    stream: Readable,
    name: str,
    source: Source,
    *,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
) -> Iterator[ParseResult]:
    """Each event, ``Skip`` and ``Reject`` of one log read from ``stream`` (see ``read_records``)."""
    return parse_records(read_records(stream, name, max_record_bytes=max_record_bytes), source)
