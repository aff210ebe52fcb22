"""Git history scanning vs ``git log -p``: a generated 10,000-commit repository, scanned both ways.

    python benchmarks/git_history_bench.py --work /tmp/git-bench [--commits 10000] [--seed 1]

Builds the repository with ``git fast-import`` (files edited over time, a few secrets planted), then
measures (a) ``nexora scan --git`` — each unique blob read once through ``git cat-file --batch`` — and
(b) the alternative that tools built on patches use: ``git log -p --all`` producing the text (timed
alone) and ``nexora scan -`` scanning that text. Reports time and throughput per unique blob byte.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import string
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scan_bench import BIN, Measured, run_measured

WORDS = "alpha beta gamma delta order invoice user session cache queue worker event total status".split()


def _github_token(rng: random.Random) -> str:
    import zlib

    alphabet = string.digits + string.ascii_uppercase + string.ascii_lowercase
    body = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(30))
    value, digits = zlib.crc32(body.encode()), ""
    while value:
        value, remainder = divmod(value, 62)
        digits = alphabet[remainder] + digits
    return "ghp_" + body + digits.rjust(6, "0")


def build(repo: Path, commits: int, seed: int) -> int:
    """Create the repository; returns the number of planted secrets."""
    rng = random.Random(seed)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    files = {
        f"src/module_{i}.py": [f"# module {i}"]
        + [f"{rng.choice(WORDS)}_{j} = {j}" for j in range(rng.randint(50, 300))]
        for i in range(300)
    }
    planted = 0
    stream: list[bytes] = []
    for number in range(commits):
        changed = rng.sample(sorted(files), rng.randint(1, 3))
        for path in changed:
            lines = files[path]
            position = rng.randrange(len(lines))
            if rng.random() < 0.002:
                lines.insert(position, f'GITHUB_TOKEN = "{_github_token(rng)}"')
                planted += 1
            else:
                lines.insert(position, f"{rng.choice(WORDS)}_{number} = compute({rng.randint(0, 10**6)})")
        message = f"change {number}".encode()
        stream.append(b"commit refs/heads/main\n")
        stream.append(f"committer Bench <bench@example.invalid> {1_600_000_000 + number * 60} +0000\n".encode())
        stream.append(b"data %d\n%s\n" % (len(message), message))
        for path in changed:
            content = ("\n".join(files[path]) + "\n").encode()
            stream.append(f"M 100644 inline {path}\n".encode())
            stream.append(b"data %d\n%s\n" % (len(content), content))
    subprocess.run(["git", "-C", str(repo), "fast-import", "--quiet"], input=b"".join(stream), check=True)
    subprocess.run(["git", "-C", str(repo), "gc", "-q"], check=True)
    return planted


def median_run(repeat: int, command: list[str], stdout: Path | None = None) -> Measured:
    """Run ``repeat`` times and keep the run with the median wall time (the machine may be shared)."""
    runs = sorted((run_measured(command, stdout=stdout) for _ in range(repeat)), key=lambda run: run.wall)
    return runs[len(runs) // 2]


def unique_blob_bytes(repo: Path) -> tuple[int, int]:
    listing = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "--batch-all-objects", "--batch-check"], capture_output=True, check=True
    )
    sizes = [int(line.split()[2]) for line in listing.stdout.decode().splitlines() if line.split()[1] == "blob"]
    return len(sizes), sum(sizes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--commits", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="runs per method; the median run is reported")
    arguments = parser.parse_args()
    arguments.work.mkdir(parents=True, exist_ok=True)
    repo = arguments.work / "repo"
    # A repository left by an earlier run with the same arguments is reused (planted is then unknown: -1).
    planted = build(repo, arguments.commits, arguments.seed) if not repo.exists() else -1
    blobs, blob_bytes = unique_blob_bytes(repo)
    print(
        f"repository: {arguments.commits} commits, {blobs} unique blobs, "
        f"{blob_bytes / 1e6:.1f} MB unique blob bytes, planted {planted}"
    )
    print(f"load average before: {os.getloadavg()}")

    history_report = arguments.work / "history.json"
    history = median_run(
        arguments.repeat,
        [str(BIN / "nexora"), "scan", str(repo), "--git", "-f", "json", "-o", str(history_report), "--no-progress"],
    )
    findings = json.loads(history_report.read_text())["summary"]["findings"]

    patch = arguments.work / "log.patch"
    log = median_run(arguments.repeat, ["git", "-C", str(repo), "log", "-p", "--all", "--no-color"], stdout=patch)
    patch_report = arguments.work / "patch.json"
    patch_scan = median_run(
        arguments.repeat, ["sh", "-c", f"{BIN / 'nexora'} scan - -f json -o {patch_report} --no-progress < {patch}"]
    )
    patch_findings = json.loads(patch_report.read_text())["summary"]["findings"]
    patch_bytes = patch.stat().st_size
    print(f"load average after: {os.getloadavg()}\n")
    print("| method | bytes read | wall s | CPU s | unique blob MB/s (wall) | findings |")
    print("|---|---|---|---|---|---|")
    print(
        f"| nexora scan --git (each blob once) | {blob_bytes / 1e6:.1f} MB | {history.wall:.1f} | "
        f"{history.cpu:.1f} | {blob_bytes / 1e6 / history.wall:.1f} | {findings} |"
    )
    print(
        f"| git log -p --all (text only, no scanning) | {patch_bytes / 1e6:.1f} MB | {log.wall:.1f} | "
        f"{log.cpu:.1f} | {blob_bytes / 1e6 / log.wall:.1f} | - |"
    )
    total_wall, total_cpu = log.wall + patch_scan.wall, log.cpu + patch_scan.cpu
    print(
        f"| git log -p --all, then nexora scan - | {patch_bytes / 1e6:.1f} MB | {total_wall:.1f} | "
        f"{total_cpu:.1f} | {blob_bytes / 1e6 / total_wall:.1f} | {patch_findings} |"
    )


if __name__ == "__main__":
    main()
