"""Receipts and notifications stay in the chat: the screen a button under them leads to comes
as a new message, and the receipt is still there to show or to check later."""

from __future__ import annotations

from tests.harness import Harness, Person, Seen
from tests.helpers import PHONE, owner_of, pay_roses_in_app, register, to_cash_screen


def unchanged(anna: Person, before: Seen) -> bool:
    now = next(m for m in anna.bot_messages() if m.message_id == before.message_id)
    return (now.text, now.labels, now.edited) == (before.text, before.labels, before.edited)


async def test_the_terminal_receipt_stays_when_the_wallet_is_opened_from_it(
    harness: Harness,
) -> None:
    anna = harness.person()
    await register(anna)
    await to_cash_screen(anna)
    await anna.press("500 ₽")
    receipt = await anna.press("✅ Зачислить")
    assert "ЧЕК № " in receipt.text and "Сохраните чек" in receipt.text
    seen = await anna.press("👛 Кошелёк")
    assert seen.message_id > receipt.message_id
    assert "Баланс: 500,00 ₽" in seen.text
    assert unchanged(anna, receipt)
    seen = await anna.press("🏠 Меню", message_id=receipt.message_id)
    assert seen.message_id > receipt.message_id and unchanged(anna, receipt)


async def test_the_payment_receipt_stays_when_the_menu_is_opened_from_it(
    harness: Harness,
) -> None:
    anna = harness.person()
    olga = await owner_of(harness, "flowers")
    order = await pay_roses_in_app(harness, anna)
    await harness.drain()
    receipt = anna.last
    assert receipt.text.startswith(f"✅ Оплата поступила. Заказ № {order} оплачен.")
    seen = await anna.press("🏠 Меню")
    assert seen.message_id > receipt.message_id
    assert unchanged(anna, receipt)
    # The owner's note about the order stays too when the order is opened from it.
    note = olga.last
    assert note.text.startswith(f"🛒 Новый оплаченный заказ № {order}")
    seen = await olga.press("📦 Открыть заказ")
    assert seen.message_id > note.message_id
    assert unchanged(olga, note)


async def test_the_message_about_a_delayed_top_up_stays(harness: Harness) -> None:
    anna = harness.person()
    await register(anna)
    harness.services.cash.delayed = lambda: True
    await to_cash_screen(anna)
    await anna.press("1000 ₽")
    receipt = await anna.press("✅ Зачислить")
    assert "Статус: В обработке" in receipt.text
    harness.clock.advance(seconds=harness.services.cash.rules.delay_seconds)
    await harness.drain()
    credited = anna.last
    assert credited.text.startswith("💰 Деньги по чеку № ")
    seen = await anna.press("👛 Кошелёк")
    assert seen.message_id > credited.message_id
    assert unchanged(anna, credited)
    assert await harness.services.ledger.balance(f"wallet:{PHONE}") == 100_000
