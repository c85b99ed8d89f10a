"""FSM storage contract on SQLite, and a conversation that survives a restart."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiogram.exceptions import DataNotDictLikeError
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import StorageKey

from bot.storage import SQLiteStorage
from services.db import Database


class Form(StatesGroup):
    phone = State()
    code = State()


KEY = StorageKey(bot_id=1, chat_id=10, user_id=10)
OTHER = StorageKey(bot_id=1, chat_id=11, user_id=11)


@pytest.fixture
def storage(db: Database) -> SQLiteStorage:
    return SQLiteStorage(db)


async def test_state_set_get_and_clear(storage: SQLiteStorage) -> None:
    assert await storage.get_state(KEY) is None
    await storage.set_state(KEY, Form.phone)
    assert await storage.get_state(KEY) == "Form:phone"
    await storage.set_state(KEY, "Form:code")
    assert await storage.get_state(KEY) == "Form:code"
    await storage.set_state(KEY, None)
    assert await storage.get_state(KEY) is None
    assert await storage.get_state(OTHER) is None


async def test_data_set_get_update_and_copy(storage: SQLiteStorage) -> None:
    assert await storage.get_data(KEY) == {}
    await storage.set_data(KEY, {"phone": "+79123456789", "tries": 1})
    data = await storage.get_data(KEY)
    data["tries"] = 99
    assert await storage.get_data(KEY) == {"phone": "+79123456789", "tries": 1}
    assert await storage.update_data(KEY, {"tries": 2}) == {"phone": "+79123456789", "tries": 2}
    assert await storage.get_value(KEY, "tries") == 2
    assert await storage.get_value(KEY, "missing", "default") == "default"
    await storage.set_data(KEY, {})
    assert await storage.get_data(KEY) == {}


async def test_state_and_data_are_independent(storage: SQLiteStorage) -> None:
    await storage.set_data(KEY, {"a": 1})
    await storage.set_state(KEY, Form.code)
    await storage.set_state(KEY, None)
    assert await storage.get_data(KEY) == {"a": 1}
    await storage.set_state(KEY, Form.phone)
    await storage.set_data(KEY, {})
    assert await storage.get_state(KEY) == "Form:phone"


async def test_destiny_keeps_separate_conversations(storage: SQLiteStorage) -> None:
    side = StorageKey(bot_id=1, chat_id=10, user_id=10, destiny="sms")
    await storage.set_state(KEY, Form.phone)
    await storage.set_data(side, {"x": 1})
    assert await storage.get_state(side) is None
    assert await storage.get_data(KEY) == {}


async def test_non_dict_data_is_refused(storage: SQLiteStorage) -> None:
    with pytest.raises(DataNotDictLikeError):
        await storage.set_data(KEY, [("a", 1)])  # type: ignore[arg-type]


async def test_values_that_json_cannot_keep_are_refused(storage: SQLiteStorage) -> None:
    with pytest.raises(TypeError):
        await storage.set_data(KEY, {"when": object()})


async def test_conversation_survives_close_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "fsm.sqlite3"
    first = SQLiteStorage(await Database.open(path), owns_db=True)
    await first.set_state(KEY, Form.code)
    await first.set_data(KEY, {"phone": "+79123456789", "note": "ёлка 🎄"})
    await first.close()
    second = SQLiteStorage(await Database.open(path), owns_db=True)
    try:
        assert await second.get_state(KEY) == "Form:code"
        assert await second.get_data(KEY) == {"phone": "+79123456789", "note": "ёлка 🎄"}
    finally:
        await second.close()
