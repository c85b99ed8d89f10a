"""Cash terminal and mobile shop stand-ins: banknotes in, no change out, a receipt to keep.

A visit is a `cash_sessions` row, so cash already inserted survives a restart. "Оплатить" turns
it into a receipt exactly once. Crediting the wallet is usually instant but sometimes delayed
(rules below); a background job credits delayed receipts when due and tells the person through
the outbox. Ledger trail: cash → the point's cassette → wallet (minus commission → fees), or for a
payment: cassette → the payee, and the remainder → the phone's mobile balance or the wallet.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from services import ledger
from services.clock import Clock, from_ts, to_ts
from services.db import Database
from services.errors import DomainError
from services.operator import mobile_account, require_active
from services.outbox import Kind, ReceiptCredited, enqueue
from services.requests import handled, remember
from services.wallet import WalletBlocked, WalletNotFound, wallet_account

BANKNOTES = (10, 50, 100, 200, 500, 1000, 2000, 5000)  # roubles; the terminal takes nothing else
CASH = "external:cash"
FEES = "fees:cash"
RECEIPT_BASE = 100000


@dataclass(frozen=True)
class CashRules:
    terminal_id: str = "T-0417"
    salon_id: str = "S-0102"
    commission_bp: int = 0  # terminal top-up commission, basis points (100 = 1 %)
    delayed_percent: int = 10  # share of top-ups whose crediting is delayed
    delay_seconds: int = 3600  # how long a delayed top-up takes
    idle_seconds: int = 600  # an abandoned visit with cash is finished (and receipted) after this
    salon_max: int = 1_500_000  # kopecks a consultant takes in one go


class NotABanknote(DomainError):
    def __init__(self, value: object) -> None:
        super().__init__(f"{value!r} is not a banknote the terminal takes")


class WouldBreakCap(DomainError):
    """Crediting this would take the wallet over its level's balance cap."""

    def __init__(self, room: int, cap: int) -> None:
        super().__init__(f"only {room} fits under the cap {cap}")
        self.room = room
        self.cap = cap


class NothingInserted(DomainError):
    pass


class NotEnoughCash(DomainError):
    def __init__(self, missing: int) -> None:
        super().__init__(f"{missing} short")
        self.missing = missing


class RemainderChoiceNeeded(DomainError):
    def __init__(self, remainder: int) -> None:
        super().__init__(f"where should {remainder} go?")
        self.remainder = remainder


class SessionNotFound(DomainError):
    pass


class KopecksForCash(DomainError):
    """An intended cash sum with kopecks: banknotes cannot make it."""


class ReceiptNotFound(DomainError):
    pass


class BadAmount(DomainError):
    pass


@dataclass(frozen=True)
class ForOrder:
    """A top-up meant for an unpaid order: what the order lacked in the wallet when it began,
    and the invoice the wallet could not pay (0 when none is known)."""

    order: int
    bill: int = 0
    needed: int = 0


