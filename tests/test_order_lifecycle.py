"""Money for an order that can no longer be paid goes back; ResultURL is not retried forever."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest

from services.aggregator import CALLBACK_GIVE_UP_AFTER, CALLBACK_MAX_TRIES, CLEARING, _operation
from services.bills import BillClosed
from services.checkout import Checkout
from services.clock import to_ts
from services.robokassa import OpState, RefundRequest
from services.wallet import wallet_account
from tests.harness import Harness, Person
from tests.helpers import (
    PHONE,
    bill_of,
    drop_callbacks,
    fund,
    next_callback_due,
    order_roses,
    owner_of,
    paid_operation,
    pay_roses_in_app,
    register,
    to_invoice,
)

ROSES = 189_000


async def paid_after_cancel(harness: Harness, anna: Person) -> int:
    """As with the real Robokassa, which never hears of the shop's cancel: the bill stays open,
    Anna cancels the order, then the bill is paid anyway (its ResultURL lost for now)."""
    services = harness.services
    services.merchant.release_hooks.clear()
    await register(anna)
    await fund(harness, PHONE, 500_000)
    order = await order_roses(anna, quantity=1)
    await to_invoice(anna)
    await services.merchant.cancel_order(order, anna.id)
    drop_callbacks(services.aggregator)
    await services.aggregator.pay_bill_from_wallet(await bill_of(harness, order), method="app")
    assert await services.ledger.balance(wallet_account(PHONE)) == 500_000 - ROSES
    report = await services.ledger.check_invariants()
    assert report.stranded_orders == [order]  # the new invariant sees the stuck money
    return order


async def test_a_payment_whose_confirmation_was_lost_goes_back_when_the_order_expires(
    harness: Harness,
) -> None:
    anna = harness.person()
    order = await paid_operation(harness, anna)  # paid in the app, ResultURL dropped
    ledger = harness.services.ledger
    assert await ledger.balance(wallet_account(PHONE)) == 1_000_000 - ROSES
    harness.clock.advance(minutes=31)
    await harness.drain()
    assert (await harness.services.merchant.order(order)).status == "expired"
    assert await ledger.balance(wallet_account(PHONE)) == 1_000_000
    assert await ledger.balance(CLEARING) == 0
    returned = [m for m in anna.bot_messages() if "возвращены туда, откуда" in m.text]
    assert len(returned) == 1
    assert returned[0].text == (
        f"Оплата пришла, когда срок заказа № {order} (7 роз) уже истёк.\n"
        "↩️ 1 890,00 ₽ возвращены туда, откуда пришла оплата: в QIWI-кошелёк или на баланс "
        "телефона этого номера."
    )
    assert not [m for m in anna.bot_messages() if m.text.startswith("✅ Оплата поступила")]
    # The late ResultURL is no longer sent: the operation is refunded.
    drop_callbacks(harness.services.aggregator, False)
    harness.clock.advance(hours=1)
    await harness.drain()
    assert (await harness.services.merchant.order(order)).status == "expired"
    assert (await ledger.check_invariants()).ok


async def test_result_url_for_a_cancelled_order_answers_ok_and_the_money_goes_back(
    harness: Harness,
) -> None:
    anna = harness.person()
    order = await paid_after_cancel(harness, anna)
    services = harness.services
    drop_callbacks(services.aggregator, False)
    assert await services.aggregator.deliver_callbacks() == 1  # answered OK{InvId}, not 500
    assert await services.ledger.balance(wallet_account(PHONE)) == 500_000
    assert (await services.merchant.order(order)).status == "cancelled"
    assert (await services.ledger.check_invariants()).ok
    # A replayed ResultURL is answered the same way and returns nothing twice.
    row = await services.db.fetchone("SELECT * FROM rk_operations WHERE inv_id = ?", (order,))
    assert row is not None
    params = services.aggregator.result_params(_operation(row))
    merchant = next(iter(services.aggregator.merchants.values()))
    async with httpx.AsyncClient() as client:
        replay = await client.post(merchant.result_url, data=params)
    assert replay.status_code == 200 and replay.text == f"OK{order}"
    await harness.drain()
    returned = [m for m in anna.bot_messages() if "возвращены туда, откуда" in m.text]
    assert len(returned) == 1
    assert returned[0].text.startswith(
        f"Оплата пришла, когда заказ № {order} (7 роз) был уже отменён."
    )
    assert await services.ledger.balance(wallet_account(PHONE)) == 500_000
    await anna.send("/start")
    seen = await anna.press("🧾 Мои заказы")
    assert seen.labels[0] == f"№ {order} · 1 890,00 ₽ · ↩️ деньги возвращены"


async def test_reconciliation_returns_money_that_reached_a_cancelled_order(
    harness: Harness,
) -> None:
    anna = harness.person()
    order = await paid_after_cancel(harness, anna)
    harness.clock.advance(minutes=6)
    services = harness.services
    assert await services.checkout.reconcile() == []  # found, but not a sale of the shop's
    await harness.drain()
    assert await services.ledger.balance(wallet_account(PHONE)) == 500_000
    assert (await services.ledger.check_invariants()).ok
    assert len([m for m in anna.bot_messages() if "возвращены туда, откуда" in m.text]) == 1
    assert (await services.merchant.order(order)).status == "cancelled"


async def test_result_url_retries_stop_and_reconciliation_settles_the_order(
    harness: Harness,
) -> None:
    anna = harness.person()
    order = await paid_operation(harness, anna)
    aggregator = harness.services.aggregator
    tries = 0
    for _ in range(100):
        harness.clock.advance(hours=1)
        await aggregator.deliver_callbacks()
        row = await harness.services.db.fetchone(
            "SELECT callback_tries FROM rk_operations WHERE inv_id = ?", (order,)
        )
        assert row is not None
        if row[0] == tries:
            break
        tries = row[0]
    assert tries == CALLBACK_MAX_TRIES
    assert await next_callback_due(aggregator) is None
    drop_callbacks(aggregator, False)
    assert await aggregator.deliver_callbacks() == 0  # given up: nothing is sent any more
    assert (await harness.services.merchant.order(order)).status == "awaiting"
    assert await harness.services.checkout.reconcile() == [order]
    assert (await harness.services.merchant.order(order)).status == "paid"


async def test_reconciliation_remembers_what_it_asked_across_a_restart(harness: Harness) -> None:
    anna = harness.person()
    order = await order_roses(anna, quantity=1)
    await harness.services.merchant.mark_awaiting(order)  # sent to Robokassa, never paid
    services = harness.services
    robokassa = services.robokassa
    assert robokassa is not None
    asked: list[int] = []
    original = robokassa.op_state

    async def counting(inv_id: int) -> OpState:
        asked.append(inv_id)
        return await original(inv_id)

    robokassa.op_state = counting  # type: ignore[method-assign]

    def restarted() -> Checkout:
        return Checkout(services.db, services.clock, services.merchant, robokassa)

    harness.clock.advance(minutes=6)
    await restarted().reconcile()
    await restarted().reconcile()  # a restart a moment later does not ask again
    assert asked == [order]
    harness.clock.advance(minutes=6)
    await restarted().reconcile()
    assert asked == [order, order]


async def test_the_refund_job_remembers_what_it_asked_across_a_restart(harness: Harness) -> None:
    olga = await owner_of(harness, "flowers")
    anna = harness.person()
    order = await pay_roses_in_app(harness, anna)
    services = harness.services
    robokassa = services.robokassa
    assert robokassa is not None
    sent: list[str] = []

    async def unreachable(
        op_key: str, refund_sum: int | None = None, items: object = None
    ) -> RefundRequest:
        sent.append(op_key)
        raise httpx.ConnectError("Robokassa is unreachable")

    robokassa.create_refund = unreachable  # type: ignore[method-assign]
    await services.checkout.refund(order, olga.id)
    assert len(sent) == 1

    def restarted() -> Checkout:
        return Checkout(services.db, services.clock, services.merchant, robokassa)

    harness.clock.advance(seconds=61)
    await restarted().follow_refunds()
    await restarted().follow_refunds()  # a restart a moment later does not send it again
    assert len(sent) == 2
    harness.clock.advance(seconds=31)
    await restarted().follow_refunds()
    assert len(sent) == 3


async def test_result_url_is_retried_after_doubling_pauses_until_the_last_try(
    harness: Harness,
) -> None:
    anna = harness.person()
    await paid_operation(harness, anna)  # the first try was lost at the moment of payment
    aggregator = harness.services.aggregator
    pauses: list[int] = []
    for _ in range(3 * CALLBACK_MAX_TRIES):
        due = await next_callback_due(aggregator)
        if due is None:
            break
        pauses.append(due - to_ts(harness.clock.now()))
        harness.clock.advance(seconds=pauses[-1])
        await aggregator.deliver_callbacks()
    assert pauses == [2**n for n in range(1, CALLBACK_MAX_TRIES)]  # 2 s, 4 s, … 34 min


async def test_result_url_is_not_retried_more_than_a_day_after_the_payment(
    harness: Harness,
) -> None:
    """Say the shop's site was down for most of a day: the tries stop a day after payment."""
    anna = harness.person()
    await paid_operation(harness, anna)
    paid_at = to_ts(harness.clock.now())
    aggregator = harness.services.aggregator
    harness.clock.advance(seconds=CALLBACK_GIVE_UP_AFTER - 4)
    await aggregator.deliver_callbacks()  # the second try; the third would be a day after
    assert await next_callback_due(aggregator) == paid_at + CALLBACK_GIVE_UP_AFTER
    harness.clock.advance(seconds=4)
    await aggregator.deliver_callbacks()  # the fourth would be later than that: given up
    assert await next_callback_due(aggregator) is None


