"""The ledger: money is never lost, duplicated or overdrawn, whatever the order of requests."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.clock import ManualClock
from services.db import Database
from services.errors import IdempotencyConflict, InsufficientFunds
from services.ledger import BalanceCapExceeded, Ledger, UnknownAccount

USERS = ["wallet:+79000000001", "wallet:+79000000002", "wallet:+79000000003", "phone:+79000000001"]
CASH = "external:cash"


async def open_world(ledger: Ledger) -> None:
    await ledger.open_account(CASH, "external", allow_negative=True)
    for account in USERS:
        await ledger.open_account(account, account.split(":")[0])


async def test_transfer_moves_exact_kopecks_and_records_history(ledger: Ledger) -> None:
    await open_world(ledger)
    first = await ledger.transfer(
        CASH, USERS[0], 125050, "topup-1", memo="terminal", reference="R-1"
    )
    await ledger.transfer(USERS[0], USERS[1], 50, "gift-1", memo="gift")
    assert await ledger.balance(USERS[0]) == 125000
    assert await ledger.balance(USERS[1]) == 50
    history = await ledger.history(USERS[0])
    assert [(m.amount, m.counterparty, m.memo) for m in history] == [
        (-50, USERS[1], "gift"),
        (125050, CASH, "terminal"),
    ]
    assert history[1].reference == "R-1" and history[1].transfer_id == first.id
    assert (await ledger.check_invariants()).ok


async def test_repeated_key_returns_the_first_transfer_and_moves_nothing(ledger: Ledger) -> None:
    await open_world(ledger)
    first = await ledger.transfer(CASH, USERS[0], 1000, "tap-1")
    again = await ledger.transfer(CASH, USERS[0], 1000, "tap-1")
    assert again.id == first.id and again.replayed and not first.replayed
    assert await ledger.balance(USERS[0]) == 1000
    with pytest.raises(IdempotencyConflict):
        await ledger.transfer(CASH, USERS[0], 2000, "tap-1")


async def test_user_account_cannot_go_negative(ledger: Ledger) -> None:
    await open_world(ledger)
    await ledger.transfer(CASH, USERS[0], 300, "t1")
    with pytest.raises(InsufficientFunds) as error:
        await ledger.transfer(USERS[0], USERS[1], 500, "t2")
    assert error.value.shortfall == 200
    assert await ledger.balance(USERS[0]) == 300
    assert await ledger.history(USERS[1]) == []


async def test_balance_cap_refuses_before_anything_is_written(ledger: Ledger, db: Database) -> None:
    await ledger.open_account(CASH, "external", allow_negative=True)
    await ledger.open_account("wallet:capped", "wallet", max_balance=1_500_000)
    await ledger.transfer(CASH, "wallet:capped", 1_400_000, "t1")
    with pytest.raises(BalanceCapExceeded) as error:
        await ledger.transfer(CASH, "wallet:capped", 200_000, "t2")
    assert error.value.room == 100_000
    row = await db.fetchone("SELECT COUNT(*) FROM transfers")
    assert row is not None and row[0] == 1


async def test_a_credit_landing_exactly_on_the_cap_is_taken_and_not_a_kopeck_more(
    ledger: Ledger, db: Database
) -> None:
    await ledger.open_account(CASH, "external", allow_negative=True)
    await ledger.open_account("wallet:capped", "wallet", max_balance=1_500_000)
    await ledger.transfer(CASH, "wallet:capped", 1_400_000, "t1")
    await ledger.transfer(CASH, "wallet:capped", 100_000, "t2")
    assert await ledger.balance("wallet:capped") == 1_500_000
    with pytest.raises(BalanceCapExceeded) as error:
        await ledger.transfer(CASH, "wallet:capped", 1, "t3")
    assert error.value.room == 0
    assert await ledger.balance("wallet:capped") == 1_500_000


async def test_one_kopeck_moves_and_shows_in_both_histories(ledger: Ledger) -> None:
    await open_world(ledger)
    await ledger.transfer(CASH, USERS[0], 1, "k1", memo="in")
    await ledger.transfer(USERS[0], USERS[1], 1, "k2", memo="out")
    assert [(m.amount, m.counterparty) for m in await ledger.history(USERS[0])] == [
        (-1, USERS[1]),
        (1, CASH),
    ]
    assert [(m.amount, m.counterparty) for m in await ledger.history(USERS[1])] == [(1, USERS[0])]
    assert await ledger.balance(USERS[1]) == 1


async def test_the_invariant_check_notices_books_that_do_not_balance(
    ledger: Ledger, db: Database
) -> None:
    await open_world(ledger)
    first = await ledger.transfer(CASH, USERS[0], 500, "t1")
    assert (await ledger.check_invariants()).ok

    # A cached balance that differs from its entries (the entries still sum to zero).
    await db.transaction(
        lambda c: c.execute("UPDATE accounts SET balance = 400 WHERE id = ?", (USERS[0],))
    )
    report = await ledger.check_invariants()
    assert not report.ok and report.mismatched_accounts == [USERS[0]] and report.entries_sum == 0
    await db.transaction(
        lambda c: c.execute("UPDATE accounts SET balance = 500 WHERE id = ?", (USERS[0],))
    )
    # Money that appeared from nowhere: an entry without its counterpart.
    await db.transaction(
        lambda c: c.execute(
            "UPDATE entries SET amount = 600 WHERE transfer_id = ? AND amount > 0", (first.id,)
        )
    )
    report = await ledger.check_invariants()
    assert not report.ok and report.unbalanced_transfers == [first.id]
    assert report.entries_sum == 100 and report.balances_sum == 0
    await db.transaction(
        lambda c: c.execute(
            "UPDATE entries SET amount = 500 WHERE transfer_id = ? AND amount > 0", (first.id,)
        )
    )


async def test_a_ledger_without_a_clock_stamps_the_real_time(db: Database) -> None:
    ledger = Ledger(db)
    await open_world(ledger)
    moved = await ledger.transfer(CASH, USERS[0], 100, "now")
    assert abs(moved.created_at - datetime.now(UTC)) < timedelta(minutes=1)


async def test_bad_amounts_and_unknown_accounts_are_refused(ledger: Ledger) -> None:
    await open_world(ledger)
    for amount in (0, -5, 10.5, True):
        with pytest.raises(ValueError):
            await ledger.transfer(CASH, USERS[0], amount, f"bad-{amount}")  # type: ignore[arg-type]
    with pytest.raises(UnknownAccount):
        await ledger.transfer(CASH, "wallet:nobody", 100, "ghost")
    assert (await ledger.check_invariants()).ok


async def test_history_pages_newest_first(ledger: Ledger) -> None:
    await open_world(ledger)
    for i in range(7):
        await ledger.transfer(CASH, USERS[0], 100 + i, f"p{i}")
    page1 = await ledger.history(USERS[0], limit=5)
    page2 = await ledger.history(USERS[0], limit=5, before_id=page1[-1].transfer_id)
    assert [m.amount for m in page1 + page2] == [106, 105, 104, 103, 102, 101, 100]


transfer_requests = st.lists(
    st.tuples(
        st.sampled_from([CASH, *USERS]),
        st.sampled_from([CASH, *USERS]),
        st.integers(min_value=1, max_value=50_000),
        st.integers(min_value=0, max_value=15),  # small key space: many repeats
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(requests=transfer_requests, batch=st.integers(min_value=1, max_value=8))
def test_random_concurrent_transfers_keep_the_books_balanced(
    requests: list[tuple[str, str, int, int]], batch: int
) -> None:
    async def scenario(path: Path) -> None:
        db = await Database.open(path)
        ledger = Ledger(db, ManualClock())
        try:
            await open_world(ledger)
            first_seen: dict[str, tuple[str, str, int]] = {}

            async def attempt(source: str, target: str, amount: int, key_no: int) -> None:
                key = f"k{key_no}"
                try:
                    await ledger.transfer(source, target, amount, key)
                except (InsufficientFunds, IdempotencyConflict, ValueError):
                    return

            for start in range(0, len(requests), batch):
                chunk = requests[start : start + batch]
                await asyncio.gather(*(attempt(*r) for r in chunk))
            report = await ledger.check_invariants()
            assert report.ok, report
            rows = await db.fetchall(
                "SELECT idempotency_key, from_account, to_account, amount FROM transfers"
            )
            keys = [r[0] for r in rows]
            assert len(keys) == len(set(keys)), "a key moved money twice"
            for key, source, target, amount in rows:
                first_seen[key] = (source, target, amount)
            # Replaying every successful request changes nothing.
            before = {a: await ledger.balance(a) for a in [CASH, *USERS]}
            for key, (source, target, amount) in first_seen.items():
                replay = await ledger.transfer(source, target, amount, key)
                assert replay.replayed
            assert before == {a: await ledger.balance(a) for a in [CASH, *USERS]}
            for account in USERS:
                assert await ledger.balance(account) >= 0
        finally:
            await db.close()

    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(scenario(Path(folder) / "ledger.sqlite3"))