def banknote_sum_for(amount: int) -> int:
    """The smallest sum banknotes make that covers `amount`: every note is a multiple of the
    smallest, so that is `amount` rounded up to it."""
    step = min(BANKNOTES) * 100
    return -(-amount // step) * step


def _for_order(row: sqlite3.Row) -> ForOrder | None:
    if row["for_order"] is None:
        return None
    return ForOrder(row["for_order"], row["for_bill"], row["needed"])


@dataclass(frozen=True)
class CashSession:
    id: int
    point: str
    kind: str
    phone: str
    purpose: str
    amount: int | None
    intended: int | None
    notes: list[int]
    inserted: int
    commission: int
    status: str
    reference: str
    for_order: ForOrder | None = None

    @property
    def to_credit(self) -> int:
        return self.inserted - self.commission

    @property
    def remainder(self) -> int:
        return max(self.inserted - (self.amount or 0), 0) if self.purpose == "payment" else 0

    @property
    def missing(self) -> int:
        return max((self.amount or 0) - self.inserted, 0) if self.purpose == "payment" else 0


@dataclass(frozen=True)
class Receipt:
    number: int
    point: str
    kind: str
    user_id: int
    phone: str
    purpose: str
    reference: str
    notes: list[int]
    inserted: int
    commission: int
    paid: int
    credited: int
    remainder: int
    remainder_to: str | None
    status: str
    created_at: datetime
    due_at: datetime
    credited_at: datetime | None
    # For a payment: the order (number, shop name) it paid, when it paid one.
    order: tuple[int, str] | None = None
    intended: int | None = None  # the sum the person meant to credit
    for_order: ForOrder | None = None

    @property
    def pending(self) -> bool:
        return self.status == "pending"

    @property
    def above_intended(self) -> int:
        """What was inserted above the intended sum: the terminal gives no change, so it is
        credited too."""
        if self.purpose != "topup" or not self.intended:
            return 0
        return max(self.credited - self.intended, 0)

    @property
    def left_in_wallet(self) -> int:
        """What stays in the wallet once the order it was meant for is paid."""
        if self.for_order is None:
            return 0
        return max(self.credited - self.for_order.needed, 0)


def _receipt(row: sqlite3.Row, conn: sqlite3.Connection) -> Receipt:
    visit = conn.execute(
        "SELECT intended, for_order, for_bill, needed FROM cash_sessions WHERE id = ?",
        (row["session_id"],),
    ).fetchone()
    return Receipt(
        number=RECEIPT_BASE + row["id"],
        point=row["point"],
        kind=row["kind"],
        user_id=row["user_id"],
        phone=row["phone"],
        purpose=row["purpose"],
        reference=row["reference"],
        notes=json.loads(row["notes"]),
        inserted=row["inserted"],
        commission=row["commission"],
        paid=row["paid"],
        credited=row["credited"],
        remainder=row["remainder"],
        remainder_to=row["remainder_to"],
        status=row["status"],
        created_at=from_ts(row["created_at"]),
        due_at=from_ts(row["due_at"]),
        credited_at=None if row["credited_at"] is None else from_ts(row["credited_at"]),
        order=ledger.order_of_bill(conn, row["reference"]) if row["purpose"] == "payment" else None,
        intended=visit["intended"],
        for_order=_for_order(visit),
    )


# A payment's amount landed: (conn, reference, amount, now). Set by the payment journey.
PaymentHook = Callable[[sqlite3.Connection, str, int, int], None]


class CashDesk:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        rules: CashRules | None = None,
        *,
        delayed: Callable[[], bool] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.rules = rules or CashRules()
        chance = random.Random()
        self.delayed = delayed or (lambda: chance.random() * 100 < self.rules.delayed_percent)
        self.payment_hooks: dict[str, PaymentHook] = {}

    def _now(self) -> int:
        return to_ts(self.clock.now())

    def commission(self, kind: str, purpose: str, inserted: int) -> int:
        if kind != "terminal" or purpose != "topup":
            return 0
        return (inserted * self.rules.commission_bp + 5000) // 10000

    def _session(self, row: sqlite3.Row) -> CashSession:
        return CashSession(
            id=row["id"],
            point=row["point"],
            kind=row["kind"],
            phone=row["phone"],
            purpose=row["purpose"],
            amount=row["amount"],
            intended=row["intended"],
            notes=json.loads(row["notes"]),
            inserted=row["inserted"],
            commission=self.commission(row["kind"], row["purpose"], row["inserted"]),
            status=row["status"],
            reference=row["reference"],
            for_order=_for_order(row),
        )

    # ---- a visit ---------------------------------------------------------------------

    async def open_session(
        self,
        user_id: int,
        phone: str,
        *,
        purpose: str = "topup",
        target_account: str | None = None,
        amount: int | None = None,
        reference: str = "",
        intended: int | None = None,
        for_order: ForOrder | None = None,
    ) -> CashSession:
        """Start at the terminal's screen "Пополнить счёт" (or "Оплатить счёт") for a number.

        An intended sum must be whole roubles (banknotes make no kopecks) and fit under the
        wallet's cap now, so nobody learns at the fourth banknote that it never could.
        """
        if intended is not None and (type(intended) is not int or intended <= 0):
            raise BadAmount()
        if intended is not None and intended % 100:
            raise KopecksForCash()
        now = self._now()
        point = self.rules.terminal_id

        def start(conn: sqlite3.Connection) -> CashSession:
            require_active(conn, phone, now)
            if purpose == "topup":
                _require_wallet(conn, phone)
                if intended is not None:
                    _check_room(conn, phone, intended)
            # One visit at a time per person: an untouched earlier one is simply dropped.
            conn.execute(
                "DELETE FROM cash_sessions WHERE user_id = ? AND status = 'open' AND inserted = 0",
                (user_id,),
            )
            cursor = conn.execute(
                "INSERT INTO cash_sessions (point, kind, user_id, phone, purpose, target_account,"
                " amount, reference, intended, for_order, for_bill, needed, created_at,"
                " updated_at) VALUES (?, 'terminal', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    point,
                    user_id,
                    phone,
                    purpose,
                    target_account,
                    amount,
                    reference,
                    intended,
                    *_for_order_columns(for_order),
                    now,
                    now,
                ),
            )
            row = conn.execute(
                "SELECT * FROM cash_sessions WHERE id = ?", (cursor.lastrowid,)
            ).fetchone()
            return self._session(row)

        return await self.db.transaction(start)

    async def open_visit(self, user_id: int) -> CashSession | None:
        """The person's unfinished visit, if any (cash may already be inside)."""
        row = await self.db.fetchone(
            "SELECT * FROM cash_sessions WHERE user_id = ? AND status = 'open'"
            " ORDER BY id DESC LIMIT 1",
            (user_id,),
        )
        return None if row is None else self._session(row)

    async def session(self, session_id: int, user_id: int) -> CashSession:
        row = await self.db.fetchone(
            "SELECT * FROM cash_sessions WHERE id = ? AND user_id = ?", (session_id, user_id)
        )
        if row is None:
            raise SessionNotFound()
        return self._session(row)

    async def finished_receipt(self, session_id: int, user_id: int) -> Receipt | None:
        """The receipt of the person's visit that is over (None: no such visit or nothing in it)."""

        def read(conn: sqlite3.Connection) -> Receipt | None:
            row = conn.execute(
                "SELECT r.* FROM receipts r JOIN cash_sessions s ON s.id = r.session_id"
                " WHERE s.id = ? AND s.user_id = ?",
                (session_id, user_id),
            ).fetchone()
            return None if row is None else _receipt(row, conn)

        return await self.db.run(read)

    async def insert(
        self, session_id: int, user_id: int, banknote: int, *, request: str = ""
    ) -> CashSession:
        """Take one banknote; refused if it is not one, or if the wallet could not hold it.

        `request` names the press that inserted it: the same press handled again inserts nothing.
        """
        if type(banknote) is not int or banknote not in BANKNOTES:
            raise NotABanknote(banknote)
        now = self._now()

        def take(conn: sqlite3.Connection) -> CashSession:
            row = _open_row(conn, session_id, user_id)
            if handled(conn, user_id, request) is not None:
                return self._session(row)
            remember(conn, user_id, request, str(session_id), now)
            inserted = row["inserted"] + banknote * 100
            if row["purpose"] == "topup":
                before = row["inserted"] - self.commission(row["kind"], "topup", row["inserted"])
                credit = inserted - self.commission(row["kind"], "topup", inserted)
                _check_room(conn, row["phone"], credit, already=before)
            notes = [*json.loads(row["notes"]), banknote]
            conn.execute(
                "UPDATE cash_sessions SET notes = ?, inserted = ?, updated_at = ? WHERE id = ?",
                (json.dumps(notes), inserted, now, session_id),
            )
            return self._session(
                conn.execute("SELECT * FROM cash_sessions WHERE id = ?", (session_id,)).fetchone()
            )

        return await self.db.transaction(take)

    async def pay(
        self, session_id: int, user_id: int, *, remainder_to: str | None = None
    ) -> Receipt:
        """ "Оплатить": the cash becomes a receipt, once; pressing again returns the same one."""
        now = self._now()
        delayed = self.delayed()

        def finish(conn: sqlite3.Connection) -> Receipt:
            existing = conn.execute(
                "SELECT r.* FROM receipts r JOIN cash_sessions s ON s.id = r.session_id"
                " WHERE r.session_id = ? AND s.user_id = ?",
                (session_id, user_id),
            ).fetchone()
            if existing is not None:
                return _receipt(existing, conn)
            row = _open_row(conn, session_id, user_id)
            return self._settle(conn, row, now, delayed=delayed, remainder_to=remainder_to)

        return await self.db.transaction(finish)

    def _settle(
        self,
        conn: sqlite3.Connection,
        row: sqlite3.Row,
        now: int,
        *,
        delayed: bool,
        remainder_to: str | None,
    ) -> Receipt:
        session = self._session(row)
        if session.inserted <= 0:
            raise NothingInserted()
        paid = credited = remainder = 0
        if session.purpose == "payment":
            if session.missing:
                raise NotEnoughCash(session.missing)
            paid = session.amount or 0
            remainder = session.remainder
            if remainder and remainder_to not in ("phone", "wallet"):
                raise RemainderChoiceNeeded(remainder)
            delayed = False  # an invoice paid in cash is paid on the spot
        else:
            credited = session.to_credit
            remainder_to = None
        cursor = conn.execute(
            "INSERT INTO receipts (session_id, point, kind, user_id, phone, purpose, reference,"
            " notes, inserted, commission, paid, credited, remainder, remainder_to, status,"
            " due_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending',"
            " ?, ?)",
            (
                session.id,
                session.point,
                session.kind,
                row["user_id"],
                session.phone,
                session.purpose,
                session.reference,
                json.dumps(session.notes),
                session.inserted,
                session.commission,
                paid,
                credited,
                remainder,
                remainder_to if remainder else None,
                now + (self.rules.delay_seconds if delayed else 0),
                now,
            ),
        )
        receipt_id = cursor.lastrowid
        assert receipt_id is not None
        number = str(RECEIPT_BASE + receipt_id)
        point_account = f"cash:{session.point}"
        ledger.open_account(conn, CASH, "external", now=now, allow_negative=True)
        ledger.open_account(conn, point_account, "clearing", now=now)
        ledger.open_account(conn, FEES, "fees", now=now)
        key = f"cash:{session.id}"

        def move(source: str, target: str, amount: int, step: str, memo: str) -> None:
            ledger.post(
                conn, source, target, amount, f"{key}:{step}", now=now, memo=memo, reference=number
            )

        move(CASH, point_account, session.inserted, "in", session.kind)
        if session.commission:
            move(point_account, FEES, session.commission, "fee", "commission")
        if paid:
            move(point_account, row["target_account"], paid, "pay", "payment")
            hook = self.payment_hooks.get(session.reference.split(":")[0])
            if hook is not None:
                hook(conn, session.reference, paid, now)
        if remainder:
            if remainder_to == "wallet":
                _require_wallet(conn, session.phone)
                move(point_account, wallet_account(session.phone), remainder, "rest", "remainder")
            else:
                move(point_account, mobile_account(session.phone), remainder, "rest", "remainder")
        conn.execute(
            "UPDATE cash_sessions SET status = 'paid', updated_at = ? WHERE id = ?",
            (now, session.id),
        )
        if session.purpose == "payment" or not delayed:
            self._credit(conn, receipt_id, now, notify=False)
        return _receipt(
            conn.execute("SELECT * FROM receipts WHERE id = ?", (receipt_id,)).fetchone(), conn
        )

    def _credit(self, conn: sqlite3.Connection, receipt_id: int, now: int, *, notify: bool) -> None:
        row = conn.execute("SELECT * FROM receipts WHERE id = ?", (receipt_id,)).fetchone()
        if row["status"] != "pending":
            return
        number = str(RECEIPT_BASE + receipt_id)
        if row["credited"]:
            ledger.post(
                conn,
                f"cash:{row['point']}",
                wallet_account(row["phone"]),
                row["credited"],
                f"receipt:{number}:credit",
                now=now,
                memo=row["kind"],
                reference=number,
            )
        conn.execute(
            "UPDATE receipts SET status = 'credited', credited_at = ? WHERE id = ?",
            (now, receipt_id),
        )
        if notify:
            payload: ReceiptCredited = {
                "receipt": int(number),
                "amount": row["credited"],
                "phone": row["phone"],
            }
            visit = conn.execute(
                "SELECT for_order, for_bill FROM cash_sessions WHERE id = ?", (row["session_id"],)
            ).fetchone()
            if visit["for_order"] is not None:
                payload["order"] = visit["for_order"]
                payload["bill"] = visit["for_bill"]
            enqueue(
                conn,
                row["user_id"],
                Kind.RECEIPT_CREDITED,
                payload,
                f"receipt:{number}:credited",
                now=now,
            )

    async def cancel(self, session_id: int, user_id: int) -> Receipt | None:
        """Leaving the terminal: cash already inside is not lost, it is receipted."""
        now = self._now()
        delayed = self.delayed()

        def leave(conn: sqlite3.Connection) -> Receipt | None:
            row = conn.execute(
                "SELECT * FROM cash_sessions WHERE id = ? AND user_id = ?", (session_id, user_id)
            ).fetchone()
            if row is None or row["status"] != "open":
                return None
            if row["inserted"] == 0:
                conn.execute("DELETE FROM cash_sessions WHERE id = ?", (session_id,))
                return None
            return self._abandon(conn, row, now, delayed)

        return await self.db.transaction(leave)

    def _abandon(
        self, conn: sqlite3.Connection, row: sqlite3.Row, now: int, delayed: bool
    ) -> Receipt:
        if row["purpose"] == "payment":
            # An unfinished invoice payment: the cash goes to the wallet, or else the phone.
            has_wallet = conn.execute(
                "SELECT 1 FROM wallets WHERE phone = ? AND status = 'active'", (row["phone"],)
            ).fetchone()
            conn.execute(
                "UPDATE cash_sessions SET purpose = 'topup', amount = NULL WHERE id = ?",
                (row["id"],),
            )
            row = conn.execute("SELECT * FROM cash_sessions WHERE id = ?", (row["id"],)).fetchone()
            if has_wallet is not None and not _fits(conn, row["phone"], row["inserted"]):
                # A wallet at its cap cannot take the cash: the phone's balance always can.
                has_wallet = None
            if has_wallet is None:
                conn.execute(
                    "UPDATE cash_sessions SET purpose = 'payment', amount = 0,"
                    " target_account = ? WHERE id = ?",
                    (mobile_account(row["phone"]), row["id"]),
                )
                row = conn.execute(
                    "SELECT * FROM cash_sessions WHERE id = ?", (row["id"],)
                ).fetchone()
                return self._settle(conn, row, now, delayed=False, remainder_to="phone")
        return self._settle(conn, row, now, delayed=delayed, remainder_to=None)

    # ---- the mobile shop -------------------------------------------------------------

    async def salon_top_up(
        self,
        user_id: int,
        phone: str,
        amount: int,
        *,
        request: str = "",
        for_order: ForOrder | None = None,
    ) -> Receipt:
        """A consultant takes the money and credits the wallet (sometimes with a delay).

        `request` names the person's request (their message); the same request handled twice,
        as after a crash, returns the first receipt instead of taking the money again.
        """
        if type(amount) is not int or not 100 <= amount <= self.rules.salon_max:
            raise BadAmount()
        now = self._now()
        delayed = self.delayed()
        point = self.rules.salon_id

        def serve(conn: sqlite3.Connection) -> Receipt:
            if request:
                done = conn.execute(
                    "SELECT r.* FROM receipts r JOIN cash_sessions s ON s.id = r.session_id"
                    " WHERE s.user_id = ? AND s.kind = 'salon' AND s.reference = ?",
                    (user_id, request),
                ).fetchone()
                if done is not None:
                    return _receipt(done, conn)
            require_active(conn, phone, now)
            _require_wallet(conn, phone)
            _check_room(conn, phone, amount)
            cursor = conn.execute(
                "INSERT INTO cash_sessions (point, kind, user_id, phone, purpose, reference, notes,"
                " inserted, for_order, for_bill, needed, created_at, updated_at)"
                " VALUES (?, 'salon', ?, ?, 'topup', ?, '[]', ?, ?, ?, ?, ?, ?)",
                (point, user_id, phone, request, amount, *_for_order_columns(for_order), now, now),
            )
            row = conn.execute(
                "SELECT * FROM cash_sessions WHERE id = ?", (cursor.lastrowid,)
            ).fetchone()
            return self._settle(conn, row, now, delayed=delayed, remainder_to=None)

        return await self.db.transaction(serve)

    # ---- receipts and the background job --------------------------------------------

    async def receipt(self, number: int) -> Receipt:
        def read(conn: sqlite3.Connection) -> Receipt:
            row = conn.execute(
                "SELECT * FROM receipts WHERE id = ?", (number - RECEIPT_BASE,)
            ).fetchone()
            if row is None:
                raise ReceiptNotFound()
            return _receipt(row, conn)

        return await self.db.run(read)

    async def credit_due(self) -> list[int]:
        """Credit every delayed receipt whose time has come; each person is told once."""
        now = self._now()

        def run(conn: sqlite3.Connection) -> list[int]:
            rows = conn.execute(
                "SELECT id FROM receipts WHERE status = 'pending' AND due_at <= ? ORDER BY id",
                (now,),
            ).fetchall()
            for row in rows:
                self._credit(conn, row["id"], now, notify=True)
            return [RECEIPT_BASE + row["id"] for row in rows]

        return await self.db.transaction(run)

    async def finish_idle(self) -> list[int]:
        """Visits left with cash inside for too long are finished with a receipt."""
        now = self._now()
        delayed = self.delayed()

        def run(conn: sqlite3.Connection) -> list[int]:
            rows = conn.execute(
                "SELECT * FROM cash_sessions WHERE status = 'open' AND inserted > 0"
                " AND updated_at <= ?",
                (now - self.rules.idle_seconds,),
            ).fetchall()
            return [self._abandon(conn, row, now, delayed).number for row in rows]

        return await self.db.transaction(run)


