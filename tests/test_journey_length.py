"""How many actions the journeys take: every message typed, contact shared and button pressed
counts one. The seed article's own order (wallet → terminal top-up → shop → pay) and a
first-time payer with cash only are walked to «✅ Оплата поступила»; the counts are printed."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.wallet import wallet_account
from tests.harness import Harness, Person, Seen
from tests.helpers import PHONE, fund, open_item, order_roses, register, sms_value

ARTICLE_MOST = 16
CASH_ONLY_MOST = 20


@dataclass
class Counted:
    """A person whose every action is counted."""

    person: Person
    done: list[str] = field(default_factory=list)

    @property
    def actions(self) -> int:
        return len(self.done)

    async def send(self, text: str) -> Seen:
        self.done.append(text)
        return await self.person.send(text)

    async def press(self, label: str) -> Seen:
        self.done.append(label)
        return await self.person.press(label)

    async def share_contact(self) -> Seen:
        self.done.append("share contact")
        return await self.person.share_contact()


async def paid(harness: Harness, person: Person, order: str) -> None:
    await harness.jobs.run_once()
    assert person.last.text.startswith(f"✅ Оплата поступила. Заказ № {order} оплачен.")


async def buy_roses(someone: Counted) -> str:
    await someone.press("🏪 Цветочная мастерская «Ромашка»")
    await someone.press("Букеты")
    await someone.press("7 роз · 1 890,00 ₽")
    seen = await someone.press("🛒 Купить")
    return seen.text.split("№ ", 1)[1].split(" ", 1)[0]


async def test_the_articles_order_and_cash_only_fit_in_few_actions(harness: Harness) -> None:
    # The article's order: a wallet, cash at a terminal, a shop, and paying from the wallet.
    anna = Counted(harness.person())
    await anna.send("/start")
    await anna.press("👛 Завести кошелёк")
    await anna.share_contact()
    ready = await anna.send(sms_value(anna.person))
    assert ready.text == "✅ Кошелёк +7 912 *** ** 89 готов. Баланс 0,00 ₽."
    assert ready.labels[:2] == ["🏧 Пополнить в терминале", "🛍 В магазин"]
    await anna.press("🏧 Пополнить в терминале")
    await anna.press("📱 +7 912 345-67-89")
    await anna.press("Далее ➡️")
    await anna.press("Пропустить ➡️")
    await anna.press("2000 ₽")
    receipt = await anna.press("✅ Зачислить")
    assert "Зачислено: 2 000,00 ₽" in receipt.text
    seen = await anna.press("🛍 В магазин")
    assert seen.text.startswith("🛍 Магазины, которые работают с Робокассой")
    order = await buy_roses(anna)
    assert anna.person.last.labels[:2] == [
        "👛 Оплатить 1 890,00 ₽ с кошелька",
        "💳 Оплатить через Робокассу",
    ]
    await anna.press("👛 Оплатить 1 890,00 ₽ с кошелька")
    await paid(harness, anna.person, order)
    print(f"\nthe article's order: {anna.actions} actions: {anna.done}")
    assert anna.actions <= ARTICLE_MOST
    assert await harness.services.ledger.balance(wallet_account(PHONE)) == 11_000

    # Cash only, no wallet, Telegram has not told the bot the number: type it, open a wallet
    # for the invoice, come back and pay at the terminal.
    boris = Counted(harness.person("Борис", phone="+79990000000"))
    await boris.send("/start")
    await boris.press("🛍 Магазины")
    order = await buy_roses(boris)
    await boris.press("💳 Оплатить через Робокассу")
    await boris.press("Visa QIWI Wallet")
    await boris.send("+7 999 000-00-00")
    await boris.press("👛 Завести кошелёк")
    await boris.share_contact()
    await boris.send(sms_value(boris.person))
    await boris.press("💳 Вернуться к счёту")
    await boris.press("🏧 В терминале QIWI")
    await boris.press("2000 ₽")
    await boris.press("✅ Оплатить")
    await boris.press("👛 В кошелёк")
    await paid(harness, boris.person, order)
    print(f"cash only, no wallet: {boris.actions} actions: {boris.done}")
    assert boris.actions <= CASH_ONLY_MOST
    assert "❓ Помощь" not in anna.done + boris.done
    assert await harness.services.ledger.balance(wallet_account("+79990000000")) == 11_000


async def test_paying_from_the_wallet_in_one_tap_goes_through_robokassa_once(
    harness: Harness,
) -> None:
    anna = harness.person()
    await register(anna)
    await fund(harness, PHONE, 200_000)
    order = await order_roses(anna, quantity=1)
    screen = anna.last
    label = "👛 Оплатить 1 890,00 ₽ с кошелька"
    data = screen.data_of(label)
    # A double tap: both presses arrive before the screen changes.
    await anna.press_data(screen.message_id, data)
    await anna.press_data(screen.message_id, data)
    await harness.jobs.run_once()
    receipts = [m for m in anna.bot_messages() if m.text.startswith("✅ Оплата поступила")]
    assert len(receipts) == 1 and f"Заказ № {order} оплачен" in receipts[0].text
    assert await harness.services.ledger.balance(wallet_account(PHONE)) == 200_000 - 189_000
    # The way the article tells it: Robokassa's operation, a QIWI bill to the wallet's number
    # paid in the app, and the shop told through ResultURL.
    rows = await harness.services.db.fetchall(
        "SELECT b.phone, b.status, b.method, o.state FROM bills b"
        " JOIN rk_operations o ON o.id = b.operation_id WHERE o.inv_id = ?",
        (order,),
    )
    assert [tuple(r) for r in rows] == [(PHONE, "PAID", "app", 100)]
    assert (await harness.services.merchant.order(order)).status == "paid"


async def test_no_one_tap_payment_when_the_wallet_cannot_pay(harness: Harness) -> None:
    anna = harness.person()
    await order_roses(anna, quantity=1)  # no wallet at all
    assert anna.last.labels[0] == "💳 Оплатить через Робокассу"
    boris = harness.person("Борис", phone="+79990000000")
    await register(boris)
    await fund(harness, "+79990000000", 188_999)  # a kopeck short
    await open_item(boris, "🏪 Цветочная мастерская «Ромашка»", "Букеты", "7 роз · 1 890,00 ₽")
    seen = await boris.press("🛒 Купить")
    assert seen.text.startswith("🧾 Заказ № ")
    assert seen.labels[0] == "💳 Оплатить через Робокассу"
    assert not any(label.startswith("👛 Оплатить") for label in seen.labels)
