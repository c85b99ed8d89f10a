"""Paying inside Telegram with Robokassa as the provider, over the emulator's Bot API:
sendInvoice checked like Telegram, pre-checkout within 10 s, the order settled exactly once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from emulator.engine import TelegramError
from emulator.payments import DECLINED_CARD, payments_of
from handlers.callbacks import TgPayCb
from services.checkout import shop_account
from services.tgpay import Refusal
from tests.harness import Harness, Person, Seen
from tests.helpers import order_roses
from tests.live import running_live


async def invoice_for(h: Harness, anna: Person, order: int) -> Seen:
    menu = anna.last
    await anna.press_data(menu.message_id, TgPayCb(order=order).pack())
    invoice = anna.last
    assert invoice.raw["kind"] == "invoice", invoice
    return invoice


async def pay(h: Harness, anna: Person, invoice: Seen, card: str = "4242424242424242") -> None:
    """Tap «Pay»: Telegram asks the bot, then (if it agreed) sends the successful payment."""
    before = len(h.engine.updates)
    await h.feed(payments_of(h.engine).pay(anna.id, invoice.message_id, card=card))
    for update in h.engine.updates[before + 1 :]:
        await h.feed(update)


async def recorded(h: Harness, order: int) -> int:
    row = await h.services.db.fetchone(
        "SELECT COUNT(*) FROM tg_payments WHERE order_id = ?", (order,)
    )
    assert row is not None
    return int(row[0])


def sent_invoice(h: Harness) -> dict[str, Any]:
    return [params for name, params in h.session.calls if name == "sendInvoice"][-1]


async def test_an_order_paid_inside_telegram_is_settled_once(harness: Harness) -> None:
    anna = harness.person()
    order = await order_roses(anna, quantity=1)
    invoice = await invoice_for(harness, anna, order)
    assert invoice.text == f"Заказ № {order}\n7 роз × 1, Цветочная мастерская «Ромашка»"
    params = sent_invoice(harness)
    assert params["currency"] == "RUB" and params["payload"] == f"order:{order}"
    assert json.loads(params["prices"]) == [{"label": "7 роз", "amount": 189_000}]
    assert params["provider_data"] == (
        f'{{"InvoiceId":{order},"Receipt":{{"sno":"usn_income","items":[{{"name":"7 роз",'
        '"quantity":1,"sum":1890.00,"tax":"none","payment_method":"full_payment",'
        '"payment_object":"commodity"}]}}'
    )
    await pay(harness, anna, invoice)
    await harness.drain()
    assert anna.last.text.startswith(f"✅ Оплата поступила. Заказ № {order} оплачен.")
    ledger = harness.services.ledger
    assert await ledger.balance(shop_account("flowers")) == 189_000
    # Telegram sends the same update again: nothing changes.
    await harness.feed(payments_of(harness.engine).replay_successful_payment(anna.id))
    await harness.drain()
    assert await ledger.balance(shop_account("flowers")) == 189_000
    assert len([m for m in anna.bot_messages() if m.text.startswith("✅ Оплата")]) == 1
    assert await recorded(harness, order) == 1
    assert (await ledger.check_invariants()).ok


async def test_a_cancelled_or_expired_order_is_refused_before_the_charge(harness: Harness) -> None:
    anna = harness.person()
    order = await order_roses(anna, quantity=1)
    invoice = await invoice_for(harness, anna, order)
    await harness.services.merchant.cancel_order(order, anna.id)
    await pay(harness, anna, invoice)
    refusals = payments_of(harness.engine).refusals
    assert refusals == [(anna.id, "Этот заказ уже нельзя оплатить: он оплачен, отменён или истёк.")]
    second = await order_roses(anna, quantity=1)
    invoice = await invoice_for(harness, anna, second)
    harness.clock.advance(seconds=31 * 60)
    await pay(harness, anna, invoice)
    assert refusals[-1][1].startswith("Этот заказ уже нельзя оплатить")
    assert not [m for m in anna.bot_messages() if m.text.startswith("✅ Оплата")]


async def test_forged_invoice_buttons_are_refused_politely(harness: Harness) -> None:
    anna = harness.person()
    owner = harness.person("Борис")
    order = await order_roses(owner, quantity=1)
    await anna.send("/start")
    for forged in (order, 2**31, 0):
        await anna.press_data(anna.last.message_id, f"tgp:{forged}")
        assert anna.last_answer == {
            "text": "Этого заказа нет среди ваших.",
            "show_alert": True,
        }, forged
    # A number no order can have is an out-of-date button, as everywhere in the bot.
    await anna.press_data(anna.last.message_id, f"tgp:{10**20}")
    assert anna.last_answer == {
        "text": "Эта кнопка устарела. Откройте меню командой /start.",
        "show_alert": True,
    }
    assert not [name for name, _ in harness.session.calls if name == "sendInvoice"]


async def test_a_declined_card_pays_nothing(harness: Harness) -> None:
    anna = harness.person()
    order = await order_roses(anna, quantity=1)
    await pay(harness, anna, await invoice_for(harness, anna, order), card=DECLINED_CARD)
    assert payments_of(harness.engine).refusals == [(anna.id, "Card declined")]
    assert (await harness.services.merchant.order(order)).payable
    assert await recorded(harness, order) == 0


async def test_pre_checkout_refuses_another_sum_or_currency(harness: Harness) -> None:
    anna = harness.person()
    order = await order_roses(anna, quantity=1)
    payments = harness.services.telegram_payments
    assert await payments.pre_checkout(f"order:{order}", "RUB", 189_000) is None
    assert await payments.pre_checkout(f"order:{order}", "RUB", 1) is Refusal.wrong_amount
    assert await payments.pre_checkout(f"order:{order}", "USD", 189_000) is Refusal.wrong_amount
    assert await payments.pre_checkout("order:999999", "RUB", 189_000) is Refusal.unknown
    assert await payments.pre_checkout("bill:4", "RUB", 189_000) is Refusal.unknown


async def test_a_payment_of_the_wrong_amount_is_recorded_and_never_settles(
    harness: Harness,
) -> None:
    anna = harness.person()
    order = await order_roses(anna, quantity=1)
    message = harness.engine._user_message(harness.engine.person(anna.id), "text", None)
    message.pop("text")
    message["successful_payment"] = {
        "currency": "RUB",
        "total_amount": 100,
        "invoice_payload": f"order:{order}",
        "telegram_payment_charge_id": "tg-odd-1",
        "provider_payment_charge_id": "rk-odd-1",
    }
    await harness.feed(harness.engine._push("message", message))
    assert anna.last.text == (
        f"Оплата заказа № {order} не совпадает с заказом. Магазин вернёт её; заказ не оплачен."
    )
    assert (await harness.services.merchant.order(order)).payable
    assert await recorded(harness, order) == 1
    assert [e.getMessage() for e in harness.errors.records] == [
        f"Telegram payment 'tg-odd-1' for order {order} kept aside: wrong_amount (100 RUB)"
    ]
    harness.errors.records.clear()


def invoice_params(**changes: Any) -> dict[str, Any]:
    params = {
        "chat_id": 101,
        "title": "Заказ № 1",
        "description": "7 роз",
        "payload": "order:1",
        "provider_token": "381764678:TEST:1",
        "currency": "RUB",
        "prices": json.dumps([{"label": "7 роз", "amount": 189_000}]),
    }
    params.update(changes)
    return {k: v for k, v in params.items() if v is not None}


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"payload": "x" * 129}, "INVOICE_PAYLOAD_INVALID"),
        ({"payload": "я" * 65}, "INVOICE_PAYLOAD_INVALID"),  # 130 bytes
        ({"provider_token": None}, "PAYMENT_PROVIDER_INVALID"),
        ({"currency": "RUR"}, "CURRENCY_INVALID"),
        ({"title": "Т" * 33}, "INVOICE_TITLE_INVALID"),
        ({"prices": json.dumps([{"label": "x", "amount": 1.5}])}, "amount is not an integer"),
        ({"prices": json.dumps([{"label": "x", "amount": 0}])}, "INVOICE_AMOUNT_INVALID"),
        ({"prices": "[]"}, "non-empty"),
    ],
)
async def test_the_emulator_checks_send_invoice_like_telegram(
    harness: Harness, changes: dict[str, Any], error: str
) -> None:
    harness.person(user_id=101)
    assert harness.engine.call("sendInvoice", invoice_params(payload="x" * 128))["invoice"]
    with pytest.raises(TelegramError, match=error):
        harness.engine.call("sendInvoice", invoice_params(**changes))


async def test_an_answer_after_ten_seconds_is_too_late(harness: Harness) -> None:
    anna = harness.person(user_id=101)
    sent = harness.engine.call("sendInvoice", invoice_params())
    update = payments_of(harness.engine).pay(anna.id, sent["message_id"])
    query_id = update["pre_checkout_query"]["id"]
    harness.clock.advance(seconds=11)
    with pytest.raises(TelegramError, match="query is too old"):
        harness.engine.call("answerPreCheckoutQuery", {"pre_checkout_query_id": query_id, "ok": 1})
    with pytest.raises(TelegramError, match="error_message is required"):
        update = payments_of(harness.engine).pay(anna.id, sent["message_id"])
        harness.engine.call(
            "answerPreCheckoutQuery",
            {"pre_checkout_query_id": update["pre_checkout_query"]["id"], "ok": "false"},
        )


async def test_paid_in_telegram_over_the_emulators_http_api(tmp_path: Path) -> None:
    """The real bot polls the emulator; the buyer taps «Pay» through the driver API."""
    async with running_live(tmp_path) as live:
        anna = live.person()
        order = await order_roses(anna, quantity=1)  # type: ignore[arg-type]
        invoice = await anna.press_data(anna.last.message_id, TgPayCb(order=order).pack())
        assert invoice.raw["kind"] == "invoice"
        assert invoice.raw["inline_keyboard"] == [[{"text": "Pay 1890,00 RUB", "pay": "true"}]]
        response = await live.client.post(
            f"/api/users/{anna.id}/pay", json={"message_id": invoice.message_id}
        )
        assert response.status_code == 200, response.text
        await live.settle()
        seen = await anna.wait_for(f"✅ Оплата поступила. Заказ № {order} оплачен.")
        assert "ЧЕК по заказу" in seen.text
        ledger = live.services.ledger
        assert await ledger.balance(shop_account("flowers")) == 189_000
        again = await live.client.post(
            f"/api/users/{anna.id}/pay", json={"message_id": invoice.message_id}
        )
        assert again.status_code == 400 and "paid already" in again.text
        missing = await live.client.post(f"/api/users/{anna.id}/pay", json={"message_id": 999})
        assert missing.status_code == 404
        assert live.errors.records == []
