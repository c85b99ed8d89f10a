"""The sandbox's bills and refunds at their edges: expiry to the second, a cancel with an open
bill, a second press, refusals the shop's own client reads, the result code of OpStateExt."""

from __future__ import annotations

import httpx
import pytest

from services.bills import CLEARING, BillClosed
from services.checkout import shop_account
from services.clock import to_ts
from services.robokassa import jwt_hs256
from services.wallet import wallet_account
from tests.harness import Harness, Person
from tests.helpers import (
    PHONE,
    bill_of,
    drop_callbacks,
    fund,
    next_callback_due,
    order_roses,
    paid_roses,
    register,
    to_invoice,
)

ROSES = 189_000


async def billed(harness: Harness, anna: Person) -> tuple[int, int]:
    """Anna has 5 000 ₽ in her wallet, ordered one bouquet and took the bill to her number."""
    await register(anna)
    await fund(harness, PHONE, 500_000)
    order = await order_roses(anna, quantity=1)
    await to_invoice(anna)
    return order, await bill_of(harness, order)


def returned_notes(anna: Person) -> list[str]:
    return [m.text for m in anna.bot_messages() if "возвращены туда, откуда" in m.text]


async def test_a_bill_cannot_be_paid_at_the_second_it_runs_out(harness: Harness) -> None:
    anna = harness.person()
    _, bill_id = await billed(harness, anna)
    aggregator = harness.services.aggregator
    bill = await aggregator.bill(bill_id)
    harness.clock.advance(seconds=to_ts(bill.expires_at) - to_ts(harness.clock.now()))
    with pytest.raises(BillClosed) as closed:
        await aggregator.pay_bill_from_wallet(bill_id)
    assert closed.value.status == "EXPIRED"
    assert await harness.services.ledger.balance(wallet_account(PHONE)) == 500_000
    # The expiry job records it, and the shop's OpStateExt sees the invoice cancelled.
    assert await aggregator.expire_bills() == [bill_id]
    assert (await aggregator.bill(bill_id)).status == "EXPIRED"
    state = await harness.services.checkout.robokassa.op_state(bill.inv_id)
    assert (state.result_code, state.state_code) == (0, 10)


async def test_a_second_press_on_a_paid_bill_debits_nothing_even_after_its_time(
    harness: Harness,
) -> None:
    anna = harness.person()
    _, bill_id = await billed(harness, anna)
    aggregator = harness.services.aggregator
    first = await aggregator.pay_bill_from_wallet(bill_id, method="app")
    assert first.status == "PAID"
    harness.clock.advance(hours=1)  # the bill's time is over: it is still paid, not "expired"
    again = await aggregator.pay_bill_from_wallet(bill_id, method="app")
    assert again.status == "PAID"
    assert await harness.services.ledger.balance(wallet_account(PHONE)) == 500_000 - ROSES
    assert await aggregator.expire_bills() == []
    assert (await aggregator.bill(bill_id)).status == "PAID"


async def test_a_rejected_bill_stays_rejected_when_pressed_later(harness: Harness) -> None:
    anna = harness.person()
    order, bill_id = await billed(harness, anna)
    await harness.services.merchant.cancel_order(order, anna.id)
    harness.clock.advance(hours=1)
    with pytest.raises(BillClosed) as closed:
        await harness.services.aggregator.pay_bill_from_wallet(bill_id)
    assert closed.value.status == "REJECTED"
    assert await harness.services.ledger.balance(wallet_account(PHONE)) == 500_000


async def test_a_bill_never_outlives_its_order(harness: Harness) -> None:
    anna = harness.person()
    await register(anna)
    await fund(harness, PHONE, 500_000)
    order = await order_roses(anna, quantity=1)  # pay by 12:30
    harness.clock.advance(minutes=10)
    await to_invoice(anna)
    bill = await harness.services.aggregator.bill(await bill_of(harness, order))
    order_row = await harness.services.merchant.order(order)
    assert bill.expires_at == order_row.expires_at
    # Past the order's time the invoice is over in the sandbox too, even before the shop looks.
    harness.clock.advance(minutes=20)
    assert await harness.services.aggregator.expire_bills() == [bill.id]
    state = await harness.services.checkout.robokassa.op_state(order)
    assert state.state_code == 10


async def test_cancelling_an_order_with_an_open_bill_closes_the_invoice_and_returns_nothing(
    harness: Harness,
) -> None:
    anna = harness.person()
    order, bill_id = await billed(harness, anna)
    await harness.services.merchant.cancel_order(order, anna.id)
    assert (await harness.services.aggregator.bill(bill_id)).status == "REJECTED"
    state = await harness.services.checkout.robokassa.op_state(order)
    assert state.state_code == 10  # the shop's OpStateExt: cancelled, not "waiting"
    await harness.drain()
    assert returned_notes(anna) == []  # nothing was paid, so nothing is "returned"
    assert await harness.services.ledger.balance(wallet_account(PHONE)) == 500_000


