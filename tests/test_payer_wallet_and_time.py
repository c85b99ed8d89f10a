"""A first-time payer: the money already in the wallet is visible on the bill and pays it in a
tap, the terminal says when cash is not needed and leads back to the bill, and an order says
how many minutes are left and reminds once before it expires."""

from __future__ import annotations

import re
from pathlib import Path

from services.wallet import wallet_account
from tests.harness import Harness, Person, running_harness
from tests.helpers import PHONE, fund, mark_paid, order_roses, register, to_invoice

FROM_WALLET = "👛 Оплатить с кошелька (на балансе 2 000,00 ₽)"


async def test_the_bill_shows_the_wallet_balance_and_pays_from_it_first(harness: Harness) -> None:
    anna = harness.person()
    await register(anna)
    await fund(harness, PHONE, 200_000)
    order = await order_roses(anna, quantity=1)
    bill = await to_invoice(anna)
    assert bill.endswith(
        "Как оплатите?\n👛 В кошельке 2 000,00 ₽ — хватает, чтобы оплатить с него, без наличных."
    )
    assert anna.last.labels == [
        FROM_WALLET,
        "💻 На сайте QIWI",
        "🏧 В терминале QIWI",
        "📱 В приложении",
        "🏠 Меню",
    ]
    # The terminal, pressed anyway, says first that no cash is needed.
    seen = await anna.press("🏧 В терминале QIWI")
    assert seen.text.startswith(
        "💡 В вашем кошельке уже 2 000,00 ₽ — этого хватает на счёт, наличные не нужны. "
        "«✖️ Отойти от терминала» вернёт к счёту, там оплатите кнопкой «👛 Оплатить с кошелька»."
    )
    assert "Осталось внести: 1 890,00 ₽" in seen.text
    # Leaving goes back to the same bill, not to «Пополнить».
    seen = await anna.press("✖️ Отойти от терминала")
    assert seen.text == bill
    assert seen.labels[0] == FROM_WALLET
    seen = await anna.press(FROM_WALLET)
    assert seen.text.startswith(f"💸 QIWI принял платёж за заказ № {order}.")
    await harness.jobs.run_once()
    assert anna.last.text.startswith(f"✅ Оплата поступила. Заказ № {order} оплачен.")
    assert await harness.services.ledger.balance(wallet_account(PHONE)) == 200_000 - 189_000


async def test_a_wallet_short_of_money_says_how_much_and_the_cash_left_behind_counts(
    harness: Harness,
) -> None:
    anna = harness.person()
    await register(anna)
    await fund(harness, PHONE, 50_000)
    order = await order_roses(anna, quantity=1)
    bill = await to_invoice(anna)
    assert bill.endswith(
        "👛 В кошельке 500,00 ₽, не хватает 1 390,00 ₽: пополните его или оплатите наличными "
        "в терминале QIWI."
    )
    assert anna.last.labels[0] == "💻 На сайте QIWI"
    seen = await anna.press("🏧 В терминале QIWI")
    assert seen.text.startswith("🏧 Терминал T-0417 · «Оплатить счёт»")  # no word of the wallet
    await anna.press("1000 ₽")
    seen = await anna.press("✖️ Отойти от терминала")
    # The cash went to the wallet with a receipt, and the bill is back with the new balance.
    receipt = anna.bot_messages()[-2]
    assert receipt.text.startswith(
        "Терминал не выдаёт деньги обратно, поэтому внесённое зачислено."
    )
    assert seen.text.startswith("🧾 Счёт на оплату № ") and f"Заказ № {order}" in seen.text
    assert seen.text.endswith(
        "👛 В кошельке 1 500,00 ₽, не хватает 390,00 ₽: пополните его или "
        "оплатите наличными в терминале QIWI."
    )
    # A bill to someone else's number never shows that wallet's money.
    boris = harness.person("Борис", phone="+79990000000")
    await register(boris)
    await fund(harness, "+79990000000", 300_000)
    await anna.send("/start")
    await anna.press("🧾 Мои заказы")
    await anna.press(next(label for label in anna.last.labels if label.startswith(f"№ {order}")))
    await anna.press("💳 Оплатить через Робокассу")
    await anna.press("Visa QIWI Wallet")
    seen = await anna.send("+7 999 000-00-00")
    assert "выставлен на +7 999 *** ** 00" in seen.text
    assert "В кошельке" not in seen.text and "3 000,00" not in seen.text
    assert seen.labels[0] == "💻 На сайте QIWI"


