"""Orders: stock reserved with the order, released when it expires or is cancelled.

An order reserves stock in the same transaction that creates it; an unpaid order expires and gives
the stock back. Marking an order paid writes the owners' notifications and the buyer's receipt to
the outbox in that same transaction, so each is sent exactly once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services.catalogue import MAX_QUANTITY, ItemNotFound
from services.clock import Clock, from_ts, to_ts
from services.db import Database
from services.errors import DomainError
from services.outbox import Kind, OrderPaid, enqueue
from services.requests import forget, handled, remember

ReleaseHook = Callable[[sqlite3.Connection, int, int], int]


class SoldOut(DomainError):
    def __init__(self, available: int) -> None:
        super().__init__(f"only {available} left")
        self.available = available


class BadQuantity(DomainError):
    def __init__(self, maximum: int) -> None:
        super().__init__(f"quantity must be 1..{maximum}")
        self.maximum = maximum


class TooManyOpenOrders(DomainError):
    def __init__(self, count: int) -> None:
        super().__init__(f"{count} unpaid orders already")
        self.count = count


class OrderNotFound(DomainError):
    pass


class OrderStatus(StrEnum):
    CREATED = "created"
    AWAITING = "awaiting"  # sent to the payment page, not paid yet
    PAID = "paid"
    FULFILLED = "fulfilled"  # handed over by the owner
    EXPIRED = "expired"
    CANCELLED = "cancelled"


OPEN = (OrderStatus.CREATED, OrderStatus.AWAITING)  # still payable


class OrderNotPayable(DomainError):
    def __init__(self, status: OrderStatus) -> None:
        super().__init__(f"order is {status}")
        self.status = status


@dataclass(frozen=True)
class Order:
    id: int
    user_id: int
    buyer_name: str
    contact: str
    shop_id: str
    shop_name: str
    item_id: int
    item_name: str
    unit_price: int
    quantity: int
    amount: int
    status: OrderStatus
    created_at: datetime
    expires_at: datetime
    paid_at: datetime | None
    fulfilled_at: datetime | None

    @property
    def payable(self) -> bool:
        return self.status in OPEN


def order_from_row(row: sqlite3.Row) -> Order:
    return Order(
        id=row["id"],
        user_id=row["user_id"],
        buyer_name=row["buyer_name"],
        contact=row["contact"],
        shop_id=row["shop_id"],
        shop_name=row["shop_name"],
        item_id=row["item_id"],
        item_name=row["item_name"],
        unit_price=row["unit_price"],
        quantity=row["quantity"],
        amount=row["amount"],
        status=OrderStatus(row["status"]),
        created_at=from_ts(row["created_at"]),
        expires_at=from_ts(row["expires_at"]),
        paid_at=None if row["paid_at"] is None else from_ts(row["paid_at"]),
        fulfilled_at=None if row["fulfilled_at"] is None else from_ts(row["fulfilled_at"]),
    )


ORDER_SELECT = "SELECT o.*, s.name AS shop_name FROM orders o JOIN shops s ON s.id = o.shop_id"


def order_row(conn: sqlite3.Connection, order_id: int) -> Order | None:
    row = conn.execute(f"{ORDER_SELECT} WHERE o.id = ?", (order_id,)).fetchone()
    return None if row is None else order_from_row(row)


def mark_paid_in(
    conn: sqlite3.Connection, order_id: int, now: int, method: str | None = None
) -> Order:
    """Mark an order paid inside the caller's transaction; a second call changes nothing.

    Writes the owners' notifications and the buyer's receipt to the outbox, once each.
    """
    order = order_row(conn, order_id)
    if order is None:
        raise OrderNotFound()
    if order.status in (OrderStatus.PAID, OrderStatus.FULFILLED):
        return order
    if order.status == OrderStatus.EXPIRED:
        # Money arrived after the order expired: it is still a sale. Take the stock back if
        # there is any; the owner decides what to do when it is short.
        conn.execute(
            "UPDATE items SET stock = stock - ? WHERE id = ? AND stock IS NOT NULL AND stock >= ?",
            (order.quantity, order.item_id, order.quantity),
        )
    elif order.status == OrderStatus.CANCELLED:
        raise OrderNotPayable(order.status)
    conn.execute("UPDATE orders SET status = 'paid', paid_at = ? WHERE id = ?", (now, order_id))
    if not order.contact.startswith("+"):
        # No wallet when the order was made (one opened during checkout, say): the owners get
        # the phone of the wallet the buyer has now.
        wallet = conn.execute(
            "SELECT phone FROM wallet_users WHERE user_id = ?", (order.user_id,)
        ).fetchone()
        if wallet is not None:
            contact = f"{wallet[0]} · {order.contact}".strip(" ·")
            conn.execute("UPDATE orders SET contact = ? WHERE id = ?", (contact, order_id))
    paid = order_row(conn, order_id)
    assert paid is not None
    payload: OrderPaid = {
        "order": paid.id,
        "shop": paid.shop_name,
        "item": paid.item_name,
        "quantity": paid.quantity,
        "unit_price": paid.unit_price,
        "amount": paid.amount,
        "buyer": paid.buyer_name,
        "contact": paid.contact,
        "paid_at": now,
    }
    if method is not None:
        payload["method"] = method
    owners = conn.execute(
        "SELECT user_id FROM shop_owners WHERE shop_id = ? ORDER BY added_at", (paid.shop_id,)
    ).fetchall()
    for owner in owners:
        enqueue(
            conn,
            owner[0],
            Kind.ORDER_PAID_OWNER,
            payload,
            f"order:{paid.id}:owner:{owner[0]}",
            now=now,
        )
    enqueue(conn, paid.user_id, Kind.ORDER_PAID_BUYER, payload, f"order:{paid.id}:buyer", now=now)
    return paid


class Orders:
    """A buyer's orders from creation to paid, cancelled or expired (part of `Merchant`)."""

    db: Database
    clock: Clock
    order_ttl: int
    warn_before: int = 300  # seconds before expiry the buyer of an unpaid order is reminded
    # Whoever still holds an open invoice for an order (the embedded sandbox) closes it when
    # the order is released: (conn, order id, now) → kopecks it gave back to the payer.
    release_hooks: dict[str, ReleaseHook]

    async def create_order(
        self,
        user_id: int,
        item_id: int,
        quantity: int,
        *,
        buyer_name: str,
        contact: str,
        request: str = "",
        open_limit: int = 0,
    ) -> Order:
        """Reserve stock and create the order in one transaction; the last unit goes once.

        The same `request` (a press handled again after a crash, or the same button pressed
        again) returns the first order while it is open; once that one is paid, cancelled or
        expired, the request makes a new one. With `open_limit`, a person who has that many
        unpaid orders gets `TooManyOpenOrders` instead of another.
        """
        now = to_ts(self.clock.now())

        def create(conn: sqlite3.Connection) -> Order:
            earlier = handled(conn, user_id, request)
            if earlier is not None:
                found = order_row(conn, int(earlier))
                if found is not None and found.payable:
                    return found
                forget(conn, user_id, request)
            row = conn.execute(
                "SELECT i.* FROM items i JOIN shops s ON s.id = i.shop_id"
                " WHERE i.id = ? AND i.active = 1 AND s.active = 1",
                (item_id,),
            ).fetchone()
            if row is None:
                raise ItemNotFound()
            limit = MAX_QUANTITY if row["stock"] is None else min(row["stock"], MAX_QUANTITY)
            if type(quantity) is not int or quantity < 1 or quantity > MAX_QUANTITY:
                raise BadQuantity(max(limit, 1))
            if row["stock"] is not None:
                taken = conn.execute(
                    "UPDATE items SET stock = stock - ? WHERE id = ? AND stock >= ?",
                    (quantity, item_id, quantity),
                ).rowcount
                if not taken:
                    raise SoldOut(row["stock"])
            if open_limit:
                open_orders = conn.execute(
                    "SELECT COUNT(*) FROM orders WHERE user_id = ?"
                    " AND status IN ('created', 'awaiting') AND expires_at > ?",
                    (user_id, now),
                ).fetchone()[0]
                if open_orders >= open_limit:
                    raise TooManyOpenOrders(open_orders)
            cursor = conn.execute(
                "INSERT INTO orders (user_id, buyer_name, contact, shop_id, item_id, item_name,"
                " unit_price, quantity, amount, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    user_id,
                    buyer_name,
                    contact,
                    row["shop_id"],
                    item_id,
                    row["name"],
                    row["price"],
                    quantity,
                    row["price"] * quantity,
                    now,
                    now + self.order_ttl,
                ),
            )
            assert cursor.lastrowid is not None
            remember(conn, user_id, request, str(cursor.lastrowid), now)
            order = order_row(conn, cursor.lastrowid)
            assert order is not None
            return order

        return await self.db.transaction(create)

    async def order(self, order_id: int) -> Order:
        order = await self.db.run(lambda c: order_row(c, order_id))
        if order is None:
            raise OrderNotFound()
        return order

    async def buyer_orders(
        self, user_id: int, *, page: int = 0, per_page: int = 10
    ) -> tuple[list[Order], int]:
        """One page of the buyer's own orders, newest first, and how many there are."""

        def read(conn: sqlite3.Connection) -> tuple[list[Order], int]:
            total = conn.execute("SELECT COUNT(*) FROM orders WHERE user_id = ?", (user_id,))
            rows = conn.execute(
                f"{ORDER_SELECT} WHERE o.user_id = ? ORDER BY o.id DESC LIMIT ? OFFSET ?",
                (user_id, per_page, max(page, 0) * per_page),
            ).fetchall()
            return [order_from_row(r) for r in rows], int(total.fetchone()[0])

        return await self.db.run(read)

    async def order_of(self, order_id: int, user_id: int) -> Order:
        """The buyer's own order; anyone else's is `OrderNotFound`."""
        order = await self.order(order_id)
        if order.user_id != user_id:
            raise OrderNotFound()
        return order

    async def cancel_order(self, order_id: int, user_id: int) -> Order:
        """The buyer cancels an unpaid order; its stock goes back on sale."""

        now = to_ts(self.clock.now())

        def cancel(conn: sqlite3.Connection) -> Order:
            order = order_row(conn, order_id)
            if order is None or order.user_id != user_id:
                raise OrderNotFound()
            if order.payable:
                self._release(conn, order, OrderStatus.CANCELLED, now)
            found = order_row(conn, order_id)
            assert found is not None
            return found

        return await self.db.transaction(cancel)

    def _release(
        self, conn: sqlite3.Connection, order: Order, status: OrderStatus, now: int
    ) -> None:
        """The order stops being payable: stock back, and whatever can still take its money is
        closed in this same transaction (see `release_hooks`)."""
        changed = conn.execute(
            "UPDATE orders SET status = ? WHERE id = ? AND status IN ('created', 'awaiting')",
            (status, order.id),
        ).rowcount
        if not changed:
            return
        conn.execute(
            "UPDATE items SET stock = stock + ? WHERE id = ? AND stock IS NOT NULL",
            (order.quantity, order.item_id),
        )
        returned = sum(hook(conn, order.id, now) for hook in self.release_hooks.values())
        if returned:
            enqueue(
                conn,
                order.user_id,
                Kind.PAYMENT_RETURNED,
                {
                    "order": order.id,
                    "item": order.item_name,
                    "shop": order.shop_name,
                    "amount": returned,
                    "reason": status,
                },
                f"order:{order.id}:returned",
                now=now,
            )

    async def expire_due(self) -> list[int]:
        """Unpaid orders past their time: expired, stock back, the buyer told once."""
        now = to_ts(self.clock.now())

        def run(conn: sqlite3.Connection) -> list[int]:
            rows = conn.execute(
                f"{ORDER_SELECT} WHERE o.status IN ('created', 'awaiting') AND o.expires_at <= ?",
                (now,),
            ).fetchall()
            expired = []
            for row in rows:
                order = order_from_row(row)
                self._release(conn, order, OrderStatus.EXPIRED, now)
                enqueue(
                    conn,
                    order.user_id,
                    Kind.ORDER_EXPIRED,
                    {"order": order.id, "item": order.item_name, "shop": order.shop_id},
                    f"order:{order.id}:expired",
                    now=now,
                )
                expired.append(order.id)
            return expired

        return await self.db.transaction(run)

    async def warn_expiring(self) -> list[int]:
        """Unpaid orders about to expire: the buyer is reminded once (the outbox's key makes it
        once, also after a restart). A reminder not yet sent when its order stopped being open
        is dropped, so nobody is told to hurry with an order already paid or cancelled."""
        now = to_ts(self.clock.now())

        def run(conn: sqlite3.Connection) -> list[int]:
            conn.execute(
                "UPDATE outbox SET status = 'failed', last_error = 'the order is no longer open'"
                " WHERE kind = ? AND status = 'pending' AND lease_until <= ?"
                " AND NOT EXISTS (SELECT 1 FROM orders o"
                " WHERE outbox.dedupe_key = 'order:' || o.id || ':expiring'"
                " AND o.status IN ('created', 'awaiting') AND o.expires_at > ?)",
                (Kind.ORDER_EXPIRING, now, now),
            )
            # An order made with less time than the warning's window is not warned at once.
            rows = conn.execute(
                f"{ORDER_SELECT} WHERE o.status IN ('created', 'awaiting')"
                " AND o.expires_at > ? AND o.expires_at <= ? AND o.created_at < o.expires_at - ?"
                " AND NOT EXISTS (SELECT 1 FROM outbox x"
                " WHERE x.dedupe_key = 'order:' || o.id || ':expiring')",
                (now, now + self.warn_before, self.warn_before),
            ).fetchall()
            warned = []
            for row in rows:
                order = order_from_row(row)
                expires = to_ts(order.expires_at)
                enqueue(
                    conn,
                    order.user_id,
                    Kind.ORDER_EXPIRING,
                    {
                        "order": order.id,
                        "item": order.item_name,
                        "expires_at": expires,
                        "minutes": -(-(expires - now) // 60),
                    },
                    f"order:{order.id}:expiring",
                    now=now,
                )
                warned.append(order.id)
            return warned

        return await self.db.transaction(run)

    async def mark_awaiting(self, order_id: int) -> None:
        await self.db.transaction(
            lambda c: c.execute(
                "UPDATE orders SET status = 'awaiting' WHERE id = ? AND status = 'created'",
                (order_id,),
            )
        )
