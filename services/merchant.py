"""Shops, their catalogue, orders and owners.

The catalogue lives in a TOML file and is synced into the database at start: edits update items,
removed items stop being sold, old orders keep what they sold. Stock is the database's once an
item exists; a changed number in the file is a restock (or a write-off) by the difference. An
order reserves stock in the same transaction that creates it; an unpaid order expires and gives
the stock back. Marking an order paid writes the owners' notifications and the buyer's receipt
to the outbox in that same transaction, so each is sent exactly once.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from services.clock import MOSCOW, Clock, from_ts, to_ts
from services.db import Database
from services.errors import DomainError
from services.outbox import enqueue
from services.requests import forget, handled, remember

MAX_QUANTITY = 99
ReleaseHook = Callable[[sqlite3.Connection, int, int], int]


class CatalogueError(Exception):
    """The catalogue file is not what the bot can sell from; the message says where."""


class ItemNotFound(DomainError):
    pass


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


class OrderNotPayable(DomainError):
    def __init__(self, status: str) -> None:
        super().__init__(f"order is {status}")
        self.status = status


class NotAnOwner(DomainError):
    pass


class InviteInvalid(DomainError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "unknown" | "used" | "expired"


@dataclass(frozen=True)
class Shop:
    id: str
    name: str
    description: str
    settings: dict[str, Any]


@dataclass(frozen=True)
class Category:
    id: int
    shop_id: str
    name: str


@dataclass(frozen=True)
class Item:
    id: int
    shop_id: str
    shop_name: str
    category_id: int
    name: str
    description: str
    kind: str
    price: int
    stock: int | None
    active: bool

    @property
    def max_quantity(self) -> int:
        return MAX_QUANTITY if self.stock is None else min(self.stock, MAX_QUANTITY)


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
    status: str
    created_at: datetime
    expires_at: datetime
    paid_at: datetime | None
    fulfilled_at: datetime | None

    @property
    def payable(self) -> bool:
        return self.status in ("created", "awaiting")


@dataclass(frozen=True)
class Stats:
    days: int
    count: int
    revenue: int
    top_items: list[tuple[str, int, int]]  # name, quantity, revenue


def _price(value: object, where: str) -> int:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise CatalogueError(f"{where}: price {value!r} is not a number") from None
    kopecks = amount * 100
    if kopecks <= 0 or kopecks != kopecks.to_integral_value():
        raise CatalogueError(f"{where}: price {value!r} must be positive with at most 2 decimals")
    return int(kopecks)


def load_catalogue(path: Path) -> list[dict[str, Any]]:
    """Read and check the catalogue file; raises `CatalogueError` naming the bad place."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CatalogueError(f"catalogue file {path} does not exist") from None
    except tomllib.TOMLDecodeError as error:
        raise CatalogueError(f"{path}: {error}") from None
    shops = data.get("shops", [])
    seen: set[str] = set()
    for shop in shops:
        for key in ("id", "name"):
            if not shop.get(key):
                raise CatalogueError(f"{path}: a shop has no {key}")
        if shop["id"] in seen:
            raise CatalogueError(f"{path}: shop {shop['id']} appears twice")
        seen.add(shop["id"])
        skus: set[str] = set()
        for category in shop.get("categories", []):
            for item in category.get("items", []):
                where = f"{path}: shop {shop['id']} item {item.get('id')}"
                if not item.get("id") or not item.get("name"):
                    raise CatalogueError(f"{where}: needs id and name")
                if item["id"] in skus:
                    raise CatalogueError(f"{where}: id appears twice in the shop")
                skus.add(item["id"])
                item["price_kopecks"] = _price(item.get("price"), where)
                stock = item.get("stock")
                if stock is not None and (not isinstance(stock, int) or stock < 0):
                    raise CatalogueError(f"{where}: stock must be a whole number ≥ 0")
    return list(shops)


def _order(row: sqlite3.Row) -> Order:
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
        status=row["status"],
        created_at=from_ts(row["created_at"]),
        expires_at=from_ts(row["expires_at"]),
        paid_at=None if row["paid_at"] is None else from_ts(row["paid_at"]),
        fulfilled_at=None if row["fulfilled_at"] is None else from_ts(row["fulfilled_at"]),
    )


