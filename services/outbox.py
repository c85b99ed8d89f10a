"""The outbox: messages to people, written inside the transaction of the change they announce.

A background worker (`bot/outbox_worker.py`) delivers them; a message's `dedupe_key` makes
enqueueing idempotent, so a replayed change never produces a second message.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, NotRequired, TypedDict, overload

from services.clock import Clock, to_ts
from services.db import Database


class Kind(StrEnum):
    """What a message announces; each kind has its payload type below and one renderer."""

    RECEIPT_CREDITED = "receipt_credited"
    ORDER_PAID_OWNER = "order_paid_owner"
    ORDER_PAID_BUYER = "order_paid_buyer"
    ORDER_EXPIRED = "order_expired"
    ORDER_FULFILLED = "order_fulfilled"
    ORDER_REFUNDED_BUYER = "order_refunded_buyer"
    REFUND_RESULT_OWNER = "refund_result_owner"
    PAYMENT_RETURNED = "payment_returned"
    ORDER_EXPIRING = "order_expiring"
    TG_PAYMENT_KEPT_OWNER = "tg_payment_kept_owner"


class Status(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    BLOCKED = "blocked"  # the person blocked the bot: never retried
    FAILED = "failed"  # Telegram refused it for good, or too many tries


# Payloads are stored as JSON and read back by the renderers: plain values only.


class ReceiptCredited(TypedDict):
    receipt: int
    amount: int
    phone: str
    # A top-up meant for an unpaid order: the order and its invoice (0: none known).
    order: NotRequired[int]
    bill: NotRequired[int]


class OrderPaid(TypedDict):
    """The owners' note and the buyer's receipt carry the same facts."""

    order: int
    shop: str  # the shop's name
    item: str
    quantity: int
    unit_price: int
    amount: int
    buyer: str
    contact: str
    paid_at: int
    # How it was paid, as Robokassa names it ("" when it does not say); absent: the sandbox's
    # Visa QIWI Wallet (and every receipt written before this was kept).
    method: NotRequired[str]


class OrderExpired(TypedDict):
    order: int
    item: str
    shop: str  # the shop's id: the message leads back to it


class OrderExpiring(TypedDict):
    order: int
    item: str
    expires_at: int
    minutes: int  # left when the warning was written


class OrderFulfilled(TypedDict):
    order: int
    item: str
    shop: str


class OrderRefunded(TypedDict):
    order: int
    shop: str
    item: str
    amount: int
    method: NotRequired[str]  # as in OrderPaid: absent means the sandbox's QIWI wallet


class RefundResult(TypedDict):
    order: int
    amount: int
    done: bool
    reason: str  # Robokassa's words when it refused


class PaymentReturned(TypedDict):
    order: int
    item: str
    shop: str
    amount: int
    reason: str  # the order's status when the money came: cancelled or expired


class TgPaymentKept(TypedDict):
    """A Telegram payment that did not pay its order; the owner returns it."""

    order: int
    shop: str  # the shop's name
    item: str
    amount: int  # what came, in the currency's smallest units
    currency: str
    expected: int  # the order's sum, kopecks
    reason: str  # wrong_amount | not_payable
    charge: str  # Robokassa's number of the payment, to find it in the cabinet


Payload = (
    ReceiptCredited
    | OrderPaid
    | OrderExpired
    | OrderFulfilled
    | OrderRefunded
    | RefundResult
    | PaymentReturned
    | OrderExpiring
    | TgPaymentKept
)


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    chat_id: int
    kind: str
    payload: Payload
    attempts: int
    locale: str
    slot_ms: int = 0  # when a claimed message may go (ms since the epoch): the shared pacing


@dataclass(frozen=True)
class Pacing:
    """Telegram's limits for a bot: one message a second to one chat, about 25 a second in all."""

    per_chat_ms: int = 1000
    gap_ms: int = 40
    # How far ahead one claim may book send slots: a process claims no more than it can send
    # in this time, so the others get their share of the overall rate.
    horizon_ms: int = 2000


