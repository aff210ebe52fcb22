"""Records inside a JSON array, CloudTrail's ``{"Records": [...]}`` or a top-level ``[...]``, one at a time.

Two engines give the same result. The fast one finds where a record ends and parses just its bytes with orjson,
about twice as fast as ijson building the record. A record ends where the bytes that separate two records in this
file follow (learned once: ``},{"eventVersion":`` in a CloudTrail file), else at a ``}`` followed by ``,{`` or
by the array's ``]`` where the record's braces balance. A place is only taken when the bytes up to it parse as one
object, which happens at the record's true end and nowhere else. The fast engine handles the common shape, a
sequence of objects. On anything else (an element that is not an object,
a record it cannot delimit within the size limit, more than a few failed tries, the end of the file inside the
array, anything after the array) it hands the rest of the file to ijson, which reads it exactly and says what is
wrong and where. Memory holds one record and a chunk or two, never the file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import ijson
import orjson

from nexora.analytics.activity import Reject
from nexora.analytics.ingest.base import json_type
from nexora.analytics.ingest.streams import CHUNK, READ_ERRORS, Prefixed, Readable, Record, describe

try:
    _IJSON: Any = ijson.get_backend("yajl2_c")
except ImportError:  # no compiled backend on this platform: ijson's best available one
    _IJSON = ijson

RECORDS_OPENING = re.compile(rb'\{[ \t\r\n]*"Records"[ \t\r\n]*:[ \t\r\n]*\[')
_ARRAY_OPENING = re.compile(rb"\[")
# Where a record may end: its "}", then either "," and the next object, or the array's "]" (in a Records object,
# a "]" that the object's "}" follows).
_END_IN_RECORDS = re.compile(rb"\}[ \t\r\n]*(?:,[ \t\r\n]*(?=\{)|\](?=[ \t\r\n]*\}))")
_END_IN_ARRAY = re.compile(rb"\}[ \t\r\n]*(?:,[ \t\r\n]*(?=\{)|\])")
_SIGNIFICANT = re.compile(rb"[^ \t\r\n]")
_FIRST_KEY = re.compile(rb'\{[ \t\r\n]*"[^"\\]{1,64}"[ \t\r\n]*:')
_OPEN_BRACE, _CLOSE_BRACKET, _CLOSE_BRACE = ord("{"), ord("]"), ord("}")
_MAX_FAILED_TRIES = 16  # balanced places that did not parse, before handing over to ijson
_MAX_BOUNDARY_MISSES = 8


class _Window:
    """The bytes from the current record's start to what has been read so far."""

    def __init__(self, stream: Readable, head: bytes, position: int) -> None:
        self.read = stream.read
        self.data = head
        self.position = position
        self.at_end = False
        # The bytes from one record's "}" to the next record's first key, as this file writes them
        # ('},{"eventVersion":'), learned at the first boundary found the slow way; None until then.
        self.boundary: bytes | None = None
        self.misses = 0  # records in a row the boundary did not delimit

    def more(self) -> int:
        """Read one chunk, dropping the bytes before ``position``; returns how far offsets moved."""
        chunk = self.read(CHUNK)
        if not chunk:
            self.at_end = True
        shift = self.position
        self.data = self.data[shift:] + chunk
        self.position = 0
        return shift

    def skip_space(self) -> bool:
        """Move to the next significant byte; False at the end of the file."""
        while True:
            found = _SIGNIFICANT.search(self.data, self.position)
            if found is not None:
                self.position = found.start()
                return True
            self.position = len(self.data)
            if self.at_end:
                return False
            self.more()

    def record(self, ending: re.Pattern[bytes], max_record_bytes: int) -> tuple[Any, int, int] | None:
        """The object starting at ``position``: (value, its size, where the next element or "]" is), or None."""
        if self.boundary is not None:
            found = self._record_before_boundary(self.boundary)
            if found is not None:
                self.misses = 0
                return found
            self.misses += 1
            if self.misses > _MAX_BOUNDARY_MISSES:  # records differ in their first key: stop searching for one
                self.boundary = None
        return self._record_by_braces(ending, max_record_bytes)

    def _record_before_boundary(self, boundary: bytes) -> tuple[Any, int, int] | None:
        """The record, when the learned boundary follows it in the bytes read: one search and one parse."""
        found = self.data.find(boundary, self.position)
        if found < 0:
            return None  # the record goes on past what was read, or it is the last one
        start, end = self.position, found + 1
        try:
            value = orjson.loads(self.data[start:end])
        except orjson.JSONDecodeError:
            return None  # the boundary's bytes were inside the record, in a nested object
        return value, end - start, found + boundary.index(b"{")

    def _record_by_braces(self, ending: re.Pattern[bytes], max_record_bytes: int) -> tuple[Any, int, int] | None:
        """The record, trying each place it may end where its braces balance; learns the boundary."""
        start = scan = self.position
        balance = failures = 0
        while True:
            match = ending.search(self.data, scan)
            if match is None:
                if self.at_end or len(self.data) - start > max_record_bytes + CHUNK:
                    return None
                shift = self.more()
                start -= shift
                scan -= shift
                continue
            end = match.start() + 1
            balance += self.data.count(b"{", scan, end) - self.data.count(b"}", scan, end)
            scan = end
            if balance:
                continue
            try:
                value = orjson.loads(self.data[start:end])
            except orjson.JSONDecodeError:
                failures += 1
                if failures > _MAX_FAILED_TRIES:
                    return None
                continue
            following = match.end()
            if self.data[following - 1] == _CLOSE_BRACKET:
                return value, end - start, following - 1  # the caller sees the "]" and closes the array
            first_key = _FIRST_KEY.match(self.data, following)
            if first_key is not None and self.misses <= _MAX_BOUNDARY_MISSES:
                self.boundary = self.data[end - 1 : first_key.end()]
            return value, end - start, following


