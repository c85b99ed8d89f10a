"""The only place money moves: double entry, one transaction, idempotency keys.

Every movement is a transfer of a positive number of kopecks from one account to another,
written as two entries that sum to zero, with the cached balances updated in the same
transaction. A repeated idempotency key returns the first transfer and moves nothing.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime

from services.clock import Clock, SystemClock, from_ts, to_ts
from services.db import Database
from services.errors import DomainError, IdempotencyConflict, InsufficientFunds


class UnknownAccount(DomainError):
    def __init__(self, account: str) -> None:
        super().__init__(f"no account {account}")
        self.account = account


class BalanceCapExceeded(DomainError):
    """Crediting would take the account over its balance cap."""

    def __init__(self, account: str, balance: int, amount: int, cap: int) -> None:
        super().__init__(f"account {account} holds {balance}, +{amount} breaks cap {cap}")
        self.account = account
        self.balance = balance
        self.amount = amount
        self.cap = cap

    @property
    def room(self) -> int:
        """How much could still be credited without breaking the cap."""
        return max(self.cap - self.balance, 0)


@dataclass(frozen=True)
class Transfer:
    id: int
    idempotency_key: str
    from_account: str
    to_account: str
    amount: int
    memo: str
    reference: str
    created_at: datetime
    replayed: bool = False


@dataclass(frozen=True)
class Movement:
    """One line of an account's history, seen from that account."""

    transfer_id: int
    amount: int  # signed: positive is money in
    counterparty: str
    memo: str
    reference: str
    created_at: datetime
    # The shop order the movement paid or refunded, and the shop's name, when there is one.
    order: int | None = None
    shop: str = ""


@dataclass(frozen=True)
class InvariantReport:
    entries_sum: int
    balances_sum: int
    mismatched_accounts: list[str]
    negative_accounts: list[str]
    unbalanced_transfers: list[int]
    stranded_orders: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            self.entries_sum == 0
            and self.balances_sum == 0
            and not self.mismatched_accounts
            and not self.negative_accounts
            and not self.unbalanced_transfers
            and not self.stranded_orders
        )


# Money the aggregator's clearing account holds for each order, from the transfers that name it:
# the bill paid from a wallet or at a terminal (in), settled to the shop, the owner's refund
# (shop → clearing) and the aggregator's refund to the payer (out).
HELD_IN_CLEARING = """
WITH keyed(order_id, key) AS (
    SELECT op.inv_id, 'bill:' || b.id || ':pay'
      FROM bills b JOIN rk_operations op ON op.id = b.operation_id
    UNION ALL
    SELECT op.inv_id, 'cash:' || s.id || ':pay'
      FROM cash_sessions s JOIN bills b ON s.reference = 'bill:' || b.id
      JOIN rk_operations op ON op.id = b.operation_id
    UNION ALL
    SELECT inv_id, 'rk-refund:' || id FROM rk_operations
    UNION ALL
    SELECT id, 'order:' || id || ':settle' FROM orders
    UNION ALL
    SELECT id, 'order:' || id || ':refund' FROM orders
)
SELECT k.order_id, SUM(CASE WHEN t.to_account = :clearing THEN t.amount ELSE -t.amount END)
  FROM keyed k JOIN transfers t ON t.idempotency_key = k.key
 WHERE :clearing IN (t.from_account, t.to_account)
 GROUP BY k.order_id
"""
CLEARING_ACCOUNT = "clearing:robokassa"

# The order behind a Robokassa operation, and its shop's name when the order is one of ours.
ORDER_OF_OPERATION = """
SELECT op.inv_id, COALESCE(s.name, '') FROM rk_operations op
  LEFT JOIN orders o ON o.id = op.inv_id LEFT JOIN shops s ON s.id = o.shop_id
 WHERE op.id = ?
"""


def order_of_bill(conn: sqlite3.Connection, reference: str) -> tuple[int, str] | None:
    """The order (number, shop name) a `bill:<id>` reference pays."""
    kind, _sep, bill_id = reference.partition(":")
    if kind != "bill" or not bill_id.isdigit():
        return None
    bill = conn.execute("SELECT operation_id FROM bills WHERE id = ?", (int(bill_id),)).fetchone()
    row = None if bill is None else conn.execute(ORDER_OF_OPERATION, (bill[0],)).fetchone()
    return None if row is None else (row[0], row[1])