def _for_order_columns(for_order: ForOrder | None) -> tuple[int | None, int, int]:
    if for_order is None:
        return None, 0, 0
    return for_order.order, for_order.bill, for_order.needed


def _require_wallet(conn: sqlite3.Connection, phone: str) -> None:
    row = conn.execute("SELECT status FROM wallets WHERE phone = ?", (phone,)).fetchone()
    if row is None:
        raise WalletNotFound(phone)
    if row["status"] != "active":
        raise WalletBlocked(phone)


def _open_row(conn: sqlite3.Connection, session_id: int, user_id: int) -> sqlite3.Row:
    row = conn.execute(
        "SELECT * FROM cash_sessions WHERE id = ? AND user_id = ?", (session_id, user_id)
    ).fetchone()
    if row is None or row["status"] != "open":
        raise SessionNotFound()
    found: sqlite3.Row = row
    return found


def _fits(conn: sqlite3.Connection, phone: str, credit: int) -> bool:
    try:
        _check_room(conn, phone, credit)
    except WouldBreakCap:
        return False
    return True


def _check_room(conn: sqlite3.Connection, phone: str, credit: int, *, already: int = 0) -> None:
    """Balance + receipts still pending + this credit must fit under the wallet's cap.

    `already` is the part of `credit` accepted before; the error says how much more fits.
    """
    account = conn.execute(
        "SELECT balance, max_balance FROM accounts WHERE id = ?", (wallet_account(phone),)
    ).fetchone()
    if account is None or account["max_balance"] is None:
        return
    pending = conn.execute(
        "SELECT COALESCE(SUM(credited), 0) FROM receipts WHERE phone = ? AND status = 'pending'",
        (phone,),
    ).fetchone()[0]
    room = account["max_balance"] - account["balance"] - pending
    if credit > room:
        raise WouldBreakCap(max(room - already, 0), account["max_balance"])
