import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.app import SignedIn
from tests.fixtures.live import LiveApi, process_env


def nexora(*args: str, env: dict[str, str], input: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nexora", *args], env=env, input=input, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def cli_env(settings) -> dict[str, str]:
    return process_env(settings)


COMMANDS = [
    [],
    ["up"],
    ["api"],
    ["worker"],
    ["login"],
    ["logout"],
    ["whoami"],
    ["version"],
    ["db"],
    ["db", "upgrade"],
    ["db", "status"],
    ["db", "provision"],
    ["bus"],
    ["bus", "topics"],
    ["bus", "lag"],
    ["bus", "dlq"],
    ["bus", "dlq", "list"],
    ["bus", "dlq", "replay"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "nexora")
def test_every_command_has_help(command: list[str]) -> None:
    from typer.testing import CliRunner

    from nexora.cli.main import app

    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_version_prints_the_package_version(cli_env: dict[str, str]) -> None:
    from nexora import __version__

    assert nexora("version", env=cli_env).stdout.strip() == __version__


def test_login_stores_a_private_session_and_whoami_uses_it(
    live_api: LiveApi, tenant_admin: SignedIn, cli_env: dict[str, str]
) -> None:
    result = nexora(
        "login",
        "--url",
        live_api.url,
        "--email",
        tenant_admin.email,
        env={**cli_env, "NEXORA_PASSWORD": tenant_admin.password},
    )
    assert result.returncode == 0, result.stderr
    stored = Path(cli_env["XDG_CONFIG_HOME"]) / "nexora" / "credentials.json"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert tenant_admin.password not in stored.read_text()
    assert tenant_admin.password not in result.stdout + result.stderr

    whoami = nexora("whoami", "--url", live_api.url, "--format", "json", env=cli_env)
    assert whoami.returncode == 0, whoami.stderr
    assert json.loads(whoami.stdout)["email"] == tenant_admin.email

    assert nexora("logout", env=cli_env).returncode == 0
    assert not stored.exists()
    after = nexora("whoami", "--url", live_api.url, env=cli_env)
    assert after.returncode == 2
    assert "not signed in" in after.stderr


def test_whoami_accepts_an_api_key_from_the_environment(
    live_api: LiveApi, tenant_admin: SignedIn, cli_env: dict[str, str]
) -> None:
    import httpx

    key = httpx.post(
        f"{live_api.url}/api/v1/api-keys", headers=tenant_admin.headers, json={"name": "cli", "scopes": ["read"]}
    ).json()["key"]
    result = nexora("whoami", "--format", "json", env={**cli_env, "NEXORA_URL": live_api.url, "NEXORA_API_KEY": key})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["auth_method"] == "api_key"


def test_wrong_password_is_a_one_line_error(live_api: LiveApi, tenant_admin: SignedIn, cli_env: dict[str, str]) -> None:
    result = nexora(
        "login", "--url", live_api.url, "--email", tenant_admin.email, env={**cli_env, "NEXORA_PASSWORD": "nope-nope"}
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["error: the e-mail or password is wrong (HTTP 401)"]


def test_unreachable_server_is_a_clear_error(cli_env: dict[str, str]) -> None:
    result = nexora(
        "login", "--url", "http://127.0.0.1:9", "--email", "a@b.example", env={**cli_env, "NEXORA_PASSWORD": "x"}
    )
    assert result.returncode == 2
    assert "cannot reach Nexora at http://127.0.0.1:9" in result.stderr


def test_db_status_reports_the_schema_at_head(cli_env: dict[str, str]) -> None:
    result = nexora("db", "status", "--format", "json", env=cli_env)
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["up_to_date"] is True
    assert status["current"] == status["head"]
    assert "@" in status["database"]
    assert os.environ.get("PGPASSWORD", "\0") not in result.stdout


def test_db_upgrade_is_idempotent_as_the_owner(settings, cli_env: dict[str, str]) -> None:
    owner = settings.database.owner_url.get_secret_value()
    result = nexora("db", "upgrade", env={**cli_env, "NEXORA_DATABASE_OWNER_URL": owner})
    assert result.returncode == 0, result.stderr
    assert "database at revision" in result.stdout


async def test_bus_commands_show_topics_lag_and_replay_dead_letters(
    runtime, bus_table, cli_env: dict[str, str]
) -> None:
    from nexora.core.bus import Subscription
    from nexora.core.bus.postgres import GroupConsumer
    from nexora.core.config import BusSettings
    from tests.fixtures.bus import drain, publish_batch, recorder

    group = "cli-dlq-group"
    broken = {"on": True}
    ids = await publish_batch(runtime.db, "cli-dlq", 1)
    consumer = GroupConsumer(
        runtime.db,
        Subscription(group, ("auth.events",), recorder(group, lambda e: broken["on"] and e.id in ids)),
        BusSettings(max_attempts=1, retry_backoff_ms=0),
    )

    async def caught_up() -> bool:
        return not await consumer.process_batch()

    await drain(runtime.db, consumer, caught_up)

    topics = nexora("bus", "topics", "--format", "json", env=cli_env)
    assert topics.returncode == 0, topics.stderr
    assert any(row["topic"] == "auth.events" and row["events"] > 0 for row in json.loads(topics.stdout))

    lag = nexora("bus", "lag", "--format", "json", env=cli_env)
    assert {"group": group, "lag": 0} in json.loads(lag.stdout)

    listed = nexora("bus", "dlq", "list", "--group", group, "--format", "json", env=cli_env)
    letters = [row for row in json.loads(listed.stdout) if row["event_id"] == str(ids[0])]
    assert len(letters) == 1
    assert letters[0]["error"].startswith("RuntimeError: cannot handle")

    broken["on"] = False
    replayed = nexora("bus", "dlq", "replay", letters[0]["id"], env=cli_env)
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout.strip() == "replayed 1 dead letter(s)"

    # The failed attempt's write was rolled back, so after the replay exactly one delivery is recorded.
    await drain(runtime.db, consumer, lambda: _handled_once(runtime, group, ids))
    missing = nexora("bus", "dlq", "replay", env=cli_env)
    assert missing.returncode == 2
    assert "name dead-letter ids" in missing.stderr


async def _handled_once(runtime, group, ids) -> bool:
    from tests.fixtures.bus import deliveries

    return (await deliveries(runtime.db, group, ids)).get(ids[0]) == 1
