"""Cash terminal and mobile shop rules at the service level."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from services.clock import ManualClock
from services.db import Database
from services.ledger import Ledger
from services.operator import Operator
from services.outbox import Outbox
from services.terminal import (
    CashDesk,
    CashRules,
    NotABanknote,
    NotEnoughCash,
    NothingInserted,
    ReceiptNotFound,
    RemainderChoiceNeeded,
    WouldBreakCap,
)
from services.wallet import WalletNotFound, WalletService, wallet_account

PHONE = "+79123456789"
USER = 1


class Delays:
    """Decides which receipts are delayed, test by test."""

    def __init__(self) -> None:
        self.next = False

    def __call__(self) -> bool:
        return self.next


@pytest.fixture
def delays() -> Delays:
    return Delays()


@pytest.fixture
def desk(db: Database, clock: ManualClock, delays: Delays) -> CashDesk:
    return CashDesk(db, clock, CashRules(delay_seconds=7200), delayed=delays)


@pytest.fixture
async def wallet(db: Database, clock: ManualClock, ledger: Ledger) -> WalletService:
    wallets = WalletService(db, clock, ledger)
    await Operator(db, clock).prove(PHONE, USER)
    sent = await wallets.start_registration(PHONE, USER)
    await wallets.confirm_code(PHONE, sent.sms.value, USER)
    return wallets


async def top_up(desk: CashDesk, notes: list[int]) -> int:
    session = await desk.open_session(USER, PHONE)
    for note in notes:
        await desk.insert(session.id, USER, note)
    return session.id


async def test_three_banknotes_credit_the_exact_sum(
    desk: CashDesk, wallet: WalletService, ledger: Ledger
) -> None:
    session_id = await top_up(desk, [1000, 100, 50])
    receipt = await desk.pay(session_id, USER)
    assert (receipt.inserted, receipt.commission, receipt.credited) == (115000, 0, 115000)
    assert receipt.status == "credited" and receipt.notes == [1000, 100, 50]
    assert await ledger.balance(wallet_account(PHONE)) == 115000
    assert (await ledger.check_invariants()).ok


async def test_commission_is_deducted(
    db: Database, clock: ManualClock, wallet: WalletService, ledger: Ledger
) -> None:
    desk = CashDesk(db, clock, CashRules(commission_bp=250), delayed=lambda: False)  # 2.5 %
    session_id = await top_up(desk, [1000])
    receipt = await desk.pay(session_id, USER)
    assert (receipt.commission, receipt.credited) == (2500, 97500)
    assert await ledger.balance(wallet_account(PHONE)) == 97500
    assert await ledger.balance("fees:cash") == 2500


async def test_only_banknotes_are_taken(desk: CashDesk, wallet: WalletService) -> None:
    session = await desk.open_session(USER, PHONE)
    for bad in (5, 1, 25, 0, -100, 10000, 100.0, "100"):
        with pytest.raises(NotABanknote):
            await desk.insert(session.id, USER, bad)  # type: ignore[arg-type]
    with pytest.raises(NothingInserted):
        await desk.pay(session.id, USER)


async def test_banknote_past_the_cap_is_refused_at_insertion(
    desk: CashDesk, wallet: WalletService, ledger: Ledger
) -> None:
    session = await desk.open_session(USER, PHONE)
    for _ in range(2):
        await desk.insert(session.id, USER, 5000)
    await desk.insert(session.id, USER, 2000)
    with pytest.raises(WouldBreakCap) as error:
        await desk.insert(session.id, USER, 5000)
    assert error.value.room == 300000
    await desk.insert(session.id, USER, 2000)
    receipt = await desk.pay(session.id, USER)
    assert receipt.credited == 1_400_000


async def test_pending_receipts_count_against_the_cap(
    desk: CashDesk, delays: Delays, wallet: WalletService
) -> None:
    delays.next = True
    first = await top_up(desk, [5000, 5000])
    await desk.pay(first, USER)
    session = await desk.open_session(USER, PHONE)
    await desk.insert(session.id, USER, 5000)
    with pytest.raises(WouldBreakCap):
        await desk.insert(session.id, USER, 1000)


async def test_double_pay_gives_one_receipt_and_one_credit(
    desk: CashDesk, wallet: WalletService, ledger: Ledger
) -> None:
    session_id = await top_up(desk, [500])
    receipts = await asyncio.gather(*(desk.pay(session_id, USER) for _ in range(10)))
    assert len({r.number for r in receipts}) == 1
    assert await ledger.balance(wallet_account(PHONE)) == 50000


async def test_delayed_receipt_is_credited_by_the_job_and_notified_once(
    desk: CashDesk,
    delays: Delays,
    wallet: WalletService,
    ledger: Ledger,
    clock: ManualClock,
    db: Database,
) -> None:
    delays.next = True
    session_id = await top_up(desk, [100, 100])
    receipt = await desk.pay(session_id, USER)
    assert receipt.pending
    assert await ledger.balance(wallet_account(PHONE)) == 0
    assert (await desk.receipt(receipt.number)).status == "pending"
    assert await desk.credit_due() == []
    clock.advance(hours=2)
    assert await desk.credit_due() == [receipt.number]
    assert await desk.credit_due() == []
    assert await ledger.balance(wallet_account(PHONE)) == 20000
    messages = await Outbox(db, clock).due()
    assert [(m.chat_id, m.kind, m.payload["receipt"]) for m in messages] == [
        (USER, "receipt_credited", receipt.number)
    ]
    assert (await ledger.check_invariants()).ok


async def test_delayed_receipt_survives_a_restart(
    tmp_path: Path, clock: ManualClock, delays: Delays
) -> None:
    path = tmp_path / "restart.sqlite3"
    db = await Database.open(path)
    wallets = WalletService(db, clock, Ledger(db, clock))
    await Operator(db, clock).prove(PHONE, USER)
    sent = await wallets.start_registration(PHONE, USER)
    await wallets.confirm_code(PHONE, sent.sms.value, USER)
    desk = CashDesk(db, clock, CashRules(), delayed=delays)
    session = await desk.open_session(USER, PHONE)
    await desk.insert(session.id, USER, 200)
    await db.close()  # restart between insert and pay
    db = await Database.open(path)
    delays.next = True
    desk = CashDesk(db, clock, CashRules(), delayed=delays)
    visit = await desk.open_visit(USER)
    assert visit is not None and visit.inserted == 20000
    receipt = await desk.pay(visit.id, USER)
    await db.close()  # restart between pay and credit
    db = await Database.open(path)
    desk = CashDesk(db, clock, CashRules(), delayed=delays)
    clock.advance(hours=1, minutes=1)
    assert await desk.credit_due() == [receipt.number]
    assert await Ledger(db, clock).balance(wallet_account(PHONE)) == 20000
    await db.close()


async def test_paying_a_non_round_amount_leaves_a_remainder_for_the_phone(
    desk: CashDesk, wallet: WalletService, ledger: Ledger, db: Database, clock: ManualClock
) -> None:
    await ledger.open_account("shop:books", "shop")
    session = await desk.open_session(
        USER, PHONE, purpose="payment", target_account="shop:books", amount=34950
    )
    await desk.insert(session.id, USER, 200)
    with pytest.raises(NotEnoughCash) as short:
        await desk.pay(session.id, USER)
    assert short.value.missing == 14950
    await desk.insert(session.id, USER, 200)
    with pytest.raises(RemainderChoiceNeeded) as choice:
        await desk.pay(session.id, USER)
    assert choice.value.remainder == 5050
    receipt = await desk.pay(session.id, USER, remainder_to="phone")
    assert (receipt.paid, receipt.remainder, receipt.remainder_to) == (34950, 5050, "phone")
    assert await ledger.balance("shop:books") == 34950
    assert await Operator(db, clock).mobile_balance(PHONE) == 5050
    assert await ledger.balance(wallet_account(PHONE)) == 0
    assert (await ledger.check_invariants()).ok


async def test_remainder_can_go_to_the_wallet(
    desk: CashDesk, wallet: WalletService, ledger: Ledger
) -> None:
    await ledger.open_account("shop:books", "shop")
    session = await desk.open_session(
        USER, PHONE, purpose="payment", target_account="shop:books", amount=99
    )
    await desk.insert(session.id, USER, 10)
    receipt = await desk.pay(session.id, USER, remainder_to="wallet")
    assert receipt.remainder == 901
    assert await ledger.balance(wallet_account(PHONE)) == 901


async def test_leaving_with_cash_inside_still_credits_it(
    desk: CashDesk, wallet: WalletService, ledger: Ledger, clock: ManualClock
) -> None:
    session_id = await top_up(desk, [50])
    receipt = await desk.cancel(session_id, USER)
    assert receipt is not None and receipt.credited == 5000
    empty = await desk.open_session(USER, PHONE)
    assert await desk.cancel(empty.id, USER) is None
    idle = await top_up(desk, [10])
    clock.advance(minutes=11)
    assert len(await desk.finish_idle()) == 1
    assert await ledger.balance(wallet_account(PHONE)) == 6000
    assert (await desk.open_visit(USER)) is None
    del idle


async def test_top_up_needs_a_wallet(desk: CashDesk) -> None:
    with pytest.raises(WalletNotFound):
        await desk.open_session(USER, "+79990001122")


async def test_mobile_shop_credits_at_once_or_later(
    desk: CashDesk, delays: Delays, wallet: WalletService, ledger: Ledger, clock: ManualClock
) -> None:
    receipt = await desk.salon_top_up(USER, PHONE, 123456)
    assert receipt.kind == "salon" and receipt.status == "credited"
    assert await ledger.balance(wallet_account(PHONE)) == 123456
    delays.next = True
    later = await desk.salon_top_up(USER, PHONE, 1000)
    assert later.pending
    clock.advance(hours=3)
    await desk.credit_due()
    assert await ledger.balance(wallet_account(PHONE)) == 124456
    with pytest.raises(ReceiptNotFound):
        await desk.receipt(999)


async def test_an_abandoned_payment_the_wallet_cannot_hold_goes_to_the_phone(
    desk: CashDesk, wallet: WalletService, ledger: Ledger, db: Database, clock: ManualClock
) -> None:
    await ledger.open_account("shop:books", "shop")
    await desk.cancel(await top_up(desk, [5000, 5000, 2000, 2000]), USER)
    assert await ledger.balance(wallet_account(PHONE)) == 1_400_000  # 1 000 ₽ below the cap
    session = await desk.open_session(
        USER, PHONE, purpose="payment", target_account="shop:books", amount=500_000
    )
    await desk.insert(session.id, USER, 2000)
    clock.advance(minutes=11)
    # The 2 000 ₽ left in the terminal cannot go to the full wallet: the phone keeps them.
    assert len(await desk.finish_idle()) == 1
    assert await Operator(db, clock).mobile_balance(PHONE) == 200_000
    assert await ledger.balance(wallet_account(PHONE)) == 1_400_000
    assert (await desk.open_visit(USER)) is None
    assert (await ledger.check_invariants()).ok
