"""The emulator enforces Telegram's rules over real HTTP, and the bot copes with each of them."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramRetryAfter,
)
from aiogram.methods import TelegramMethod
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup, MessageEntity

from emulator.engine import TelegramError
from emulator.server import DEFAULT_TOKEN
from tests.harness import Harness
from tests.live import LiveHarness, running_live


@pytest.fixture
async def live(tmp_path: Path):  # type: ignore[no-untyped-def]
    async with running_live(tmp_path) as h:
        yield h


async def api(live: LiveHarness, method: str, **params: object) -> httpx.Response:
    return await live.client.post(f"/bot{DEFAULT_TOKEN}/{method}", json=params)


async def test_text_length_is_enforced(live: LiveHarness) -> None:
    anna = live.person()
    await anna.send("/start")
    ok = await api(live, "sendMessage", chat_id=anna.id, text="я" * 4096)
    assert ok.status_code == 200
    too_long = await api(live, "sendMessage", chat_id=anna.id, text="я" * 4097)
    assert too_long.json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: message is too long",
    }
    empty = await api(live, "sendMessage", chat_id=anna.id, text="")
    assert empty.json()["description"] == "Bad Request: message text is empty"
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        assert live.runtime.bot is not None
        await live.runtime.bot.send_message(anna.id, "я" * 5000)


async def test_callback_data_limit_and_bad_html(live: LiveHarness) -> None:
    anna = live.person()
    await anna.send("/start")
    bot = live.runtime.bot
    assert bot is not None
    keyboard = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="я" * 33)]]
    )
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(anna.id, "ok", reply_markup=keyboard)
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(anna.id, "1 < 2 <b>bold")


async def test_html_formatting_reaches_the_bot_and_the_web_chat_as_entities(
    live: LiveHarness,
) -> None:
    """Bold, monospace and links keep their place; offsets count UTF-16 units (👛 is two)."""
    anna = live.person()
    await anna.send("/start")
    bot = live.runtime.bot
    assert bot is not None
    sent = await bot.send_message(
        anna.id,
        "👛 Баланс: <b>1 250,50 ₽</b>\nКод: <code>123456</code> &lt;b&gt; "
        '<a href="https://robokassa.com">Робокасса</a><pre>итого 5 ₽</pre>',
    )
    assert sent.text == "👛 Баланс: 1 250,50 ₽\nКод: 123456 <b> Робокассаитого 5 ₽"
    shown = [(e.type, e.extract_from(sent.text), e.url) for e in sent.entities or []]
    assert shown == [
        ("bold", "1 250,50 ₽", None),
        ("code", "123456", None),
        ("text_link", "Робокасса", "https://robokassa.com"),
        ("pre", "итого 5 ₽", None),
    ]
    response = await live.client.get(f"/api/users/{anna.id}/messages")
    last = response.json()["messages"][-1]
    assert last["text"] == sent.text
    assert [(e["type"], e["offset"], e["length"]) for e in last["entities"]] == [
        ("bold", 11, 10),
        ("code", 27, 6),
        ("text_link", 38, 9),
        ("pre", 47, 9),
    ]
    plain = await bot.send_message(anna.id, "<b>как есть</b>", parse_mode=None)
    assert plain.text == "<b>как есть</b>" and not plain.entities


async def test_unknown_method_and_wrong_token(live: LiveHarness) -> None:
    response = await api(live, "sendTelepathy", chat_id=1)
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    wrong = await live.client.post("/bot1:nope/getMe")
    assert wrong.status_code == 401

    class SendTelepathy(TelegramMethod[bool]):
        __returning__ = bool
        __api_method__ = "sendTelepathy"

    assert live.runtime.bot is not None
    with pytest.raises(TelegramNotFound):
        await live.runtime.bot(SendTelepathy())


async def test_identical_edit_is_not_modified_and_the_bot_shrugs(live: LiveHarness) -> None:
    anna = live.person()
    menu = await anna.send("/start")
    await anna.press("❓ Помощь")
    # The same button data again on the same message: the edit would change nothing.
    await anna.press_data(menu.message_id, "m1:help")
    assert anna.last_answer is not None
    bot = live.runtime.bot
    assert bot is not None
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            text=anna.last.raw["text"],
            entities=[MessageEntity(**e) for e in anna.last.raw["entities"]],
            chat_id=anna.id,
            message_id=menu.message_id,
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[
                    [InlineKeyboardButton(**b) for b in row]
                    for row in anna.last.raw["inline_keyboard"]
                ]
            ),
            parse_mode=None,
        )


async def test_blocked_user_gets_403_and_the_bot_keeps_serving_others(live: LiveHarness) -> None:
    anna = live.person()
    await anna.send("/start")
    blocked = await live.client.post(f"/api/users/{anna.id}/block")
    assert blocked.json()["blocked"] is True
    assert live.runtime.bot is not None
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await live.runtime.bot.send_message(anna.id, "привет")
    before = len(anna.messages())
    await anna.send("/help")  # the reply fails with 403; the update is still handled
    assert len(anna.messages()) == before + 1  # only her own message
    assert [r.getMessage() for r in live.errors.records] == [
        f"update {2} failed: TelegramForbiddenError"
    ]
    live.errors.records.clear()
    boris = live.person("Борис")
    seen = await boris.send("/start")
    assert seen.text.startswith("Здравствуйте")
    await live.client.post(f"/api/users/{anna.id}/unblock")
    seen = await anna.send("/start")
    assert seen.text.startswith("Здравствуйте")


async def test_flood_control_answers_429_with_retry_after(tmp_path: Path) -> None:
    async with running_live(tmp_path, emulator_flood_limit=1) as live:
        await _flood(live)


async def _flood(live: LiveHarness) -> None:
    anna = live.person()
    await anna.send("/start")
    live.clock.advance(seconds=5)
    first = await api(live, "sendMessage", chat_id=anna.id, text="раз")
    second = await api(live, "sendMessage", chat_id=anna.id, text="два")
    assert first.status_code == 200
    assert second.status_code == 429
    assert second.json()["parameters"] == {"retry_after": 1}
    assert live.runtime.bot is not None
    live.clock.advance(seconds=5)
    await live.runtime.bot.send_message(anna.id, "три")
    with pytest.raises(TelegramRetryAfter):
        await live.runtime.bot.session(live.runtime.bot, _send(anna.id, "четыре"))


def _send(chat_id: int, text: str):  # type: ignore[no-untyped-def]
    from aiogram.methods import SendMessage

    return SendMessage(chat_id=chat_id, text=text)


async def test_bot_waits_out_flood_control_and_delivers_once(harness: Harness) -> None:
    harness.engine.flood_limit_per_chat = 1
    anna = harness.person()
    await anna.send("/cancel")  # two messages in a row: the second meets 429, then goes through
    texts = [m.text for m in anna.bot_messages()]
    assert texts == ["Отменять нечего.", "Главное меню. Что сделаем?"]
    rejected = [c for c in harness.session.calls if c[0] == "sendMessage"]
    assert len(rejected) == 3  # one retried once


async def test_driver_api_errors_are_clear(live: LiveHarness) -> None:
    client = live.client
    assert (await client.post("/api/users", json={"id": "x"})).status_code == 400
    assert (await client.post("/api/users/999/send", json={"text": "hi"})).status_code == 404
    anna = live.person()
    menu = await anna.send("/start")
    response = await client.post(
        f"/api/users/{anna.id}/press", json={"message_id": menu.message_id, "text": "Нет такой"}
    )
    assert response.status_code == 404
    assert "no button 'Нет такой'" in response.text
    response = await client.get(f"/api/users/{anna.id}/messages", params={"after": menu.message_id})
    assert response.json()["messages"] == []


async def test_engine_error_payload_shape() -> None:
    error = TelegramError(429, "Too Many Requests: retry after 3", retry_after=3)
    assert error.payload() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
