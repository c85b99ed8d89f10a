"""A wallet's monthly allowance at its edges: the month turns at midnight Moscow time, the last
kopeck of the allowance, and a wallet moved to a lower level after spending more than it allows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.clock import ManualClock, to_ts
from services.db import Database
from services.ledger import Ledger
from services.operator import Operator
from services.wallet import (
    MonthlyLimitExceeded,
    TooManyAttempts,
    WalletRules,
    WalletService,
    WrongSecret,
    wallet_account,
)

PHONE = "+79123456789"
CASH = "external:cash"
SHOP = "shop:books"
BASIC_MONTH = 20_000_000  # 200 000 ₽ of payments a month on the basic level


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 30, 20, 59, 59, tzinfo=UTC))  # 23:59:59 in Moscow


@pytest.fixture
async def wallets(db: Database, clock: ManualClock, ledger: Ledger) -> WalletService:
    await Operator(db, clock).prove(PHONE, 1)
    service = WalletService(db, clock, ledger, WalletRules())
    sent = await service.start_registration(PHONE, 1)
    await service.confirm_code(PHONE, sent.sms.value, 1)
    await service.set_level(PHONE, "basic")
    await ledger.open_account(CASH, "external", allow_negative=True)
    await ledger.open_account(SHOP, "shop")
    return service


async def spend_the_month(wallets: WalletService, tag: str) -> None:
    """Four payments of 50 000 ₽, topped up before each: the basic level's whole month."""
    for n in range(4):
        await wallets.credit(PHONE, CASH, 5_000_000, f"{tag}-in-{n}")
        await wallets.pay(PHONE, SHOP, 5_000_000, f"{tag}-out-{n}")


async def test_the_allowance_renews_at_midnight_on_the_first_moscow_time(
    wallets: WalletService, clock: ManualClock, ledger: Ledger
) -> None:
    await spend_the_month(wallets, "nov")  # all on 30 November, 23:59:59
    await wallets.credit(PHONE, CASH, 100_000, "nov-more")
    with pytest.raises(MonthlyLimitExceeded) as error:
        await wallets.pay(PHONE, SHOP, 1, "nov-late")
    assert error.value.room == 0
    clock.advance(seconds=1)  # 1 December, 00:00:00 in Moscow (21:00 UTC the day before)
    await wallets.pay(PHONE, SHOP, 100_000, "dec-first")
    # What is paid in December's first second is December's: the allowance counts it.
    for n in range(3):
        await wallets.credit(PHONE, CASH, 5_000_000, f"dec-in-{n}")
        await wallets.pay(PHONE, SHOP, 5_000_000, f"dec-out-{n}")
    await wallets.credit(PHONE, CASH, 4_900_000, "dec-in-last")
    await wallets.pay(PHONE, SHOP, 4_900_000, "dec-out-last")  # exactly 200 000 ₽ in December
    await wallets.credit(PHONE, CASH, 100, "dec-coins")
    with pytest.raises(MonthlyLimitExceeded) as error:
        await wallets.pay(PHONE, SHOP, 1, "dec-one-too-many")
    assert (error.value.spent, error.value.room) == (BASIC_MONTH, 0)
    assert await ledger.balance(wallet_account(PHONE)) == 100
    assert (await ledger.check_invariants()).ok


async def test_a_wallet_moved_down_a_level_after_spending_more_has_no_room_left(
    wallets: WalletService, ledger: Ledger
) -> None:
    await spend_the_month(wallets, "nov")  # 200 000 ₽, more than the minimal level's 40 000 ₽
    await wallets.set_level(PHONE, "minimal")
    await wallets.credit(PHONE, CASH, 100_000, "coins")
    with pytest.raises(MonthlyLimitExceeded) as error:
        await wallets.pay(PHONE, SHOP, 100, "after-downgrade")
    assert error.value.room == 0  # never a negative allowance
    info = await wallets.wallet_of(1)
    assert info is not None and info.spent_this_month == BASIC_MONTH
    assert info.limits.monthly_payments == 4_000_000
    assert await ledger.balance(wallet_account(PHONE)) == 100_000


async def wrong_keys_until_locked(wallets: WalletService, user: int) -> list[int]:
    """Wrong secret keys typed by `user` until refused; the attempts left after each."""
    lefts = []
    while True:
        try:
            await wallets.verify_secret(PHONE, "AAAA-BBBB-CCCC", user)
        except WrongSecret as wrong:
            lefts.append(wrong.attempts_left)
        except TooManyAttempts:
            return lefts


async def test_after_the_cool_down_the_whole_allowance_is_back_at_the_second_promised(
    wallets: WalletService, clock: ManualClock
) -> None:
    assert await wrong_keys_until_locked(wallets, 1) == [4, 3, 2, 1]
    with pytest.raises(TooManyAttempts) as locked:
        await wallets.verify_secret(PHONE, "AAAA-BBBB-CCCC", 1)
    clock.advance(seconds=to_ts(locked.value.until) - to_ts(clock.now()))
    # The lock ends the second it said it would, and the account has all its tries again.
    assert await wrong_keys_until_locked(wallets, 1) == [4, 3, 2, 1]
