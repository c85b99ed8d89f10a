"""Refunds: the owner gives a paid order's money back through Robokassa's Refund API (JWT)."""

from __future__ import annotations

import asyncio

import httpx

from services.checkout import shop_account
from services.operator import mobile_account
from services.robokassa import OpState, RefundRequest, RefundState, jwt_hs256
from services.wallet import wallet_account
from tests.harness import Harness, Person, Seen
from tests.helpers import PHONE, fund, mark_paid, open_card, paid_roses

ROSES = "1 890,00 ₽"


async def test_owner_refunds_a_paid_order_and_the_buyer_gets_the_money_back(
    harness: Harness,
) -> None:
    olga, anna, order = await paid_roses(harness)
    ledger = harness.services.ledger
    assert await ledger.balance(wallet_account(PHONE)) == 500_000 - 189_000
    await open_card(olga, order)
    seen = await olga.press("↩️ Вернуть деньги")
    assert seen.text.startswith(f"Вернуть покупателю {ROSES} за заказ № {order} (7 роз)?")
    assert seen.labels == [f"✅ Да, вернуть {ROSES}", "⬅️ Назад"]
    seen = await olga.press("⬅️ Назад")  # changed her mind: nothing happened
    assert "Статус: оплачен" in seen.text and "↩️ Вернуть деньги" in seen.labels
    await olga.press("↩️ Вернуть деньги")
    seen = await olga.press(f"✅ Да, вернуть {ROSES}")
    assert olga.last_answer is not None and olga.last_answer["text"] == "Деньги возвращены."
    assert f"↩️ Возврат {ROSES}: выполнен.\nСообщение покупателю отправляется." in seen.text
    assert "↩️ Вернуть деньги" not in seen.labels and "✅ Выдан" not in seen.labels
    # The money is back in Anna's wallet and has left the shop.
    assert await ledger.balance(wallet_account(PHONE)) == 500_000
    assert await ledger.balance(shop_account("flowers")) == 0
    await harness.drain()  # at most one message a second to one chat
    # Olga saw the result on her screen: no extra message for her.
    assert not [m for m in olga.bot_messages() if m.text.startswith("↩️ Заказ №")]
    assert anna.last.text.startswith(
        f"↩️ Цветочная мастерская «Ромашка» возвращает {ROSES} за заказ № {order} (7 роз)."
    )
    await anna.send("/start")
    seen = await anna.press("🧾 Мои заказы")
    assert seen.labels[0] == f"№ {order} · {ROSES} · ↩️ деньги возвращены"
    # Robokassa reports the operation as refunded, and the sale is gone from the stats.
    state = await harness.services.checkout.robokassa.op_state(order)
    assert state.state_code == 60
    await olga.send("/orders")
    seen = await olga.press("Возвраты")
    assert f"↩️ № {order} · {ROSES} · 7 роз" in seen.labels  # marked in the owner's list
    seen = await olga.press("📊 Продажи")
    assert "Сегодня: 0 заказов на 0,00 ₽" in seen.text


async def test_a_double_tap_on_refund_returns_the_money_once(harness: Harness) -> None:
    olga, anna, order = await paid_roses(harness)
    await open_card(olga, order)
    confirm = await olga.press("↩️ Вернуть деньги")
    data = confirm.data_of(f"✅ Да, вернуть {ROSES}")
    await asyncio.gather(*(olga.press_data(confirm.message_id, data) for _ in range(10)))
    assert await harness.services.ledger.balance(wallet_account(PHONE)) == 500_000
    rows = await harness.services.db.fetchall(
        "SELECT COUNT(*) FROM transfers WHERE idempotency_key LIKE '%refund%'"
    )
    assert rows[0][0] == 2  # the aggregator to the wallet, the shop to the aggregator: once each
    await harness.drain()
    told = [m for m in anna.bot_messages() if m.text.startswith("↩️")]
    assert len(told) == 1


