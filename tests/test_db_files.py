"""The database holds phone numbers and hashed secrets: only the bot's user may read it."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.db import Database


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    # The usual default; with it the files came out world-readable.
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.usefixtures("permissive_umask")
async def test_database_folder_and_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "bot" / "bot.sqlite3"
    db = await Database.open(path)
    try:
        await db.transaction(lambda c: c.execute("CREATE TABLE t (x INTEGER)"))
        files = [path, path.with_name("bot.sqlite3-wal"), path.with_name("bot.sqlite3-shm")]
        assert {f.name: mode(f) for f in files} == {f.name: 0o600 for f in files}
    finally:
        await db.close()
    assert mode(tmp_path / "data") == 0o700
    assert mode(tmp_path / "data" / "bot") == 0o700


@pytest.mark.usefixtures("permissive_umask")
async def test_an_existing_database_is_made_private_too(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    first = await Database.open(path)  # say, made by an older version of the bot
    await first.close()
    path.chmod(0o644)
    db = await Database.open(path)
    await db.close()
    assert mode(path) == 0o600
