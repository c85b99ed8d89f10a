"""What the bot keeps in memory per person stays small however many people come by."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

from aiogram.fsm.storage.base import StorageKey
from aiogram.types import TelegramObject, Update, User
from aiogram.utils.i18n.middleware import SimpleI18nMiddleware

from bot.app import EventIsolation, RememberPeople
from bot.i18n import make_i18n
from bot.outbox_worker import OutboxWorker
from services.clock import to_ts
from services.outbox import enqueue
from tests.harness import Harness, harness_sleep

PEOPLE = 10_000


async def test_a_persons_lock_is_dropped_once_nobody_holds_or_waits_for_it() -> None:
    isolation = EventIsolation()
    for user in range(PEOPLE):
        async with isolation.lock(StorageKey(bot_id=1, chat_id=user, user_id=user)):
            assert len(isolation.locks) == 1
    assert isolation.locks == {}

    # One person's updates still go one at a time, in the order they came.
    key = StorageKey(bot_id=1, chat_id=5, user_id=5)
    steps: list[str] = []

    async def update(n: int) -> None:
        async with isolation.lock(key):
            steps.append(f"start {n}")
            await asyncio.sleep(0)  # let the others try to get in
            steps.append(f"end {n}")

    await asyncio.gather(*(update(n) for n in range(3)))
    assert steps == ["start 0", "end 0", "start 1", "end 1", "start 2", "end 2"]
    assert isolation.locks == {}


async def test_the_dispatcher_keeps_no_lock_after_many_people_were_served(
    harness: Harness,
) -> None:
    for n in range(30):
        await harness.person(f"Гость {n}").send("/start")
    isolation = harness.dp.fsm.events_isolation
    assert isinstance(isolation, EventIsolation) and isolation.locks == {}


async def test_people_seen_are_remembered_in_a_bounded_memory_but_all_in_the_database(
    harness: Harness,
) -> None:
    locales = SimpleI18nMiddleware(make_i18n())
    remember = RememberPeople(harness.services.outbox, locales, remember=500)

    async def handler(event: TelegramObject, data: dict[str, Any]) -> None:
        return None

    async def visit(user_id: int, language: str) -> None:
        user = User(id=user_id, is_bot=False, first_name="Гость", language_code=language)
        await remember(handler, Update(update_id=user_id), {"event_from_user": user})

    for user_id in range(1, 3_000 + 1):
        await visit(user_id, "ru")
    assert len(remember.known) <= 500
    row = await harness.services.db.fetchone("SELECT COUNT(*) FROM people")
    assert row is not None and row[0] == 3_000
    # A person forgotten from memory who comes back speaking English is written down again.
    await visit(1, "en")
    row = await harness.services.db.fetchone("SELECT locale FROM people WHERE user_id = 1")
    assert row is not None and row[0] == "en"


async def test_outbox_pacing_for_thousands_of_chats_is_kept_in_the_database_not_in_memory(
    harness: Harness,
) -> None:
    chats = 3_000
    clock = harness.clock
    worker = OutboxWorker(
        harness.bot,
        harness.services.outbox,
        make_i18n(),
        {"note": lambda payload: (payload["text"], None)},
        sleep=harness_sleep(clock, harness.engine),
    )
    for chat in range(1, chats + 1):
        harness.engine.add_person(chat, f"Гость {chat}")
    now = to_ts(clock.now())

    def fill(c: sqlite3.Connection) -> None:
        for chat in range(1, chats + 1):
            enqueue(c, chat, "note", {"text": f"Привет, {chat}"}, f"note:{chat}", now=now)
            if chat == 1:  # right behind the first: it has to wait its second
                enqueue(c, 1, "note", {"text": "Ещё одно"}, "note:1:again", now=now)

    await harness.services.db.transaction(fill)
    first_seen_at = second_seen_at = None
    while await harness.services.outbox.due():
        await worker.deliver_due()
        # The worker holds no state per chat: pacing lives in the outbox's rows.
        held = [k for k, v in vars(worker).items() if isinstance(v, dict | set | list)]
        assert held == ["renderers"]
        texts = [m["text"] for m in harness.engine.messages(1)]
        if first_seen_at is None and "Привет, 1" in texts:
            first_seen_at = clock.now()
        if second_seen_at is None and "Ещё одно" in texts:
            second_seen_at = clock.now()
    assert all(len(harness.engine.messages(chat)) >= 1 for chat in range(1, chats + 1))
    # And one chat still gets at most one message a second.
    assert first_seen_at is not None and second_seen_at is not None
    assert (second_seen_at - first_seen_at).total_seconds() >= 1