LEASE_SECONDS = 60  # a message claimed by a process that died is sent by another after this


# One overload per kind, so a payload that does not match its kind is a type error.
@overload
def enqueue(
    conn: sqlite3.Connection,
    chat_id: int,
    kind: Literal[Kind.RECEIPT_CREDITED],
    payload: ReceiptCredited,
    dedupe_key: str,
    *,
    now: int,
) -> None: ...
@overload
def enqueue(
    conn: sqlite3.Connection,
    chat_id: int,
    kind: Literal[Kind.ORDER_PAID_OWNER, Kind.ORDER_PAID_BUYER],
    payload: OrderPaid,
    dedupe_key: str,
    *,
    now: int,
) -> None: ...
@overload
def enqueue(
    conn: sqlite3.Connection,
    chat_id: int,
    kind: Literal[Kind.ORDER_EXPIRED],
    payload: OrderExpired,
    dedupe_key: str,
    *,
    now: int,
) -> None: ...
@overload
def enqueue(
    conn: sqlite3.Connection,
    chat_id: int,
    kind: Literal[Kind.ORDER_EXPIRING],
    payload: OrderExpiring,
    dedupe_key: str,
    *,
    now: int,
) -> None: ...
@overload
def enqueue(
    conn: sqlite3.Connection,
    chat_id: int,
    kind: Literal[Kind.ORDER_FULFILLED],
    payload: OrderFulfilled,
    dedupe_key: str,
    *,
    now: int,
) -> None: ...
@overload
def enqueue(
    conn: sqlite3.Connection,
    chat_id: int,
    kind: Literal[Kind.ORDER_REFUNDED_BUYER],
    payload: OrderRefunded,
    dedupe_key: str,
    *,
    now: int,
) -> None: ...
@overload
def enqueue(
    conn: sqlite3.Connection,
    chat_id: int,
    kind: Literal[Kind.REFUND_RESULT_OWNER],
    payload: RefundResult,
    dedupe_key: str,
    *,
    now: int,
) -> None: ...
@overload
def enqueue(
    conn: sqlite3.Connection,
    chat_id: int,
    kind: Literal[Kind.PAYMENT_RETURNED],
    payload: PaymentReturned,
    dedupe_key: str,
    *,
    now: int,
) -> None: ...
@overload
def enqueue(
    conn: sqlite3.Connection,
    chat_id: int,
    kind: Literal[Kind.TG_PAYMENT_KEPT_OWNER],
    payload: TgPaymentKept,
    dedupe_key: str,
    *,
    now: int,
) -> None: ...
def enqueue(
    conn: sqlite3.Connection,
    chat_id: int,
    kind: Kind,
    payload: Payload,
    dedupe_key: str,
    *,
    now: int,
) -> None:
    """Add a message inside the caller's transaction; the same key twice adds it once."""
    conn.execute(
        "INSERT OR IGNORE INTO outbox (chat_id, kind, payload, dedupe_key, next_attempt_at,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?)",
        (chat_id, kind, json.dumps(payload, ensure_ascii=False), dedupe_key, now, now),
    )


_SELECT = (
    "SELECT o.id, o.chat_id, o.kind, o.payload, o.attempts,"
    " COALESCE(p.locale, 'ru') AS locale FROM outbox o"
    " LEFT JOIN people p ON p.user_id = o.chat_id"
)


def _message(row: sqlite3.Row, slot_ms: int = 0) -> OutboxMessage:
    return OutboxMessage(
        id=row["id"],
        chat_id=row["chat_id"],
        kind=row["kind"],
        payload=json.loads(row["payload"]),
        attempts=row["attempts"],
        locale=row["locale"],
        slot_ms=slot_ms,
    )


