"""Byte streams the readers work on: a stream with its first bytes put back, one built from chunks, a spooled body."""

from __future__ import annotations

import io
import tempfile
import zlib
from collections.abc import AsyncIterable, Iterable, Iterator
from typing import Any, BinaryIO, Protocol

import ijson

from nexora.core.errors import PayloadTooLarge

CHUNK = 64 * 1024  # bytes read at a time at every layer
DEFAULT_MAX_RECORD_BYTES = 1024 * 1024
SPOOL_MEMORY_BYTES = 8 * 1024 * 1024  # a body larger than this goes to a temporary file
_GZIP_WINDOW = 16 + zlib.MAX_WBITS  # zlib reads the gzip header and checks the trailer's CRC and length

Record = tuple[str, dict[str, Any]]  # (position such as "file.json.gz:record 17", the record as read)

# What reading a damaged file raises: gzip's truncation (EOFError) and corruption (zlib.error, BadGzipFile, an
# OSError), ijson's syntax errors, an undecodable byte.
READ_ERRORS: tuple[type[BaseException], ...] = (ijson.JSONError, EOFError, OSError, zlib.error, UnicodeDecodeError)


def describe(error: BaseException) -> str:
    """The parser's or decompressor's message, first line only: yajl's next lines quote the input."""
    message = str(error).strip().splitlines()
    first = message[0].strip() if message else ""
    return first[:200] or type(error).__name__


class Readable(Protocol):
    """What the readers need of a stream: ``read``. Files, stdin's buffer, spooled and gzip files all have it."""

    def read(self, size: int = -1, /) -> bytes: ...


class Prefixed(io.RawIOBase):
    """``rest`` with ``head`` put back in front of it: what a reader peeked at is read again."""

    def __init__(self, head: bytes, rest: Readable) -> None:
        super().__init__()
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1, /) -> bytes:
        return super().read(size) or b""

    def readinto(self, buffer: Any) -> int:
        if self._head:
            count = min(len(buffer), len(self._head))
            buffer[:count] = self._head[:count]
            self._head = self._head[count:]
            return count
        data = self._rest.read(len(buffer)) or b""
        buffer[: len(data)] = data
        return len(data)


class Gunzip:
    """The decompressed bytes of a gzip stream (one member or several end to end), up to a chunk per read.

    Unlike ``gzip.GzipFile``, everything that could be decompressed before a cut is returned before the
    ``EOFError`` saying the file is truncated, so the records before the cut are kept.
    """

    def __init__(self, raw: Readable) -> None:
        self._raw = raw
        self._decompressor = zlib.decompressobj(_GZIP_WINDOW)
        self._input = b""
        self._in_member = False

    def read(self, size: int = -1, /) -> bytes:
        while True:
            if not self._input:
                self._input = self._raw.read(CHUNK)
                if not self._input:
                    if self._in_member:
                        raise EOFError("Compressed file ended before the end-of-stream marker was reached")
                    return b""
            if not self._in_member:
                self._input = self._input.lstrip(b"\x00")  # zero padding between or after members, as gzip allows
                if not self._input:
                    continue
                self._in_member = True
            data = self._decompressor.decompress(self._input, CHUNK)
            self._input = self._decompressor.unconsumed_tail
            if self._decompressor.eof:
                self._input = self._decompressor.unused_data
                self._decompressor = zlib.decompressobj(_GZIP_WINDOW)
                self._in_member = False
            if data:
                return data


class _Chunks(io.RawIOBase):
    def __init__(self, chunks: Iterable[bytes]) -> None:
        super().__init__()
        self._chunks: Iterator[bytes] = iter(chunks)
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = memoryview(chunk)
        count = min(len(buffer), len(self._pending))
        buffer[:count] = self._pending[:count]
        self._pending = self._pending[count:]
        return count


def stream_from_chunks(chunks: Iterable[bytes]) -> BinaryIO:
    """A readable binary stream over an iterator of byte chunks (a request body read piece by piece)."""
    return io.BufferedReader(_Chunks(chunks), CHUNK)


async def spool(
    chunks: AsyncIterable[bytes], *, max_bytes: int | None = None, memory_bytes: int = SPOOL_MEMORY_BYTES
) -> tempfile.SpooledTemporaryFile[bytes]:
    """An async body (``request.stream()``) written to a temporary file kept in memory up to ``memory_bytes``.

    The file is rewound and ready for :func:`~nexora.analytics.ingest.read_records`; the caller closes it. A body
    longer than ``max_bytes`` raises ``PayloadTooLarge`` after reading no more than one chunk past the limit.
    """
    spooled: tempfile.SpooledTemporaryFile[bytes] = tempfile.SpooledTemporaryFile(max_size=memory_bytes)
    size = 0
    try:
        async for chunk in chunks:
            size += len(chunk)
            if max_bytes is not None and size > max_bytes:
                raise PayloadTooLarge(f"the activity log is larger than {max_bytes} bytes; send it in parts")
            spooled.write(chunk)
    except BaseException:
        spooled.close()
        raise
    spooled.seek(0)
    return spooled
