"""Benchmark ``nexora scan`` against detect-secrets and CredSweeper on one labelled corpus, in one run.

    python benchmarks/scan_bench.py --work /tmp/scan-bench [--files 1200] [--seed 1] [--jobs 2]
                                    [--site-packages] [--skip-peers]

Generates the corpus with ``secrets_corpus.py``, runs each tool's own CLI on the same tree, scores each
tool's reported lines against the labels (a report inside a labelled secret's line range is a true
positive, counted once; any other report is a false positive), and prints a Markdown table with
precision, recall, F1, wall time, CPU time, MB/s and the peak memory of the tool's whole process tree.
With ``--site-packages`` it also scans this interpreter's installed packages with ``nexora scan``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import site
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import secrets_corpus

BIN = Path(sys.executable).parent


@dataclass
class Measured:
    """One tool run: wall and CPU seconds, peak memory of its process tree, exit code."""

    wall: float
    cpu: float
    peak_rss: int
    returncode: int


def run_measured(command: list[str], cwd: Path | None = None, stdout: Path | None = None) -> Measured:
    """Run ``command``; sample the RSS of its process tree every 20 ms to find the peak."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    with open(stdout or os.devnull, "wb") as sink:
        process = subprocess.Popen(command, cwd=cwd, stdout=sink, stderr=subprocess.DEVNULL)
        peak = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            root = psutil.Process(process.pid)
            while not done.is_set():
                try:
                    total = root.memory_info().rss + sum(
                        child.memory_info().rss for child in root.children(recursive=True)
                    )
                    peak = max(peak, total)
                except psutil.Error:
                    pass
                done.wait(0.02)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        returncode = process.wait()
        done.set()
        sampler.join()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Measured(wall, cpu, peak, returncode)


def nexora_predictions(report: Path) -> list[tuple[str, int]]:
    return [(f["path"], f["line"]) for f in json.loads(report.read_text())["findings"]]


def detect_secrets_predictions(report: Path) -> list[tuple[str, int]]:
    results = json.loads(report.read_text())["results"]
    return [(path.removeprefix("./"), item["line_number"]) for path, items in results.items() for item in items]


def credsweeper_predictions(report: Path, tree: Path) -> list[tuple[str, int]]:
    found = []
    for candidate in json.loads(report.read_text()):
        for line in candidate["line_data_list"]:
            found.append((str(Path(line["path"]).resolve().relative_to(tree.resolve())), line["line_num"]))
    return found


def score(predictions: list[tuple[str, int]], labels: list[dict[str, object]]) -> dict[str, float]:
    """Line-level scoring against labelled ranges; duplicates of one secret count once."""
    secrets: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for label in labels:
        if label["label"] == "secret":
            secrets[str(label["path"])].append((int(label["line"]), int(label["end_line"])))  # type: ignore[call-overload]
    hits: set[tuple[str, int]] = set()
    false_positives = 0
    for path, line in set(predictions):
        match = next((r for r in secrets.get(path, []) if r[0] <= line <= r[1]), None)
        if match is None:
            false_positives += 1
        else:
            hits.add((path, match[0]))
    total = sum(len(ranges) for ranges in secrets.values())
    tp = len(hits)
    precision = tp / (tp + false_positives) if tp + false_positives else 0.0
    recall = tp / total if total else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"tp": tp, "fp": false_positives, "fn": total - tp, "precision": precision, "recall": recall, "f1": f1}


def tree_bytes(tree: Path) -> int:
    return sum(path.stat().st_size for path in tree.rglob("*") if path.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--files", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--site-packages", action="store_true")
    parser.add_argument("--skip-peers", action="store_true")
    arguments = parser.parse_args()
    work: Path = arguments.work
    work.mkdir(parents=True, exist_ok=True)
    counts = secrets_corpus.build(work / "corpus", arguments.files, arguments.seed)
    tree = work / "corpus" / "tree"
    labels = json.loads((work / "corpus" / "labels.json").read_text())
    size = tree_bytes(tree)
    print(f"corpus: {counts}, {size / 1e6:.2f} MB; load average before: {os.getloadavg()}")
    jobs = str(arguments.jobs)
    runs: dict[str, tuple[Measured, list[tuple[str, int]]]] = {}

    report = work / "nexora.json"
    measured = run_measured(
        [str(BIN / "nexora"), "scan", str(tree), "-f", "json", "-o", str(report), "--no-progress", "-j", jobs]
    )
    runs["nexora scan"] = (measured, nexora_predictions(report))
    if not arguments.skip_peers:
        report = work / "detect-secrets.json"
        measured = run_measured([str(BIN / "detect-secrets"), "scan", "--all-files", "."], cwd=tree, stdout=report)
        runs["detect-secrets"] = (measured, detect_secrets_predictions(report))
        report = work / "credsweeper.json"
        measured = run_measured(
            [str(BIN / "credsweeper"), "--path", str(tree), "--save-json", str(report), "--jobs", jobs, "--no-stdout"]
        )
        runs["credsweeper"] = (measured, credsweeper_predictions(report, tree))

    print(f"load average after: {os.getloadavg()}\n")
    print(
        "| tool | precision | recall | F1 | TP | FP | FN | wall s | CPU s | MB/s (wall) | MB/s per CPU-s "
        "| peak RSS MB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, (measured, predictions) in runs.items():
        result = score(predictions, labels)
        print(
            f"| {name} | {result['precision']:.3f} | {result['recall']:.3f} | {result['f1']:.3f} | {result['tp']} | "
            f"{result['fp']} | {result['fn']} | {measured.wall:.1f} | {measured.cpu:.1f} | "
            f"{size / 1e6 / measured.wall:.2f} | "
            f"{size / 1e6 / measured.cpu:.2f} | {measured.peak_rss / 1e6:.0f} |"
        )
    if arguments.site_packages:
        target = Path(site.getsitepackages()[0])
        report = work / "site-packages.json"
        measured = run_measured(
            [str(BIN / "nexora"), "scan", str(target), "-f", "json", "-o", str(report), "--no-progress", "-j", jobs]
        )
        summary = json.loads(report.read_text())["summary"]
        scanned = summary["bytes"]
        print(
            f"\nsite-packages ({target}): {summary['files']} files, {scanned / 1e6:.1f} MB of text scanned "
            f"({summary['skipped_binary']} binaries skipped), {summary['findings']} findings; "
            f"wall {measured.wall:.1f} s, "
            f"CPU {measured.cpu:.1f} s, scanner-reported {summary['seconds']:.1f} s; "
            f"{scanned / 1e6 / measured.wall:.1f} MB/s wall, {scanned / 1e6 / measured.cpu:.1f} MB/s per CPU-second, "
            f"peak RSS {measured.peak_rss / 1e6:.0f} MB; load average {os.getloadavg()}"
        )


if __name__ == "__main__":
    main()