async def test_cancelling_an_order_before_any_invoice_tells_of_no_money(harness: Harness) -> None:
    anna = harness.person()
    await register(anna)
    order = await order_roses(anna, quantity=1)
    await harness.services.merchant.cancel_order(order, anna.id)
    await harness.drain()
    assert (await harness.services.merchant.order(order)).status == "cancelled"
    assert returned_notes(anna) == []


async def test_an_order_expiring_after_its_invoice_expired_tells_of_no_money(
    harness: Harness,
) -> None:
    anna = harness.person()
    order, _ = await billed(harness, anna)
    harness.clock.advance(minutes=31)
    await harness.services.aggregator.expire_bills()  # the sandbox's job first: state 10
    await harness.services.merchant.expire_due()
    await harness.drain()
    assert (await harness.services.merchant.order(order)).status == "expired"
    assert returned_notes(anna) == []
    assert await harness.services.ledger.balance(wallet_account(PHONE)) == 500_000


async def test_a_bill_to_a_number_the_operator_dropped_asks_for_a_working_number(
    harness: Harness,
) -> None:
    anna = harness.person()
    await register(anna)
    await order_roses(anna, quantity=1)
    await anna.press("💳 Оплатить через Робокассу")
    await anna.press("Visa QIWI Wallet")
    await harness.services.operator.deactivate(PHONE)
    seen = await anna.press("📱 +7 912 345-67-89 (ваш кошелёк)")
    assert seen.text.startswith(
        "Номер +7 912 345-67-89 не обслуживается оператором, кошелёк на нём заблокирован."
    )
    assert "⬅️ Другой номер" in seen.labels


async def test_refusals_of_the_refund_api_reach_the_shops_client_as_refusals(
    harness: Harness,
) -> None:
    """Robokassa's client (the shop's side) over HTTP: each refusal is `success` false with
    Robokassa's reason, and no money moves."""
    _, _, paid = await paid_roses(harness)
    robokassa = harness.services.checkout.robokassa
    async with httpx.AsyncClient() as client:
        page = await client.get(robokassa.payment_url("10.00", 777, "Открытка"))
    assert "X-Robokassa-Operation" in page.headers  # an invoice nobody paid
    unpaid_key = (await robokassa.op_state(777)).op_key
    assert unpaid_key
    refused = await robokassa.create_refund(unpaid_key)
    assert (refused.success, refused.message) == (False, "OperationNotPaid")

    op_key = (await robokassa.op_state(paid)).op_key
    assert op_key
    url = f"{robokassa.refund_url}/Refund/Create"
    async with httpx.AsyncClient() as client:
        junk_sum = await client.post(
            url, content=jwt_hs256({"OpKey": op_key, "RefundSum": "много"}, "sandbox-password-3")
        )
    assert junk_sum.json() == {"success": False, "message": "InvalidRefundSum"}
    part = await robokassa.create_refund(op_key, 50_000)
    assert part.success and part.request_id
    second = await robokassa.create_refund(op_key, 50_000)  # one refund per payment
    assert (second.success, second.message) == (False, "AlreadyRefunded")
    ledger = harness.services.ledger
    assert await ledger.balance(wallet_account(PHONE)) == 500_000 - ROSES + 50_000
    assert (await ledger.check_invariants()).ok


async def test_a_refund_for_a_shop_the_sandbox_no_longer_serves_is_not_found(
    harness: Harness,
) -> None:
    _, _, order = await paid_roses(harness)
    robokassa = harness.services.checkout.robokassa
    op_key = (await robokassa.op_state(order)).op_key
    assert op_key
    aggregator = harness.services.aggregator
    merchants = dict(aggregator.merchants)
    aggregator.merchants.clear()  # the shop's account closed at the aggregator
    try:
        answer = await robokassa.create_refund(op_key)
    finally:
        aggregator.merchants.update(merchants)
    assert (answer.success, answer.message) == (False, "OperationNotFound")
    assert await harness.services.ledger.balance(shop_account("flowers")) == ROSES
    assert await harness.services.ledger.balance(CLEARING) == 0


async def test_op_state_of_a_paid_invoice_is_a_success_the_shop_settles_on(
    harness: Harness,
) -> None:
    """Reconciliation relies on OpStateExt's result code 0 for a found invoice."""
    anna = harness.person()
    order, bill_id = await billed(harness, anna)
    aggregator = harness.services.aggregator
    drop_callbacks(aggregator)
    await aggregator.pay_bill_from_wallet(bill_id, method="app")
    state = await harness.services.checkout.robokassa.op_state(order)
    assert (state.result_code, state.state_code, state.out_sum) == (0, 100, "1890.00")
    harness.clock.advance(minutes=6)
    assert await harness.services.checkout.reconcile() == [order]
    assert (await harness.services.merchant.order(order)).status == "paid"


