"""aiogram FSM storage on SQLite: a restart keeps half-finished conversations."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State
from aiogram.fsm.storage.base import (
    BaseStorage,
    DefaultKeyBuilder,
    KeyBuilder,
    StateType,
    StorageKey,
)

from services.db import Database


class SQLiteStorage(BaseStorage):
    """State and data per key in the `fsm` table; data is JSON only.

    Reads are served from memory once a key was seen (this process is the only writer), writes
    go to SQLite first: a restart loses nothing, and most updates save their round trips.
    """

    def __init__(
        self, db: Database, key_builder: KeyBuilder | None = None, *, owns_db: bool = False
    ) -> None:
        self.db = db
        self.owns_db = owns_db
        self.key_builder = key_builder or DefaultKeyBuilder(with_destiny=True)
        self._cache: dict[str, tuple[str | None, str]] = {}

    async def _load(self, db_key: str) -> tuple[str | None, str]:
        cached = self._cache.get(db_key)
        if cached is None:
            row = await self.db.fetchone("SELECT state, data FROM fsm WHERE key = ?", (db_key,))
            cached = (None, "{}") if row is None else (row[0], row[1])
            self._cache[db_key] = cached
        return cached

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        value = state.state if isinstance(state, State) else state
        db_key = self.key_builder.build(key)
        _, data = await self._load(db_key)
        await self.db.transaction(
            lambda c: c.execute(
                "INSERT INTO fsm (key, state) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET state = excluded.state",
                (db_key, value),
            )
        )
        self._cache[db_key] = (value, data)

    async def get_state(self, key: StorageKey) -> str | None:
        state, _ = await self._load(self.key_builder.build(key))
        return state

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        if not isinstance(data, dict):
            msg = f"Data must be a dict or dict-like object, got {type(data).__name__}"
            raise DataNotDictLikeError(msg)
        payload = json.dumps(data, ensure_ascii=False)
        db_key = self.key_builder.build(key)
        state, _ = await self._load(db_key)
        await self.db.transaction(
            lambda c: c.execute(
                "INSERT INTO fsm (key, data) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET data = excluded.data",
                (db_key, payload),
            )
        )
        self._cache[db_key] = (state, payload)

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        _, payload = await self._load(self.key_builder.build(key))
        data: dict[str, Any] = json.loads(payload)
        return data

    async def close(self) -> None:
        """Close the database if this storage owns it; a shared one is closed by the app."""
        if self.owns_db:
            await self.db.close()
