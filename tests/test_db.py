"""Migrations: a fresh database, a re-run, an older database upgraded, a newer one refused."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from services.db import Database, SchemaTooNew, _migrations, latest_schema_version


async def test_fresh_database_gets_every_migration(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "fresh.sqlite3")
    try:
        assert await db.schema_version() == latest_schema_version()
        tables = {
            r[0] for r in await db.fetchall("SELECT name FROM sqlite_master WHERE type='table'")
        }
        assert {"accounts", "transfers", "entries", "fsm", "schema_version"} <= tables
        mode = await db.fetchone("PRAGMA journal_mode")
        assert mode is not None and mode[0] == "wal"
        fk = await db.fetchone("PRAGMA foreign_keys")
        assert fk is not None and fk[0] == 1
    finally:
        await db.close()


async def test_reopening_applies_nothing_twice(tmp_path: Path) -> None:
    path = tmp_path / "again.sqlite3"
    for _ in range(2):
        db = await Database.open(path)
        rows = await db.fetchall("SELECT version FROM schema_version ORDER BY version")
        await db.close()
    assert [r[0] for r in rows] == [version for version, _, _ in _migrations()]


async def test_older_database_is_upgraded_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    old = await Database.open(path, migrate_to=1)
    assert await old.schema_version() == 1
    await old.transaction(
        lambda c: c.execute(
            "INSERT INTO accounts (id, kind, allow_negative, created_at)"
            " VALUES ('x:1', 'external', 1, 0)"
        )
    )
    await old.close()
    db = await Database.open(path)
    try:
        assert await db.schema_version() == latest_schema_version()
        row = await db.fetchone("SELECT kind FROM accounts WHERE id = 'x:1'")
        assert row is not None and row[0] == "external"
    finally:
        await db.close()


async def test_newer_schema_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    db = await Database.open(path)
    await db.close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_version (version, name) VALUES (9999, '9999_future.sql')")
    with pytest.raises(SchemaTooNew, match="newer than this bot supports"):
        await Database.open(path)


async def test_failed_transaction_leaves_nothing_behind(db: Database) -> None:
    def half_done(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO accounts (id, kind, created_at) VALUES ('wallet:1', 'wallet', 0)")
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        await db.transaction(half_done)
    assert await db.fetchone("SELECT id FROM accounts WHERE id = 'wallet:1'") is None


def _open_account(account: str) -> Callable[[sqlite3.Connection], str]:
    def unit(conn: sqlite3.Connection) -> str:
        conn.execute(
            "INSERT INTO accounts (id, kind, created_at) VALUES (?, 'wallet', 0)", (account,)
        )
        return account

    return unit


async def test_units_written_together_fail_alone(db: Database) -> None:
    """Group commit: a failing unit among concurrent ones is undone alone; the others are kept."""

    def fails(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO accounts (id, kind, created_at) VALUES ('wallet:bad', 'w', 0)")
        raise RuntimeError("refused")

    results = await asyncio.gather(
        db.transaction(_open_account("wallet:1")),
        db.transaction(fails),
        db.transaction(_open_account("wallet:2")),
        db.transaction(_open_account("wallet:1")),  # the same key again: a constraint error
        return_exceptions=True,
    )
    assert results[0] == "wallet:1" and results[2] == "wallet:2"
    assert isinstance(results[1], RuntimeError)
    assert isinstance(results[3], sqlite3.IntegrityError)
    rows = await db.fetchall("SELECT id FROM accounts WHERE id LIKE 'wallet:%' ORDER BY id")
    assert [r[0] for r in rows] == ["wallet:1", "wallet:2"]


async def test_a_unit_that_breaks_the_batch_does_not_take_the_others_down(db: Database) -> None:
    def ends_the_transaction(conn: sqlite3.Connection) -> None:
        conn.execute("ROLLBACK")

    results = await asyncio.gather(
        db.transaction(_open_account("wallet:1")),
        db.transaction(ends_the_transaction),
        db.transaction(_open_account("wallet:2")),
        return_exceptions=True,
    )
    assert results[0] == "wallet:1" and results[2] == "wallet:2"
    assert isinstance(results[1], sqlite3.OperationalError)
    rows = await db.fetchall("SELECT id FROM accounts WHERE id LIKE 'wallet:%' ORDER BY id")
    assert [r[0] for r in rows] == ["wallet:1", "wallet:2"]


async def test_close_writes_what_was_handed_in(tmp_path: Path) -> None:
    path = tmp_path / "close.sqlite3"
    db = await Database.open(path)
    # The 50 writes are handed in first (gather starts them in order), then close() is asked.
    *written, _ = await asyncio.gather(
        *(db.transaction(_open_account(f"wallet:{n}")) for n in range(50)), db.close()
    )
    assert written == [f"wallet:{n}" for n in range(50)]
    with sqlite3.connect(path) as conn:
        count = conn.execute("SELECT COUNT(*) FROM accounts WHERE id LIKE 'wallet:%'").fetchone()
    assert count[0] == 50
