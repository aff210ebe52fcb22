"""Shared fixtures for the scanner tests: loaded rules, engines in both prefilter modes, a CLI runner."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from nexora.cli.scan import scan_command
from nexora.scanner.detect import Detector, Document
from nexora.scanner.engine import Engine
from nexora.scanner.model import Finding, ScanStats
from nexora.scanner.ruleset import Rule, load_rules

_CACHE_FOLDER = pytest.StashKey[tuple[str, str | None]]()


def pytest_configure(config: pytest.Config) -> None:
    # Keep the scanner's cache (parsed rules, compiled database) of the test run out of the user's home.
    # Test modules load the rules when they are imported, before any fixture runs: hence a hook.
    folder = tempfile.mkdtemp(prefix="nexora-scanner-cache-")
    config.stash[_CACHE_FOLDER] = (folder, os.environ.get("NEXORA_SCANNER_CACHE"))
    os.environ["NEXORA_SCANNER_CACHE"] = folder


def pytest_unconfigure(config: pytest.Config) -> None:
    folder, previous = config.stash[_CACHE_FOLDER]
    shutil.rmtree(folder, ignore_errors=True)
    if previous is None:
        os.environ.pop("NEXORA_SCANNER_CACHE", None)
    else:
        os.environ["NEXORA_SCANNER_CACHE"] = previous


@pytest.fixture(scope="session")
def rules() -> list[Rule]:
    return load_rules()


@pytest.fixture(scope="session")
def detector(rules: list[Rule]) -> Detector:
    engine = Engine(rules, "hyperscan")
    engine.prepare()
    return Detector(engine)


@pytest.fixture(scope="session")
def keyword_detector(rules: list[Rule]) -> Detector:
    engine = Engine(rules, "keywords")
    engine.prepare()
    return Detector(engine)


@pytest.fixture(scope="session")
def detect(detector: Detector) -> Callable[..., list[Finding]]:
    def run(text: str | bytes, path: str = "example.cfg") -> list[Finding]:
        data = text.encode() if isinstance(text, str) else text
        return detector.detect(Document(path, data), ScanStats())

    return run


@pytest.fixture(scope="session")
def cli() -> Callable[..., object]:
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    app.command()(scan_command)
    runner = CliRunner()

    def invoke(*args: str | Path, input: str | bytes | None = None) -> object:
        return runner.invoke(app, [str(arg) for arg in args], input=input, catch_exceptions=False)

    return invoke
