"""The first-run path: `nexora up` with no database URL starts an embedded PostgreSQL, bootstraps an
admin, serves the API, and stops everything cleanly."""

import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import psutil
import pytest

from tests.fixtures.live import free_port, wait_until_healthy

pytestmark = pytest.mark.e2e


def _postmaster_pid(pgdata: Path) -> int | None:
    pid_file = pgdata / "postmaster.pid"
    return int(pid_file.read_text().splitlines()[0]) if pid_file.exists() else None


def test_nexora_up_runs_on_embedded_postgres_and_stops_cleanly(tmp_path_factory) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="nexora-up-"))
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(data_dir),
        "XDG_CONFIG_HOME": str(data_dir / "config"),
        "NEXORA_BOOTSTRAP_ADMIN_EMAIL": "first@nexora.example",
        "NEXORA_BOOTSTRAP_ADMIN_PASSWORD": "first-admin-password",
        "NEXORA_LOG_FORMAT": "json",
    }
    log_path = data_dir / "up.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "nexora", "up", "--data-dir", str(data_dir / "data"), "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process, timeout=120)
        assert httpx.get(f"{url}/readyz").json()["status"] == "ready"
        login = httpx.post(
            f"{url}/api/v1/auth/login", json={"email": "first@nexora.example", "password": "first-admin-password"}
        )
        assert login.status_code == 200, login.text
        me = httpx.get(f"{url}/api/v1/auth/me", headers={"Authorization": f"Bearer {login.json()['access_token']}"})
        assert me.json()["is_platform_admin"] is True
        postmaster = _postmaster_pid(data_dir / "data" / "postgres")
        assert postmaster is not None
        assert psutil.pid_exists(postmaster)
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(60)
    output = log_path.read_text()
    assert code == 0, output
    assert f"Nexora is running at {url}" in output
    assert "first-admin-password" not in output
    assert postmaster is not None
    assert not psutil.pid_exists(postmaster) or psutil.Process(postmaster).status() == psutil.STATUS_ZOMBIE
