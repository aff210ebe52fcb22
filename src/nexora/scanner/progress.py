"""Progress bar for long scans on interactive terminals (rich, drawn on stderr, no background thread)."""

from __future__ import annotations

import time
from typing import IO

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

# Redraw at most this often, so drawing never costs more than the scan.
_REDRAW_SECONDS = 0.1


class ScanProgress:
    """Callable ``(done_bytes, total_bytes)`` that draws a bar; use as a context manager."""

    def __init__(self, stream: IO[str]) -> None:
        self._progress = Progress(
            "[bold]scanning",
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=Console(file=stream, force_terminal=True),
            auto_refresh=False,
            transient=True,
        )
        self._task = self._progress.add_task("scan", total=None)
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        self._progress.update(self._task, completed=done, total=total)
        now = time.monotonic()
        if now - self._last >= _REDRAW_SECONDS or done >= total:
            self._last = now
            self._progress.refresh()

    def __enter__(self) -> ScanProgress:
        self._progress.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._progress.stop()
