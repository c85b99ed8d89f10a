"""A receipt's sums at their edges: exactly the intended sum, less than it, an order that takes
all the cash or more than was brought, a top-up meant for no order, and the smallest sums a
person can name. Checked on the receipt, on its printed Russian text and in what is stored."""

from __future__ import annotations

import pytest

from bot.i18n import make_i18n
from handlers.views.topup import receipt_text
from services.clock import ManualClock
from services.db import Database
from services.ledger import Ledger
from services.operator import Operator
from services.terminal import (
    CashDesk,
    CashRules,
    ForOrder,
    KopecksForCash,
    Receipt,
)
from services.wallet import WalletService

PHONE = "+79123456789"
USER = 1
ABOVE = "Сверх суммы"  # the receipt's line for cash above the intended sum
NO_CHANGE = "сверх названной суммы"  # the note under it: the terminal gives no change
FOR_ORDER = "Для заказа №"
STAYS = "останутся на кошельке"  # what stays in the wallet once the order is paid


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


def printed(receipt: Receipt) -> str:
    """The receipt as the person reads it in the chat, in Russian."""
    i18n = make_i18n()
    with i18n.context(), i18n.use_locale("ru"):
        return receipt_text(receipt).replace("\u00a0", " ")


async def visit(
    desk: CashDesk,
    notes: list[int],
    *,
    intended: int | None = None,
    for_order: ForOrder | None = None,
) -> Receipt:
    session = await desk.open_session(USER, PHONE, intended=intended, for_order=for_order)
    for note in notes:
        await desk.insert(session.id, USER, note)
    return await desk.pay(session.id, USER)


# ---- above the intended sum ------------------------------------------------------------


async def test_exactly_the_intended_sum_leaves_nothing_above_it(
    desk: CashDesk, wallet: WalletService
) -> None:
    # «Хочу зачислить 1 500 ₽» — одна тысяча и одна пятисотка, ровно столько.
    receipt = await visit(desk, [1000, 500], intended=150_000)
    assert (receipt.intended, receipt.credited) == (150_000, 150_000)
    assert receipt.above_intended == 0
    text = printed(receipt)
    assert "Зачислено: 1 500,00 ₽" in text
    assert ABOVE not in text
    assert NO_CHANGE not in text
    # Одной купюрой в 2 000 ₽ — тогда сверх суммы 500 ₽, и чек об этом говорит.
    more = printed(await visit(desk, [2000], intended=150_000))
    assert f"{ABOVE} 1 500,00 ₽: 500,00 ₽" in more
    assert NO_CHANGE in more


async def test_less_than_the_intended_sum_leaves_nothing_above_it(
    desk: CashDesk, wallet: WalletService
) -> None:
    # Назвала 5 000 ₽, но нашлась только тысяча: «Оплатить» всё равно зачисляет её.
    receipt = await visit(desk, [1000], intended=500_000)
    assert (receipt.intended, receipt.credited) == (500_000, 100_000)
    assert receipt.above_intended == 0
    assert ABOVE not in printed(receipt)
    # Ушла от терминала, не дойдя до суммы: чек тот же, сверх суммы ничего.
    session = await desk.open_session(USER, PHONE, intended=300_000)
    await desk.insert(session.id, USER, 2000)
    left = await desk.cancel(session.id, USER)
    assert left is not None
    assert (left.credited, left.above_intended) == (200_000, 0)
    assert ABOVE not in printed(left)


async def test_a_commission_on_exactly_the_intended_sum_is_not_above_it(
    db: Database, clock: ManualClock, wallet: WalletService
) -> None:
    desk = CashDesk(db, clock, CashRules(commission_bp=100), delayed=lambda: False)
    receipt = await visit(desk, [1000], intended=100_000)
    # 1 % commission: 990 ₽ reach the wallet, below the intended 1 000 ₽, not above it.
    assert (receipt.commission, receipt.credited) == (1000, 99_000)
    assert receipt.above_intended == 0
    text = printed(receipt)
    assert "Комиссия: 10,00 ₽" in text
    assert ABOVE not in text


# ---- what stays in the wallet after the order -------------------------------------------


async def test_an_order_that_takes_all_the_cash_leaves_nothing_in_the_wallet(
    desk: CashDesk, wallet: WalletService
) -> None:
    meant = ForOrder(order=7, bill=3, needed=150_000)
    receipt = await visit(desk, [1000, 500], intended=150_000, for_order=meant)
    assert (receipt.credited, receipt.for_order) == (150_000, meant)
    assert receipt.left_in_wallet == 0
    text = printed(receipt)
    assert f"{FOR_ORDER} 7: 1 500,00 ₽" in text
    assert STAYS not in text
    # С купюрой в 2 000 ₽ остаток 500 ₽ остался бы на кошельке — и это было бы написано.
    more = printed(await visit(desk, [2000], for_order=meant))
    assert f"остальные 500,00 ₽ {STAYS}" in more


async def test_cash_short_of_the_order_leaves_nothing_in_the_wallet(
    desk: CashDesk, wallet: WalletService
) -> None:
    # Заказу не хватало 3 000 ₽, внесена тысяча: всё уйдёт на заказ, и ещё не хватит.
    meant = ForOrder(order=7, bill=3, needed=300_000)
    receipt = await visit(desk, [1000], for_order=meant)
    assert receipt.credited == 100_000
    assert receipt.left_in_wallet == 0
    text = printed(receipt)
    assert f"{FOR_ORDER} 7: 3 000,00 ₽" in text
    assert STAYS not in text


# ---- a top-up meant for no order --------------------------------------------------------


async def test_a_top_up_for_no_order_names_none_and_stores_none(
    desk: CashDesk, wallet: WalletService, db: Database
) -> None:
    receipt = await visit(desk, [1000])
    assert (receipt.for_order, receipt.left_in_wallet) == (None, 0)
    text = printed(receipt)
    assert FOR_ORDER not in text
    assert "На заказ" not in text
    assert STAYS not in text
    salon = await desk.salon_top_up(USER, PHONE, 50_000, request="msg:1")
    assert (salon.for_order, salon.left_in_wallet) == (None, 0)
    assert STAYS not in printed(salon)
    # Stored like a visit from before top-ups for orders: no order, no invoice (0), no sum.
    rows = await db.fetchall(
        "SELECT kind, for_order, for_bill, needed FROM cash_sessions ORDER BY id"
    )
    assert [tuple(row) for row in rows] == [("terminal", None, 0, 0), ("salon", None, 0, 0)]


# ---- the smallest intended sums -----------------------------------------------------------


async def test_one_kopeck_is_refused_as_kopecks_and_one_rouble_is_taken(
    desk: CashDesk, wallet: WalletService
) -> None:
    # «0,01» — это копейки, а купюрами копейки не внести: шаг остаётся, ждём целые рубли.
    with pytest.raises(KopecksForCash):
        await desk.open_session(USER, PHONE, intended=1)
    with pytest.raises(KopecksForCash):
        await desk.open_session(USER, PHONE, intended=99)
    session = await desk.open_session(USER, PHONE, intended=100)
    assert session.intended == 100