async def test_a_stranger_cannot_refund_someone_elses_order(harness: Harness) -> None:
    olga, _, order = await paid_roses(harness)
    await open_card(olga, order)
    confirm = await olga.press("↩️ Вернуть деньги")
    mallory = harness.person("Мэллори", phone="+79990001111")
    menu = await mallory.send("/start")
    for label in (f"✅ Да, вернуть {ROSES}",):
        await mallory.press_data(menu.message_id, confirm.data_of(label))
        assert mallory.last_answer is not None and mallory.last_answer["show_alert"]
    await mallory.press_data(menu.message_id, f"o1:refund:paid:{order}:0")
    assert mallory.last_answer is not None and mallory.last_answer["show_alert"]
    assert await harness.services.checkout.refund_of(order) is None
    assert await harness.services.ledger.balance(wallet_account(PHONE)) == 500_000 - 189_000


async def test_a_refund_that_could_not_be_sent_is_sent_by_the_background_job(
    harness: Harness,
) -> None:
    olga, _, order = await paid_roses(harness)
    robokassa = harness.services.checkout.robokassa
    real_create = robokassa.create_refund
    calls = 0

    async def unreachable(
        op_key: str, refund_sum: int | None = None, items: object = None
    ) -> object:
        nonlocal calls
        calls += 1
        raise httpx.ConnectError("Robokassa is unreachable")

    robokassa.create_refund = unreachable  # type: ignore[assignment,method-assign]
    await open_card(olga, order)
    await olga.press("↩️ Вернуть деньги")
    seen = await olga.press(f"✅ Да, вернуть {ROSES}")
    assert f"↩️ Возврат {ROSES}: Робокасса его обрабатывает." in seen.text
    assert "Статус: деньги возвращаются" in seen.text
    assert calls == 1
    robokassa.create_refund = real_create  # type: ignore[method-assign]
    await harness.jobs.run_once()  # too early: a minute has not passed
    harness.clock.advance(seconds=59)
    await harness.jobs.run_once()
    assert (await harness.services.checkout.refund_of(order)).state == "requested"  # type: ignore[union-attr]
    harness.clock.advance(seconds=1)  # a minute after the request: sent again
    await harness.jobs.run_once()
    refund = await harness.services.checkout.refund_of(order)
    assert refund is not None and refund.done
    assert await harness.services.ledger.balance(wallet_account(PHONE)) == 500_000
    # Olga had moved on: the outcome comes to her as a message, with the way to the order.
    await harness.drain()
    note = olga.last
    assert note.text == f"↩️ Заказ № {order}: возврат {ROSES} выполнен."
    seen = await olga.press("📦 Открыть заказ")
    assert f"↩️ Возврат {ROSES}: выполнен" in seen.text


async def test_the_sandbox_refund_api_refuses_what_robokassa_refuses(harness: Harness) -> None:
    _, _, order = await paid_roses(harness)
    robokassa = harness.services.checkout.robokassa
    url = f"{robokassa.refund_url}/Refund/Create"
    state = await robokassa.op_state(order)
    assert state.op_key
    async with httpx.AsyncClient() as client:

        async def create(payload: dict[str, object], key: str = "sandbox-password-3") -> object:
            response = await client.post(url, content=jwt_hs256(payload, key))
            return response.json()

        wrong_key = await create({"OpKey": state.op_key}, key="not-the-password")
        assert wrong_key == {"success": False, "message": "InvalidSignature"}
        unknown = await create({"OpKey": "sandbox-999999"})
        assert unknown == {"success": False, "message": "OperationNotFound"}
        too_much = await create({"OpKey": state.op_key, "RefundSum": "1890.01"})
        assert too_much == {"success": False, "message": "NotEnoughOperationFunds"}
        junk = await client.post(url, content=b"not a token")
        assert junk.json() == {"success": False, "message": "InvalidToken"}
        first = await create({"OpKey": state.op_key, "RefundSum": "1890.00"})
        assert isinstance(first, dict) and first["success"] is True
        again = await create({"OpKey": state.op_key})
        assert again == {"success": False, "message": "AlreadyRefunded"}
        found = await client.get(
            f"{robokassa.refund_url}/Refund/GetState", params={"id": first["requestId"]}
        )
        assert found.json() == {
            "requestId": first["requestId"],
            "amount": "1890.00",
            "label": "finished",
        }
        missing = await client.get(f"{robokassa.refund_url}/Refund/GetState", params={"id": "x"})
        assert missing.status_code == 404
    assert await harness.services.ledger.balance(wallet_account(PHONE)) == 500_000