def order_of_transfer(conn: sqlite3.Connection, key: str) -> tuple[int, str] | None:
    """The order a transfer belongs to, read from the idempotency keys the payment paths use."""
    parts = key.split(":")
    if len(parts) < 2 or not parts[1].isdigit():
        return None
    if parts[0] == "bill":
        return order_of_bill(conn, f"bill:{parts[1]}")
    if parts[0] == "cash":
        row = conn.execute(
            "SELECT reference FROM cash_sessions WHERE id = ?", (int(parts[1]),)
        ).fetchone()
        return None if row is None else order_of_bill(conn, row[0])
    if parts[0] == "rk-refund":
        row = conn.execute(ORDER_OF_OPERATION, (int(parts[1]),)).fetchone()
        return None if row is None else (row[0], row[1])
    return None


def stranded_orders(conn: sqlite3.Connection) -> list[int]:
    """Orders that can no longer be paid (cancelled, expired) whose money rests in clearing.

    Nobody would ever take it from there: the shop settles only paid orders, and the payer
    is not waiting for anything. Awaiting orders may hold it for a moment (paid, ResultURL
    on its way); paid ones hold nothing once settled.
    """
    held = conn.execute(HELD_IN_CLEARING, {"clearing": CLEARING_ACCOUNT}).fetchall()
    stuck = [order_id for order_id, amount in held if amount]
    if not stuck:
        return []
    marks = ",".join("?" * len(stuck))
    rows = conn.execute(
        f"SELECT id FROM orders WHERE id IN ({marks}) AND status IN ('cancelled', 'expired')"
        " ORDER BY id",
        stuck,
    ).fetchall()
    return [r[0] for r in rows]


def open_account(
    conn: sqlite3.Connection,
    account: str,
    kind: str,
    *,
    now: int,
    allow_negative: bool = False,
    max_balance: int | None = None,
) -> None:
    """Create the account if it does not exist (inside the caller's transaction)."""
    conn.execute(
        "INSERT OR IGNORE INTO accounts (id, kind, allow_negative, max_balance, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (account, kind, int(allow_negative), max_balance, now),
    )


def open_clearing(conn: sqlite3.Connection, now: int) -> None:
    """The aggregator's account: in live mode money reaches it from outside our world."""
    open_account(conn, CLEARING_ACCOUNT, "clearing", now=now, allow_negative=True)


def set_max_balance(conn: sqlite3.Connection, account: str, max_balance: int | None) -> None:
    conn.execute("UPDATE accounts SET max_balance = ? WHERE id = ?", (max_balance, account))


def balance_of(conn: sqlite3.Connection, account: str) -> int:
    row = conn.execute("SELECT balance FROM accounts WHERE id = ?", (account,)).fetchone()
    if row is None:
        raise UnknownAccount(account)
    return int(row[0])


def _transfer_from_row(row: sqlite3.Row, *, replayed: bool) -> Transfer:
    return Transfer(
        id=row["id"],
        idempotency_key=row["idempotency_key"],
        from_account=row["from_account"],
        to_account=row["to_account"],
        amount=row["amount"],
        memo=row["memo"],
        reference=row["reference"],
        created_at=from_ts(row["created_at"]),
        replayed=replayed,
    )


def post(
    conn: sqlite3.Connection,
    from_account: str,
    to_account: str,
    amount: int,
    idempotency_key: str,
    *,
    now: int,
    memo: str = "",
    reference: str = "",
) -> Transfer:
    """Write one transfer inside the caller's transaction; a known key returns the first one.

    Refuses non-positive or non-int amounts, unknown accounts, overdrafts of accounts that may
    not go negative and credits past an account's cap; in each case nothing is written.
    """
    if type(amount) is not int or amount <= 0:
        raise ValueError(f"amount must be a positive int of kopecks, got {amount!r}")
    if from_account == to_account:
        raise ValueError("cannot transfer to the same account")
    existing = conn.execute(
        "SELECT * FROM transfers WHERE idempotency_key = ?", (idempotency_key,)
    ).fetchone()
    if existing is not None:
        first = _transfer_from_row(existing, replayed=True)
        if (first.from_account, first.to_account, first.amount) != (
            from_account,
            to_account,
            amount,
        ):
            raise IdempotencyConflict(idempotency_key)
        return first

    rows = {
        row["id"]: row
        for row in conn.execute(
            "SELECT id, balance, allow_negative, max_balance FROM accounts WHERE id IN (?, ?)",
            (from_account, to_account),
        )
    }
    for account in (from_account, to_account):
        if account not in rows:
            raise UnknownAccount(account)
    source, target = rows[from_account], rows[to_account]
    if not source["allow_negative"] and source["balance"] < amount:
        raise InsufficientFunds(from_account, source["balance"], amount)
    if target["max_balance"] is not None and target["balance"] + amount > target["max_balance"]:
        raise BalanceCapExceeded(to_account, target["balance"], amount, target["max_balance"])

    cursor = conn.execute(
        "INSERT INTO transfers (idempotency_key, from_account, to_account, amount, memo,"
        " reference, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (idempotency_key, from_account, to_account, amount, memo, reference, now),
    )
    transfer_id = cursor.lastrowid
    # One statement each for the two entries and the two balances (fewer round trips in SQLite).
    conn.execute(
        "INSERT INTO entries (transfer_id, account_id, amount, created_at)"
        " VALUES (?, ?, ?, ?), (?, ?, ?, ?)",
        (transfer_id, from_account, -amount, now, transfer_id, to_account, amount, now),
    )
    conn.execute(
        "UPDATE accounts SET balance = balance + CASE id WHEN ? THEN ? ELSE ? END"
        " WHERE id IN (?, ?)",
        (from_account, -amount, amount, from_account, to_account),
    )
    assert transfer_id is not None
    return Transfer(
        id=transfer_id,
        idempotency_key=idempotency_key,
        from_account=from_account,
        to_account=to_account,
        amount=amount,
        memo=memo,
        reference=reference,
        created_at=from_ts(now),
    )