async def test_leaving_the_terminal_of_a_bill_with_nothing_inserted_is_the_bill_again(
    harness: Harness,
) -> None:
    anna = harness.person()
    await register(anna)
    await order_roses(anna, quantity=1)
    bill = await to_invoice(anna)
    await anna.press("🏧 В терминале QIWI")
    seen = await anna.press("✖️ Отойти от терминала")
    assert seen.text == bill
    assert "Денег внесено не было" not in seen.text
    assert not any(m.text.startswith("💵 Как пополнить") for m in anna.bot_messages())


async def test_the_order_says_how_many_minutes_are_left(harness: Harness) -> None:
    anna = harness.person()
    order = await order_roses(anna, quantity=1)
    assert anna.last.text.endswith(
        "Оплатите до 12:30, иначе заказ отменится.\n⏳ Осталось 30 минут."
    )
    for minutes, left in [
        (9, "⏳ Осталась 21 минута."),
        (1, "⏳ Осталось 20 минут."),
        (7, "⏳ Осталось 13 минут."),
        (9, "⏳ Осталось 4 минуты."),
        (3, "⏳ Осталась 1 минута."),
        (0.5, "⏳ Осталось меньше минуты."),
    ]:
        harness.clock.advance(minutes=minutes)
        await anna.send("/start")
        await anna.press("🧾 Мои заказы")
        mine = anna.last.labels
        seen = await anna.press(next(label for label in mine if label.startswith(f"№ {order} ")))
        assert seen.text.endswith(left), (minutes, seen.text)


async def test_an_unpaid_order_is_reminded_once_before_it_expires_even_after_a_restart(
    harness: Harness, tmp_path: Path
) -> None:
    anna = harness.person()
    order = await order_roses(anna, quantity=1)
    reminder = (
        f"⏳ Заказ № {order} (7 роз) ещё не оплачен: осталось 5 минут, до 12:30. "
        "Потом он отменится."
    )

    def reminders() -> list[str]:
        return [m.text for m in anna.bot_messages() if m.text.startswith("⏳ Заказ")]

    harness.clock.advance(minutes=24, seconds=59)
    await harness.jobs.run_once()
    assert reminders() == []
    harness.clock.advance(seconds=1)
    await harness.jobs.run_once()
    assert reminders() == [reminder]
    assert anna.last.labels == ["🧾 Открыть заказ"]
    harness.clock.advance(seconds=30)
    await harness.jobs.run_once()
    # The bot restarts: the reminder is not written or sent again.
    async with running_harness(tmp_path) as restarted:
        restarted.engine = harness.engine
        restarted.session.engine = harness.engine
        restarted.jobs.worker.bot = restarted.bot
        restarted.clock.advance(seconds=(harness.clock.now() - restarted.clock.now()).seconds)
        assert restarted.clock.now() == harness.clock.now()
        await restarted.jobs.run_once()
        restarted.clock.advance(minutes=1)
        await restarted.jobs.run_once()
    assert reminders() == [reminder]
    seen = await anna.press("🧾 Открыть заказ")  # a new message: the reminder stays
    assert seen.labels[0] == "💳 Оплатить через Робокассу"
    assert seen.text.endswith("⏳ Осталось 5 минут.")
    harness.clock.advance(minutes=5)
    await harness.jobs.run_once()
    assert anna.last.text.startswith(f"⌛ Заказ № {order} (7 роз) не оплачен вовремя и отменён.")
    assert reminders() == [reminder]


