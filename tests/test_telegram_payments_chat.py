"""«Оплатить в Telegram» from the order screen, end to end over the emulator: the shops that
take it, paying, a replayed payment, the refusals before the charge, and the owner's refund."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

from bot.settings import ShopSecrets
from emulator.payments import payments_of
from services.aggregator import TELEGRAM_EXTERNAL
from services.checkout import shop_account
from tests.harness import Harness, Person, Seen, running_harness
from tests.helpers import (
    SECRETS,
    open_card,
    open_item,
    order_book,
    order_roses,
    owner_of,
    two_account_catalogue,
)
from tests.test_telegram_payments import pay, recorded, sent_invoice

ROSES = "1 890,00 ₽"
TG = "📲 Оплатить в Telegram"


async def invoice_from_order_screen(anna: Person) -> Seen:
    assert TG in anna.last.labels, anna.last.labels
    await anna.press(TG)
    invoice = anna.last
    assert invoice.raw["kind"] == "invoice", invoice
    return invoice


def paid_messages(anna: Person) -> list[Seen]:
    return [m for m in anna.bot_messages() if m.text.startswith("✅ Оплата")]


async def test_the_buyer_pays_in_telegram_from_the_order_screen(harness: Harness) -> None:
    anna = harness.person()
    order = await order_roses(anna, quantity=1)
    assert anna.last.labels == [
        "💳 Оплатить через Робокассу",
        TG,
        "✖️ Отменить заказ",
        "🏠 Меню",
    ]
    invoice = await invoice_from_order_screen(anna)
    assert invoice.labels == ["Pay 1890,00 RUB"]
    await pay(harness, anna, invoice)
    await harness.drain()
    receipt = anna.last.text
    assert receipt.startswith(f"✅ Оплата поступила. Заказ № {order} оплачен.")
    assert "Способ: Робокасса · Telegram" in receipt and "QIWI" not in receipt
    # The same update again, and once more after a restart of the jobs: nothing changes.
    payments = payments_of(harness.engine)
    for _ in range(2):
        await harness.feed(payments.replay_successful_payment(anna.id))
        await harness.drain()
    assert len(paid_messages(anna)) == 1 and await recorded(harness, order) == 1
    assert await harness.services.ledger.balance(shop_account("flowers")) == 189_000
    # The open order is paid: «My orders» no longer offers to pay it anywhere.
    await anna.send("/start")
    seen = await anna.press("🧾 Мои заказы")
    assert seen.labels[0] == f"№ {order} · {ROSES} · ✅ оплачен"
    seen = await anna.press(seen.labels[0])
    assert TG not in seen.labels and "💳 Оплатить через Робокассу" not in seen.labels
    assert (await harness.services.ledger.check_invariants()).ok


async def test_an_order_sold_out_meanwhile_is_refused_before_the_charge(
    harness: Harness,
) -> None:
    anna = harness.person()
    order = await order_roses(anna, quantity=6)  # all six bouquets
    await anna.send("/start")
    seen = await anna.press("🧾 Мои заказы")
    await anna.press(seen.labels[0])  # the open order, from «My orders»: the same two ways
    invoice = await invoice_from_order_screen(anna)
    harness.clock.advance(seconds=31 * 60)
    await harness.drain()  # the order expires and gives the bouquets back
    boris = harness.person("Борис", phone="+79120000002")
    await open_item(boris, "🏪 Цветочная мастерская «Ромашка»", "Букеты", "7 роз · 1 890,00 ₽")
    await boris.send("6")
    seen = await boris.press("🛒 Купить")  # and someone else takes them all
    assert "6 × 7 роз" in seen.text
    await pay(harness, anna, invoice)
    assert payments_of(harness.engine).refusals == [
        (anna.id, "Этот заказ уже нельзя оплатить: он оплачен, отменён или истёк.")
    ]
    assert not paid_messages(anna) and await recorded(harness, order) == 0
    assert (await harness.services.merchant.order(order)).status == "expired"


async def test_an_invoice_of_another_sum_is_refused_before_the_charge(harness: Harness) -> None:
    anna = harness.person()
    order = await order_roses(anna, quantity=1)
    invoice = await invoice_from_order_screen(anna)
    before = len(harness.engine.updates)
    await harness.feed(payments_of(harness.engine).pay(anna.id, invoice.message_id, total=100_000))
    assert len(harness.engine.updates) == before + 1  # no successful payment follows
    assert payments_of(harness.engine).refusals == [
        (anna.id, "Сумма не совпадает с заказом. Откройте заказ заново.")
    ]
    assert (await harness.services.merchant.order(order)).payable
    # The right sum still goes through.
    await pay(harness, anna, invoice)
    await harness.drain()
    assert len(paid_messages(anna)) == 1


async def test_the_owner_refunds_a_telegram_payment_with_the_same_button(
    harness: Harness,
) -> None:
    olga = await owner_of(harness, "flowers")
    anna = harness.person()
    order = await order_roses(anna, quantity=1)
    await pay(harness, anna, await invoice_from_order_screen(anna))
    await harness.drain()
    ledger = harness.services.ledger
    assert await ledger.balance(TELEGRAM_EXTERNAL) == -189_000  # charged to Anna's card
    await open_card(olga, order)
    await olga.press("↩️ Вернуть деньги")
    seen = await olga.press(f"✅ Да, вернуть {ROSES}")
    assert olga.last_answer is not None and olga.last_answer["text"] == "Деньги возвращены."
    assert f"↩️ Возврат {ROSES}: выполнен." in seen.text
    assert "Сообщение покупателю отправляется." in seen.text
    # Robokassa, the provider, returned it to the card; the shop no longer has it.
    assert await ledger.balance(TELEGRAM_EXTERNAL) == 0
    assert await ledger.balance(shop_account("flowers")) == 0
    state = await harness.services.checkout.robokassa.op_state(order)
    assert state.state_code == 60
    await harness.drain()
    assert anna.last.text == (
        f"↩️ Цветочная мастерская «Ромашка» возвращает {ROSES} за заказ № {order} (7 роз). "
        "Деньги вернутся на карту, которой вы платили в Telegram."
    )
    assert (await ledger.check_invariants()).ok
    assert harness.errors.records == []


async def test_only_shops_with_their_own_token_offer_paying_in_telegram(tmp_path: Path) -> None:
    """A token is tied to one Robokassa account: a shop with its own login needs its own."""
    shops = {
        name: ShopSecrets(
            password1=SecretStr(one), password2=SecretStr(two), password3=SecretStr(three)
        )
        for name, (one, two, three) in SECRETS.items()
    }
    shops["flowers"].telegram_provider_token = SecretStr("381764678:TEST:flowers-own")
    async with running_harness(
        tmp_path, catalogue_path=two_account_catalogue(tmp_path), shops=shops
    ) as h:
        anna = h.person()
        book = await order_book(anna)
        assert TG not in anna.last.labels  # books: its own account, no token of its own
        await anna.press_data(anna.last.message_id, f"tgp:{book}")
        assert anna.last_answer == {
            "text": "Этот заказ нельзя оплатить в Telegram.",
            "show_alert": True,
        }
        assert not [name for name, _ in h.session.calls if name == "sendInvoice"]
        order = await order_roses(anna, quantity=1)
        invoice = await invoice_from_order_screen(anna)
        assert sent_invoice(h)["provider_token"] == "381764678:TEST:flowers-own"
        await pay(h, anna, invoice)
        await h.drain()
        assert anna.last.text.startswith(f"✅ Оплата поступила. Заказ № {order} оплачен.")
        assert await h.services.ledger.balance(shop_account("flowers")) == 189_000
        # The sandbox keeps the charge in the flowers shop's own account, as Robokassa would.
        row = await h.services.db.fetchone(
            "SELECT merchant_login, state FROM rk_operations WHERE inv_id = ?", (order,)
        )
        assert row is not None and tuple(row) == ("flowers-shop", 100)
