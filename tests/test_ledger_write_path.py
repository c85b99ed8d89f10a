"""The ledger's lean write path: a transfer is one INSERT (a trigger writes the entries and the
balances), and units that check before they write share a batch without savepoints."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from services.db import Database
from services.errors import InsufficientFunds
from services.ledger import Ledger


def _open(account: str) -> object:
    def unit(conn: sqlite3.Connection) -> str:
        conn.execute(
            "INSERT INTO accounts (id, kind, created_at) VALUES (?, 'wallet', 0)", (account,)
        )
        return account

    return unit


async def test_a_unit_that_broke_its_promise_is_undone_alone(db: Database) -> None:
    """`checks_first` promises no write before a failure; one that wrote anyway loses its write,
    and the others in its batch are kept, each caller hearing its own answer."""

    def writes_then_fails(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO accounts (id, kind, created_at) VALUES ('wallet:bad', 'w', 0)")
        raise RuntimeError("refused")

    def refuses(conn: sqlite3.Connection) -> None:
        raise ValueError("nothing written")

    results = await asyncio.gather(
        db.transaction(_open("wallet:1"), checks_first=True),  # type: ignore[arg-type]
        db.transaction(writes_then_fails, checks_first=True),
        db.transaction(refuses, checks_first=True),
        db.transaction(_open("wallet:2")),  # type: ignore[arg-type]
        return_exceptions=True,
    )
    assert results[0] == "wallet:1" and results[3] == "wallet:2"
    assert isinstance(results[1], RuntimeError) and isinstance(results[2], ValueError)
    rows = await db.fetchall("SELECT id FROM accounts WHERE id LIKE 'wallet:%' ORDER BY id")
    assert [r[0] for r in rows] == ["wallet:1", "wallet:2"]


async def test_transfers_racing_for_the_same_money_in_one_batch(db: Database) -> None:
    ledger = Ledger(db)
    await ledger.open_account("external:cash", "external", allow_negative=True)
    await ledger.open_account("wallet:a", "wallet")
    await ledger.open_account("wallet:b", "wallet", max_balance=250)
    await ledger.transfer("external:cash", "wallet:a", 300, "fund")
    results = await asyncio.gather(
        *(ledger.transfer("wallet:a", "wallet:b", 100, f"t{n}") for n in range(4)),
        ledger.transfer("wallet:a", "wallet:b", 100, "t0"),  # a replay moves nothing
        return_exceptions=True,
    )
    moved = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(moved) == 3 and sum(1 for t in moved if t.replayed) == 1
    assert len(refused) == 2  # both over b's cap
    assert await ledger.balance("wallet:a") == 100
    assert await ledger.balance("wallet:b") == 200
    report = await ledger.check_invariants()
    assert report.ok, report
    with pytest.raises(InsufficientFunds):
        await ledger.transfer("wallet:a", "wallet:b", 101, "too-much")
    rows = await db.fetchall("SELECT COUNT(*) FROM entries")
    assert rows[0][0] == 2 * 3  # two entries per transfer that moved money
