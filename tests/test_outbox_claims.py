"""Several bot processes on one database send each message once and keep Telegram's pace together."""

from __future__ import annotations

import asyncio
import itertools
import sqlite3
from collections import Counter
from typing import Any

from bot.i18n import make_i18n
from bot.outbox_worker import OutboxWorker
from services.clock import ManualClock, to_ts
from services.db import Database
from services.outbox import LEASE_SECONDS, Outbox, OutboxMessage, Pacing, enqueue
from tests.harness import Harness


class Telegram:
    """Takes the messages the workers send and remembers which chat got what."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []

    async def send_message(self, chat_id: int, text: str, **_: Any) -> None:
        self.sent.append((chat_id, text))


class Worker(OutboxWorker):
    """A worker that also notes each message's send slot, as Telegram would see the time."""

    slots: list[tuple[int, int]]

    async def _deliver(self, message: OutboxMessage) -> bool:
        self.slots.append((message.chat_id, message.slot_ms))
        return await super()._deliver(message)


async def process(path: Any, clock: ManualClock, telegram: Telegram, slots: list[Any]) -> Worker:
    """One more bot process: its own connection to the same database file."""
    outbox = Outbox(await Database.open(path), clock)

    async def no_wait(_: float) -> None:
        await asyncio.sleep(0)  # the slot is what counts here: let the other process run

    worker = Worker(
        telegram,  # type: ignore[arg-type]
        outbox,
        make_i18n(),
        {"note": lambda payload: (payload["text"], None)},
        sleep=no_wait,
    )
    worker.slots = slots
    return worker


async def fill(db: Database, clock: ManualClock, chats: int, per_chat: int) -> None:
    now = to_ts(clock.now())

    def add(c: sqlite3.Connection) -> None:
        for n in range(per_chat):
            for chat in range(1, chats + 1):
                text = f"Сообщение {n + 1} для {chat}"
                enqueue(c, chat, "note", {"text": text}, f"note:{chat}:{n}", now=now)  # type: ignore[call-overload]

    await db.transaction(add)


async def test_three_processes_send_every_message_once_at_telegrams_pace(harness: Harness) -> None:
    clock = harness.clock
    telegram = Telegram()
    slots: list[tuple[int, int]] = []
    workers = [await process(harness.services.db.path, clock, telegram, slots) for _ in range(3)]
    await fill(harness.services.db, clock, chats=60, per_chat=3)

    for _ in range(30):
        if not await harness.services.outbox.due():
            break
        await asyncio.gather(*(worker.deliver_due() for worker in workers))
        clock.advance(seconds=0.5)

    # Every message reached its chat exactly once, though three processes were sending.
    assert len(telegram.sent) == 180
    assert max(Counter(telegram.sent).values()) == 1
    assert {chat for chat, _ in telegram.sent} == set(range(1, 61))
    # Overall: never two messages closer than Telegram's 25 a second, whichever process sent them.
    times = sorted(slot for _, slot in slots)
    assert min(b - a for a, b in itertools.pairwise(times)) >= Pacing().gap_ms
    # One chat: at most one message a second.
    for chat in range(1, 61):
        own = sorted(slot for c, slot in slots if c == chat)
        assert min(b - a for a, b in itertools.pairwise(own)) >= 1000
    for worker in workers:
        await worker.outbox.db.close()


async def test_a_message_held_by_a_process_that_died_is_sent_by_another_after_its_lease(
    harness: Harness,
) -> None:
    clock = harness.clock
    telegram = Telegram()
    slots: list[tuple[int, int]] = []
    dead, alive = [
        await process(harness.services.db.path, clock, telegram, slots) for _ in range(2)
    ]
    await fill(harness.services.db, clock, chats=1, per_chat=1)

    # The first process takes the message and dies before sending it.
    assert len(await dead.outbox.claim(Pacing())) == 1
    # While its lease runs, nobody else sends it.
    clock.advance(seconds=LEASE_SECONDS - 1)
    assert await alive.deliver_due() == 0
    assert telegram.sent == []
    # Then the other process does, once.
    clock.advance(seconds=1)
    assert await alive.deliver_due() == 1
    clock.advance(seconds=5)
    assert await alive.deliver_due() == 0
    assert telegram.sent == [(1, "Сообщение 1 для 1")]
    for worker in (dead, alive):
        await worker.outbox.db.close()


async def test_a_process_books_no_more_than_two_seconds_of_sending_ahead(harness: Harness) -> None:
    """What one process claims it must send within Telegram's pace; the rest stays free for the
    others, instead of waiting under one process's lease."""
    clock = harness.clock
    telegram = Telegram()
    slots: list[tuple[int, int]] = []
    first, second, third = [
        await process(harness.services.db.path, clock, telegram, slots) for _ in range(3)
    ]
    await fill(harness.services.db, clock, chats=120, per_chat=1)
    pacing = Pacing()
    # 50 messages 40 ms apart fill the first two seconds; the next process gets the one slot
    # left at exactly two seconds ahead, the third none, until time moves on.
    assert len(await first.outbox.claim(pacing)) == 50
    assert len(await second.outbox.claim(pacing)) == 1
    assert await third.outbox.claim(pacing) == []
    clock.advance(seconds=1)
    assert len(await third.outbox.claim(pacing)) == 25
    for worker in (first, second, third):
        await worker.outbox.db.close()
