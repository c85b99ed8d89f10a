"""QIWI bills of the embedded sandbox: "Visa QIWI Wallet" with a mobile number.

A bill goes to the buyer's phone through the wallet stand-in and is paid from the wallet (site or
app) or in cash at a terminal; the money lands in the aggregator's clearing account and the
operation's state becomes 100 in the same transaction, which schedules its ResultURL call.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from services import ledger
from services.clock import Clock, from_ts, to_ts
from services.db import Database
from services.errors import DomainError
from services.ledger import open_clearing
from services.operator import require_active
from services.robokassa import QIWI_LABEL
from services.terminal import CashDesk
from services.wallet import pay_from_wallet

CLEARING = ledger.CLEARING_ACCOUNT


class NoWalletOnPhone(DomainError):
    def __init__(self, phone: str) -> None:
        super().__init__(f"no QIWI wallet on {phone}")
        self.phone = phone


class BillNotFound(DomainError):
    pass


class BillClosed(DomainError):
    def __init__(self, status: str) -> None:
        super().__init__(f"bill is {status}")
        self.status = status


@dataclass(frozen=True)
class Bill:
    id: int
    operation_id: int
    inv_id: int
    phone: str
    amount: int
    status: str
    method: str | None
    expires_at: datetime
    paid_at: datetime | None


def _bill(row: sqlite3.Row) -> Bill:
    return Bill(
        id=row["id"],
        operation_id=row["operation_id"],
        inv_id=row["inv_id"],
        phone=row["phone"],
        amount=row["amount"],
        status=row["status"],
        method=row["method"],
        expires_at=from_ts(row["expires_at"]),
        paid_at=None if row["paid_at"] is None else from_ts(row["paid_at"]),
    )


BILL_SELECT = "SELECT b.*, o.inv_id FROM bills b JOIN rk_operations o ON o.id = b.operation_id"


class QiwiBills:
    """Bills for sandbox operations and their payment (part of `Aggregator`)."""

    db: Database
    clock: Clock
    cash: CashDesk
    bill_ttl: int

    async def issue_bill(self, operation_id: int, phone: str) -> Bill:
        """ "Visa QIWI Wallet" with a mobile number: a bill to that number's wallet."""
        now = to_ts(self.clock.now())

        def issue(conn: sqlite3.Connection) -> Bill:
            op = conn.execute(
                "SELECT * FROM rk_operations WHERE id = ?", (operation_id,)
            ).fetchone()
            if op is None:
                raise BillNotFound()
            if op["state"] != 5:
                raise BillClosed("PAID" if op["state"] == 100 else "REJECTED")
            require_active(conn, phone, now)
            wallet = conn.execute("SELECT status FROM wallets WHERE phone = ?", (phone,)).fetchone()
            if wallet is None or wallet["status"] != "active":
                raise NoWalletOnPhone(phone)
            waiting = conn.execute(
                f"{BILL_SELECT} WHERE b.operation_id = ? AND b.phone = ? AND b.status = 'WAITING'",
                (operation_id, phone),
            ).fetchone()
            if waiting is not None and waiting["expires_at"] > now:
                return _bill(waiting)
            expires = now + self.bill_ttl
            if op["expires_at"] is not None:
                expires = min(expires, op["expires_at"])
            conn.execute(
                "UPDATE bills SET status = 'REJECTED'"
                " WHERE operation_id = ? AND status = 'WAITING'",
                (operation_id,),
            )
            conn.execute(
                "UPDATE rk_operations SET inc_curr_label = ? WHERE id = ?",
                (QIWI_LABEL, operation_id),
            )
            cursor = conn.execute(
                "INSERT INTO bills (operation_id, phone, amount, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (operation_id, phone, op["amount"], now, expires),
            )
            row = conn.execute(f"{BILL_SELECT} WHERE b.id = ?", (cursor.lastrowid,)).fetchone()
            return _bill(row)

        return await self.db.transaction(issue)

    async def bill(self, bill_id: int) -> Bill:
        row = await self.db.fetchone(f"{BILL_SELECT} WHERE b.id = ?", (bill_id,))
        if row is None:
            raise BillNotFound()
        return _bill(row)

    def _mark_bill_paid(
        self, conn: sqlite3.Connection, bill: sqlite3.Row, method: str, now: int
    ) -> None:
        conn.execute(
            "UPDATE bills SET status = 'PAID', method = ?, paid_at = ? WHERE id = ?",
            (method, now, bill["id"]),
        )
        conn.execute(
            "UPDATE rk_operations SET state = 100, state_at = ?, callback_due_at = ?"
            " WHERE id = ? AND state <> 100",
            (now, now, bill["operation_id"]),
        )

    def _open_bill(self, conn: sqlite3.Connection, bill_id: int, now: int) -> sqlite3.Row:
        bill = conn.execute("SELECT * FROM bills WHERE id = ?", (bill_id,)).fetchone()
        if bill is None:
            raise BillNotFound()
        if bill["status"] == "WAITING" and bill["expires_at"] <= now:
            raise BillClosed("EXPIRED")  # the expiry job records it
        if bill["status"] != "WAITING":
            raise BillClosed(bill["status"])
        found: sqlite3.Row = bill
        return found

    async def pay_bill_from_wallet(self, bill_id: int, *, method: str = "site") -> Bill:
        """The bill paid from the wallet's balance (the caller checked the secret key).

        One debit however many times it is pressed: the bill's state and the ledger's
        idempotency key are checked in the same transaction as the money.
        """
        now = to_ts(self.clock.now())
        moment = self.clock.now()

        def pay(conn: sqlite3.Connection) -> None:
            try:
                bill = self._open_bill(conn, bill_id, now)
            except BillClosed as closed:
                if closed.status == "PAID":
                    return
                raise
            open_clearing(conn, now)
            pay_from_wallet(
                conn,
                bill["phone"],
                CLEARING,
                bill["amount"],
                f"bill:{bill_id}:pay",
                now=moment,
                memo="robokassa",
                reference=str(bill_id),
            )
            self._mark_bill_paid(conn, bill, method, now)

        await self.db.transaction(pay)
        return await self.bill(bill_id)

    def _bill_paid_in_cash(
        self, conn: sqlite3.Connection, reference: str, amount: int, now: int
    ) -> None:
        """Terminal hook: cash for `bill:<id>` reached the clearing account in this transaction."""
        bill_id = int(reference.split(":")[1])
        bill = self._open_bill(conn, bill_id, now)
        if bill["amount"] != amount:
            raise BillClosed("AMOUNT")
        self._mark_bill_paid(conn, bill, "terminal", now)

    async def open_terminal_payment(self, bill_id: int, user_id: int) -> int:
        """Pay the bill at a QIWI terminal: a cash visit for exactly the bill's amount."""
        bill = await self.bill(bill_id)
        if bill.status != "WAITING":
            raise BillClosed(bill.status)
        now = to_ts(self.clock.now())
        await self.db.transaction(lambda c: open_clearing(c, now))
        session = await self.cash.open_session(
            user_id,
            bill.phone,
            purpose="payment",
            target_account=CLEARING,
            amount=bill.amount,
            reference=f"bill:{bill_id}",
        )
        return session.id

    async def expire_bills(self) -> list[int]:
        now = to_ts(self.clock.now())

        def run(conn: sqlite3.Connection) -> list[int]:
            rows = conn.execute(
                "SELECT id FROM bills WHERE status = 'WAITING' AND expires_at <= ?", (now,)
            ).fetchall()
            conn.execute(
                "UPDATE bills SET status = 'EXPIRED' WHERE status = 'WAITING' AND expires_at <= ?",
                (now,),
            )
            conn.execute(
                "UPDATE rk_operations SET state = 10, state_at = ? WHERE state = 5"
                " AND expires_at IS NOT NULL AND expires_at <= ?",
                (now, now),
            )
            return [r[0] for r in rows]

        return await self.db.transaction(run)