class Outbox:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def due(self, limit: int = 50) -> list[OutboxMessage]:
        """Messages waiting to be sent now (claimed or not): what is left to deliver."""
        now = to_ts(self.clock.now())
        rows = await self.db.fetchall(
            _SELECT + " WHERE o.status = 'pending' AND o.next_attempt_at <= ?"
            " ORDER BY o.id LIMIT ?",
            (now, limit),
        )
        return [_message(r) for r in rows]

    async def claim(self, pacing: Pacing, *, limit: int = 50) -> list[OutboxMessage]:
        """Take due messages for this process to send, each with its send slot.

        One transaction: a message another process holds (its lease has not run out) is
        skipped, at most one message per chat is taken and only when that chat's last slot is
        a second old, and the slots come from one schedule shared by every process.
        """
        moment = self.clock.now()
        now, now_ms = to_ts(moment), int(moment.timestamp() * 1000)

        def take(conn: sqlite3.Connection) -> list[OutboxMessage]:
            rows = conn.execute(
                _SELECT + " WHERE o.status = 'pending' AND o.next_attempt_at <= ?"
                " AND o.lease_until <= ? AND NOT EXISTS (SELECT 1 FROM outbox r"
                " WHERE r.chat_id = o.chat_id AND r.slot_ms > ? AND r.id != o.id)"
                " ORDER BY o.id LIMIT ?",
                (now, now, now_ms - pacing.per_chat_ms, limit * 4),
            ).fetchall()
            (next_slot,) = conn.execute("SELECT next_slot_ms FROM outbox_pace").fetchone()
            slot = max(now_ms, next_slot)
            taken: list[OutboxMessage] = []
            chats: set[int] = set()
            for row in rows:
                if len(taken) == limit or slot > now_ms + pacing.horizon_ms:
                    break
                if row["chat_id"] in chats:
                    continue
                chats.add(row["chat_id"])
                conn.execute(
                    "UPDATE outbox SET lease_until = ?, slot_ms = ? WHERE id = ?",
                    (now + LEASE_SECONDS, slot, row["id"]),
                )
                taken.append(_message(row, slot))
                slot += pacing.gap_ms
            if taken:
                conn.execute("UPDATE outbox_pace SET next_slot_ms = ?", (slot,))
            return taken

        return await self.db.transaction(take)

    async def mark_sent(self, message_id: int) -> None:
        now = to_ts(self.clock.now())
        await self.db.transaction(
            lambda c: c.execute(
                "UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1"
                " WHERE id = ?",
                (now, message_id),
            )
        )

    async def mark_blocked(self, message_id: int, error: str) -> None:
        """The person blocked the bot: recorded, never retried."""
        await self._finish(message_id, Status.BLOCKED, error)

    async def mark_failed(self, message_id: int, error: str) -> None:
        await self._finish(message_id, Status.FAILED, error)

    async def _finish(self, message_id: int, status: Status, error: str) -> None:
        await self.db.transaction(
            lambda c: c.execute(
                "UPDATE outbox SET status = ?, last_error = ?, attempts = attempts + 1"
                " WHERE id = ?",
                (status, error[:500], message_id),
            )
        )

    async def retry_later(self, message_id: int, delay_seconds: int, error: str) -> None:
        at = to_ts(self.clock.now()) + delay_seconds
        await self.db.transaction(
            lambda c: c.execute(
                "UPDATE outbox SET next_attempt_at = ?, last_error = ?, attempts = attempts + 1,"
                " lease_until = 0 WHERE id = ?",
                (at, error[:500], message_id),
            )
        )

    async def postpone(self, message_id: int, delay_seconds: int) -> None:
        """Flood control: wait without counting an attempt."""
        at = to_ts(self.clock.now()) + delay_seconds
        await self.db.transaction(
            lambda c: c.execute(
                "UPDATE outbox SET next_attempt_at = ?, lease_until = 0 WHERE id = ?",
                (at, message_id),
            )
        )

    async def remember_person(self, user_id: int, locale: str, first_name: str) -> None:
        now = to_ts(self.clock.now())
        await self.db.transaction(
            lambda c: c.execute(
                "INSERT INTO people (user_id, locale, first_name, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(user_id) DO UPDATE SET locale = excluded.locale,"
                " first_name = excluded.first_name, updated_at = excluded.updated_at",
                (user_id, locale, first_name, now),
            )
        )