async def test_a_paid_order_is_not_reminded_and_a_short_one_not_at_once(
    harness: Harness,
) -> None:
    anna = harness.person()
    await register(anna)
    await fund(harness, PHONE, 500_000)
    order = await order_roses(anna, quantity=1)
    await anna.press("👛 Оплатить 1 890,00 ₽ с кошелька")
    await harness.jobs.run_once()
    assert anna.last.text.startswith(f"✅ Оплата поступила. Заказ № {order} оплачен.")
    harness.clock.advance(minutes=26)
    await harness.jobs.run_once()
    assert not [m for m in anna.bot_messages() if m.text.startswith("⏳ Заказ")]
    # An order made with less time than the reminder's window is not reminded the same moment.
    harness.services.merchant.order_ttl = 240
    await anna.send("/start")
    await anna.press("🛍 Магазины")
    await anna.press("🏪 Цветочная мастерская «Ромашка»")
    await anna.press("Букеты")
    await anna.press("7 роз · 1 890,00 ₽")
    seen = await anna.press("🛒 Купить")
    assert seen.text.endswith("⏳ Осталось 4 минуты.")
    await harness.jobs.run_once()
    assert not [m for m in anna.bot_messages() if m.text.startswith("⏳ Заказ")]


async def test_the_same_screens_in_english(harness: Harness) -> None:
    john = harness.person("John", language_code="en")
    await register_in_english(harness, john)
    await fund(harness, PHONE, 200_000)
    await john.send("/start")
    await john.press("🛍 Shops")
    await john.press("🏪 «Romashka» flower studio")
    await john.press("Bouquets")
    await john.press("7 roses · 1,890.00 ₽")
    seen = await john.press("🛒 Buy")
    assert seen.text.endswith(
        "Pay by 12:30, otherwise the order is cancelled.\n⏳ 30 minutes left."
    )
    assert seen.labels[:2] == ["👛 Pay 1,890.00 ₽ from the wallet", "💳 Pay via Robokassa"]
    await john.press("💳 Pay via Robokassa")
    await john.press("Visa QIWI Wallet")
    seen = await john.press("📱 +7 912 345-67-89 (your wallet)")
    assert seen.text.endswith(
        "👛 Your wallet holds 2,000.00 ₽: enough to pay from it, no cash needed."
    )
    assert seen.labels[0] == "👛 Pay from the wallet (balance 2,000.00 ₽)"
    seen = await john.press("🏧 At a QIWI terminal")
    assert seen.text.startswith("💡 Your wallet already holds 2,000.00 ₽, enough for this invoice")
    seen = await john.press("✖️ Leave the terminal")
    assert seen.text.startswith("🧾 Invoice No. ")
    harness.clock.advance(minutes=25)
    await harness.jobs.run_once()
    assert re.match(
        r"⏳ Order No\. \d+ \(7 роз\) is not paid yet: 5 minutes left, until 12:30\. "
        r"Then it is cancelled\.",
        john.last.text,
    )
    assert john.last.labels == ["🧾 Open the order"]


async def register_in_english(harness: Harness, john: Person) -> None:
    """John's wallet, opened the way the wallet journey does it (its screens have their own
    English test)."""
    await harness.services.operator.prove(PHONE, john.id)
    sent = await harness.services.wallets.start_registration(PHONE, john.id)
    await harness.services.wallets.confirm_code(PHONE, sent.sms.value, john.id)


async def test_a_reminder_not_yet_sent_when_the_order_is_paid_is_never_sent(
    harness: Harness,
) -> None:
    anna = harness.person()
    order = await order_roses(anna, quantity=1)
    harness.clock.advance(minutes=26)
    assert await harness.services.merchant.warn_expiring() == [order]  # written, not yet sent
    await mark_paid(harness.services.merchant, order)
    await harness.drain()
    assert anna.last.text.startswith(f"✅ Оплата поступила. Заказ № {order} оплачен.")
    assert not [m for m in anna.bot_messages() if m.text.startswith("⏳ Заказ")]
