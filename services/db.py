"""SQLite access: one aiosqlite connection, WAL, numbered migrations, whole-transaction units.

Writes run as one synchronous function inside the database thread (`Database.transaction`), so
a money movement is one round trip from the event loop and can never interleave with another.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from functools import partial
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


def _write_batch(
    conn: sqlite3.Connection, *, units: list[Callable[[sqlite3.Connection], Any]]
) -> list[tuple[bool, Any]]:
    """Runs in the database thread: the units in order, one savepoint each, one COMMIT."""
    if len(units) == 1:
        return [_write_alone(conn, units[0])]
    conn.execute("BEGIN IMMEDIATE")
    outcomes: list[tuple[bool, Any]] = []
    try:
        for unit in units:
            conn.execute("SAVEPOINT unit")
            try:
                outcomes.append((True, unit(conn)))
            except Exception as error:
                conn.execute("ROLLBACK TO unit")
                outcomes.append((False, error))
            conn.execute("RELEASE unit")
        conn.execute("COMMIT")
    except BaseException:
        # The batch itself failed (say, the disk is full): undo all of it and write the
        # units one transaction each, so every caller gets its own answer.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        return [_write_alone(conn, unit) for unit in units]
    return outcomes


def _write_alone(
    conn: sqlite3.Connection, unit: Callable[[sqlite3.Connection], Any]
) -> tuple[bool, Any]:
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = unit(conn)
    except Exception as error:
        conn.execute("ROLLBACK")
        return (False, error)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except Exception as error:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        return (False, error)
    return (True, result)


PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def _create_private(path: Path) -> None:
    """Folders and the database file readable by the bot's user only, whatever the umask:
    the database holds phone numbers and hashed secrets. A folder that exists is left as it is
    (it may be shared, like /tmp); the database file itself is made private even if it exists."""
    missing = [p for p in [path.parent, *path.parent.parents] if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=PRIVATE_DIR, exist_ok=True)
        os.chmod(folder, PRIVATE_DIR)  # mkdir's mode is cut by the umask, never widened
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE))
    os.chmod(path, PRIVATE_FILE)


def _private_sidecars(path: Path) -> None:
    """The WAL and shared-memory files hold the same data; SQLite made them just now."""
    for suffix in ("-wal", "-shm"):
        sidecar = path.with_name(path.name + suffix)
        if sidecar.exists():
            os.chmod(sidecar, PRIVATE_FILE)


class Database:
    """The bot's single SQLite connection."""

    def __init__(self, conn: aiosqlite.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self._queued: list[tuple[Callable[[sqlite3.Connection], Any], asyncio.Future[Any]]] = []
        self._writer: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, path: Path | str, *, migrate_to: int | None = None) -> Database:
        """Open (creating folders), set pragmas and bring the schema up to date."""
        path = Path(path)
        on_disk = str(path) != ":memory:"
        if on_disk:
            await asyncio.to_thread(_create_private, path)
        conn = await aiosqlite.connect(str(path), isolation_level=None)
        try:
            conn.row_factory = sqlite3.Row
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA synchronous=NORMAL")
            await conn.execute("PRAGMA foreign_keys=ON")
            await conn.execute("PRAGMA busy_timeout=5000")
            db = cls(conn, path)
            if on_disk:
                await db.run(lambda _: _private_sidecars(path))
            await db.run(lambda c: _apply_migrations(c, migrate_to))
        except BaseException:
            await conn.close()
            raise
        return db

    async def close(self) -> None:
        if self._writer is not None and not self._writer.done():
            await self._writer  # the units already handed in are written first
        await self._conn.close()

    async def run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(connection)` in the database thread, outside any transaction."""
        # aiosqlite executes every call in its own worker thread; `_execute` is the hook it
        # uses for its own methods and lets us send one whole unit of work at a time.
        raw: sqlite3.Connection = self._conn._conn
        result: T = await self._conn._execute(fn, raw)  # type: ignore[no-untyped-call]
        return result

    async def transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(connection)` as one transaction: all of it or nothing.

        Group commit: units that arrive while the database thread is busy are written together
        under one `BEGIN IMMEDIATE … COMMIT`, each inside its own savepoint, so one that fails
        is undone alone and the others are unaffected. A caller hears back only after the COMMIT
        that carries its unit. The result is the same as running the units one after another.
        """
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queued.append((fn, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_queued())
        result: T = await future
        return result

    async def _write_queued(self) -> None:
        while self._queued:
            batch, self._queued = self._queued, []
            try:
                units = [fn for fn, _ in batch]
                outcomes = await self.run(partial(_write_batch, units=units))
            except Exception as error:  # the connection is closed: nobody's unit was written
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                continue
            except BaseException:  # this task was cancelled (shutdown): so are its callers
                for _, future in batch + self._queued:
                    future.cancel()
                self._queued = []
                raise
            for (_, future), (ok, value) in zip(batch, outcomes, strict=True):
                if future.done():  # the caller was cancelled; its unit is written all the same
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return await self.run(lambda c: c.execute(sql, params).fetchall())

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = await self.run(lambda c: c.execute(sql, params).fetchone())
        return row

    async def schema_version(self) -> int:
        row = await self.fetchone("SELECT COALESCE(MAX(version), 0) FROM schema_version")
        assert row is not None
        return int(row[0])