async def test_a_refund_whose_answer_was_lost_is_finished_once_by_the_job(
    harness: Harness,
) -> None:
    """Robokassa took the request but the bot died before storing its answer: no second ask."""
    _, anna, order = await paid_roses(harness)
    checkout = harness.services.checkout
    state = await checkout.robokassa.op_state(order)
    assert state.op_key
    created = await checkout.robokassa.create_refund(state.op_key, 189_000)
    assert created.success
    olga_id = (await harness.services.db.fetchone("SELECT user_id FROM shop_owners"))[0]  # type: ignore[index]
    await harness.services.db.transaction(
        lambda c: c.execute(
            "INSERT INTO refunds (order_id, amount, requested_by, created_at) VALUES (?, ?, ?, ?)",
            (order, 189_000, olga_id, 0),
        )
    )
    harness.clock.advance(seconds=61)
    await harness.jobs.run_once()
    refund = await checkout.refund_of(order)
    assert refund is not None and refund.done
    assert await harness.services.ledger.balance(wallet_account(PHONE)) == 500_000
    assert await harness.services.ledger.balance(shop_account("flowers")) == 0
    await harness.drain()
    assert len([m for m in anna.bot_messages() if m.text.startswith("↩️")]) == 1


async def ask_for_refund(olga: Person, order: int) -> Seen:
    await open_card(olga, order)
    await olga.press("↩️ Вернуть деньги")
    return await olga.press(f"✅ Да, вернуть {ROSES}")


async def test_a_refund_robokassa_is_still_processing_is_finished_by_the_job(
    harness: Harness,
) -> None:
    olga, anna, order = await paid_roses(harness)
    checkout = harness.services.checkout
    robokassa = checkout.robokassa
    real_state = robokassa.refund_state
    asked: list[str] = []

    async def processing(request_id: str) -> RefundState:
        asked.append(request_id)
        return RefundState(request_id, "1890.00", "processing")

    robokassa.refund_state = processing  # type: ignore[method-assign]
    seen = await ask_for_refund(olga, order)
    assert f"↩️ Возврат {ROSES}: Робокасса его обрабатывает." in seen.text
    assert (await checkout.refund_of(order)).state == "processing"  # type: ignore[union-attr]
    # Until Robokassa says it is done, the shop keeps the money in its books.
    assert await harness.services.ledger.balance(shop_account("flowers")) == 189_000
    await harness.jobs.run_once()  # the job asks again: still processing
    assert len(asked) == 2
    harness.clock.advance(seconds=29)
    await harness.jobs.run_once()  # and not again within half a minute
    assert len(asked) == 2
    robokassa.refund_state = real_state  # type: ignore[method-assign]
    harness.clock.advance(seconds=1)
    await harness.jobs.run_once()
    refund = await checkout.refund_of(order)
    assert refund is not None and refund.done
    assert await harness.services.ledger.balance(shop_account("flowers")) == 0
    await harness.drain()
    assert olga.last.text == f"↩️ Заказ № {order}: возврат {ROSES} выполнен."
    # A late repeat of the same answer moves nothing and tells no one again.
    request_id = asked[0]
    await checkout._check_refund(order, request_id, tell_owner=True)
    await harness.jobs.run_once()
    await harness.drain()
    assert await harness.services.ledger.balance(shop_account("flowers")) == 0
    assert await harness.services.ledger.balance(wallet_account(PHONE)) == 500_000
    assert len([m for m in anna.bot_messages() if m.text.startswith("↩️")]) == 1
    assert len([m for m in olga.bot_messages() if m.text.startswith("↩️ Заказ №")]) == 1


async def test_a_refund_robokassa_refuses_keeps_the_money_with_the_shop(harness: Harness) -> None:
    olga, anna, order = await paid_roses(harness)
    checkout = harness.services.checkout

    async def refused(
        op_key: str, refund_sum: int | None = None, items: object = None
    ) -> RefundRequest:
        return RefundRequest(False, None, "NotEnoughOperationFunds")

    checkout.robokassa.create_refund = refused  # type: ignore[method-assign]
    seen = await ask_for_refund(olga, order)
    assert f"↩️ Возврат {ROSES}: Робокасса отказала (NotEnoughOperationFunds)." in seen.text
    refund = await checkout.refund_of(order)
    assert refund is not None and refund.state == "failed" and not refund.open
    assert await harness.services.ledger.balance(shop_account("flowers")) == 189_000
    assert await harness.services.ledger.balance(wallet_account(PHONE)) == 500_000 - 189_000
    harness.clock.advance(seconds=120)
    await harness.jobs.run_once()  # a refused request is not sent again
    assert (await checkout.refund_of(order)).state == "failed"  # type: ignore[union-attr]
    await harness.drain()
    assert not [m for m in anna.bot_messages() if m.text.startswith("↩️")]


