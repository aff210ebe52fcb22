"""Activity logs read and parsed into :class:`~nexora.analytics.activity.ActivityEvent`, without a database.

Reading (``read_records``, ``read_path``, ``read_source``) yields ``(position, record)`` or ``Reject`` from
CloudTrail files, JSON arrays and JSON lines, gzip-compressed or not; parsing (``PARSERS``, ``parse_records``)
turns records into events, ``Skip`` s and ``Reject`` s. ``read_events`` does both for one stream.
"""

from nexora.analytics.ingest.base import Parser, ParseResult, Skip
from nexora.analytics.ingest.cloudtrail import parse_cloudtrail
from nexora.analytics.ingest.generic import parse_generic
from nexora.analytics.ingest.github import parse_github
from nexora.analytics.ingest.k8s_audit import parse_k8s_audit
from nexora.analytics.ingest.pipeline import PARSERS, parse_records, read_events
from nexora.analytics.ingest.reader import read_path, read_records, read_source
from nexora.analytics.ingest.scrub import REDACTED, scrub
from nexora.analytics.ingest.streams import DEFAULT_MAX_RECORD_BYTES, Record, spool, stream_from_chunks

__all__ = [
    "DEFAULT_MAX_RECORD_BYTES",
    "PARSERS",
    "REDACTED",
    "ParseResult",
    "Parser",
    "Record",
    "Skip",
    "parse_cloudtrail",
    "parse_generic",
    "parse_github",
    "parse_k8s_audit",
    "parse_records",
    "read_events",
    "read_path",
    "read_records",
    "read_source",
    "scrub",
    "spool",
    "stream_from_chunks",
]
