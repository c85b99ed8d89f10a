"""Buying and paying through Robokassa with Visa QIWI Wallet, end to end over loopback HTTP."""

from __future__ import annotations

import asyncio
import re

import httpx

from services.checkout import shop_account
from services.wallet import wallet_account
from tests.harness import Harness
from tests.helpers import (
    PHONE,
    fund,
    order_roses,
    owner_of,
    paid_operation,
    pay_roses_in_app,
    register,
    result_url,
    to_invoice,
)


async def test_buy_pay_from_wallet_owner_notified_once_buyer_gets_receipt(harness: Harness) -> None:
    olga = await owner_of(harness, "flowers")
    anna = harness.person()
    secret = await register(anna)
    await fund(harness, PHONE, 1_000_000)
    order = await order_roses(anna)
    await to_invoice(anna)
    await anna.press("💻 На сайте QIWI")
    seen = await anna.send(secret)
    assert seen.text.startswith(f"💸 QIWI принял платёж за заказ № {order}")
    # Paid is announced only after ResultURL: the receipt comes through the outbox.
    await harness.jobs.run_once()
    assert anna.last.text.startswith(f"✅ Оплата поступила. Заказ № {order} оплачен.")
    assert "ЧЕК по заказу" in anna.last.text and "3 780,00 ₽" in anna.last.text
    owner_notes = [m for m in olga.bot_messages() if m.text.startswith("🛒 Новый оплаченный заказ")]
    assert len(owner_notes) == 1
    assert f"№ {order}" in owner_notes[0].text and "2 × 7 роз = 3 780,00 ₽" in owner_notes[0].text
    assert "Анна, +7 912 345-67-89" in owner_notes[0].text
    await harness.jobs.run_once()
    assert len([m for m in olga.bot_messages() if m.text.startswith("🛒")]) == 1
    ledger = harness.services.ledger
    assert await ledger.balance(wallet_account(PHONE)) == 1_000_000 - 378_000
    assert await ledger.balance(shop_account("flowers")) == 378_000
    assert (await ledger.check_invariants()).ok
    stored = await harness.services.merchant.order(order)
    assert stored.status == "paid"


async def test_pay_in_the_app_with_one_tap(harness: Harness) -> None:
    await pay_roses_in_app(harness, harness.person())


async def test_pay_at_the_terminal_with_the_remainder_to_the_mobile_balance(
    harness: Harness,
) -> None:
    anna = harness.person()
    await register(anna)
    await anna.send("/start")
    await anna.press("🛍 Магазины")
    await anna.press("🏪 Книжная лавка «Переплёт»")
    await anna.press("Художественная литература")
    await anna.press("И. Ильф, Е. Петров. Двенадцать стульев · 549,50 ₽")
    seen = await anna.press("🛒 Купить")
    order = int(re.search(r"Заказ № (\d+)", seen.text).group(1))  # type: ignore[union-attr]
    await to_invoice(anna)
    seen = await anna.press("🏧 В терминале QIWI")
    assert "«Оплатить счёт»" in seen.text and "К оплате: 549,50 ₽" in seen.text
    await anna.press("500 ₽")
    await anna.press("✅ Оплатить")
    assert anna.last_answer == {
        "text": "Не хватает для оплаты счёта: внесите ещё 49,50 ₽.",
        "show_alert": True,
    }
    await anna.press("50 ₽")
    seen = await anna.press("✅ Оплатить")
    assert "Куда зачислить остаток 0,50 ₽?" in seen.text
    seen = await anna.press("📱 На баланс телефона")
    receipt = anna.bot_messages()[-2].text
    assert "Оплачено: 549,50 ₽" in receipt and "Остаток 0,50 ₽ на баланс телефона" in receipt
    await harness.jobs.run_once()
    assert anna.last.text.startswith(f"✅ Оплата поступила. Заказ № {order} оплачен.")
    assert await harness.services.operator.mobile_balance(PHONE) == 50
    assert await harness.services.ledger.balance(shop_account("books")) == 54950
    assert (await harness.services.ledger.check_invariants()).ok


