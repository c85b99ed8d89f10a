"""aiogram FSM storage on SQLite: a restart keeps half-finished conversations."""

from __future__ import annotations

import json
from collections.abc import Mapping
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


class SQLiteStorage(BaseStorage):
    """State and data per key in the `fsm` table; data is JSON only."""

    def __init__(
        self, db: Database, key_builder: KeyBuilder | None = None, *, owns_db: bool = False
    ) -> None:
        self.db = db
        self.owns_db = owns_db
        self.key_builder = key_builder or DefaultKeyBuilder(with_destiny=True)

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        db_key = self.key_builder.build(key)
        await self.db.transaction(
            lambda c: c.execute(
                "INSERT INTO fsm (key, state) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET state = excluded.state",
                (db_key, value),
            )
        )

    async def get_state(self, key: StorageKey) -> str | None:
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
        await self.db.transaction(
            lambda c: c.execute(
                "INSERT INTO fsm (key, data) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET data = excluded.data",
                (db_key, payload),
            )
        )

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
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
