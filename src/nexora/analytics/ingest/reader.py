"""Activity logs read one record at a time, from a file, a folder, standard input or a request body.

A log may be gzip-compressed (known by its magic bytes, not its name) and is laid out in one of four ways, told
apart by its first significant bytes:

* ``{"Records": [...]}``: CloudTrail's own files (also several such objects one after another);
* ``[...]``: a JSON array of records (the GitHub audit-log API);
* JSON lines, one object per line (Kubernetes audit logs, exports): a bad line is rejected, the next is read;
* pretty-printed objects one after another (``jq .`` output), when the first line is a lone ``{``.

Anything else (CSV, binary) is one ``Reject`` for the file. Every record comes out as ``(position, record)`` or
a ``Reject`` saying where and why, never what: a record that is not an object, one larger than
``max_record_bytes``, a line that is not JSON. When a file is cut short or broken inside an array, the records
before the break are kept and one ``Reject`` covers the rest: "file is truncated or malformed after record N".
Memory stays flat whatever the file's size: at most one record and a few 64 KiB chunks are held.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import orjson

from nexora.analytics.activity import Reject
from nexora.analytics.ingest.arrays import RECORDS_OPENING, read_array, read_with_ijson
from nexora.analytics.ingest.base import json_type
from nexora.analytics.ingest.streams import (
    CHUNK,
    DEFAULT_MAX_RECORD_BYTES,
    READ_ERRORS,
    Gunzip,
    Prefixed,
    Readable,
    Record,
    describe,
)

_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"
_SPACE = b" \t\r\n"
_OPENING_PEEK = 256  # enough bytes to see whether an object's first key is "Records"
_UNKNOWN_LAYOUT = (
    'not a recognised layout: expected {"Records": [...]}, a JSON array or JSON lines (gzip-compressed or not)'
)


def read_records(
    stream: Readable, name: str, *, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
) -> Iterator[Record | Reject]:
    """Each record of one log, read from any binary file-like object (a file, stdin, a spooled request body).

    ``name`` starts every position ("name:record 3", "name:line 3"). Never raises on bad content: a damaged
    file gives ``Reject`` s. The stream is read to the end (or to the damage) and not closed.
    """
    try:
        head = stream.read(CHUNK) or b""
        source: Readable = stream
        if head.startswith(_GZIP_MAGIC):
            source = Gunzip(Prefixed(head, stream))
            head = source.read(CHUNK)
        head, blank_lines = _significant_start(source, head.removeprefix(_BOM))
        if head and head[0] == ord("{"):
            head = _at_least(source, head, _OPENING_PEEK)
    except READ_ERRORS as error:
        yield Reject(name, f"cannot read the file: {describe(error)}")
        return
    if not head:
        return
    if head[0] == ord("["):
        yield from read_array(source, head, name, records_object=False, max_record_bytes=max_record_bytes)
    elif RECORDS_OPENING.match(head):
        yield from read_array(source, head, name, records_object=True, max_record_bytes=max_record_bytes)
    elif head[0] == ord("{") and head.split(b"\n", 1)[0].strip() == b"{":
        rest = Prefixed(head, source)
        yield from read_with_ijson(rest, name, "", max_record_bytes=max_record_bytes)
    elif head[0] == ord("{"):
        lines = io.BufferedReader(Prefixed(head, source), CHUNK)
        yield from _read_lines(lines, name, max_record_bytes, skipped=blank_lines)
    else:
        yield Reject(name, _UNKNOWN_LAYOUT)


def _significant_start(stream: Readable, head: bytes) -> tuple[bytes, int]:
    """``head`` from its first byte that is not white space (reading on while there is only white space), and
    how many line breaks were skipped to get there."""
    stripped = head.lstrip(_SPACE)
    skipped = head.count(b"\n", 0, len(head) - len(stripped))
    while not stripped:
        head = stream.read(CHUNK)
        if not head:
            return b"", skipped
        stripped = head.lstrip(_SPACE)
        skipped += head.count(b"\n", 0, len(head) - len(stripped))
    return stripped, skipped


def _at_least(stream: Readable, head: bytes, size: int) -> bytes:
    while len(head) < size:
        chunk = stream.read(CHUNK)
        if not chunk:
            break
        head += chunk
    return head


def _read_lines(stream: BinaryIO, name: str, max_record_bytes: int, *, skipped: int = 0) -> Iterator[Record | Reject]:
    number = skipped  # blank lines before the first record still count in positions
    try:
        while line := stream.readline(max_record_bytes + 1):
            number += 1
            position = f"{name}:line {number}"
            if len(line) > max_record_bytes and not line.endswith(b"\n"):
                while line and not line.endswith(b"\n"):  # the rest of the long line, read and dropped
                    line = stream.readline(CHUNK)
                yield Reject(position, f"record larger than {max_record_bytes} bytes")
                continue
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError as error:
                if not line.strip(_SPACE):
                    continue  # a blank line
                yield Reject(position, f"line is not valid JSON: {describe(error)}")
                continue
            if type(value) is dict:
                yield position, value
            else:
                yield Reject(position, f"record is {json_type(value)}, expected an object")
    except READ_ERRORS as error:
        yield Reject(
            f"{name}:line {number + 1}", f"file is truncated or malformed after line {number}: {describe(error)}"
        )


def read_path(
    path: str | os.PathLike[str], *, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
) -> Iterator[Record | Reject]:
    """Each record of a file, or of every regular file under a folder (walked in name order, recursively).

    Inside a folder, symbolic links are not followed (each gives a ``Reject``), nor are other special files; a
    path named directly is opened even when it is a link. A file that cannot be opened is one ``Reject``.
    """
    root = Path(path)
    files = _walk(root) if root.is_dir() else iter([root])
    for file in files:
        if isinstance(file, Reject):
            yield file
            continue
        try:
            opened = file.open("rb")
        except OSError as error:
            yield Reject(str(file), f"cannot open the file: {error.strerror or describe(error)}")
            continue
        with opened:
            yield from read_records(opened, str(file), max_record_bytes=max_record_bytes)


def read_source(
    source: str, *, stdin: BinaryIO | None = None, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
) -> Iterator[Record | Reject]:
    """A command-line source: ``-`` for standard input (positions "stdin:..."), else a file or folder path."""
    if source == "-":
        return read_records(stdin or sys.stdin.buffer, "stdin", max_record_bytes=max_record_bytes)
    return read_path(source, max_record_bytes=max_record_bytes)


def _walk(folder: Path) -> Iterator[Path | Reject]:
    try:
        with os.scandir(folder) as listing:
            entries = sorted(listing, key=lambda entry: entry.name)
    except OSError as error:
        yield Reject(str(folder), f"cannot list the folder: {error.strerror or describe(error)}")
        return
    for entry in entries:
        path = folder / entry.name
        if entry.is_symlink():
            yield Reject(str(path), "symbolic link, not followed")
        elif entry.is_dir(follow_symlinks=False):
            yield from _walk(path)
        elif entry.is_file(follow_symlinks=False):
            yield path
        else:
            yield Reject(str(path), "not a regular file, skipped")
