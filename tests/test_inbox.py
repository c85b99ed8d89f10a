"""No received update is lost: the bot stores what Telegram sent before confirming it, and after
a crash it finishes what it had confirmed but not yet handled, once.

The bot here runs for real (polling the emulator over HTTP); "dying" means its tasks stop at once,
in the middle of a handler, with nothing written afterwards, as under kill -9.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from aiogram.methods import EditMessageText
from aiohttp import web

from bot.runner import Runtime
from bot.settings import Settings
from emulator.engine import Engine
from emulator.server import DEFAULT_TOKEN, STATE_KEY, EmulatorState, build_emulator_app
from services.clock import ManualClock
from services.db import Database
from services.inbox import Inbox

GREETING = "помогаю платить в магазинах Робокассы через QIWI-кошелёк"


@asynccontextmanager
async def emulator() -> AsyncIterator[tuple[httpx.AsyncClient, EmulatorState]]:
    """A separate emulator that outlives the bot, as Telegram does."""
    app = build_emulator_app(Engine())
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            yield client, app[STATE_KEY]
    finally:
        await app[STATE_KEY].close()
        await runner.cleanup()


async def started(tmp_path: Path, client: httpx.AsyncClient) -> Runtime:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_path=tmp_path / "bot.sqlite3",
        web_port=0,
        emulator_url=str(client.base_url),
    )
    runtime = Runtime(settings, clock=ManualClock())
    await runtime.start()
    return runtime


async def die(runtime: Runtime) -> None:
    """Stop everything where it stands: handlers in the middle get no chance to finish."""
    assert runtime.polling is not None and runtime._polling is not None
    tasks = [runtime._polling, *runtime.polling._handling]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await runtime.stop()


async def until(state: EmulatorState, condition: Callable[[], bool]) -> None:
    async with state.changed:
        await asyncio.wait_for(state.changed.wait_for(condition), 10)


async def greetings(client: httpx.AsyncClient, user_id: int) -> int:
    chat = (await client.get(f"/api/users/{user_id}/messages")).json()["messages"]
    return sum(1 for m in chat if m["from"] == "bot" and GREETING in (m["text"] or ""))


async def settle(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.post("/api/settle", json={"timeout": 20})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_a_message_the_bot_confirmed_but_died_handling_is_answered_after_restart(
    tmp_path: Path,
) -> None:
    async with emulator() as (client, state):
        await client.post("/api/users", json={"id": 7, "first_name": "Анна"})
        first = await started(tmp_path, client)
        assert first.services is not None
        inside = asyncio.Event()

        async def stuck(*args: Any) -> None:
            inside.set()
            await asyncio.Event().wait()

        first.services.outbox.remember_person = stuck  # type: ignore[method-assign]
        sent = await client.post("/api/users/7/send", json={"text": "/start"})
        update_id = sent.json()["update_id"]
        await asyncio.wait_for(inside.wait(), 10)
        # Telegram has been told: it will never send this update again.
        await until(state, lambda: update_id in state.confirmed)
        await die(first)
        assert await greetings(client, 7) == 0

        second = await started(tmp_path, client)
        try:
            assert (await settle(client))["lost"] == []
            assert await greetings(client, 7) == 1
        finally:
            await second.stop()

        # Handled once: a further restart has nothing left to answer.
        third = await started(tmp_path, client)
        try:
            await client.post("/api/users/7/send", json={"text": "/help"})
            assert (await settle(client))["lost"] == []
            assert await greetings(client, 7) == 1
        finally:
            await third.stop()


async def test_the_emulator_counts_a_confirmed_update_nobody_finished_as_lost(
    tmp_path: Path,
) -> None:
    """The crash test relies on this: a bot that confirms before storing loses the update."""
    async with emulator() as (client, _):
        await client.post("/api/users", json={"id": 7, "first_name": "Анна"})
        await client.post("/api/users/7/send", json={"text": "/start"})
        api = f"/bot{DEFAULT_TOKEN}"
        updates = (await client.post(f"{api}/getUpdates", json={})).json()["result"]
        # Confirmed by the next offset, then the bot dies without handling or storing it.
        await client.post(f"{api}/getUpdates", json={"offset": updates[-1]["update_id"] + 1})
        second = await started(tmp_path, client)
        try:
            assert (await settle(client))["lost"] == [updates[-1]["update_id"]]
            assert await greetings(client, 7) == 0
        finally:
            await second.stop()


async def test_telegram_sending_again_what_the_inbox_holds_stores_it_once(
    db: Database, clock: ManualClock
) -> None:
    inbox = Inbox(db, clock)
    batch = [(1, '{"update_id": 1}'), (2, '{"update_id": 2}')]
    assert [r.update_id for r in await inbox.store(batch)] == [1, 2]
    # The bot died before its next getUpdates confirmed them: Telegram sends them again.
    again = await inbox.store([*batch, (3, '{"update_id": 3}')])
    assert [r.update_id for r in again] == [3]
    assert [r.update_id for r in await inbox.unhandled()] == [1, 2, 3]
    first = (await inbox.unhandled())[0]
    await inbox.mark_handled(first.key, first.update_id)
    await inbox.mark_handled(first.key, first.update_id)  # idempotent
    assert [r.update_id for r in await inbox.unhandled()] == [2, 3]
    assert await inbox.is_handled(first.key)


async def test_the_inbox_forgets_handled_updates_after_a_week_but_keeps_unhandled_ones(
    db: Database, clock: ManualClock
) -> None:
    inbox = Inbox(db, clock)
    old = await inbox.store([(1, "a"), (2, "b")])
    await inbox.mark_handled(old[0].key, old[0].update_id)
    clock.advance(days=6)
    recent = await inbox.store([(3, "c")])
    await inbox.mark_handled(recent[0].key, recent[0].update_id)
    clock.advance(days=2)
    # A bot that keeps running forgets as it goes: the next batch clears what is a week old.
    await inbox.store([(4, "d")])
    assert not await inbox.is_handled(old[0].key)
    assert await inbox.is_handled(recent[0].key)
    # Unhandled is still owed a handler, however old.
    assert [r.update_id for r in await inbox.unhandled()] == [2, 4]
    rows = await db.fetchone("SELECT COUNT(*) FROM inbox")
    assert rows is not None and rows[0] == 3


async def test_a_press_answered_before_the_bot_died_still_leads_to_its_screen(
    tmp_path: Path,
) -> None:
    """Replayed from the inbox, the press is already answered (or too old to answer): the
    person must still get the screen the button leads to."""
    async with emulator() as (client, state):
        await client.post("/api/users", json={"id": 7, "first_name": "Анна"})
        first = await started(tmp_path, client)
        await client.post("/api/users/7/send", json={"text": "/start"})
        await settle(client)
        assert first.bot is not None
        inside = asyncio.Event()

        async def stuck_before_the_screen(make_request: Any, bot: Any, method: Any) -> Any:
            if isinstance(method, EditMessageText):
                inside.set()
                await asyncio.Event().wait()
            return await make_request(bot, method)

        first.bot.session.middleware(stuck_before_the_screen)
        chat = (await client.get("/api/users/7/messages")).json()["messages"]
        menu = next(m for m in reversed(chat) if m["inline_keyboard"])
        topup = next(b for row in menu["inline_keyboard"] for b in row if "Пополнить" in b["text"])
        pressed = await client.post(
            "/api/users/7/press",
            json={"message_id": menu["message_id"], "callback_data": topup["callback_data"]},
        )
        update_id = pressed.json()["update_id"]
        await asyncio.wait_for(inside.wait(), 10)
        await until(state, lambda: update_id in state.confirmed)
        await die(first)

        second = await started(tmp_path, client)
        try:
            assert (await settle(client))["lost"] == []
            chat = (await client.get("/api/users/7/messages")).json()["messages"]
            labels = [b["text"] for m in chat for row in m["inline_keyboard"] or [] for b in row]
            assert "🏬 Салон связи" in labels
        finally:
            await second.stop()
