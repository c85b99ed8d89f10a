"""aiogram FSM storage on SQLite: a restart keeps half-finished conversations.

Within an update (`UpdateUnit`, opened by the middleware that marks updates handled) a
person's state and data are read from the database once, together, and written once at the
end, in the same transaction that records the update as handled: one round trip in, one out,
and a crash leaves either both or neither.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseEventIsolation,
    BaseStorage,
    DefaultKeyBuilder,
    KeyBuilder,
    StateType,
    StorageKey,
)

from services.db import Database


@dataclass
class _Row:
    state: str | None
    data: str  # JSON, as stored
    changed: bool = False


@dataclass
class UpdateUnit:
    """The conversation rows one update read and changed, written when it is finished."""

    rows: dict[str, _Row] = field(default_factory=dict)

    def write(self, conn: sqlite3.Connection) -> None:
        for key, row in self.rows.items():
            if row.changed:
                conn.execute(
                    "INSERT INTO fsm (key, state, data) VALUES (?, ?, ?) ON CONFLICT(key)"
                    " DO UPDATE SET state = excluded.state, data = excluded.data",
                    (key, row.state, row.data),
                )


_unit: ContextVar[UpdateUnit | None] = ContextVar("update_unit", default=None)


@contextmanager
def update_unit() -> Iterator[UpdateUnit]:
    """Collect this update's conversation writes; the caller writes them (`UpdateUnit.write`)."""
    unit = UpdateUnit()
    token = _unit.set(unit)
    try:
        yield unit
    finally:
        _unit.reset(token)


class SQLiteStorage(BaseStorage):
    """State and data per key in the `fsm` table; data is JSON only."""

    def __init__(
        self, db: Database, key_builder: KeyBuilder | None = None, *, owns_db: bool = False
    ) -> None:
        self.db = db
        self.owns_db = owns_db
        self.key_builder = key_builder or DefaultKeyBuilder(with_destiny=True)

    async def _row(self, unit: UpdateUnit, db_key: str) -> _Row:
        row = unit.rows.get(db_key)
        if row is None:
            found = await self.db.fetchone("SELECT state, data FROM fsm WHERE key = ?", (db_key,))
            row = _Row(None, "{}") if found is None else _Row(found[0], found[1])
            unit.rows[db_key] = row
        return row

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        db_key = self.key_builder.build(key)
        unit = _unit.get()
        if unit is not None:
            row = await self._row(unit, db_key)
            row.state, row.changed = value, True
            return
        await self.db.transaction(
            lambda c: c.execute(
                "INSERT INTO fsm (key, state) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET state = excluded.state",
                (db_key, value),
            )
        )

    async def get_state(self, key: StorageKey) -> str | None:
        unit = _unit.get()
        if unit is not None:
            return (await self._row(unit, self.key_builder.build(key))).state
        row = await self.db.fetchone(
            "SELECT state FROM fsm WHERE key = ?", (self.key_builder.build(key),)
        )
        return None if row is None else row[0]

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        if not isinstance(data, dict):
            msg = f"Data must be a dict or dict-like object, got {type(data).__name__}"
            raise DataNotDictLikeError(msg)
        payload = json.dumps(data, ensure_ascii=False)
        db_key = self.key_builder.build(key)
        unit = _unit.get()
        if unit is not None:
            row = await self._row(unit, db_key)
            row.data, row.changed = payload, True
            return
        await self.db.transaction(
            lambda c: c.execute(
                "INSERT INTO fsm (key, data) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET data = excluded.data",
                (db_key, payload),
            )
        )

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        unit = _unit.get()
        if unit is not None:
            cached: dict[str, Any] = json.loads(
                (await self._row(unit, self.key_builder.build(key))).data
            )
            return cached
        row = await self.db.fetchone(
            "SELECT data FROM fsm WHERE key = ?", (self.key_builder.build(key),)
        )
        if row is None:
            return {}
        data: dict[str, Any] = json.loads(row[0])
        return data

    async def close(self) -> None:
        """Close the database if this storage owns it; a shared one is closed by the app."""
        if self.owns_db:
            await self.db.close()


def redis_state(url: str) -> tuple[BaseStorage, BaseEventIsolation]:
    """aiogram's own Redis storage and locks: replicas share conversations and take one
    person's updates one at a time between them. Keys are built as for SQLite, so one person's
    state and lock mean the same thing in both.
    """
    # Imported here: a bot without Redis does not pay for loading the client at start.
    from aiogram.fsm.storage.redis import RedisStorage

    storage = RedisStorage.from_url(url, key_builder=DefaultKeyBuilder(with_destiny=True))
    return storage, storage.create_isolation()
