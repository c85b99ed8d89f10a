"""The terminal's sums at the service level: an intended sum is checked when it is given, cash
has no kopecks, and a receipt knows what went in above the sum and what stays in the wallet."""

from __future__ import annotations

import pytest

from services.clock import ManualClock
from services.db import Database
from services.ledger import Ledger
from services.operator import Operator
from services.outbox import Outbox
from services.terminal import (
    BadAmount,
    CashDesk,
    ForOrder,
    KopecksForCash,
    WouldBreakCap,
    banknote_sum_for,
)
from services.wallet import WalletService

PHONE = "+79123456789"
USER = 1


@pytest.fixture
def desk(db: Database, clock: ManualClock) -> CashDesk:
    return CashDesk(db, clock, delayed=lambda: False)


@pytest.fixture
async def wallet(db: Database, clock: ManualClock, ledger: Ledger) -> WalletService:
    wallets = WalletService(db, clock, ledger)
    await Operator(db, clock).prove(PHONE, USER)
    sent = await wallets.start_registration(PHONE, USER)
    await wallets.confirm_code(PHONE, sent.sms.value, USER)
    return wallets


async def test_an_intended_sum_past_the_cap_is_refused_before_any_banknote(
    desk: CashDesk, wallet: WalletService
) -> None:
    with pytest.raises(WouldBreakCap) as error:
        await desk.open_session(USER, PHONE, intended=2_000_000)
    assert (error.value.room, error.value.cap) == (1_500_000, 1_500_000)
    session = await desk.open_session(USER, PHONE, intended=1_500_000)
    for _ in range(3):
        await desk.insert(session.id, USER, 5000)
    await desk.pay(session.id, USER)
    # Full now: even the smallest sum no longer fits.
    with pytest.raises(WouldBreakCap) as error:
        await desk.open_session(USER, PHONE, intended=1000)
    assert error.value.room == 0


async def test_an_intended_sum_with_kopecks_is_refused_for_cash(
    desk: CashDesk, wallet: WalletService
) -> None:
    with pytest.raises(KopecksForCash):
        await desk.open_session(USER, PHONE, intended=123_456)
    for bad in (0, -100):
        with pytest.raises(BadAmount):
            await desk.open_session(USER, PHONE, intended=bad)
    session = await desk.open_session(USER, PHONE, intended=123_400)
    assert session.intended == 123_400


async def test_the_receipt_knows_what_went_in_above_the_intended_sum(
    desk: CashDesk, wallet: WalletService
) -> None:
    session = await desk.open_session(USER, PHONE, intended=123_400)
    for note in (1000, 200, 50):
        await desk.insert(session.id, USER, note)
    receipt = await desk.pay(session.id, USER)
    assert (receipt.intended, receipt.credited, receipt.above_intended) == (123_400, 125_000, 1600)
    skipped = await desk.open_session(USER, PHONE)
    await desk.insert(skipped.id, USER, 100)
    assert (await desk.pay(skipped.id, USER)).above_intended == 0


async def test_a_top_up_for_an_order_says_what_stays_in_the_wallet(
    desk: CashDesk, wallet: WalletService, db: Database, clock: ManualClock
) -> None:
    assert banknote_sum_for(123_456) == 124_000
    assert banknote_sum_for(124_000) == 124_000
    assert banknote_sum_for(1) == 1000
    meant = ForOrder(order=7, bill=3, needed=123_456)
    session = await desk.open_session(USER, PHONE, intended=124_000, for_order=meant)
    assert session.for_order == meant
    for note in (1000, 200, 50):
        await desk.insert(session.id, USER, note)
    receipt = await desk.pay(session.id, USER)
    assert receipt.for_order == meant
    assert receipt.left_in_wallet == 125_000 - 123_456
    assert (await desk.receipt(receipt.number)).for_order == meant


async def test_a_delayed_top_up_for_an_order_names_it_when_credited(
    db: Database, clock: ManualClock, wallet: WalletService
) -> None:
    desk = CashDesk(db, clock, delayed=lambda: True)
    session = await desk.open_session(USER, PHONE, for_order=ForOrder(order=7, bill=3))
    await desk.insert(session.id, USER, 500)
    receipt = await desk.pay(session.id, USER)
    assert receipt.pending
    clock.advance(seconds=desk.rules.delay_seconds)
    assert await desk.credit_due() == [receipt.number]
    [message] = await Outbox(db, clock).due()
    assert message.payload == {
        "receipt": receipt.number,
        "amount": 50_000,
        "phone": PHONE,
        "order": 7,
        "bill": 3,
    }
