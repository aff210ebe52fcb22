"""The unit of work run in each process: read a batch of files or blobs, expand archives and notebooks,
detect secrets. State (compiled engine, git readers) lives once per process."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from nexora.scanner.detect import Allowlist, Detector, Document
from nexora.scanner.engine import Engine
from nexora.scanner.model import CommitInfo, Finding, ScanIssue, ScanStats
from nexora.scanner.ruleset import Rule
from nexora.scanner.sources import archives, notebooks
from nexora.scanner.sources.files import FileTask
from nexora.scanner.sources.git import BlobReader, BlobTask

# Git's own heuristic: a NUL byte in the first 8000 bytes means binary.
_BINARY_PROBE = 8000
_WHOLE_READ = 1 << 20


@dataclass(frozen=True, slots=True)
class WorkerSpec:
    """Everything a worker process needs, in picklable form."""

    rules: Sequence[Rule]
    prefilter: str
    database: bytes | None
    allow_paths: Sequence[str] = ()
    allow_regexes: Sequence[str] = ()
    stopwords: Sequence[str] = ()
    scan_archives: bool = True
    archive_limits: archives.ArchiveLimits = field(default_factory=archives.ArchiveLimits)


@dataclass(slots=True)
class BatchResult:
    """Findings and counters of one batch."""

    findings: list[Finding]
    stats: ScanStats


class Worker:
    """Scans batches; one instance per process."""

    def __init__(self, spec: WorkerSpec, engine: Engine | None = None) -> None:
        """``engine``: one already prepared for ``spec`` in this process (the scan's own, when it runs inline)."""
        import re

        if engine is None:
            engine = Engine(spec.rules, spec.prefilter)
            engine.prepare(spec.database)
        allowlist = Allowlist(
            paths=[re.compile(p) for p in spec.allow_paths],
            regexes=[re.compile(p) for p in spec.allow_regexes],
            stopwords=[w.lower() for w in spec.stopwords],
        )
        self.detector = Detector(engine, allowlist)
        self.spec = spec
        self._readers: dict[str, BlobReader] = {}

    def close(self) -> None:
        """Stop the git readers this worker started."""
        for reader in self._readers.values():
            reader.close()
        self._readers.clear()

    def scan_batch(self, batch: Sequence[FileTask | BlobTask]) -> BatchResult:
        """Scan a batch of files or blobs; unreadable items become issues, never exceptions."""
        stats = ScanStats()
        findings: list[Finding] = []
        blobs = [task for task in batch if isinstance(task, BlobTask)]
        for task in batch:
            if isinstance(task, FileTask):
                try:
                    data = self._read(task)
                except OSError as error:
                    stats.issues.append(ScanIssue(task.display, f"cannot read: {error.strerror or error}"))
                    continue
                if data is None:
                    stats.files += 1
                    stats.skipped_binary += 1
                    continue
                findings.extend(self.scan_bytes(task.display, data, None, stats))
        if blobs:
            reader = self._readers.get(blobs[0].repo)
            if reader is None:
                reader = self._readers[blobs[0].repo] = BlobReader(blobs[0].repo)
            for task, (_blob, content) in zip(blobs, reader.read_many([b.blob for b in blobs]), strict=True):
                if content is None:
                    stats.issues.append(ScanIssue(task.display, f"blob {task.blob} is missing"))
                    continue
                stats.blobs += 1
                findings.extend(self.scan_bytes(task.display, content, task.commit, stats))
        return BatchResult(findings, stats)

    def _read(self, task: FileTask) -> bytes | None:
        """The file's bytes, or None for a binary file, which is recognised without reading it all."""
        with open(task.path, "rb") as handle:
            # Small files in one read; big ones are probed first so a large binary is never read whole.
            head = handle.read(_BINARY_PROBE if task.size > _WHOLE_READ else -1)
            if b"\0" in head[:_BINARY_PROBE] and not (self.spec.scan_archives and archives.is_archive(task.display)):
                return None
            return head + handle.read() if task.size > _WHOLE_READ else head

    def scan_bytes(self, display: str, data: bytes, commit: CommitInfo | None, stats: ScanStats) -> list[Finding]:
        """Findings in one file's bytes, after expanding archives and notebooks."""
        findings: list[Finding] = []
        for document in self.documents(display, data, commit, stats, 0, None):
            stats.bytes += len(document.data)
            findings.extend(self.detector.detect(document, stats))
        return findings

    def documents(
        self,
        display: str,
        data: bytes,
        commit: CommitInfo | None,
        stats: ScanStats,
        depth: int,
        budget: archives.Budget | None,
    ) -> Iterator[Document]:
        """The scannable documents inside one file: itself, its archive members, or its notebook cells."""
        if self.detector.allowlist.path_allowed(display):
            stats.skipped_ignored += 1
            return
        stats.files += 1
        if self.spec.scan_archives and archives.is_archive(display):
            yield from self._archive(display, data, commit, stats, depth, budget)
            return
        if b"\0" in data[:_BINARY_PROBE]:
            stats.skipped_binary += 1
            return
        if display.lower().endswith(".ipynb"):
            try:
                text, line_map = notebooks.extract(data)
            except notebooks.NotebookError as error:
                # Still scan the raw JSON so a broken notebook cannot hide a secret.
                stats.issues.append(ScanIssue(display, str(error)))
                yield Document(display, data, commit)
                return
            yield Document(display, text, commit, line_map)
            return
        yield Document(display, data, commit)

    def _archive(
        self,
        display: str,
        data: bytes,
        commit: CommitInfo | None,
        stats: ScanStats,
        depth: int,
        budget: archives.Budget | None,
    ) -> Iterator[Document]:
        limits = self.spec.archive_limits
        if depth >= limits.max_depth:
            stats.issues.append(ScanIssue(display, f"archive nested deeper than {limits.max_depth}; skipped"))
            return
        budget = budget or archives.Budget(limits.max_total_size)
        collected: list[Document] = []
        try:
            for name, content in archives.members(display, data, budget):
                collected.extend(self.documents(f"{display}!{name}", content, commit, stats, depth + 1, budget))
        except archives.ArchiveRejected as error:
            stats.issues.append(ScanIssue(display, f"{error}; skipped"))
            return
        yield from collected


_WORKER: Worker | None = None


def initialise(spec: WorkerSpec) -> None:
    """Process-pool initializer: build this process's worker once."""
    global _WORKER
    _WORKER = Worker(spec)


def run_batch(batch: Sequence[FileTask | BlobTask]) -> BatchResult:
    """Process-pool task: scan one batch with this process's worker."""
    assert _WORKER is not None, "initialise() must run first"
    return _WORKER.scan_batch(batch)