async def test_asking_again_the_second_a_bill_ran_out_gives_a_fresh_one_to_pay(
    harness: Harness,
) -> None:
    aggregator = harness.services.aggregator
    aggregator.bill_ttl = 600  # bills live 10 minutes, the order 30
    anna = harness.person()
    order, bill_id = await billed(harness, anna)
    first = await aggregator.bill(bill_id)
    harness.clock.advance(seconds=to_ts(first.expires_at) - to_ts(harness.clock.now()))
    fresh = await aggregator.issue_bill(first.operation_id, PHONE)
    assert fresh.id != first.id and fresh.expires_at > first.expires_at
    paid = await aggregator.pay_bill_from_wallet(fresh.id, method="app")
    assert paid.status == "PAID"
    assert (await aggregator.bill(first.id)).status == "REJECTED"  # only one bill can be paid
    assert await harness.services.ledger.balance(wallet_account(PHONE)) == 500_000 - ROSES
    await harness.drain()
    assert (await harness.services.merchant.order(order)).status == "paid"


def _refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("Connection refused", request=request)


async def test_a_result_url_on_a_shop_site_that_is_down_is_tried_again(
    harness: Harness,
) -> None:
    """The shop's server refuses the connection: the sandbox keeps the call due (2 s, then
    4 s later) and the order is paid once the site answers again."""
    anna = harness.person()
    order, bill_id = await billed(harness, anna)
    aggregator = harness.services.aggregator
    down = httpx.AsyncClient(transport=httpx.MockTransport(_refused))
    aggregator.http = lambda: down  # type: ignore[method-assign]
    await aggregator.pay_bill_from_wallet(bill_id, method="app")
    assert await aggregator.deliver_callbacks(inv_id=order) == 0
    assert await next_callback_due(aggregator) == to_ts(harness.clock.now()) + 2
    harness.clock.advance(seconds=2)
    assert await aggregator.deliver_callbacks() == 0
    assert await next_callback_due(aggregator) == to_ts(harness.clock.now()) + 4
    assert (await harness.services.merchant.order(order)).status == "awaiting"

    drop_callbacks(aggregator, False)  # the site is back
    harness.clock.advance(seconds=4)
    assert await aggregator.deliver_callbacks() == 1
    assert await next_callback_due(aggregator) is None
    assert (await harness.services.merchant.order(order)).status == "paid"
    await down.aclose()


async def test_a_paid_order_cancelled_before_its_result_url_gives_the_money_back_at_once(
    harness: Harness,
) -> None:
    """Anna paid in the app, the ResultURL is still on its way, and she cancels: the money is
    back in her wallet in that same step, not after a retry or a reconciliation later."""
    anna = harness.person()
    order, bill_id = await billed(harness, anna)
    aggregator = harness.services.aggregator
    drop_callbacks(aggregator)
    await aggregator.pay_bill_from_wallet(bill_id, method="app")
    ledger = harness.services.ledger
    assert await ledger.balance(wallet_account(PHONE)) == 500_000 - ROSES

    cancelled = await harness.services.merchant.cancel_order(order, anna.id)

    assert cancelled.status == "cancelled"
    assert await ledger.balance(wallet_account(PHONE)) == 500_000
    assert await ledger.balance(CLEARING) == 0
    report = await ledger.check_invariants()
    assert report.ok and report.stranded_orders == []
    state = await harness.services.checkout.robokassa.op_state(order)
    assert state.state_code == 60  # refunded: no ResultURL is sent for it any more
    assert await next_callback_due(aggregator) is None
    await harness.drain()
    assert returned_notes(anna) == [
        f"Оплата пришла, когда заказ № {order} (7 роз) был уже отменён.\n"
        "↩️ 1 890,00 ₽ возвращены туда, откуда пришла оплата: в QIWI-кошелёк или на баланс "
        "телефона этого номера."
    ]


async def test_the_payment_page_takes_the_largest_sum_to_the_kopeck_and_not_one_more(
    harness: Harness,
) -> None:
    """10 000 000,00 ₽ is the most one payment may be: a shop's signed request for exactly that
    opens the payment page; a kopeck more is Robokassa's error 29 and creates nothing."""
    robokassa = harness.services.checkout.robokassa
    async with httpx.AsyncClient() as client:
        largest = await client.get(robokassa.payment_url("10000000.00", 778, "Оптовый заказ"))
        too_much = await client.get(robokassa.payment_url("10000000.01", 779, "Оптовый заказ"))
    assert "X-Robokassa-Operation" in largest.headers
    assert too_much.headers.get("X-Robokassa-Error") == "29"
    assert "X-Robokassa-Operation" not in too_much.headers
    row = await harness.services.db.fetchone("SELECT COUNT(*) FROM rk_operations")
    assert row is not None and row[0] == 1
