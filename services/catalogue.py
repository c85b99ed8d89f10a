"""The shops' catalogue: read from a TOML file and synced into the database at start.

Edits update items, removed items stop being sold, old orders keep what they sold. Stock is the
database's once an item exists; a changed number in the file is a restock (or a write-off) by
the difference.
"""

from __future__ import annotations

import json
import sqlite3
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from services.db import Database
from services.errors import DomainError

MAX_QUANTITY = 99


class CatalogueError(Exception):
    """The catalogue file is not what the bot can sell from; the message says where."""


class ItemNotFound(DomainError):
    pass


@dataclass(frozen=True)
class Words:
    """What the file says for English screens and for counting an item, read at every start
    (the database keeps only what orders and stock need): an English name and description, and
    the item's unit in Russian plural forms (один букет, два букета, пять букетов) and English
    ones (bouquet, bouquets). Empty: the Russian name, and «шт.» / pcs."""

    name_en: str = ""
    description_en: str = ""
    unit: tuple[str, ...] = ()
    unit_en: tuple[str, ...] = ()


NO_WORDS = Words()


@dataclass(frozen=True)
class Shop:
    id: str
    name: str
    description: str
    settings: dict[str, Any]
    words: Words = field(default=NO_WORDS, compare=False)


@dataclass(frozen=True)
class Category:
    id: int
    shop_id: str
    name: str
    words: Words = field(default=NO_WORDS, compare=False)


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
    words: Words = field(default=NO_WORDS, compare=False)
    shop_name_en: str = ""

    @property
    def max_quantity(self) -> int:
        return MAX_QUANTITY if self.stock is None else min(self.stock, MAX_QUANTITY)


def _price(value: object, where: str) -> int:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise CatalogueError(f"{where}: price {value!r} is not a number") from None
    kopecks = amount * 100
    if kopecks <= 0 or kopecks != kopecks.to_integral_value():
        raise CatalogueError(f"{where}: price {value!r} must be positive with at most 2 decimals")
    return int(kopecks)


def _forms(value: object, count: int, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if (
        not isinstance(value, list)
        or len(value) != count
        or not all(isinstance(form, str) and form for form in value)
    ):
        raise CatalogueError(f"{where}: needs a list of {count} forms")
    return tuple(value)


def words_of(entry: dict[str, Any], where: str) -> Words:
    """A shop's, section's or item's `name_en`, `description_en`, `unit` (3 Russian forms:
    for 1, 2 and 5) and `unit_en` (2 forms: 1 and many)."""
    return Words(
        name_en=str(entry.get("name_en", "")),
        description_en=str(entry.get("description_en", "")),
        unit=_forms(entry.get("unit"), 3, f"{where} unit"),
        unit_en=_forms(entry.get("unit_en"), 2, f"{where} unit_en"),
    )


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
                item["words"] = words_of(item, where)
            category["words"] = words_of(category, f"{path}: shop {shop['id']} section")
        shop["words"] = words_of(shop, f"{path}: shop {shop['id']}")
    return list(shops)


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


class Catalogue:
    """Shops, categories and items as buyers see them (part of `Merchant`)."""

    db: Database

    @property
    def _words(self) -> dict[tuple[str, ...], Words]:
        """Words by ("shop", id), ("section", shop, slug), ("item", shop, sku), from the last
        sync; the command line, which does not sync, shows the Russian names."""
        return vars(self).setdefault("_catalogue_words", {})  # type: ignore[no-any-return]

    async def sync_catalogue(self, path: Path) -> None:
        """Bring shops, categories and items in line with the file (idempotent).

        Only the bot's start calls this: the stock a sync adds is the file's change since the
        previous sync, which a command-line tool reading the file as well must not apply.
        """
        shops = load_catalogue(path)
        words: dict[tuple[str, ...], Words] = {}
        for shop in shops:
            words["shop", shop["id"]] = shop["words"]
            for category in shop.get("categories", []):
                words["section", shop["id"], category["id"]] = category["words"]
                for item in category.get("items", []):
                    words["item", shop["id"], item["id"]] = item["words"]

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
        self._words.clear()
        self._words.update(words)

    async def shops(self) -> list[Shop]:
        rows = await self.db.fetchall(
            "SELECT * FROM shops WHERE active = 1 ORDER BY position, name"
        )
        return [self._shop(r) for r in rows]

    async def shop(self, shop_id: str) -> Shop | None:
        row = await self.db.fetchone("SELECT * FROM shops WHERE id = ? AND active = 1", (shop_id,))
        if row is None:
            return None
        return self._shop(row)

    async def categories(self, shop_id: str) -> list[Category]:
        rows = await self.db.fetchall(
            "SELECT * FROM categories WHERE shop_id = ? AND active = 1 ORDER BY position",
            (shop_id,),
        )
        return [self._category(r) for r in rows]

    async def category(self, category_id: int) -> Category | None:
        row = await self.db.fetchone(
            "SELECT * FROM categories WHERE id = ? AND active = 1", (category_id,)
        )
        return None if row is None else self._category(row)

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

    def _shop(self, row: sqlite3.Row) -> Shop:
        return Shop(
            row["id"],
            row["name"],
            row["description"],
            json.loads(row["settings"]),
            self._words.get(("shop", row["id"]), NO_WORDS),
        )

    def _category(self, row: sqlite3.Row) -> Category:
        words = self._words.get(("section", row["shop_id"], row["slug"]), NO_WORDS)
        return Category(row["id"], row["shop_id"], row["name"], words)

    def _item(self, row: sqlite3.Row) -> Item:
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
            words=self._words.get(("item", row["shop_id"], row["sku"]), NO_WORDS),
            shop_name_en=self._words.get(("shop", row["shop_id"]), NO_WORDS).name_en,
        )
