"""The inbox and the outbox over time: hourly forgetting while the bot runs, a message Telegram
refuses for good, one that waits out flood control, and what the outbox table shows an operator."""

from __future__ import annotations

from emulator.engine import TelegramError
from services.clock import ManualClock, to_ts
from services.db import Database
from services.inbox import FORGET_EVERY_SECONDS, Inbox
from tests.harness import Harness
from tests.helpers import buy_last_copy, mark_paid, owner


async def test_a_running_bot_forgets_handled_updates_on_the_hour(
    db: Database, clock: ManualClock
) -> None:
    inbox = Inbox(db, clock, keep_seconds=60)
    first = await inbox.store([(1, "a")])  # the first batch also clears (nothing yet)
    await inbox.mark_handled(first[0].key, first[0].update_id)
    clock.advance(seconds=FORGET_EVERY_SECONDS - 1)
    await inbox.store([(2, "b")])
    assert await inbox.is_handled(first[0].key)  # within the hour: not cleared again yet
    clock.advance(seconds=1)
    await inbox.store([(3, "c")])  # an hour after the last clearing: cleared on this batch
    assert not await inbox.is_handled(first[0].key)
    assert [r.update_id for r in await inbox.unhandled()] == [2, 3]


async def test_a_message_telegram_refuses_for_good_is_recorded_and_not_sent_again(
    harness: Harness,
) -> None:
    olga = await owner(harness)
    order = await buy_last_copy(harness.person())
    await mark_paid(harness.services.merchant, order)
    harness.session.fail_next("sendMessage", TelegramError(400, "Bad Request: chat not found"))
    await harness.jobs.run_once()
    harness.clock.advance(minutes=10)
    await harness.jobs.run_once()
    assert [m for m in olga.bot_messages() if m.text.startswith("🛒")] == []
    row = await harness.services.db.fetchone(
        "SELECT status, attempts, last_error FROM outbox"
        " WHERE chat_id = ? AND kind = 'order_paid_owner'",
        (olga.id,),
    )
    assert row is not None
    assert (row[0], row[1], row[2]) == ("failed", 1, "Bad Request: chat not found")


async def test_a_message_held_by_flood_control_is_due_when_telegram_said(
    harness: Harness,
) -> None:
    outbox = harness.services.outbox
    assert await outbox.due() == []  # nothing to send yet
    olga = await owner(harness)
    order = await buy_last_copy(harness.person())
    await mark_paid(harness.services.merchant, order)
    pending = [m for m in await outbox.due() if m.chat_id == olga.id]
    assert len(pending) == 1
    now = to_ts(harness.clock.now())
    await outbox.postpone(pending[0].id, 30)  # Telegram: retry after 30 s
    assert olga.id not in [m.chat_id for m in await outbox.due()]
    await harness.drain()  # everything else goes out meanwhile
    harness.clock.advance(seconds=now + 29 - to_ts(harness.clock.now()))
    assert olga.id not in [m.chat_id for m in await outbox.due()]  # a second early: still held
    harness.clock.advance(seconds=1)
    assert olga.id in [m.chat_id for m in await outbox.due()]
    await harness.drain()
    assert len([m for m in olga.bot_messages() if m.text.startswith("🛒")]) == 1
    assert await outbox.due() == []


async def test_the_outbox_keeps_russian_text_readable(harness: Harness) -> None:
    """An operator looking into the outbox table reads the item's name, not \\u escapes."""
    await owner(harness)
    order = await buy_last_copy(harness.person())
    await mark_paid(harness.services.merchant, order)
    row = await harness.services.db.fetchone(
        "SELECT payload FROM outbox WHERE kind = 'order_paid_owner'"
    )
    assert row is not None and "Алые паруса" in row[0]


async def test_after_a_network_error_the_bot_waits_before_trying_again(harness: Harness) -> None:
    """Telegram is not hammered: the next try comes after a pause, and the error is recorded."""
    olga = await owner(harness)
    order = await buy_last_copy(harness.person())
    await mark_paid(harness.services.merchant, order)
    harness.session.fail_next("sendMessage", TelegramError(500, "Internal Server Error"))
    await harness.jobs.run_once()
    calls = len(harness.session.calls)
    await harness.jobs.run_once()  # the same second: still waiting
    to_olga = [c for c in harness.session.calls[calls:] if c[1].get("chat_id") == str(olga.id)]
    assert to_olga == []
    row = await harness.services.db.fetchone(
        "SELECT status, attempts, last_error FROM outbox"
        " WHERE chat_id = ? AND kind = 'order_paid_owner'",
        (olga.id,),
    )
    assert row is not None and (row[0], row[1]) == ("pending", 1) and "Internal" in row[2]
    harness.clock.advance(seconds=2)
    await harness.jobs.run_once()
    assert len([m for m in olga.bot_messages() if m.text.startswith("🛒")]) == 1
