"""Shared fixtures for the scanner tests: loaded rules, engines in both prefilter modes, a CLI runner."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from nexora.cli.scan import scan_command
from nexora.scanner.detect import Detector, Document
from nexora.scanner.engine import Engine
from nexora.scanner.model import Finding, ScanStats
from nexora.scanner.ruleset import Rule, load_rules


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # Keep the compiled-database cache of the test run out of the user's home.
    previous = os.environ.get("NEXORA_SCANNER_CACHE")
    os.environ["NEXORA_SCANNER_CACHE"] = str(tmp_path_factory.mktemp("hs-cache"))
    yield
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
