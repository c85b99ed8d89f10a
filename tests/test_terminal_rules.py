"""The cash desk's rules at their edges: the cap, the clock, rounding, what a receipt says."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest

from services import terminal
from services.clock import ManualClock
from services.db import Database
from services.ledger import Ledger
from services.operator import Operator, PhoneDeactivated
from services.outbox import Outbox
from services.terminal import (
    BadAmount,
    CashDesk,
    CashRules,
    SessionNotFound,
    WouldBreakCap,
)
from services.wallet import WalletBlocked, WalletNotFound, WalletService, wallet_account

PHONE = "+79123456789"
NO_WALLET = "+79990001122"
USER = 1
OTHER = 2
CAP = 1_500_000  # the minimal wallet's balance cap


class Delays:
    def __init__(self) -> None:
        self.next = False

    def __call__(self) -> bool:
        return self.next


@pytest.fixture
def delays() -> Delays:
    return Delays()


@pytest.fixture
def desk(db: Database, clock: ManualClock, delays: Delays) -> CashDesk:
    return CashDesk(db, clock, CashRules(delay_seconds=7200, idle_seconds=600), delayed=delays)


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


async def bill_visit(desk: CashDesk, ledger: Ledger, amount: int, phone: str = PHONE) -> int:
    await ledger.open_account("shop:books", "shop")
    session = await desk.open_session(
        USER,
        phone,
        purpose="payment",
        target_account="shop:books",
        amount=amount,
        reference="bill:7",
    )
    return session.id


# ---- the balance cap --------------------------------------------------------------------


async def test_a_note_that_fills_the_wallet_exactly_to_the_cap_is_taken(
    desk: CashDesk, wallet: WalletService, ledger: Ledger
) -> None:
    session_id = await top_up(desk, [5000, 5000, 5000])  # 15 000 ₽: exactly the cap
    with pytest.raises(WouldBreakCap) as error:
        await desk.insert(session_id, USER, 10)  # one note more is refused
    assert (error.value.room, error.value.cap) == (0, CAP)
    receipt = await desk.pay(session_id, USER)
    assert receipt.credited == CAP
    assert await ledger.balance(wallet_account(PHONE)) == CAP


async def test_room_taken_by_the_mobile_shop_meanwhile_leaves_nothing_more_to_insert(
    desk: CashDesk, wallet: WalletService, ledger: Ledger
) -> None:
    session_id = await top_up(desk, [5000])
    # While the 5 000 ₽ sit in the terminal, a consultant credits 12 000 ₽.
    await desk.salon_top_up(USER, PHONE, 1_200_000)
    with pytest.raises(WouldBreakCap) as error:
        await desk.insert(session_id, USER, 10)
    assert error.value.room == 0  # not a negative amount


async def test_a_payment_in_cash_is_not_held_back_by_a_full_wallet(
    desk: CashDesk, wallet: WalletService, ledger: Ledger
) -> None:
    await desk.salon_top_up(USER, PHONE, CAP)
    session_id = await bill_visit(desk, ledger, 500_000)
    await desk.insert(session_id, USER, 5000)
    receipt = await desk.pay(session_id, USER)
    assert receipt.paid == 500_000 and await ledger.balance("shop:books") == 500_000


# ---- commission ---------------------------------------------------------------------------


async def test_commission_rounds_half_a_kopeck_up(
    db: Database, clock: ManualClock, wallet: WalletService, ledger: Ledger
) -> None:
    desk = CashDesk(db, clock, CashRules(commission_bp=5), delayed=lambda: False)  # 0.05 %
    receipt = await desk.pay(await top_up(desk, [10]), USER)  # 0.05 % of 10 ₽ = 0.5 коп.
    assert (receipt.commission, receipt.credited) == (1, 999)
    assert await ledger.balance("fees:cash") == 1


async def test_commission_on_a_large_top_up_is_exact(
    db: Database, clock: ManualClock, wallet: WalletService, ledger: Ledger
) -> None:
    desk = CashDesk(db, clock, CashRules(commission_bp=250), delayed=lambda: False)
    receipt = await desk.pay(await top_up(desk, [5000, 5000, 2000, 2000]), USER)
    assert (receipt.commission, receipt.credited) == (35_000, 1_365_000)  # 2.5 % of 14 000 ₽


async def test_no_commission_in_the_mobile_shop_or_on_a_bill(
    db: Database, clock: ManualClock, wallet: WalletService, ledger: Ledger
) -> None:
    desk = CashDesk(db, clock, CashRules(commission_bp=250), delayed=lambda: False)
    salon = await desk.salon_top_up(USER, PHONE, 100_000)
    assert (salon.commission, salon.credited) == (0, 100_000)
    session_id = await bill_visit(desk, ledger, 100_000)
    await desk.insert(session_id, USER, 1000)
    visit = await desk.session(session_id, USER)
    assert visit.commission == 0
    bill = await desk.pay(session_id, USER)
    assert (bill.commission, bill.paid) == (0, 100_000)
    assert await ledger.balance("fees:cash") == 0


# ---- the clock ---------------------------------------------------------------------------


async def test_an_instant_top_up_is_due_and_credited_at_once_with_no_message(
    desk: CashDesk, wallet: WalletService, db: Database, clock: ManualClock
) -> None:
    receipt = await desk.pay(await top_up(desk, [100]), USER)
    assert receipt.status == "credited" and not receipt.pending
    assert receipt.due_at == receipt.created_at == receipt.credited_at == clock.now()
    # The person sees the receipt; no "your money arrived" message follows.
    assert await Outbox(db, clock).due() == []


async def test_a_delayed_credit_arrives_at_the_promised_second_and_not_before(
    desk: CashDesk, delays: Delays, wallet: WalletService, ledger: Ledger, clock: ManualClock
) -> None:
    delays.next = True
    receipt = await desk.pay(await top_up(desk, [500]), USER)
    assert receipt.pending and receipt.credited_at is None
    assert receipt.due_at == receipt.created_at + timedelta(hours=2)
    clock.advance(hours=2, seconds=-1)
    assert await desk.credit_due() == []
    assert await ledger.balance(wallet_account(PHONE)) == 0
    clock.advance(seconds=1)
    assert await desk.credit_due() == [receipt.number]
    credited = await desk.receipt(receipt.number)
    assert credited.status == "credited" and credited.credited_at == receipt.due_at
    assert await ledger.balance(wallet_account(PHONE)) == 50000


async def test_an_idle_visit_is_closed_at_its_deadline_with_its_cash_credited(
    desk: CashDesk, wallet: WalletService, ledger: Ledger, clock: ManualClock
) -> None:
    session_id = await top_up(desk, [200, 50])
    clock.advance(seconds=599)
    assert await desk.finish_idle() == []
    clock.advance(seconds=1)
    [number] = await desk.finish_idle()
    assert await desk.open_visit(USER) is None
    receipt = await desk.finished_receipt(session_id, USER)
    assert receipt is not None and receipt.number == number
    assert (receipt.notes, receipt.credited) == ([200, 50], 25000)
    assert await ledger.balance(wallet_account(PHONE)) == 25000


async def test_a_bill_paid_in_cash_is_paid_on_the_spot_even_on_a_slow_day(
    desk: CashDesk, delays: Delays, wallet: WalletService, ledger: Ledger
) -> None:
    delays.next = True
    session_id = await bill_visit(desk, ledger, 100_000)
    await desk.insert(session_id, USER, 1000)
    receipt = await desk.pay(session_id, USER, remainder_to="wallet")  # nothing is left over
    assert receipt.status == "credited" and receipt.due_at == receipt.created_at
    assert (receipt.paid, receipt.remainder, receipt.remainder_to) == (100_000, 0, None)
    assert await ledger.balance(wallet_account(PHONE)) == 0


class Draw:
    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


@pytest.mark.parametrize(
    ("percent", "draw", "delayed"),
    [(25, 0.25, False), (25, 0.2499, True), (100, 0.995, True), (99, 0.995, False)],
)
async def test_the_share_of_delayed_top_ups_follows_the_rules(
    db: Database,
    clock: ManualClock,
    wallet: WalletService,
    monkeypatch: pytest.MonkeyPatch,
    percent: int,
    draw: float,
    delayed: bool,
) -> None:
    monkeypatch.setattr(terminal, "random", SimpleNamespace(Random=lambda: Draw(draw)))
    desk = CashDesk(db, clock, CashRules(delayed_percent=percent))
    receipt = await desk.salon_top_up(USER, PHONE, 10_000)
    assert receipt.pending is delayed


# ---- visits ------------------------------------------------------------------------------


async def test_cancel_with_nothing_inserted_leaves_no_visit_behind(
    desk: CashDesk, wallet: WalletService
) -> None:
    session = await desk.open_session(USER, PHONE)
    assert await desk.cancel(session.id, USER) is None
    assert await desk.open_visit(USER) is None
    with pytest.raises(SessionNotFound):
        await desk.session(session.id, USER)


async def test_cancel_of_a_finished_or_someone_elses_visit_changes_nothing(
    desk: CashDesk, wallet: WalletService, ledger: Ledger
) -> None:
    session_id = await top_up(desk, [100])
    assert await desk.cancel(session_id, OTHER) is None
    assert await desk.cancel(12345, USER) is None
    assert (await desk.session(session_id, USER)).status == "open"
    receipt = await desk.pay(session_id, USER)
    assert await desk.cancel(session_id, USER) is None
    assert await desk.finished_receipt(session_id, USER) == receipt
    assert await ledger.balance(wallet_account(PHONE)) == 10000


async def test_a_new_visit_drops_an_untouched_one_but_keeps_cash(
    desk: CashDesk, wallet: WalletService
) -> None:
    untouched = await desk.open_session(USER, PHONE)
    await desk.open_session(OTHER, NO_WALLET, purpose="payment", amount=100)  # someone else's
    with_cash = await top_up(desk, [50])
    with pytest.raises(SessionNotFound):
        await desk.session(untouched.id, USER)
    latest = await desk.open_session(USER, PHONE)
    assert (await desk.session(with_cash, USER)).inserted == 5000
    visit = await desk.open_visit(USER)
    assert visit is not None and visit.id == latest.id


async def test_someone_elses_visit_cannot_be_fed_or_read(
    desk: CashDesk, wallet: WalletService
) -> None:
    session_id = await top_up(desk, [100])
    with pytest.raises(SessionNotFound):
        await desk.insert(session_id, OTHER, 100)
    with pytest.raises(SessionNotFound):
        await desk.session(session_id, OTHER)
    with pytest.raises(SessionNotFound):
        await desk.pay(session_id, OTHER)
    assert await desk.finished_receipt(session_id, USER) is None  # not paid yet
    assert await desk.finished_receipt(session_id, OTHER) is None


async def test_the_same_press_inserts_one_note(desk: CashDesk, wallet: WalletService) -> None:
    session = await desk.open_session(USER, PHONE)
    await desk.insert(session.id, USER, 500, request="press:1")
    again = await desk.insert(session.id, USER, 500, request="press:1")
    assert (again.notes, again.inserted) == ([500], 50000)
    after = await desk.insert(session.id, USER, 500, request="press:2")
    assert (after.notes, after.inserted) == ([500, 500], 100000)


async def test_a_top_up_visit_shows_no_remainder_and_nothing_missing(
    desk: CashDesk, wallet: WalletService, ledger: Ledger
) -> None:
    visit = await desk.session(await top_up(desk, [100]), USER)
    assert (visit.remainder, visit.missing, visit.to_credit) == (0, 0, 10000)
    short = await desk.session(await bill_visit(desk, ledger, 34950), USER)
    assert (short.remainder, short.missing) == (0, 34950)
    await desk.insert(short.id, USER, 500)
    over = await desk.session(short.id, USER)
    assert (over.remainder, over.missing) == (15050, 0)


# ---- bills in cash -----------------------------------------------------------------------


async def test_a_bill_can_be_paid_in_cash_without_a_wallet(
    desk: CashDesk, ledger: Ledger, db: Database, clock: ManualClock
) -> None:
    session_id = await bill_visit(desk, ledger, 34950, phone=NO_WALLET)
    await desk.insert(session_id, USER, 500)
    with pytest.raises(WalletNotFound):
        await desk.pay(session_id, USER, remainder_to="wallet")
    receipt = await desk.pay(session_id, USER, remainder_to="phone")
    assert (receipt.paid, receipt.remainder, receipt.remainder_to) == (34950, 15050, "phone")
    assert await Operator(db, clock).mobile_balance(NO_WALLET) == 15050
    assert (await ledger.check_invariants()).ok


async def test_the_shop_is_told_when_its_bill_is_paid_in_cash(
    desk: CashDesk, wallet: WalletService, ledger: Ledger
) -> None:
    landed: list[tuple[str, int]] = []
    desk.payment_hooks["bill"] = lambda conn, reference, amount, now: landed.append(
        (reference, amount)
    )
    session_id = await bill_visit(desk, ledger, 100_000)
    await desk.insert(session_id, USER, 1000)
    await desk.pay(session_id, USER)
    assert landed == [("bill:7", 100_000)]


async def test_cash_left_in_a_short_bill_goes_to_the_wallet(
    desk: CashDesk, wallet: WalletService, ledger: Ledger, db: Database, clock: ManualClock
) -> None:
    session_id = await bill_visit(desk, ledger, 500_000)
    await desk.insert(session_id, USER, 2000)
    receipt = await desk.cancel(session_id, USER)
    assert receipt is not None
    assert (receipt.purpose, receipt.paid, receipt.credited) == ("topup", 0, 200_000)
    assert await ledger.balance(wallet_account(PHONE)) == 200_000
    assert await ledger.balance("shop:books") == 0
    assert await Operator(db, clock).mobile_balance(PHONE) == 0


async def test_cash_left_in_a_short_bill_without_a_wallet_goes_to_the_phone(
    desk: CashDesk, ledger: Ledger, db: Database, clock: ManualClock
) -> None:
    session_id = await bill_visit(desk, ledger, 500_000, phone=NO_WALLET)
    await desk.insert(session_id, USER, 2000)
    receipt = await desk.cancel(session_id, USER)
    assert receipt is not None
    assert (receipt.paid, receipt.remainder, receipt.remainder_to) == (0, 200_000, "phone")
    assert await Operator(db, clock).mobile_balance(NO_WALLET) == 200_000
    assert (await ledger.check_invariants()).ok


# ---- the mobile shop ---------------------------------------------------------------------


async def test_the_mobile_shop_takes_from_one_rouble_to_its_limit(
    db: Database, clock: ManualClock, wallet: WalletService, ledger: Ledger
) -> None:
    desk = CashDesk(db, clock, CashRules(salon_max=50_000), delayed=lambda: False)
    for amount in (99, 50_001, 0, 100.0):
        with pytest.raises(BadAmount):
            await desk.salon_top_up(USER, PHONE, amount)  # type: ignore[arg-type]
    await desk.salon_top_up(USER, PHONE, 100)
    await desk.salon_top_up(USER, PHONE, 50_000)
    assert await ledger.balance(wallet_account(PHONE)) == 50_100


async def test_the_same_request_in_the_mobile_shop_takes_the_money_once(
    desk: CashDesk, wallet: WalletService, ledger: Ledger
) -> None:
    first = await desk.salon_top_up(USER, PHONE, 30_000, request="msg:5")
    again = await desk.salon_top_up(USER, PHONE, 30_000, request="msg:5")
    assert again.number == first.number
    other = await desk.salon_top_up(USER, PHONE, 30_000, request="msg:6")
    assert other.number != first.number
    assert await ledger.balance(wallet_account(PHONE)) == 60_000


async def test_the_mobile_shop_refuses_what_the_wallet_cannot_take(
    desk: CashDesk, wallet: WalletService, ledger: Ledger
) -> None:
    with pytest.raises(WalletNotFound):
        await desk.salon_top_up(USER, NO_WALLET, 10_000)
    await desk.salon_top_up(USER, PHONE, 1_000_000)
    with pytest.raises(WouldBreakCap) as error:
        await desk.salon_top_up(USER, PHONE, 600_000)
    assert error.value.room == 500_000
    assert await ledger.balance(wallet_account(PHONE)) == 1_000_000


async def test_a_number_the_operator_stopped_serving_gets_no_cash_service(
    desk: CashDesk, wallet: WalletService, ledger: Ledger, db: Database, clock: ManualClock
) -> None:
    operator = Operator(db, clock)
    await operator.deactivate(PHONE)
    with pytest.raises(PhoneDeactivated):
        await desk.salon_top_up(USER, PHONE, 10_000)
    with pytest.raises(PhoneDeactivated):
        await bill_visit(desk, ledger, 10_000)
    # The number is served again, but its wallet stays blocked until registered again.
    await operator.reactivate(PHONE)
    with pytest.raises(WalletBlocked):
        await desk.salon_top_up(USER, PHONE, 10_000)
    with pytest.raises(WalletBlocked):
        await desk.open_session(USER, PHONE)