async def test_an_answer_without_a_request_id_is_a_refusal(harness: Harness) -> None:
    olga, _, order = await paid_roses(harness)
    checkout = harness.services.checkout

    async def no_id(
        op_key: str, refund_sum: int | None = None, items: object = None
    ) -> RefundRequest:
        return RefundRequest(True, None, "")

    checkout.robokassa.create_refund = no_id  # type: ignore[method-assign]
    seen = await ask_for_refund(olga, order)
    assert f"↩️ Возврат {ROSES}: Робокасса отказала (refused)." in seen.text
    assert await harness.services.ledger.balance(shop_account("flowers")) == 189_000


async def test_a_refund_robokassa_cancels_later_is_reported_to_the_owner(
    harness: Harness,
) -> None:
    olga, anna, order = await paid_roses(harness)
    checkout = harness.services.checkout
    robokassa = checkout.robokassa
    real_state = robokassa.refund_state

    async def processing(request_id: str) -> RefundState:
        return RefundState(request_id, "1890.00", "processing")

    async def canceled(request_id: str) -> RefundState:
        return RefundState(request_id, "1890.00", "canceled")

    robokassa.refund_state = processing  # type: ignore[method-assign]
    await ask_for_refund(olga, order)
    robokassa.refund_state = canceled  # type: ignore[method-assign]
    await harness.jobs.run_once()
    robokassa.refund_state = real_state  # type: ignore[method-assign]
    refund = await checkout.refund_of(order)
    assert refund is not None and refund.state == "canceled"
    assert refund.message == "Robokassa: canceled"
    assert await harness.services.ledger.balance(shop_account("flowers")) == 189_000
    await harness.drain()
    assert olga.last.text == (
        f"↩️ Заказ № {order}: Робокасса отклонила возврат {ROSES} (Robokassa: canceled)."
    )
    assert not [m for m in anna.bot_messages() if m.text.startswith("↩️")]


async def test_forged_owner_buttons_tell_a_stranger_nothing_and_change_nothing(
    harness: Harness,
) -> None:
    olga, _, refunded = await paid_roses(harness)
    await open_card(olga, refunded)
    await olga.press("↩️ Вернуть деньги")
    await olga.press(f"✅ Да, вернуть {ROSES}")
    merchant = harness.services.merchant
    roses = await harness.services.db.fetchone("SELECT id FROM items WHERE sku = 'roses-7'")
    assert roses is not None
    paid = (await merchant.create_order(77, roses[0], 1, buyer_name="Борис", contact="")).id
    await mark_paid(merchant, paid)
    # Another shop's owner is as much a stranger to these orders as anyone.
    bookseller = harness.person("Виктор", phone="+79990003333")
    token = await merchant.create_invite("books")
    await bookseller.send(f"/start owner-{token}")
    mallory = harness.person("Мэллори", phone="+79990001111")
    db = harness.services.db
    before = await db.fetchall("SELECT id, status, fulfilled_at FROM orders ORDER BY id")
    refunds = await db.fetchall("SELECT * FROM refunds ORDER BY order_id")
    outbox = await db.fetchall("SELECT id FROM outbox")
    for stranger in (mallory, bookseller):
        menu = await stranger.send("/start")
        for order in (paid, refunded, 999_999):
            for action in ("card", "done", "refund", "refundok"):
                await stranger.press_data(menu.message_id, f"o1:{action}:paid:{order}:0")
                assert stranger.last_answer == {
                    "text": "Это заказ не из вашего магазина.",
                    "show_alert": True,
                }, (action, order)
                assert stranger.last.message_id == menu.message_id
                assert "Заказ №" not in stranger.last.text
    menu = await mallory.send("/start")
    for data in ("o1:orders:paid:0:0", "o1:stats:paid:0:0", "m1:orders"):
        await mallory.press_data(menu.message_id, data)
        assert mallory.last_answer is not None and mallory.last_answer["show_alert"]
        assert mallory.last_answer["text"].startswith("Этот раздел — для владельцев магазинов.")
    assert await db.fetchall("SELECT id, status, fulfilled_at FROM orders ORDER BY id") == before
    assert await db.fetchall("SELECT * FROM refunds ORDER BY order_id") == refunds
    assert await db.fetchall("SELECT id FROM outbox") == outbox
    # The owner's own buttons still work.
    await open_card(olga, paid)
    seen = await olga.press("✅ Выдан")
    assert "Статус: выдан" in seen.text


