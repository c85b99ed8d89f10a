"""Shop owners: single-use invites, their orders, handing orders over, sales reports."""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import timedelta

from services.catalogue import Catalogue, ItemNotFound, Shop
from services.clock import MOSCOW, Clock, to_ts
from services.errors import DomainError
from services.orders import ORDER_SELECT, Order, order_from_row, order_row
from services.outbox import Kind, Status, TgPaymentKept, enqueue

# Orders whose money is returned or on its way back: they have their own list, not «paid».
REFUNDED = "SELECT order_id FROM refunds WHERE state IN ('requested', 'processing', 'finished')"
# Which orders each of the owner's lists holds.
LISTS = {
    "paid": f"o.status = 'paid' AND o.id NOT IN ({REFUNDED})",
    "awaiting": "o.status IN ('created', 'awaiting')",
    "fulfilled": f"o.status = 'fulfilled' AND o.id NOT IN ({REFUNDED})",
    "refunded": f"o.status IN ('paid', 'fulfilled') AND o.id IN ({REFUNDED})",
}


class NotAnOwner(DomainError):
    pass


class InviteInvalid(DomainError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "unknown" | "used" | "expired"


@dataclass(frozen=True)
class Stats:
    days: int
    count: int
    revenue: int
    top_items: list[tuple[str, int, int]]  # name, quantity, revenue


class Owners(Catalogue):
    """What a shop's owners see and do (part of `Merchant`)."""

    clock: Clock

    async def create_invite(self, shop_id: str, *, ttl: int = 86400) -> str:
        """A single-use token for `?start=owner-<token>`; only its hash is stored."""
        if await self.shop(shop_id) is None:
            raise ItemNotFound()
        token = secrets.token_urlsafe(16)
        digest = hashlib.sha256(token.encode()).hexdigest()
        expires = to_ts(self.clock.now()) + ttl
        await self.db.transaction(
            lambda c: c.execute(
                "INSERT INTO owner_invites (token_hash, shop_id, expires_at) VALUES (?, ?, ?)",
                (digest, shop_id, expires),
            )
        )
        return token

    async def accept_invite(self, token: str, user_id: int) -> Shop:
        digest = hashlib.sha256(token.encode()).hexdigest()
        now = to_ts(self.clock.now())

        def accept(conn: sqlite3.Connection) -> str:
            row = conn.execute(
                "SELECT * FROM owner_invites WHERE token_hash = ?", (digest,)
            ).fetchone()
            if row is None:
                raise InviteInvalid("unknown")
            if row["used_by"] is not None:
                raise InviteInvalid("used")
            if row["expires_at"] <= now:
                raise InviteInvalid("expired")
            conn.execute(
                "UPDATE owner_invites SET used_by = ?, used_at = ? WHERE token_hash = ?",
                (user_id, now, digest),
            )
            conn.execute(
                "INSERT OR IGNORE INTO shop_owners (shop_id, user_id, added_at) VALUES (?, ?, ?)",
                (row["shop_id"], user_id, now),
            )
            return str(row["shop_id"])

        shop = await self.shop(await self.db.transaction(accept))
        assert shop is not None
        return shop

    async def add_owner(self, shop_id: str, user_id: int) -> None:
        now = to_ts(self.clock.now())
        await self.db.transaction(
            lambda c: c.execute(
                "INSERT OR IGNORE INTO shop_owners (shop_id, user_id, added_at) VALUES (?, ?, ?)",
                (shop_id, user_id, now),
            )
        )

    async def owned_shops(self, user_id: int) -> list[Shop]:
        rows = await self.db.fetchall(
            "SELECT s.* FROM shops s JOIN shop_owners o ON o.shop_id = s.id"
            " WHERE o.user_id = ? ORDER BY s.position",
            (user_id,),
        )
        return [Shop(r["id"], r["name"], r["description"], json.loads(r["settings"])) for r in rows]

    async def shop_orders(
        self, user_id: int, status: str, *, page: int = 0, per_page: int = 10
    ) -> tuple[list[Order], int]:
        """One page of the owner's orders in this list (`LISTS`), newest first, and how many in
        all."""
        where = (
            f" JOIN shop_owners w ON w.shop_id = o.shop_id WHERE w.user_id = ? AND {LISTS[status]}"
        )

        def read(conn: sqlite3.Connection) -> tuple[list[Order], int]:
            total = conn.execute(f"SELECT COUNT(*) FROM orders o{where}", (user_id,)).fetchone()[0]
            rows = conn.execute(
                f"{ORDER_SELECT}{where} ORDER BY o.id DESC LIMIT ? OFFSET ?",
                (user_id, per_page, max(page, 0) * per_page),
            ).fetchall()
            return [order_from_row(r) for r in rows], int(total)

        return await self.db.run(read)

    async def refunded_among(self, order_ids: list[int]) -> set[int]:
        """Which of these orders have their money returned, or on its way back."""
        if not order_ids:
            return set()
        marks = ",".join("?" * len(order_ids))
        rows = await self.db.fetchall(
            f"SELECT order_id FROM refunds WHERE order_id IN ({marks})"
            " AND state IN ('requested', 'processing', 'finished')",
            order_ids,
        )
        return {row[0] for row in rows}

    async def buyer_message(self, order_id: int, about: str) -> Status | None:
        """What became of the message telling the buyer about the order's refund or hand-over
        (`about`: "refund" | "fulfilled"); None when there is none."""
        row = await self.db.fetchone(
            "SELECT status FROM outbox WHERE dedupe_key = ?", (f"order:{order_id}:{about}",)
        )
        return None if row is None else Status(row[0])

    async def owner_order(self, order_id: int, user_id: int) -> Order:
        """An order of a shop this person owns; anything else is `NotAnOwner`."""
        row = await self.db.fetchone(
            f"{ORDER_SELECT} JOIN shop_owners w ON w.shop_id = o.shop_id"
            " WHERE o.id = ? AND w.user_id = ?",
            (order_id, user_id),
        )
        if row is None:
            raise NotAnOwner()
        return order_from_row(row)

    async def fulfil(self, order_id: int, user_id: int) -> Order:
        """The owner hands the order over; the buyer is told once."""
        await self.owner_order(order_id, user_id)
        now = to_ts(self.clock.now())

        def fulfil(conn: sqlite3.Connection) -> Order:
            changed = conn.execute(
                "UPDATE orders SET status = 'fulfilled', fulfilled_at = ?"
                " WHERE id = ? AND status = 'paid'",
                (now, order_id),
            ).rowcount
            order = order_row(conn, order_id)
            assert order is not None
            if changed:
                enqueue(
                    conn,
                    order.user_id,
                    Kind.ORDER_FULFILLED,
                    {"order": order.id, "item": order.item_name, "shop": order.shop_name},
                    f"order:{order.id}:fulfilled",
                    now=now,
                )
            return order

        return await self.db.transaction(fulfil)

    async def stats(self, user_id: int, days: int) -> Stats:
        """Paid (and handed over) orders of the owner's shops since the start of the period.

        Orders whose money was given back (a finished refund) are not sales.
        """
        today = (
            self.clock.now().astimezone(MOSCOW).replace(hour=0, minute=0, second=0, microsecond=0)
        )
        since = to_ts(today - timedelta(days=days - 1))
        rows = await self.db.fetchall(
            "SELECT o.item_name, SUM(o.quantity) AS q, SUM(o.amount) AS revenue, COUNT(*) AS n"
            " FROM orders o JOIN shop_owners w ON w.shop_id = o.shop_id"
            " WHERE w.user_id = ? AND o.status IN ('paid', 'fulfilled') AND o.paid_at >= ?"
            " AND o.id NOT IN (SELECT order_id FROM refunds WHERE state = 'finished')"
            " GROUP BY o.item_name ORDER BY revenue DESC, o.item_name",
            (user_id, since),
        )
        return Stats(
            days=days,
            count=sum(r["n"] for r in rows),
            revenue=sum(r["revenue"] for r in rows),
            top_items=[(r["item_name"], r["q"], r["revenue"]) for r in rows[:3]],
        )


def alert_owners_kept_aside(
    conn: sqlite3.Connection,
    order: Order,
    charge_id: str,
    provider_charge_id: str,
    amount: int,
    currency: str,
    reason: str,
    now: int,
) -> None:
    """Every owner of the order's shop hears of a Telegram payment that did not pay it, once
    (`charge_id` is Telegram's, `provider_charge_id` Robokassa's, shown to the owner)."""
    payment: TgPaymentKept = {
        "order": order.id,
        "shop": order.shop_name,
        "item": order.item_name,
        "amount": amount,
        "currency": currency[:3],
        "expected": order.amount,
        "reason": reason,
        "charge": provider_charge_id[:64],
    }
    owners = conn.execute(
        "SELECT user_id FROM shop_owners WHERE shop_id = ? ORDER BY added_at", (order.shop_id,)
    ).fetchall()
    for (owner,) in owners:
        key = f"tgpay:{charge_id}:owner:{owner}"
        enqueue(conn, owner, Kind.TG_PAYMENT_KEPT_OWNER, payment, key, now=now)
