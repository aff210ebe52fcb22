"""Links never lead the scanner out of what it was asked to scan: in archives, and in folders on disk.

Archives are read in memory and only their regular members are scanned: a symbolic or hard link
member (``../../secret.env``, an absolute path) is neither followed nor read as text. On disk, a
symlinked file inside the scanned folder is read only if it resolves inside that folder.
"""

from __future__ import annotations

import io
import random
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from nexora.scanner.runner import ScanOptions, ScanRun
from nexora.scanner.sources.files import OUTSIDE_LINK
from tests.scanner.fixtures.files import write
from tests.scanner.fixtures.samples import github_token

RNG = random.Random(29)


def _run(path: Path) -> tuple[list[tuple[str, str]], ScanRun]:
    run = ScanRun(ScanOptions(paths=[str(path)], jobs=1))
    found = sorted((finding.path, finding.secret) for finding in run.findings())
    return found, run


@pytest.fixture
def outside(tmp_path: Path) -> tuple[Path, str]:
    """A file outside the scanned folder holding a token: what a link would expose if it were followed."""
    token = github_token(RNG)
    return write(tmp_path / "secret.env", f"GITHUB_TOKEN={token}\n"), token


def _zip_with_links(inside_token: str, targets: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app/settings.py", f'TOKEN = "{inside_token}"\n')
        for number, target in enumerate(targets):
            link = zipfile.ZipInfo(f"app/link-{number}")
            link.create_system = 3  # Unix: the mode in the high bits is honoured
            link.external_attr = (stat.S_IFLNK | 0o777) << 16
            archive.writestr(link, target)
    return buffer.getvalue()


def _tar_with_links(inside_token: str, targets: list[tuple[bytes, str]]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        content = f'TOKEN = "{inside_token}"\n'.encode()
        member = tarfile.TarInfo("app/settings.py")
        member.size = len(content)
        archive.addfile(member, io.BytesIO(content))
        for number, (kind, target) in enumerate(targets):
            link = tarfile.TarInfo(f"app/link-{number}")
            link.type, link.linkname = kind, target
            archive.addfile(link)
    return buffer.getvalue()


def test_links_in_a_zip_are_neither_followed_nor_read(tmp_path: Path, outside: tuple[Path, str]) -> None:
    secret_file, secret = outside
    inside_token, named_token = github_token(RNG), github_token(RNG)
    # The last link's target names a token: reading a link member as text would report it.
    targets = ["../../secret.env", str(secret_file), "/etc/passwd", f"../../{named_token}.env"]
    write(tmp_path / "scanned" / "bundle.zip", _zip_with_links(inside_token, targets))

    found, run = _run(tmp_path / "scanned")

    assert found == [("bundle.zip!app/settings.py", inside_token)]
    assert secret not in {value for _, value in found}
    assert run.stats.issues == []


def test_symbolic_and_hard_links_in_a_tar_are_neither_followed_nor_read(
    tmp_path: Path, outside: tuple[Path, str]
) -> None:
    secret_file, secret = outside
    inside_token = github_token(RNG)
    targets = [
        (tarfile.SYMTYPE, "../../secret.env"),
        (tarfile.SYMTYPE, str(secret_file)),
        (tarfile.SYMTYPE, "/etc/passwd"),
        (tarfile.LNKTYPE, str(secret_file)),
        (tarfile.LNKTYPE, "/etc/passwd"),
    ]
    write(tmp_path / "scanned" / "release.tar.gz", _tar_with_links(inside_token, targets))

    found, _ = _run(tmp_path / "scanned")

    assert found == [("release.tar.gz!app/settings.py", inside_token)]
    assert secret not in {value for _, value in found}


def test_a_symlinked_file_leading_out_of_the_folder_is_an_issue_not_a_finding(
    tmp_path: Path, outside: tuple[Path, str]
) -> None:
    secret_file, secret = outside
    inside_token = github_token(RNG)
    scanned = tmp_path / "scanned"
    write(scanned / "config" / "app.env", f"GITHUB_TOKEN={inside_token}\n")
    (scanned / "stolen.env").symlink_to(secret_file)
    (scanned / "passwd").symlink_to("/etc/passwd")
    (scanned / "etc").symlink_to("/etc")
    (scanned / "escape.env").symlink_to(Path("..") / "secret.env")
    (scanned / "alias.env").symlink_to(scanned / "config" / "app.env")

    found, run = _run(scanned)

    assert found == [("alias.env", inside_token), ("config/app.env", inside_token)]
    assert secret not in {value for _, value in found}
    assert sorted(issue.path for issue in run.stats.issues if issue.reason == OUTSIDE_LINK) == [
        "escape.env",
        "etc",
        "passwd",
        "stolen.env",
    ]