ORDER_SELECT = "SELECT o.*, s.name AS shop_name FROM orders o JOIN shops s ON s.id = o.shop_id"


def order_row(conn: sqlite3.Connection, order_id: int) -> Order | None:
    row = conn.execute(f"{ORDER_SELECT} WHERE o.id = ?", (order_id,)).fetchone()
    return None if row is None else _order(row)


def mark_paid_in(conn: sqlite3.Connection, order_id: int, now: int) -> Order:
    """Mark an order paid inside the caller's transaction; a second call changes nothing.

    Writes the owners' notifications and the buyer's receipt to the outbox, once each.
    """
    order = order_row(conn, order_id)
    if order is None:
        raise OrderNotFound()
    if order.status in ("paid", "fulfilled"):
        return order
    if order.status == "expired":
        # Money arrived after the order expired: it is still a sale. Take the stock back if
        # there is any; the owner decides what to do when it is short.
        conn.execute(
            "UPDATE items SET stock = stock - ? WHERE id = ? AND stock IS NOT NULL AND stock >= ?",
            (order.quantity, order.item_id, order.quantity),
        )
    elif order.status == "cancelled":
        raise OrderNotPayable(order.status)
    conn.execute("UPDATE orders SET status = 'paid', paid_at = ? WHERE id = ?", (now, order_id))
    paid = order_row(conn, order_id)
    assert paid is not None
    payload = {
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
    owners = conn.execute(
        "SELECT user_id FROM shop_owners WHERE shop_id = ? ORDER BY added_at", (paid.shop_id,)
    ).fetchall()
    for owner in owners:
        enqueue(
            conn,
            owner[0],
            "order_paid_owner",
            payload,
            f"order:{paid.id}:owner:{owner[0]}",
            now=now,
        )
    enqueue(conn, paid.user_id, "order_paid_buyer", payload, f"order:{paid.id}:buyer", now=now)
    return paid


def restocked(stock: int | None, last: int | None, known: bool, file: int | None) -> int | None:
    """The stock after a sync: the file's number is news only when it changed since the last
    sync, and then only by how much it changed; what was sold meanwhile stays sold."""
    if file is None:
        return None  # a service or made to order: no stock to count
    if not known:
        return file if stock is None else stock
    if last is None or stock is None:
        return file
    return max(stock + file - last, 0)


def _sync_item(
    conn: sqlite3.Connection, shop_id: str, category_id: int, position: int, item: dict[str, Any]
) -> None:
    file = item.get("stock")
    row = conn.execute(
        "SELECT id, stock, file_stock, file_stock_known FROM items WHERE shop_id = ? AND sku = ?",
        (shop_id, item["id"]),
    ).fetchone()
    fields = (
        category_id,
        item["name"],
        item.get("description", ""),
        item.get("kind", "goods"),
        item["price_kopecks"],
        position,
        file,
    )
    if row is None:
        conn.execute(
            "INSERT INTO items (category_id, name, description, kind, price, position,"
            " file_stock, file_stock_known, stock, active, shop_id, sku)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, 1, ?, ?)",
            (*fields, file, shop_id, item["id"]),
        )
        return
    stock = restocked(row["stock"], row["file_stock"], bool(row["file_stock_known"]), file)
    conn.execute(
        "UPDATE items SET category_id = ?, name = ?, description = ?, kind = ?, price = ?,"
        " position = ?, file_stock = ?, file_stock_known = 1, stock = ?, active = 1"
        " WHERE id = ?",
        (*fields, stock, row["id"]),
    )


class Merchant:
    def __init__(self, db: Database, clock: Clock, *, order_ttl: int = 1800) -> None:
        self.db = db
        self.clock = clock
        self.order_ttl = order_ttl
        # Whoever still holds an open invoice for an order (the embedded sandbox) closes it when
        # the order is released: (conn, order id, now) → kopecks it gave back to the payer.
        self.release_hooks: dict[str, ReleaseHook] = {}

    def _now(self) -> int:
        return to_ts(self.clock.now())

    # ---- catalogue -------------------------------------------------------------------

    async def sync_catalogue(self, path: Path) -> None:
        """Bring shops, categories and items in line with the file (idempotent).

        Only the bot's start calls this: the stock a sync adds is the file's change since the
        previous sync, which a command-line tool reading the file as well must not apply.
        """
        shops = load_catalogue(path)

        def sync(conn: sqlite3.Connection) -> None:
            conn.execute("UPDATE shops SET active = 0")
            conn.execute("UPDATE categories SET active = 0")
            conn.execute("UPDATE items SET active = 0")
            for shop_pos, shop in enumerate(shops):
                conn.execute(
                    "INSERT INTO shops (id, name, description, position, active, settings)"
                    " VALUES (?, ?, ?, ?, 1, ?) ON CONFLICT(id) DO UPDATE SET"
                    " name = excluded.name, description = excluded.description,"
                    " position = excluded.position, active = 1, settings = excluded.settings",
                    (
                        shop["id"],
                        shop["name"],
                        shop.get("description", ""),
                        shop_pos,
                        json.dumps(shop.get("robokassa", {})),
                    ),
                )
                for cat_pos, category in enumerate(shop.get("categories", [])):
                    conn.execute(
                        "INSERT INTO categories (shop_id, slug, name, position, active)"
                        " VALUES (?, ?, ?, ?, 1) ON CONFLICT(shop_id, slug) DO UPDATE SET"
                        " name = excluded.name, position = excluded.position, active = 1",
                        (shop["id"], category["id"], category["name"], cat_pos),
                    )
                    category_id = conn.execute(
                        "SELECT id FROM categories WHERE shop_id = ? AND slug = ?",
                        (shop["id"], category["id"]),
                    ).fetchone()[0]
                    for item_pos, item in enumerate(category.get("items", [])):
                        _sync_item(conn, shop["id"], category_id, item_pos, item)

        await self.db.transaction(sync)

    async def shops(self) -> list[Shop]:
        rows = await self.db.fetchall(
            "SELECT * FROM shops WHERE active = 1 ORDER BY position, name"
        )
        return [Shop(r["id"], r["name"], r["description"], json.loads(r["settings"])) for r in rows]

    async def shop(self, shop_id: str) -> Shop | None:
        row = await self.db.fetchone("SELECT * FROM shops WHERE id = ? AND active = 1", (shop_id,))
        if row is None:
            return None
        return Shop(row["id"], row["name"], row["description"], json.loads(row["settings"]))

    async def categories(self, shop_id: str) -> list[Category]:
        rows = await self.db.fetchall(
            "SELECT * FROM categories WHERE shop_id = ? AND active = 1 ORDER BY position",
            (shop_id,),
        )
        return [Category(r["id"], r["shop_id"], r["name"]) for r in rows]

    async def category(self, category_id: int) -> Category | None:
        row = await self.db.fetchone(
            "SELECT * FROM categories WHERE id = ? AND active = 1", (category_id,)
        )
        return None if row is None else Category(row["id"], row["shop_id"], row["name"])

    async def items(self, category_id: int) -> list[Item]:
        rows = await self.db.fetchall(
            "SELECT i.*, s.name AS shop_name FROM items i JOIN shops s ON s.id = i.shop_id"
            " WHERE i.category_id = ? AND i.active = 1 ORDER BY i.position",
            (category_id,),
        )
        return [self._item(r) for r in rows]

    async def item(self, item_id: int) -> Item:
        """A sellable item; removed ones (or of a closed shop) are `ItemNotFound`."""
        row = await self.db.fetchone(
            "SELECT i.*, s.name AS shop_name FROM items i JOIN shops s ON s.id = i.shop_id"
            " WHERE i.id = ? AND i.active = 1 AND s.active = 1",
            (item_id,),
        )
        if row is None:
            raise ItemNotFound()
        return self._item(row)

    @staticmethod
    def _item(row: sqlite3.Row) -> Item:
        return Item(
            id=row["id"],
            shop_id=row["shop_id"],
            shop_name=row["shop_name"],
            category_id=row["category_id"],
            name=row["name"],
            description=row["description"],
            kind=row["kind"],
            price=row["price"],
            stock=row["stock"],
            active=bool(row["active"]),
        )

    # ---- orders ----------------------------------------------------------------------

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
        now = self._now()

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
            return [_order(r) for r in rows], int(total.fetchone()[0])

        return await self.db.run(read)

    async def order_of(self, order_id: int, user_id: int) -> Order:
        """The buyer's own order; anyone else's is `OrderNotFound`."""
        order = await self.order(order_id)
        if order.user_id != user_id:
            raise OrderNotFound()
        return order

    async def cancel_order(self, order_id: int, user_id: int) -> Order:
        """The buyer cancels an unpaid order; its stock goes back on sale."""

        now = self._now()

        def cancel(conn: sqlite3.Connection) -> Order:
            order = order_row(conn, order_id)
            if order is None or order.user_id != user_id:
                raise OrderNotFound()
            if order.payable:
                self._release(conn, order, "cancelled", now)
            found = order_row(conn, order_id)
            assert found is not None
            return found

        return await self.db.transaction(cancel)

    def _release(self, conn: sqlite3.Connection, order: Order, status: str, now: int) -> None:
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
                "payment_returned",
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
        now = self._now()

        def run(conn: sqlite3.Connection) -> list[int]:
            rows = conn.execute(
                f"{ORDER_SELECT} WHERE o.status IN ('created', 'awaiting') AND o.expires_at <= ?",
                (now,),
            ).fetchall()
            expired = []
            for row in rows:
                order = _order(row)
                self._release(conn, order, "expired", now)
                enqueue(
                    conn,
                    order.user_id,
                    "order_expired",
                    {"order": order.id, "item": order.item_name, "shop": order.shop_id},
                    f"order:{order.id}:expired",
                    now=now,
                )
                expired.append(order.id)
            return expired

        return await self.db.transaction(run)

    async def mark_awaiting(self, order_id: int) -> None:
        await self.db.transaction(
            lambda c: c.execute(
                "UPDATE orders SET status = 'awaiting' WHERE id = ? AND status = 'created'",
                (order_id,),
            )
        )

    async def mark_paid(self, order_id: int) -> Order:
        now = self._now()
        return await self.db.transaction(lambda c: mark_paid_in(c, order_id, now))

    # ---- owners ----------------------------------------------------------------------

    async def create_invite(self, shop_id: str, *, ttl: int = 86400) -> str:
        """A single-use token for `?start=owner-<token>`; only its hash is stored."""
        if await self.shop(shop_id) is None:
            raise ItemNotFound()
        token = secrets.token_urlsafe(16)
        digest = hashlib.sha256(token.encode()).hexdigest()
        expires = self._now() + ttl
        await self.db.transaction(
            lambda c: c.execute(
                "INSERT INTO owner_invites (token_hash, shop_id, expires_at) VALUES (?, ?, ?)",
                (digest, shop_id, expires),
            )
        )
        return token

    async def accept_invite(self, token: str, user_id: int) -> Shop:
        digest = hashlib.sha256(token.encode()).hexdigest()
        now = self._now()

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
        now = self._now()
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
        """One page of the owner's orders with this status, newest first, and how many in all."""
        statuses = {
            "paid": ("paid",),
            "awaiting": ("created", "awaiting"),
            "fulfilled": ("fulfilled",),
        }[status]
        marks = ",".join("?" * len(statuses))
        where = (
            " JOIN shop_owners w ON w.shop_id = o.shop_id"
            f" WHERE w.user_id = ? AND o.status IN ({marks})"
        )

        def read(conn: sqlite3.Connection) -> tuple[list[Order], int]:
            total = conn.execute(
                f"SELECT COUNT(*) FROM orders o{where}", (user_id, *statuses)
            ).fetchone()[0]
            rows = conn.execute(
                f"{ORDER_SELECT}{where} ORDER BY o.id DESC LIMIT ? OFFSET ?",
                (user_id, *statuses, per_page, max(page, 0) * per_page),
            ).fetchall()
            return [_order(r) for r in rows], int(total)

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

    async def owner_order(self, order_id: int, user_id: int) -> Order:
        """An order of a shop this person owns; anything else is `NotAnOwner`."""
        row = await self.db.fetchone(
            f"{ORDER_SELECT} JOIN shop_owners w ON w.shop_id = o.shop_id"
            " WHERE o.id = ? AND w.user_id = ?",
            (order_id, user_id),
        )
        if row is None:
            raise NotAnOwner()
        return _order(row)

    async def fulfil(self, order_id: int, user_id: int) -> Order:
        """The owner hands the order over; the buyer is told once."""
        await self.owner_order(order_id, user_id)
        now = self._now()

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
                    "order_fulfilled",
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