async def test_no_wallet_on_the_number_then_registration_then_the_same_invoice(
    harness: Harness,
) -> None:
    boris = harness.person("Борис", phone="+79160001122")
    order = await order_roses(boris, quantity=1)
    await boris.press("💳 Оплатить через Робокассу")
    seen = await boris.press("Visa QIWI Wallet")
    seen = await boris.send("+7 916 000-11-22")
    assert seen.text.startswith(
        "Оплата не прошла: на номер +7 916 000-11-22 не зарегистрирован QIWI-кошелёк.\n"
    )
    await boris.press("👛 Завести кошелёк")
    await boris.share_contact()
    code = re.search(r"Код подтверждения: (\d{6})", boris.bot_messages()[-2].text)
    assert code
    await boris.send(code.group(1))
    assert "💳 Вернуться к счёту" in boris.last.labels
    await fund(harness, "+79160001122", 200_000)
    seen = await boris.press("💳 Вернуться к счёту")
    assert "выставлен на +7 916 *** ** 22" in seen.text
    await boris.press("📱 В приложении")
    await harness.jobs.run_once()
    assert boris.last.text.startswith(f"✅ Оплата поступила. Заказ № {order} оплачен.")


async def test_not_enough_money_offers_a_top_up_and_a_way_back(harness: Harness) -> None:
    anna = harness.person()
    secret = await register(anna)
    await fund(harness, PHONE, 100_000)
    await order_roses(anna, quantity=1)
    await to_invoice(anna)
    await anna.press("💻 На сайте QIWI")
    seen = await anna.send(secret)
    assert seen.text == "В кошельке не хватает 890,00 ₽."
    assert seen.labels == ["💵 Пополнить", "💳 Вернуться к счёту"]
    await fund(harness, PHONE, 100_000)
    await anna.press("💳 Вернуться к счёту")
    await anna.press("📱 В приложении")
    await harness.jobs.run_once()
    assert anna.last.text.startswith("✅ Оплата поступила.")


async def test_expired_invoice_cancels_the_order_and_releases_stock(harness: Harness) -> None:
    anna = harness.person()
    await register(anna)
    await fund(harness, PHONE, 1_000_000)
    order = await order_roses(anna, quantity=3)
    await to_invoice(anna)
    harness.clock.advance(minutes=31)
    await harness.jobs.run_once()
    assert anna.last.text.startswith(f"⌛ Заказ № {order} (7 роз) не оплачен вовремя и отменён.")
    await anna.press("📱 В приложении")
    texts = [m.text for m in anna.bot_messages()]
    assert f"Срок счёта истёк, заказ № {order} отменён." in texts  # the invoice screen, edited
    item = await harness.services.merchant.item(
        (await harness.services.merchant.order(order)).item_id
    )
    assert item.stock == 6
    assert await harness.services.ledger.balance(wallet_account(PHONE)) == 1_000_000


async def test_twenty_concurrent_pay_presses_debit_once(harness: Harness) -> None:
    anna = harness.person()
    await register(anna)
    await fund(harness, PHONE, 1_000_000)
    order = await order_roses(anna, quantity=1)
    invoice = await to_invoice(anna)
    del invoice
    screen = anna.last
    data = screen.data_of("📱 В приложении")
    await asyncio.gather(*(anna.press_data(screen.message_id, data) for _ in range(20)))
    await harness.jobs.run_once()
    ledger = harness.services.ledger
    assert await ledger.balance(wallet_account(PHONE)) == 1_000_000 - 189_000
    assert await ledger.balance(shop_account("flowers")) == 189_000
    receipts = [m for m in anna.bot_messages() if m.text.startswith("✅ Оплата поступила")]
    assert len(receipts) == 1
    assert (await harness.services.merchant.order(order)).status == "paid"
    assert (await ledger.check_invariants()).ok


async def test_twenty_concurrent_result_url_deliveries_settle_once(harness: Harness) -> None:
    anna = harness.person()
    order = await paid_operation(harness, anna)
    aggregator = harness.services.aggregator
    row = await harness.services.db.fetchone(
        "SELECT * FROM rk_operations WHERE inv_id = ?", (order,)
    )
    assert row is not None
    op = (await aggregator.op_state(row["merchant_login"], str(order), "x"))[1]
    del op
    from services.aggregator import _operation

    params = aggregator.result_params(_operation(row))
    async with httpx.AsyncClient() as client:
        answers = await asyncio.gather(
            *(client.post(result_url(harness), data=params) for _ in range(20))
        )
    assert {a.text for a in answers} == {f"OK{order}"}
    await harness.jobs.run_once()
    ledger = harness.services.ledger
    assert await ledger.balance(shop_account("flowers")) == 189_000
    assert len([m for m in anna.bot_messages() if m.text.startswith("✅ Оплата")]) == 1
    assert (await ledger.check_invariants()).ok


