"""SQLite access: one aiosqlite connection, WAL, numbered migrations, whole-transaction units.

Writes run as one synchronous function inside the database thread (`Database.transaction`), so
a money movement is one round trip from the event loop and can never interleave with another.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

T = TypeVar("T")

MIGRATIONS_PACKAGE = "services.migrations"


class SchemaTooNew(Exception):
    """The database was written by a newer version of the bot."""


def _migrations() -> list[tuple[int, str, str]]:
    found = []
    for entry in resources.files(MIGRATIONS_PACKAGE).iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def latest_schema_version() -> int:
    return max(version for version, _, _ in _migrations())


def _apply_migrations(conn: sqlite3.Connection, target: int | None) -> list[int]:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ','now')))"
    )
    current = conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0]
    known = latest_schema_version()
    if current > known:
        raise SchemaTooNew(
            f"database schema version {current} is newer than this bot supports ({known}); "
            "update the bot or use another DATABASE_PATH"
        )
    applied = []
    for version, name, sql in _migrations():
        if version <= current or (target is not None and version > target):
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _split_sql(sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_version (version, name) VALUES (?, ?)", (version, name)
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        applied.append(version)
    return applied


def _split_sql(script: str) -> Iterable[str]:
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                yield buffer
            buffer = ""
    if buffer.strip():
        yield buffer


class Database:
    """The bot's single SQLite connection."""

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path

    @classmethod
    async def open(cls, path: Path | str, *, migrate_to: int | None = None) -> Database:
        """Open (creating folders), set pragmas and bring the schema up to date."""
        path = Path(path)
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(str(path), isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA synchronous=NORMAL")
            await conn.execute("PRAGMA foreign_keys=ON")
            await conn.execute("PRAGMA busy_timeout=5000")
            db = cls(conn, path)
            await db.run(lambda c: _apply_migrations(c, migrate_to))
        except BaseException:
            await conn.close()
            raise
        return db

    async def close(self) -> None:
        await self._conn.close()

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(connection)` in the database thread, outside any transaction."""
        # aiosqlite executes every call in its own worker thread; `_execute` is the hook it
        # uses for its own methods and lets us send one whole unit of work at a time.
        raw: sqlite3.Connection = self._conn._conn
        result: T = await self._conn._execute(fn, raw)  # type: ignore[no-untyped-call]
        return result

    async def transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(connection)` as one `BEGIN IMMEDIATE` transaction: all of it or nothing."""

        def unit(conn: sqlite3.Connection) -> T:
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

        return await self.run(unit)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return await self.run(lambda c: c.execute(sql, params).fetchall())

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = await self.run(lambda c: c.execute(sql, params).fetchone())
        return row

    async def schema_version(self) -> int:
        row = await self.fetchone("SELECT COALESCE(MAX(version), 0) FROM schema_version")
        assert row is not None
        return int(row[0])
