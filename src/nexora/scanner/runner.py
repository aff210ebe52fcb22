"""Orchestration: gather work from the sources, spread it over processes, apply baseline and verification.

``scan()`` is the library API used by discovery; ``ScanRun`` also exposes statistics for reports.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from nexora.scanner.batch import BatchResult, Worker, WorkerSpec, initialise, run_batch
from nexora.scanner.config import ScanConfig, discover_config
from nexora.scanner.engine import Engine
from nexora.scanner.model import Finding, ScanIssue, ScanStats
from nexora.scanner.ruleset import Rule, load_rules
from nexora.scanner.sources import archives
from nexora.scanner.sources.files import FileTask, Skipped, walk
from nexora.scanner.sources.git import BlobTask, history_blobs, staged_blobs

DEFAULT_MAX_FILE_SIZE = 25 * 1024 * 1024
# Batches big enough to amortise inter-process overhead, small enough to balance two cores.
_BATCH_BYTES = 4 * 1024 * 1024
_BATCH_ITEMS = 512
# Below this much data a process pool costs more than it saves.
_POOL_THRESHOLD = 8 * 1024 * 1024

Progress = Callable[[int, int], None]


@dataclass(slots=True)
class ScanOptions:
    """What to scan and how. Paths are files or folders; ``"-"`` reads stdin."""

    paths: list[str] = field(default_factory=lambda: ["."])
    git: bool = False
    since: str | None = None
    staged: bool = False
    jobs: int = 0
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    respect_gitignore: bool = False
    scan_archives: bool = True
    archive_limits: archives.ArchiveLimits = field(default_factory=archives.ArchiveLimits)
    config: ScanConfig | None = None
    use_config_file: bool = True
    baseline: set[str] = field(default_factory=set)
    prefilter: str = "auto"
    pool_threshold: int = _POOL_THRESHOLD


class ScanRun:
    """One scan: iterate :meth:`findings`, then read :attr:`stats` and :attr:`elapsed`."""

    def __init__(self, options: ScanOptions, progress: Progress | None = None) -> None:
        self.options = options
        self.progress = progress
        self.stats = ScanStats()
        self.elapsed = 0.0
        self._total = 0
        self.prefilter_mode = ""
        self.config = options.config
        if self.config is None and options.use_config_file and options.paths and options.paths[0] != "-":
            self.config = discover_config(Path(options.paths[0]))
        config = self.config or ScanConfig()
        self.rules: list[Rule] = load_rules(config.rule_files, config.extra_rules, config.disabled)
        self.engine = Engine(self.rules, options.prefilter)

    def _spec(self) -> WorkerSpec:
        config = self.config or ScanConfig()
        self.prefilter_mode = self.engine.prepare()
        return WorkerSpec(
            rules=self.rules,
            prefilter=self.prefilter_mode,
            database=self.engine.serialized_database(),
            allow_paths=config.allow_paths,
            allow_regexes=config.allow_regexes,
            stopwords=config.stopwords,
            scan_archives=self.options.scan_archives,
            archive_limits=self.options.archive_limits,
        )

    def _tasks(self) -> Iterator[FileTask | BlobTask | Skipped | ScanIssue]:
        options = self.options
        excluded = (self.config or ScanConfig()).allowlist().path_allowed
        for path in options.paths:
            if path == "-":
                continue
            root = Path(path)
            if options.git or options.staged:
                if options.staged:
                    yield from staged_blobs(root, options.max_file_size)
                else:
                    yield from history_blobs(root, options.since, options.max_file_size)
            elif not root.exists() and not root.is_symlink():
                yield ScanIssue(path, "no such file or folder")
            else:
                yield from walk(root, options.max_file_size, options.respect_gitignore, excluded)

    def findings(self) -> Iterator[Finding]:
        """Every finding not in the baseline, as batches complete (order is not guaranteed).

        Walking and scanning overlap: batches go to the workers while the walk goes on.
        """
        spec = self._spec()
        started = time.perf_counter()
        self._total = 0
        try:
            if "-" in self.options.paths:
                yield from self._stdin(spec)
            tasks = self._counted(item for item in self._tasks() if self._keep(item))
            jobs = self.options.jobs or os.cpu_count() or 1
            head, tasks = self._head(tasks)
            pooled = jobs > 1 and sum(task.size for task in head) > self.options.pool_threshold
            results = self._pooled(spec, tasks, jobs) if pooled else self._inline(spec, tasks)
            done = 0
            earliest: dict[str, Finding] = {}
            for result, size in results:
                done += size
                self.stats.merge(result.stats)
                if self.progress is not None:
                    self.progress(done, self._total)
                if self.options.git:
                    _keep_earliest(earliest, result.findings)
                else:
                    yield from self._unbaselined(result.findings)
            yield from self._unbaselined(earliest.values())
        finally:
            self.elapsed = time.perf_counter() - started

    def _counted(self, items: Iterator[FileTask | BlobTask | Skipped | ScanIssue]) -> Iterator[FileTask | BlobTask]:
        for item in items:
            if isinstance(item, FileTask | BlobTask):
                self._total += item.size
                yield item

    def _head(
        self, tasks: Iterator[FileTask | BlobTask]
    ) -> tuple[list[FileTask | BlobTask], Iterator[FileTask | BlobTask]]:
        """Look ahead until the pool threshold is passed, to decide between one process and many."""
        head: list[FileTask | BlobTask] = []
        size = 0
        for task in tasks:
            head.append(task)
            size += task.size
            if size > self.options.pool_threshold:
                break
        return head, itertools.chain(head, tasks)

    def _keep(self, item: FileTask | BlobTask | Skipped | ScanIssue) -> bool:
        if isinstance(item, ScanIssue):
            self.stats.issues.append(item)
            return False
        if isinstance(item, Skipped):
            if item.reason == "too large":
                self.stats.skipped_large += 1
            elif item.reason == "binary":
                self.stats.skipped_binary += 1
            elif item.reason in ("ignored", "allowlisted"):
                self.stats.skipped_ignored += 1
            return False
        return True

    def _unbaselined(self, findings: Iterable[Finding]) -> Iterator[Finding]:
        for finding in findings:
            if finding.fingerprint in self.options.baseline:
                self.stats.suppressed_baseline += 1
                continue
            yield finding

    def _stdin(self, spec: WorkerSpec) -> Iterator[Finding]:
        worker = Worker(spec, self.engine)
        data = sys.stdin.buffer.read()
        stats = ScanStats()
        found = worker.scan_bytes("-", data, None, stats)
        self.stats.merge(stats)
        yield from self._unbaselined(found)

    @staticmethod
    def _batches(tasks: Iterable[FileTask | BlobTask]) -> Iterator[list[FileTask | BlobTask]]:
        batch: list[FileTask | BlobTask] = []
        size = 0
        for task in tasks:
            batch.append(task)
            size += task.size
            if size >= _BATCH_BYTES or len(batch) >= _BATCH_ITEMS:
                yield batch
                batch, size = [], 0
        if batch:
            yield batch

    def _inline(self, spec: WorkerSpec, tasks: Iterable[FileTask | BlobTask]) -> Iterator[tuple[BatchResult, int]]:
        worker = Worker(spec, self.engine)
        try:
            for batch in self._batches(tasks):
                yield worker.scan_batch(batch), sum(task.size for task in batch)
        finally:
            worker.close()

    def _pooled(
        self, spec: WorkerSpec, tasks: Iterable[FileTask | BlobTask], jobs: int
    ) -> Iterator[tuple[BatchResult, int]]:
        # Fork is cheap and the parent holds no threads here; elsewhere use the platform default.
        method = "fork" if sys.platform.startswith("linux") else None
        context = multiprocessing.get_context(method)
        with ProcessPoolExecutor(jobs, mp_context=context, initializer=initialise, initargs=(spec,)) as pool:
            pending: dict[Future[BatchResult], int] = {}
            batches = self._batches(tasks)
            # Keep a bounded number of batches in flight so memory stays flat on huge trees.
            for batch in batches:
                pending[pool.submit(run_batch, batch)] = sum(task.size for task in batch)
                if len(pending) >= jobs * 3:
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        yield future.result(), pending.pop(future)
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    yield future.result(), pending.pop(future)


def _keep_earliest(earliest: dict[str, Finding], findings: Iterable[Finding]) -> None:
    """History: a secret carried through many file versions is one finding, from the commit that added it."""
    for finding in findings:
        known = earliest.get(finding.fingerprint)
        if known is None or _commit_time(finding) < _commit_time(known):
            earliest[finding.fingerprint] = finding


def _commit_time(finding: Finding) -> datetime:
    if finding.commit is None:
        return datetime.max.replace(tzinfo=UTC)
    try:
        return datetime.fromisoformat(finding.commit.date)
    except ValueError:
        return datetime.max.replace(tzinfo=UTC)


def scan(
    *paths: str,
    git: bool = False,
    since: str | None = None,
    staged: bool = False,
    jobs: int = 1,
    config: ScanConfig | None = None,
    baseline: set[str] | None = None,
    max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    respect_gitignore: bool = False,
) -> Iterator[Finding]:
    """Scan files, folders (or a repository's history with ``git=True``) and yield each finding once.

    Guarantees: no server, database or network is touched; raw secrets are only in ``Finding.secret``
    (hidden from ``repr``); an unreadable file never stops the scan. Defaults to one process so that
    callers embedding the scanner control parallelism.
    """
    options = ScanOptions(
        paths=list(paths) or ["."],
        git=git,
        since=since,
        staged=staged,
        jobs=jobs,
        config=config,
        baseline=baseline or set(),
        max_file_size=max_file_size,
        respect_gitignore=respect_gitignore,
    )
    yield from ScanRun(options).findings()
