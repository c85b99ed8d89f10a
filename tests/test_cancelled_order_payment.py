"""A cancelled order cannot be paid any more, and money that reaches one anyway goes back."""

from __future__ import annotations

from services.wallet import wallet_account
from tests.harness import Harness, Person, Seen
from tests.helpers import PHONE, fund, order_roses, register, to_invoice


async def order_open_twice(anna: Person) -> tuple[int, Seen]:
    """Anna orders 2 bouquets and also opens the same order from «Мои заказы» (a second screen).

    Returns the order and that second screen, whose cancel button she presses later.
    """
    order = await order_roses(anna, quantity=2)
    menu = await anna.send("/start")
    await anna.press("🧾 Мои заказы", message_id=menu.message_id)
    card = await anna.press(f"№ {order} · 3 780,00 ₽ · ⏳ ждёт оплаты")
    assert "✖️ Отменить заказ" in card.labels
    return order, card


async def stock_of_roses(harness: Harness, order: int) -> int | None:
    merchant = harness.services.merchant
    return (await merchant.item((await merchant.order(order)).item_id)).stock


async def test_a_cancelled_order_refuses_the_secret_key_and_charges_nothing(
    harness: Harness,
) -> None:
    anna = harness.person()
    secret = await register(anna)
    await fund(harness, PHONE, 1_000_000)
    order, card = await order_open_twice(anna)
    purchase = next(m for m in anna.bot_messages() if "💳 Оплатить через Робокассу" in m.labels)
    await anna.press("💳 Оплатить через Робокассу", message_id=purchase.message_id)
    await anna.press("Visa QIWI Wallet")
    await anna.press("📱 +7 912 345-67-89 (ваш кошелёк)")
    await anna.press("💻 На сайте QIWI")
    seen = await anna.press("✖️ Отменить заказ", message_id=card.message_id)
    assert seen.text == f"Заказ № {order} отменён."
    seen = await anna.send(secret)
    assert seen.text == (f"Заказ № {order} отменён, и счёт по нему закрыт. Деньги не списаны."), (
        seen.text
    )
    assert await harness.services.ledger.balance(wallet_account(PHONE)) == 1_000_000
    await harness.jobs.run_once()
    assert (await harness.services.merchant.order(order)).status == "cancelled"
    assert await stock_of_roses(harness, order) == 6
    assert not [m for m in anna.bot_messages() if m.text.startswith("✅ Оплата поступила")]


async def test_a_cancelled_order_cannot_be_paid_at_the_terminal_and_the_cash_is_kept(
    harness: Harness,
) -> None:
    anna = harness.person()
    await register(anna)
    order, card = await order_open_twice(anna)
    purchase = next(m for m in anna.bot_messages() if "💳 Оплатить через Робокассу" in m.labels)
    await anna.press("💳 Оплатить через Робокассу", message_id=purchase.message_id)
    await anna.press("Visa QIWI Wallet")
    await anna.press("📱 +7 912 345-67-89 (ваш кошелёк)")
    await anna.press("🏧 В терминале QIWI")
    await anna.press("✖️ Отменить заказ", message_id=card.message_id)
    for note in ("2000 ₽", "1000 ₽", "500 ₽", "200 ₽", "50 ₽", "10 ₽", "10 ₽", "10 ₽"):
        cash = await anna.press(note)
    await anna.press("✅ Оплатить", message_id=cash.message_id)
    answer = anna.last_answer
    assert answer is not None and answer["text"] == (
        "Счёт больше не действует. Отойдите от терминала: внесённые деньги будут зачислены."
    )
    await harness.jobs.run_once()
    assert (await harness.services.merchant.order(order)).status == "cancelled"
    assert await stock_of_roses(harness, order) == 6
    ledger = harness.services.ledger
    assert await ledger.balance("clearing:robokassa") == 0
    # Leaving the terminal: the cash is not lost, it goes to the wallet.
    await anna.send("/cancel")
    assert await ledger.balance(wallet_account(PHONE)) == 378_000


async def test_an_expired_order_closes_its_invoice_at_once(harness: Harness) -> None:
    anna = harness.person()
    secret = await register(anna)
    await fund(harness, PHONE, 1_000_000)
    order = await order_roses(anna, quantity=1)
    await to_invoice(anna)
    await anna.press("💻 На сайте QIWI")
    harness.clock.advance(minutes=31)
    await harness.services.merchant.expire_due()  # the order's expiry, before the bills' job
    seen = await anna.send(secret)
    assert seen.text == f"Срок счёта истёк, заказ № {order} отменён.", seen.text
    assert await harness.services.ledger.balance(wallet_account(PHONE)) == 1_000_000
