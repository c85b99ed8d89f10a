"""Stock lives in the database: a restart never sells the same copy twice; the file restocks."""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

from bot.settings import DEMO_CATALOGUE
from services.clock import ManualClock
from services.db import Database
from services.merchant import Merchant
from tests.harness import Harness, running_harness
from tests.helpers import buy_last_copy, mark_paid, open_item

ROSES = "7 роз · 1 890,00 ₽"
PEOPLE = itertools.count(500)


def copy_of_demo(tmp_path: Path) -> Path:
    catalogue = tmp_path / "catalogue.toml"
    shutil.copy(DEMO_CATALOGUE, catalogue)
    return catalogue


def set_stock(catalogue: Path, sku: str, old: int, new: int) -> None:
    text = catalogue.read_text(encoding="utf-8")
    start = text.index(f'id = "{sku}"')
    end = text.index(f"stock = {old}", start) + len(f"stock = {old}")
    catalogue.write_text(
        text[:start] + text[start:end].replace(f"stock = {old}", f"stock = {new}") + text[end:],
        encoding="utf-8",
    )


async def stock_of(h: Harness, sku: str) -> int | None:
    row = await h.services.db.fetchone("SELECT stock FROM items WHERE sku = ?", (sku,))
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


async def open_roses(h: Harness) -> str:
    # Someone new each time: the restarted harness numbers its updates from 1 again, and the
    # bot would take the same person's identical "/start" for one it has already handled.
    anna = h.person(user_id=next(PEOPLE))
    await open_item(anna, "🏪 Цветочная мастерская «Ромашка»", "Букеты", ROSES)
    return anna.last.text


async def test_the_last_copy_sold_before_a_restart_stays_sold(tmp_path: Path) -> None:
    catalogue = copy_of_demo(tmp_path)
    async with running_harness(tmp_path / "bot", catalogue_path=catalogue) as first:
        order = await buy_last_copy(first.person())
        await mark_paid(first.services.merchant, order)
    async with running_harness(tmp_path / "bot", catalogue_path=catalogue) as second:
        assert await stock_of(second, "last-copy") == 0
        boris = second.person("Борис", phone="+79990002222", user_id=next(PEOPLE))
        await open_item(
            boris,
            "🏪 Книжная лавка «Переплёт»",
            "Художественная литература",
            "А. Грин. Алые паруса (последний экземпляр) · 1 250,00 ₽",
        )
        assert "Нет в наличии" in boris.last.text
        assert "🛒 Купить" not in boris.last.labels
        orders = await second.services.db.fetchall("SELECT id FROM orders")
        assert [row[0] for row in orders] == [order]


async def test_roses_sold_before_a_restart_are_not_back_in_stock(tmp_path: Path) -> None:
    catalogue = copy_of_demo(tmp_path)
    async with running_harness(tmp_path / "bot", catalogue_path=catalogue) as first:
        anna = first.person()
        await open_item(anna, "🏪 Цветочная мастерская «Ромашка»", "Букеты", ROSES)
        await anna.press("🛒 Купить")
        assert "В наличии: 5" in await open_roses(first)
    async with running_harness(tmp_path / "bot", catalogue_path=catalogue) as second:
        assert "В наличии: 5" in await open_roses(second)
    # Twice in a row: a start with an unchanged file changes nothing.
    async with running_harness(tmp_path / "bot", catalogue_path=catalogue) as third:
        assert "В наличии: 5" in await open_roses(third)


async def test_a_bigger_number_in_the_file_is_a_restock(tmp_path: Path) -> None:
    catalogue = copy_of_demo(tmp_path)
    async with running_harness(tmp_path / "bot", catalogue_path=catalogue) as first:
        anna = first.person()
        await open_item(anna, "🏪 Цветочная мастерская «Ромашка»", "Букеты", ROSES)
        await anna.press("🛒 Купить")
    set_stock(catalogue, "roses-7", 6, 11)  # five more bouquets arrived
    async with running_harness(tmp_path / "bot", catalogue_path=catalogue) as second:
        assert "В наличии: 10" in await open_roses(second)
    async with running_harness(tmp_path / "bot", catalogue_path=catalogue) as third:
        assert "В наличии: 10" in await open_roses(third)  # applied once
    set_stock(catalogue, "roses-7", 11, 8)  # three were written off
    async with running_harness(tmp_path / "bot", catalogue_path=catalogue) as fourth:
        assert "В наличии: 7" in await open_roses(fourth)
    set_stock(catalogue, "roses-7", 8, 0)  # more written off than there is: none left
    async with running_harness(tmp_path / "bot", catalogue_path=catalogue) as fifth:
        assert await stock_of(fifth, "roses-7") == 0
        assert "Нет в наличии" in await open_roses(fifth)


async def test_items_synced_before_the_upgrade_keep_their_stock(
    db: Database, tmp_path: Path
) -> None:
    catalogue = copy_of_demo(tmp_path)
    merchant = Merchant(db, ManualClock())
    await merchant.sync_catalogue(catalogue)
    # As an older bot left it: two copies sold since its last start, the file's number unknown.
    await db.transaction(
        lambda c: c.execute(
            "UPDATE items SET stock = 3, file_stock = NULL, file_stock_known = 0"
            " WHERE sku = 'master-margarita'"
        )
    )
    await merchant.sync_catalogue(catalogue)
    row = await db.fetchone("SELECT stock FROM items WHERE sku = 'master-margarita'")
    assert row is not None and row[0] == 3
    set_stock(catalogue, "master-margarita", 5, 8)
    await merchant.sync_catalogue(catalogue)
    row = await db.fetchone("SELECT stock FROM items WHERE sku = 'master-margarita'")
    assert row is not None and row[0] == 6
