"""The master key file: created private, refused when others can read it, own it, or copy it with the database."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from nexora.core.crypto import load_or_create_master_key
from nexora.core.errors import ConfigurationError


def test_a_new_key_file_is_readable_by_its_owner_only_and_read_back_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "master.key"

    created = load_or_create_master_key(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(created) == 32
    assert load_or_create_master_key(path) == created


def test_a_key_file_others_can_read_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    load_or_create_master_key(path)
    path.chmod(0o640)

    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_or_create_master_key(path)


def test_a_key_file_inside_the_database_directory_is_refused(tmp_path: Path) -> None:
    database_dir = tmp_path / "postgres"
    database_dir.mkdir()

    with pytest.raises(ConfigurationError, match="inside the database directory"):
        load_or_create_master_key(database_dir / "master.key", database_dir=database_dir)
    assert not (database_dir / "master.key").exists()


def test_a_key_file_reached_through_a_link_into_the_database_directory_is_refused(tmp_path: Path) -> None:
    database_dir = tmp_path / "postgres"
    database_dir.mkdir()
    (tmp_path / "keys").symlink_to(database_dir)

    with pytest.raises(ConfigurationError, match="inside the database directory"):
        load_or_create_master_key(tmp_path / "keys" / "master.key", database_dir=database_dir)


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_a_key_file_owned_by_another_user_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    load_or_create_master_key(path)
    os.chown(path, 65534, 65534)

    with pytest.raises(ConfigurationError, match="belongs to another user"):
        load_or_create_master_key(path)
