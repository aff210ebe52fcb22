"""Fixtures for the browser tests: the built web console, a real ``nexora up`` on a free port over a fresh
database, and Debian's Chromium. Scenarios are node modules in ``web/e2e/`` (playwright-core), run in one
browser by ``web/e2e/run.mjs``; each test names its scenario with ``@pytest.mark.scenario`` and then
checks what it did through the API.

Without Chromium (or node) the tests skip with a notice; with ``NEXORA_REQUIRE_BROWSER=1`` (CI) they fail.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from nexora.ops import provision
from tests.fixtures.live import free_port, wait_until_healthy

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"
SCREENSHOTS = ROOT / "test-results" / "e2e"
CHROMIUM = Path(os.environ.get("NEXORA_E2E_CHROMIUM", "/usr/bin/chromium"))
# Playwright errors quote the page's HTML; a failing scenario must not print a key or token it saw.
SECRET_SHAPES = re.compile(r"nxr_[0-9A-Za-z]{38}|rt1\.[0-9a-f]{32}\.[\w-]+|eyJ[\w-]+\.[\w-]+\.[\w-]+")
START_TIMEOUT_SECONDS = 90
SCENARIO_TIMEOUT_SECONDS = 60


def _missing(reason: str) -> None:
    if os.environ.get("NEXORA_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required (NEXORA_REQUIRE_BROWSER=1) but {reason}", pytrace=False)
    pytest.skip(f"BROWSER TESTS SKIPPED: {reason} (install it, or set NEXORA_REQUIRE_BROWSER=1 to make this fail)")


@pytest.fixture(scope="session")
def browser_tools() -> Path:
    """The node binary, after checking Chromium is installed."""
    if not CHROMIUM.exists():
        _missing(f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium)")
    node = shutil.which("node")
    if node is None or shutil.which("npm") is None:
        _missing("node and npm are not installed")
    assert node is not None
    return Path(node)


@pytest.fixture(scope="session")
def built_console(browser_tools: Path) -> Path:
    """``make -C web build``: installs packages if needed and rebuilds only when sources changed."""
    result = subprocess.run(
        ["make", "--no-print-directory", "-C", str(WEB), "build"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"web build failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    index = ROOT / "src" / "nexora" / "api" / "static" / "index.html"
    assert index.exists()
    return index


@dataclass(frozen=True)
class Console:
    base_url: str
    email: str
    password: str

    @contextlib.contextmanager
    def sign_in(self) -> Iterator[httpx.Client]:
        """An API client signed in as the bootstrap admin (to check what a scenario did)."""
        with httpx.Client(base_url=self.base_url, timeout=10) as client:
            response = client.post("/api/v1/auth/login", json={"email": self.email, "password": self.password})
            assert response.status_code == 200, response.text
            client.headers["Authorization"] = f"Bearer {response.json()['access_token']}"
            yield client


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def console(built_console: Path, postgres_superuser_url: str) -> Iterator[Console]:
    """A real ``nexora up`` (API, web console, workers) over a freshly provisioned database."""
    name = f"nexora_e2e_{secrets.token_hex(4)}"
    database = provision.provision(postgres_superuser_url, name)
    data_dir = Path(tempfile.mkdtemp(prefix="nexora-e2e-"))
    port = free_port()
    console = Console(
        base_url=f"http://127.0.0.1:{port}", email="admin@e2e.example", password=secrets.token_urlsafe(18)
    )
    # Only this server's settings: a NEXORA_ variable of the test run must not leak into it.
    inherited = {key: value for key, value in os.environ.items() if not key.startswith(("NEXORA_", "OTEL_"))}
    environment = {
        **inherited,
        "NEXORA_DATABASE_URL": database.app_url,
        "NEXORA_DATABASE_OWNER_URL": database.owner_url,
        "NEXORA_BOOTSTRAP_ADMIN_EMAIL": console.email,
        "NEXORA_BOOTSTRAP_ADMIN_PASSWORD": console.password,
        "NEXORA_CRYPTO_MASTER_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
        # Fast hashing and no per-address login limit: the scenarios sign in many times.
        "NEXORA_AUTH_PASSWORD_HASH_TIME_COST": "1",
        "NEXORA_AUTH_PASSWORD_HASH_MEMORY_KIB": "8192",
        "NEXORA_AUTH_LOGIN_IP_LIMIT": "10000/minute",
        "NEXORA_LOG_LEVEL": "warning",
    }
    log = data_dir / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "nexora", "up", "--port", str(port), "--data-dir", str(data_dir)],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    try:
        try:
            wait_until_healthy(console.base_url, process, timeout=START_TIMEOUT_SECONDS)
        except AssertionError as error:
            server_log = redact(log.read_text(errors="replace")[-4000:], console.password)
            raise AssertionError(f"{error}:\n{server_log}") from None
        yield console
    finally:
        _stop(process)
        provision.drop(postgres_superuser_url, name)
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def demo_data(console: Console) -> dict[str, object]:
    """``nexora demo load`` run by the real CLI against the console (an API key it revokes afterwards)."""
    with console.sign_in() as api:
        created = api.post("/api/v1/api-keys", json={"name": "e2e-demo-loader", "scopes": ["admin"]})
        assert created.status_code == 201, created.text
        key = created.json()
        try:
            inherited = {k: v for k, v in os.environ.items() if not k.startswith("NEXORA_")}
            completed = subprocess.run(
                [sys.executable, "-m", "nexora", "demo", "load", "--format", "json"],
                env={**inherited, "NEXORA_URL": console.base_url, "NEXORA_API_KEY": key["key"]},
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
                cwd=ROOT,
            )
        finally:
            api.delete(f"/api/v1/api-keys/{key['id']}")
        output = redact(completed.stdout + completed.stderr, key["key"], console.password)
        assert completed.returncode == 0, f"nexora demo load failed:\n{output[-4000:]}"
        overview = api.get("/api/v1/overview").json()
    assert overview["total"] > 100, overview
    return overview


def redact(text: str, *known: str) -> str:
    """``text`` with API keys, refresh tokens, JWTs and the ``known`` secrets blanked out."""
    for secret in known:
        text = text.replace(secret, "[redacted]")
    return SECRET_SHAPES.sub("[redacted]", text)


@dataclass
class ScenarioResult:
    name: str
    passed: bool = False
    error: str = "the scenario did not report an outcome"
    facts: dict[str, object] = field(default_factory=dict)
    screenshots: list[Path] = field(default_factory=list)


_LINE = re.compile(r"^(fact|screenshot|passed|failed) ([a-z_]+)(?:: (.*))?$")


def parse_scenarios(output: str, names: list[str]) -> dict[str, ScenarioResult]:
    """Per-scenario outcome, facts and screenshots from ``web/e2e/run.mjs`` output."""
    results = {name: ScenarioResult(name) for name in names}
    for line in output.splitlines():
        match = _LINE.match(line)
        if match is None or match.group(2) not in results:
            continue
        kind, result, value = match.group(1), results[match.group(2)], match.group(3) or ""
        if kind == "fact":
            result.facts.update(json.loads(value))
        elif kind == "screenshot":
            result.screenshots.append(Path(value))
        elif kind == "passed":
            result.passed, result.error = True, ""
        else:
            result.error = json.loads(value)
    return results


@pytest.fixture(scope="session")
def scenarios(
    request: pytest.FixtureRequest, console: Console, browser_tools: Path, demo_data: dict[str, object]
) -> dict[str, ScenarioResult]:
    """Run, in one Chromium, the scenarios named by ``@pytest.mark.scenario`` on the selected tests, over the
    demo environment."""
    names = sorted({m.args[0] for item in request.session.items for m in item.iter_markers("scenario")})
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("NEXORA_")}
    environment = {
        **inherited,
        "NEXORA_E2E_BASE_URL": console.base_url,
        "NEXORA_E2E_EMAIL": console.email,
        "NEXORA_E2E_PASSWORD": console.password,
        "NEXORA_E2E_SCREENSHOTS": str(SCREENSHOTS),
        "NEXORA_E2E_CHROMIUM": str(CHROMIUM),
    }
    completed = subprocess.run(
        [str(browser_tools), str(WEB / "e2e" / "run.mjs"), *names],
        env=environment,
        cwd=WEB,
        capture_output=True,
        text=True,
        timeout=SCENARIO_TIMEOUT_SECONDS * max(1, len(names)),
        check=False,
    )
    output = redact(completed.stdout + completed.stderr, console.password)
    results = parse_scenarios(output, names)
    for result in results.values():
        result.error = redact(result.error, console.password)
        if not result.passed and result.error.startswith("the scenario did not"):
            result.error += f"; runner output:\n{output[-4000:]}"
    return results


def outcome(scenarios: dict[str, ScenarioResult], name: str) -> ScenarioResult:
    """The result of scenario ``name``, failing the test with its (redacted) error if it failed."""
    result = scenarios[name]
    assert result.passed, f"browser scenario {name} failed:\n{result.error}"
    for shot in result.screenshots:
        assert shot.stat().st_size > 1000, f"empty screenshot {shot}"
    return result