async def test_result_url_refuses_forgeries_and_changes_nothing(harness: Harness) -> None:
    anna = harness.person()
    order = await paid_operation(harness, anna)
    aggregator = harness.services.aggregator
    row = await harness.services.db.fetchone(
        "SELECT * FROM rk_operations WHERE inv_id = ?", (order,)
    )
    from services.aggregator import _operation

    good = aggregator.result_params(_operation(row))  # type: ignore[arg-type]
    robokassa = harness.services.robokassa
    assert robokassa is not None
    forged_amount = {
        **good,
        "OutSum": "1.00",
        "SignatureValue": robokassa.result_signature("1.00", order, {"Shp_shop": "flowers"}),
    }
    unknown = {
        **good,
        "InvId": "999999",
        "SignatureValue": robokassa.result_signature(
            good["OutSum"], 999999, {"Shp_shop": "flowers"}
        ),
    }
    shp_swapped = {
        **good,
        "Shp_shop": "books",
        "SignatureValue": robokassa.result_signature(good["OutSum"], order, {"Shp_shop": "books"}),
    }
    cases = {
        "forged signature": {**good, "SignatureValue": "0" * 32},
        "tampered OutSum": {**good, "OutSum": "1.00"},
        "Shp tampering": {**good, "Shp_shop": "books"},
        "signed wrong amount": forged_amount,
        "unknown InvId": unknown,
        "signed Shp of another shop": shp_swapped,
        "missing signature": {k: v for k, v in good.items() if k != "SignatureValue"},
    }
    async with httpx.AsyncClient() as client:
        for name, params in cases.items():
            response = await client.post(result_url(harness), data=params)
            assert response.status_code == 400, name
            assert (await harness.services.merchant.order(order)).status == "awaiting", name
        settled = await harness.services.db.fetchone(
            "SELECT COUNT(*) FROM transfers WHERE to_account LIKE 'shop:%'"
        )
        assert settled is not None and settled[0] == 0
        first = await client.get(result_url(harness), params=good)
        replay = await client.post(result_url(harness), data=good)
    assert first.text == replay.text == f"OK{order}"
    assert await harness.services.ledger.balance(shop_account("flowers")) == 189_000


async def test_reconciliation_settles_a_dropped_callback(harness: Harness) -> None:
    olga = await owner_of(harness, "flowers")
    anna = harness.person()
    order = await paid_operation(harness, anna)
    await harness.jobs.run_once()
    assert (await harness.services.merchant.order(order)).status == "awaiting"
    harness.clock.advance(minutes=6)
    await harness.jobs.run_once()
    assert (await harness.services.merchant.order(order)).status == "paid"
    await harness.jobs.run_once()
    assert anna.last.text.startswith(f"✅ Оплата поступила. Заказ № {order} оплачен.")
    assert len([m for m in olga.bot_messages() if m.text.startswith("🛒")]) == 1


async def test_success_and_fail_pages_prove_nothing(harness: Harness) -> None:
    base = result_url(harness).removesuffix("/result")
    async with httpx.AsyncClient() as client:
        success = await client.get(f"{base}/success", params={"InvId": "1001"})
        fail = await client.get(f"{base}/fail")
    assert "Как только платёж подтвердится" in success.text
    assert "Платёж не прошёл" in fail.text


async def test_the_health_check_answers_with_the_schema_version(harness: Harness) -> None:
    """What a monitor or a deploy script polls before sending the shop's traffic here."""
    base = result_url(harness).removesuffix("/robokassa/result")
    async with httpx.AsyncClient() as client:
        health = await client.get(f"{base}/healthz")
    assert health.status_code == 200
    assert health.json() == {
        "status": "ok",
        "schema": await harness.services.db.schema_version(),
    }
