"""Embedded PostgreSQL (the ``pgserver`` wheel's real binaries) for ``nexora up`` with no database URL.

The server lives in ``<data dir>/postgres`` and listens on a Unix socket only. It is provisioned like
a production database: an owner role for migrations and an app role under row-level security.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from nexora.core.observability import get_logger
from nexora.ops.provision import ProvisionedDatabase, provision

log = get_logger("nexora.embedded")
DATABASE_NAME = "nexora"


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.pgdata = data_dir / "postgres"
        self._server: Any = None

    def start(self) -> ProvisionedDatabase:
        """Start (or join) the embedded server and make sure the database and roles exist."""
        self.pgdata.mkdir(parents=True, exist_ok=True)
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            log.warning(
                "running as root: pgserver runs PostgreSQL as the system user 'pgserver' and opens "
                "the parent folders of the data dir to it",
                data_dir=str(self.pgdata),
            )
            # pgserver creates that user with `useradd`, which lives in sbin; a minimal PATH lacks it.
            path = os.environ.get("PATH", "").split(os.pathsep)
            os.environ["PATH"] = os.pathsep.join(path + [d for d in ("/usr/sbin", "/sbin") if d not in path])
        with warnings.catch_warnings():
            # pgserver asks platformdirs for a runtime dir at import; without XDG_RUNTIME_DIR (root
            # shells, containers) platformdirs warns and falls back to /tmp, fine for its lock files.
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
            from pgserver import get_server  # type: ignore[attr-defined]

            self._server = get_server(self.pgdata, cleanup_mode="stop")
        superuser_url = self._server.get_uri()
        log.info("embedded postgresql ready", data_dir=str(self.pgdata))
        return provision(superuser_url, DATABASE_NAME)

    def stop(self) -> None:
        """Stop the server unless another process still uses it."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None