def read_array(
    stream: Readable, head: bytes, name: str, *, records_object: bool, max_record_bytes: int
) -> Iterator[Record | Reject]:
    """Each element of the array that ``head`` (then ``stream``) opens: ``{"Records": [`` or ``[``."""
    opening = RECORDS_OPENING if records_object else _ARRAY_OPENING
    matched = opening.match(head)
    assert matched is not None, "the caller detected the layout"
    window = _Window(stream, head, matched.end())
    ending = _END_IN_RECORDS if records_object else _END_IN_ARRAY
    path = "Records.item" if records_object else "item"
    reopen = b'{"Records":[' if records_object else b"["
    number = 0
    try:
        while window.skip_space():
            first = window.data[window.position]
            if first == _CLOSE_BRACKET:
                window.position += 1
                closed = not records_object  # a Records object is complete once its own "}" follows
                if records_object and window.skip_space() and window.data[window.position] == _CLOSE_BRACE:
                    window.position += 1
                    closed = True
                if closed and not window.skip_space():
                    return  # the usual end: the file ends where its one value does
                reopen = b"" if closed else b'{"Records":[]'
                break  # more after the array (another value, other keys, junk): ijson judges it
            if first != _OPEN_BRACE:
                break
            found = window.record(ending, max_record_bytes)
            if found is None:
                break
            value, size, following = found
            number += 1
            if size > max_record_bytes:
                yield Reject(f"{name}:record {number}", f"record larger than {max_record_bytes} bytes")
            else:
                yield f"{name}:record {number}", value
            window.position = following
    except READ_ERRORS as error:  # the decompressor found the file cut short or corrupt
        yield Reject(
            f"{name}:record {number + 1}",
            f"file is truncated or malformed after record {number}: {describe(error)}",
        )
        return
    rest = Prefixed(reopen + window.data[window.position :], stream)
    yield from read_with_ijson(rest, name, path, max_record_bytes=max_record_bytes, done=number)


class _RecordTooLarge(Exception):
    """A record grew past the size limit while being read."""


class _Counted:
    """Counts the bytes read since the last record and stops a record that passes ``ceiling`` mid-way."""

    def __init__(self, stream: Readable, ceiling: int) -> None:
        self._read = stream.read
        self._ceiling = ceiling
        self.since_record = 0

    def read(self, size: int = -1) -> bytes:
        data = self._read(size)
        self.since_record += len(data)
        if self.since_record > self._ceiling:
            raise _RecordTooLarge
        return data


def read_with_ijson(
    stream: Readable, name: str, path: str, *, max_record_bytes: int, done: int = 0
) -> Iterator[Record | Reject]:
    """Each value at ``path`` ("Records.item", "item", "" for concatenated values) of ``stream``, with ijson.

    ijson builds a record before it can be measured, so the size is checked two ways: a record whose bytes pass
    the limit by a few chunks is stopped while it is read (and the rest of the file with it: the parser cannot
    resume mid-record), and one near the limit is measured as compact JSON once built.
    """
    counted = _Counted(stream, max_record_bytes + 4 * CHUNK)
    number = done
    try:
        values = _IJSON.items(counted, path, use_float=True, multiple_values=True, buf_size=CHUNK)
        for value in values:
            number += 1
            position = f"{name}:record {number}"
            since, counted.since_record = counted.since_record, 0
            if type(value) is not dict:
                yield Reject(position, f"record is {json_type(value)}, expected an object")
            elif since > max_record_bytes - 2 * CHUNK and _compact_size(value, since) > max_record_bytes:
                yield Reject(position, f"record larger than {max_record_bytes} bytes")
            else:
                yield position, value
    except _RecordTooLarge:
        yield Reject(
            f"{name}:record {number + 1}",
            f"record larger than {max_record_bytes} bytes; the rest of the file was not read",
        )
    except READ_ERRORS as error:
        yield Reject(
            f"{name}:record {number + 1}",
            f"file is truncated or malformed after record {number}: {describe(error)}",
        )


def _compact_size(value: dict[str, Any], fallback: int) -> int:
    try:
        return len(orjson.dumps(value))
    except TypeError:  # an integer past 64 bits: fall back on the bytes read for it
        return fallback