class Ledger:
    """Async face of the ledger for callers that move money on its own."""

    def __init__(self, db: Database, clock: Clock | None = None) -> None:
        self.db = db
        self.clock = clock or SystemClock()

    def now(self) -> int:
        return to_ts(self.clock.now())

    async def open_account(
        self,
        account: str,
        kind: str,
        *,
        allow_negative: bool = False,
        max_balance: int | None = None,
    ) -> None:
        now = self.now()
        await self.db.transaction(
            lambda c: open_account(
                c, account, kind, now=now, allow_negative=allow_negative, max_balance=max_balance
            )
        )

    async def transfer(
        self,
        from_account: str,
        to_account: str,
        amount: int,
        idempotency_key: str,
        *,
        memo: str = "",
        reference: str = "",
    ) -> Transfer:
        """Move `amount` kopecks in one transaction; a repeated key moves nothing."""
        now = self.now()
        return await self.db.transaction(
            lambda c: post(
                c,
                from_account,
                to_account,
                amount,
                idempotency_key,
                now=now,
                memo=memo,
                reference=reference,
            )
        )

    async def balance(self, account: str) -> int:
        return await self.db.run(lambda c: balance_of(c, account))

    async def history(
        self, account: str, *, limit: int = 10, before_id: int | None = None
    ) -> list[Movement]:
        """The account's movements, newest first, `limit` at a time (page with `before_id`)."""

        def query(conn: sqlite3.Connection) -> list[Movement]:
            rows = conn.execute(
                "SELECT t.id, t.from_account, t.to_account, t.memo, t.reference, t.created_at,"
                " t.idempotency_key, e.amount"
                " FROM entries e JOIN transfers t ON t.id = e.transfer_id"
                " WHERE e.account_id = ? AND (? IS NULL OR t.id < ?)"
                " ORDER BY t.id DESC LIMIT ?",
                (account, before_id, before_id, limit),
            ).fetchall()
            return [
                Movement(
                    transfer_id=row["id"],
                    amount=row["amount"],
                    counterparty=row["from_account"] if row["amount"] > 0 else row["to_account"],
                    memo=row["memo"],
                    reference=row["reference"],
                    created_at=from_ts(row["created_at"]),
                    order=found[0] if found else None,
                    shop=found[1] if found else "",
                )
                for row in rows
                for found in [order_of_transfer(conn, row["idempotency_key"])]
            ]

        return await self.db.run(query)

    async def check_invariants(self) -> InvariantReport:
        """Double entry holds: entries sum to 0, caches match entries, no forbidden negatives."""

        def query(conn: sqlite3.Connection) -> InvariantReport:
            entries_sum = conn.execute("SELECT COALESCE(SUM(amount), 0) FROM entries").fetchone()
            balances_sum = conn.execute("SELECT COALESCE(SUM(balance), 0) FROM accounts").fetchone()
            mismatched = conn.execute(
                "SELECT a.id FROM accounts a LEFT JOIN entries e ON e.account_id = a.id"
                " GROUP BY a.id HAVING a.balance <> COALESCE(SUM(e.amount), 0)"
            ).fetchall()
            negative = conn.execute(
                "SELECT id FROM accounts WHERE allow_negative = 0 AND balance < 0"
            ).fetchall()
            unbalanced = conn.execute(
                "SELECT transfer_id FROM entries GROUP BY transfer_id"
                " HAVING SUM(amount) <> 0 OR COUNT(*) <> 2"
            ).fetchall()
            return InvariantReport(
                entries_sum=int(entries_sum[0]),
                balances_sum=int(balances_sum[0]),
                mismatched_accounts=[r[0] for r in mismatched],
                negative_accounts=[r[0] for r in negative],
                unbalanced_transfers=[r[0] for r in unbalanced],
                stranded_orders=stranded_orders(conn),
            )

        return await self.db.run(query)