async def test_a_refund_for_a_payment_robokassa_does_not_know_fails_at_once(
    harness: Harness,
) -> None:
    olga, anna, order = await paid_roses(harness)
    checkout = harness.services.checkout

    async def unknown(inv_id: int) -> OpState:
        return OpState(3, "Информация об операции не найдена")

    checkout.robokassa.op_state = unknown  # type: ignore[method-assign]
    refund = await checkout.refund(order, olga.id)
    assert refund.state == "failed" and refund.message == "OpStateExt result 3"
    harness.clock.advance(seconds=120)
    await harness.jobs.run_once()  # not stuck as "requested", so nothing is sent again
    assert (await checkout.refund_of(order)).state == "failed"  # type: ignore[union-attr]
    assert await harness.services.ledger.balance(shop_account("flowers")) == 189_000
    await harness.drain()
    assert not [m for m in anna.bot_messages() if m.text.startswith("↩️")]


async def test_a_late_cancel_of_a_finished_refund_changes_nothing(harness: Harness) -> None:
    olga, _, order = await paid_roses(harness)
    checkout = harness.services.checkout
    await ask_for_refund(olga, order)
    row = await harness.services.db.fetchone(
        "SELECT request_id FROM refunds WHERE order_id = ?", (order,)
    )
    assert row is not None and (await checkout.refund_of(order)).done  # type: ignore[union-attr]

    async def canceled(request_id: str) -> RefundState:
        return RefundState(request_id, "1890.00", "canceled")

    checkout.robokassa.refund_state = canceled  # type: ignore[method-assign]
    await checkout._check_refund(order, row[0], tell_owner=True)  # a stale answer
    assert (await checkout.refund_of(order)).done  # type: ignore[union-attr]
    await harness.drain()
    assert not [m for m in olga.bot_messages() if "отклонила" in m.text]
    assert await harness.services.ledger.balance(shop_account("flowers")) == 0
    assert await harness.services.ledger.balance(wallet_account(PHONE)) == 500_000


async def test_a_refund_to_a_full_wallet_goes_to_the_phone_balance(harness: Harness) -> None:
    olga, _, order = await paid_roses(harness)
    ledger = harness.services.ledger
    await fund(harness, PHONE, 1_500_000 - 311_000)  # topped up to the wallet's limit since
    assert await ledger.balance(wallet_account(PHONE)) == 1_500_000
    mobile = await ledger.balance(mobile_account(PHONE))
    refund = await harness.services.checkout.refund(order, olga.id)
    assert refund.done
    assert await ledger.balance(wallet_account(PHONE)) == 1_500_000
    assert await ledger.balance(mobile_account(PHONE)) == mobile + 189_000
    assert await ledger.balance(shop_account("flowers")) == 0
    assert (await ledger.check_invariants()).ok


async def test_a_refund_after_the_wallet_was_blocked_goes_to_the_phone_balance(
    harness: Harness,
) -> None:
    olga, _, order = await paid_roses(harness)
    ledger = harness.services.ledger
    await harness.services.operator.deactivate(PHONE)  # the number lapsed: wallet blocked
    mobile = await ledger.balance(mobile_account(PHONE))
    refund = await harness.services.checkout.refund(order, olga.id)
    assert refund.done
    assert await ledger.balance(wallet_account(PHONE)) == 500_000 - 189_000
    assert await ledger.balance(mobile_account(PHONE)) == mobile + 189_000
    assert (await ledger.check_invariants()).ok