async def test_a_result_url_answering_a_page_instead_of_ok_is_tried_again(
    harness: Harness,
) -> None:
    """A shop's ResultURL set to its SuccessURL by mistake: 200, but no `OK{InvId}`."""
    anna = harness.person()
    order = await paid_operation(harness, anna)
    aggregator = harness.services.aggregator
    drop_callbacks(aggregator, False)
    merchant = next(iter(aggregator.merchants.values()))
    success_url = merchant.result_url.replace("/robokassa/result", "/robokassa/success")
    aggregator.register(replace(merchant, result_url=success_url))
    harness.clock.advance(seconds=2)
    assert await aggregator.deliver_callbacks() == 0
    assert await next_callback_due(aggregator) == to_ts(harness.clock.now()) + 4
    assert (await harness.services.merchant.order(order)).status == "awaiting"


async def test_a_bill_issued_late_expires_with_its_order(harness: Harness) -> None:
    """The bill never outlives the order: a payment after the order's deadline is refused."""
    anna = harness.person()
    await register(anna)
    order = await order_roses(anna, quantity=1)
    deadline = (await harness.services.merchant.order(order)).expires_at
    harness.clock.advance(minutes=20)
    await to_invoice(anna)
    bill = await harness.services.aggregator.bill(await bill_of(harness, order))
    assert bill.expires_at == deadline


async def test_a_bill_to_another_number_closes_the_first_one(harness: Harness) -> None:
    """Anna first billed her own number, then a friend's: only the newest bill can be paid."""
    anna = harness.person()
    boris = harness.person("Борис", phone="+79990002222")
    await register(anna)
    await register(boris)
    await fund(harness, PHONE, 500_000)
    order = await order_roses(anna, quantity=1)
    await to_invoice(anna)
    aggregator = harness.services.aggregator
    first = await aggregator.bill(await bill_of(harness, order))
    second = await aggregator.issue_bill(first.operation_id, "+79990002222")
    assert second.id != first.id
    with pytest.raises(BillClosed):
        await aggregator.pay_bill_from_wallet(first.id)
    assert await harness.services.ledger.balance(wallet_account(PHONE)) == 500_000
    assert (await aggregator.bill(first.id)).status == "REJECTED"
