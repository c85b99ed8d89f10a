"""Shops, orders, owners and their notifications."""

from __future__ import annotations

import asyncio
import re
import shutil
from pathlib import Path

import pytest

from bot.settings import DEMO_CATALOGUE
from emulator.engine import TelegramError
from services.merchant import Merchant
from services.orders import SoldOut
from tests.harness import Harness, Person, running_harness
from tests.helpers import buy_last_copy, mark_paid, open_item, owner


async def test_browse_order_reserves_stock_and_expiry_releases_it(harness: Harness) -> None:
    anna = harness.person()
    await anna.send("/start")
    seen = await anna.press("🛍 Магазины")
    assert seen.text == "🛍 Магазины, которые работают с Робокассой. Выберите:"
    assert len(seen.labels) == 4  # three shops and the menu
    seen = await anna.press("🏪 Книжная лавка «Переплёт»")
    assert seen.labels[:2] == ["Художественная литература", "Детям"]
    await anna.press("Художественная литература")
    seen = await anna.press("М. Булгаков. Мастер и Маргарита · 650,00 ₽")
    assert "В наличии: 5" in seen.text and "Твёрдый переплёт" in seen.text
    seen = await anna.send("3")
    assert "Количество: 3 · итого 1 950,00 ₽" in seen.text
    seen = await anna.press("🛒 Купить")
    assert seen.text.startswith("🧾 Заказ № 1001 · Книжная лавка «Переплёт»")
    assert "3 × М. Булгаков. Мастер и Маргарита = 1 950,00 ₽" in seen.text
    assert seen.labels == [
        "💳 Оплатить через Робокассу",
        "📲 Оплатить в Telegram",
        "✖️ Отменить заказ",
        "🏠 Меню",
    ]
    merchant = harness.services.merchant
    order = await merchant.order(1001)
    assert (await merchant.item(order.item_id)).stock == 2
    harness.clock.advance(minutes=29)
    await harness.jobs.run_once()
    assert (await merchant.order(1001)).status == "created"
    harness.clock.advance(minutes=2)
    await harness.jobs.run_once()
    assert (await merchant.order(1001)).status == "expired"
    assert (await merchant.item(order.item_id)).stock == 5
    assert (
        anna.last.text
        == "⌛ Заказ № 1001 (М. Булгаков. Мастер и Маргарита) не оплачен вовремя и отменён."
    )
    # The old "pay" button of the expired order fails soft.
    await anna.press("💳 Оплатить через Робокассу")
    assert "Срок счёта истёк, заказ № 1001 отменён." in [m.text for m in anna.bot_messages()]


async def test_cancel_order_returns_stock(harness: Harness) -> None:
    anna = harness.person()
    order = await buy_last_copy(anna)
    seen = await anna.press("✖️ Отменить заказ")
    assert seen.text == f"Заказ № {order} отменён."
    item = await harness.services.merchant.item(
        (await harness.services.merchant.order(order)).item_id
    )
    assert item.stock == 1


async def test_last_unit_race_one_order_the_other_told_sold_out(harness: Harness) -> None:
    merchant: Merchant = harness.services.merchant
    row = await harness.services.db.fetchone("SELECT id FROM items WHERE sku = 'last-copy'")
    assert row is not None
    results = await asyncio.gather(
        *(
            merchant.create_order(uid, row[0], 1, buyer_name=f"b{uid}", contact="")
            for uid in range(10)
        ),
        return_exceptions=True,
    )
    assert sum(1 for r in results if not isinstance(r, Exception)) == 1
    assert all(isinstance(r, SoldOut) for r in results if isinstance(r, Exception))
    anna = harness.person()
    await open_item(
        anna,
        "🏪 Книжная лавка «Переплёт»",
        "Художественная литература",
        "А. Грин. Алые паруса (последний экземпляр) · 1 250,00 ₽",
    )
    assert "Нет в наличии" in anna.last.text
    assert "🛒 Купить" not in anna.last.labels


async def test_sold_out_while_looking_at_the_card(harness: Harness) -> None:
    anna = harness.person()
    boris = harness.person("Борис")
    await open_item(
        anna,
        "🏪 Книжная лавка «Переплёт»",
        "Художественная литература",
        "А. Грин. Алые паруса (последний экземпляр) · 1 250,00 ₽",
    )
    await buy_last_copy(boris)
    await anna.press("🛒 Купить")
    assert anna.last_answer == {"text": "К сожалению, товар закончился.", "show_alert": True}


@pytest.mark.parametrize("typed", ["0", "-1", "6", "1000000", "два", "1.5", "🙂"])
async def test_bad_quantities_keep_the_card(harness: Harness, typed: str) -> None:
    anna = harness.person()
    await open_item(
        anna,
        "🏪 Книжная лавка «Переплёт»",
        "Художественная литература",
        "М. Булгаков. Мастер и Маргарита · 650,00 ₽",
    )
    seen = await anna.send(typed)
    assert seen.text == "Напишите количество от 1 до 5."
    seen = await anna.send("2")
    assert "Количество: 2" in seen.text


async def test_forged_quantity_in_callback_data_is_refused(harness: Harness) -> None:
    anna = harness.person()
    await open_item(
        anna,
        "🏪 Книжная лавка «Переплёт»",
        "Художественная литература",
        "М. Булгаков. Мастер и Маргарита · 650,00 ₽",
    )
    card = anna.last
    buy = card.data_of("🛒 Купить")
    for forged in (
        buy.replace(":1", ":0", 1),
        buy.rsplit(":", 1)[0] + ":500",
        buy.rsplit(":", 1)[0] + ":-3",
    ):
        await anna.press_data(card.message_id, forged)
        assert anna.last_answer is not None and anna.last_answer["show_alert"]
    assert await harness.services.db.fetchone("SELECT id FROM orders") is None


async def test_deep_links_to_items(harness: Harness) -> None:
    row = await harness.services.db.fetchone("SELECT id FROM items WHERE sku = 'roses-7'")
    assert row is not None
    anna = harness.person()
    seen = await anna.send(f"/start item-{row[0]}")
    assert seen.text.startswith("7 роз\nЦветочная мастерская «Ромашка»")
    for bad in ("item-999999", "item-abc", "item-"):
        seen = await anna.send(f"/start {bad}")
        assert (
            seen.text == "Этот товар больше не продаётся. Загляните в магазины — там есть другие."
        )


async def test_invite_links_single_use_and_expiring(harness: Harness) -> None:
    merchant = harness.services.merchant
    token = await merchant.create_invite("books", ttl=3600)
    olga = harness.person("Ольга")
    seen = await olga.send(f"/start owner-{token}")
    assert seen.text.startswith("✅ Вы подключены как владелец магазина «Книжная лавка «Переплёт»»")
    boris = harness.person("Борис")
    seen = await boris.send(f"/start owner-{token}")
    assert seen.text == "Эта ссылка-приглашение уже использована. Попросите новую."
    late = await merchant.create_invite("books", ttl=60)
    harness.clock.advance(minutes=2)
    seen = await boris.send(f"/start owner-{late}")
    assert seen.text == "Срок действия ссылки-приглашения истёк. Попросите новую."
    seen = await boris.send("/start owner-nonsense")
    assert seen.text == "Эта ссылка-приглашение недействительна."
    seen = await boris.send("/orders")
    assert seen.text.startswith("Этот раздел — для владельцев магазинов.")


async def test_paid_order_one_owner_message_with_429_then_success(harness: Harness) -> None:
    olga = await owner(harness)
    anna = harness.person()
    order = await buy_last_copy(anna)
    await mark_paid(harness.services.merchant, order)
    await mark_paid(harness.services.merchant, order)  # a replay changes nothing
    harness.session.fail_next(
        "sendMessage", TelegramError(429, "Too Many Requests: retry after 7", 7)
    )
    before = harness.clock.now()
    await harness.jobs.run_once()
    notes = [m for m in olga.bot_messages() if m.text.startswith("🛒 Новый оплаченный заказ")]
    assert len(notes) == 1
    assert (harness.clock.now() - before).total_seconds() >= 7  # waited retry_after
    await harness.jobs.run_once()
    assert len([m for m in olga.bot_messages() if m.text.startswith("🛒")]) == 1
    assert "📦 Открыть заказ" in notes[0].labels


async def test_blocked_owner_is_recorded_not_retried(harness: Harness) -> None:
    olga = await owner(harness)
    harness.engine.block(olga.id)
    anna = harness.person()
    order = await buy_last_copy(anna)
    await mark_paid(harness.services.merchant, order)
    await harness.jobs.run_once()
    calls = len(harness.session.calls)
    for _ in range(3):
        harness.clock.advance(minutes=10)
        await harness.jobs.run_once()
    sends_to_olga = [
        c for c in harness.session.calls[calls:] if c[1].get("chat_id") == str(olga.id)
    ]
    assert sends_to_olga == []
    row = await harness.services.db.fetchone(
        "SELECT status, attempts FROM outbox WHERE chat_id = ? AND kind = 'order_paid_owner'",
        (olga.id,),
    )
    assert row is not None and (row[0], row[1]) == ("blocked", 1)
    # The buyer still got the receipt.
    assert anna.last.text.startswith(f"✅ Оплата поступила. Заказ № {order} оплачен.")


async def test_network_errors_are_retried_with_backoff(harness: Harness) -> None:
    olga = await owner(harness)
    order = await buy_last_copy(harness.person())
    await mark_paid(harness.services.merchant, order)
    harness.session.fail_next("sendMessage", TelegramError(500, "Internal Server Error"))
    await harness.jobs.run_once()
    assert [m for m in olga.bot_messages() if m.text.startswith("🛒")] == []
    harness.clock.advance(seconds=3)
    await harness.jobs.run_once()
    assert len([m for m in olga.bot_messages() if m.text.startswith("🛒")]) == 1


async def test_pending_notification_is_delivered_after_a_restart(
    harness: Harness, tmp_path: Path
) -> None:
    olga = await owner(harness)
    order = await buy_last_copy(harness.person())
    await mark_paid(harness.services.merchant, order)
    async with running_harness(tmp_path) as restarted:
        restarted.engine = harness.engine
        restarted.session.engine = harness.engine
        restarted.jobs.worker.bot = restarted.bot
        await restarted.jobs.run_once()
    assert len([m for m in olga.bot_messages() if m.text.startswith("🛒")]) == 1


async def test_owner_panel_lists_fulfils_and_counts(harness: Harness) -> None:
    olga = await owner(harness)
    anna = harness.person()
    merchant = harness.services.merchant
    first = await buy_last_copy(anna)
    await mark_paid(merchant, first)
    harness.clock.advance(minutes=1)
    await open_item(
        anna, "🏪 Книжная лавка «Переплёт»", "Детям", "К. Чуковский. Мойдодыр · 349,90 ₽"
    )
    await anna.send("2")
    seen = await anna.press("🛒 Купить")
    second = int(re.search(r"Заказ № (\d+)", seen.text).group(1))  # type: ignore[union-attr]
    await mark_paid(merchant, second)
    await harness.jobs.run_once()
    seen = await olga.send("/orders")
    assert seen.text.startswith("📦 Заказы «Книжная лавка «Переплёт»»: оплачены")
    assert seen.labels[:3] == ["• Оплачены", "Ждут оплаты", "Выданы"]
    assert f"№ {second} · 699,80 ₽ · К. Чуковский. Мойдодыр" in seen.labels
    seen = await olga.press(f"№ {first} · 1 250,00 ₽ · А. Грин. Алые паруса (после…")
    assert "Покупатель: Анна" in seen.text and "Статус: оплачен" in seen.text
    seen = await olga.press("✅ Выдан")
    assert "Статус: выдан" in seen.text
    await harness.drain()  # at most one message a second to one chat
    assert anna.last.text.startswith(
        f"📦 Заказ № {first} (А. Грин. Алые паруса (последний экземпляр)) выдан"
    )
    seen = await olga.press("⬅️ К заказам")
    assert seen.text.endswith("выданы")
    seen = await olga.press("📊 Продажи")
    assert "Сегодня: 2 заказа на 1 949,80 ₽" in seen.text
    assert "30 дней: 2 заказа на 1 949,80 ₽" in seen.text
    assert "1. А. Грин. Алые паруса (последний экземпляр) — 1 шт., 1 250,00 ₽" in seen.text
    assert "2. К. Чуковский. Мойдодыр — 2 шт., 699,80 ₽" in seen.text


async def test_strangers_cannot_use_owner_buttons(harness: Harness) -> None:
    olga = await owner(harness)
    order = await buy_last_copy(harness.person())
    await mark_paid(harness.services.merchant, order)
    await harness.jobs.run_once()
    note = next(m for m in olga.bot_messages() if m.text.startswith("🛒"))
    mallory = harness.person("Мэллори")
    seen = await mallory.send("/start")
    for data in (
        note.data_of("📦 Открыть заказ"),
        f"o1:done:paid:{order}",
        "o1:stats:paid:0",
        "o1:orders:paid:0",
    ):
        await mallory.press_data(seen.message_id, data)
        assert mallory.last_answer is not None and mallory.last_answer["show_alert"]
    assert (await harness.services.merchant.order(order)).status == "paid"


async def test_catalogue_sync_edit_restart_price_changes_old_orders_keep_theirs(
    harness: Harness, tmp_path: Path
) -> None:
    catalogue = tmp_path / "catalogue.toml"
    shutil.copy(DEMO_CATALOGUE, catalogue)
    async with running_harness(tmp_path / "a", catalogue_path=catalogue) as first:
        anna = first.person()
        order = await buy_last_copy(anna)
    text = catalogue.read_text(encoding="utf-8")
    text = text.replace('price = "650.00"', 'price = "700.00"')
    text = text.replace('id = "moydodyr"', 'id = "moydodyr-removed"\n    active_note = 1')
    catalogue.write_text(
        text.replace(
            'id = "last-copy"\n    name = "А. Грин. Алые паруса (последний экземпляр)"',
            'id = "last-copy"\n    name = "А. Грин. Алые паруса"',
        ),
        encoding="utf-8",
    )
    async with running_harness(tmp_path / "a", catalogue_path=catalogue) as second:
        merchant = second.services.merchant
        row = await second.services.db.fetchone(
            "SELECT id FROM items WHERE sku = 'master-margarita'"
        )
        assert row is not None
        assert (await merchant.item(row[0])).price == 70000
        old = await merchant.order(order)
        assert (
            old.item_name == "А. Грин. Алые паруса (последний экземпляр)" and old.amount == 125000
        )
        gone = await second.services.db.fetchone(
            "SELECT id, active FROM items WHERE sku = 'moydodyr'"
        )
        assert gone is not None and gone[1] == 0
        anna = second.person()
        seen = await anna.send(f"/start item-{gone[0]}")
        assert seen.text.startswith("Этот товар больше не продаётся.")


async def test_broken_catalogue_stops_start_up_with_a_clear_line(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[shops]]\nid = "x"\nname = "X"\n[[shops.categories]]\nid = "c"\nname = "C"\n'
        '[[shops.categories.items]]\nid = "i"\nname = "I"\nprice = "abc"\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "ROBOKASSA"))}
    env.update(
        PYTHONPATH=str(Path(__file__).resolve().parent.parent),
        CATALOGUE_PATH=str(bad),
        WEB_PORT="0",
        EMULATOR_PORT="0",
    )
    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().endswith("shop x item i: price 'abc' is not a number")
    assert "Traceback" not in result.stderr


async def test_the_same_buy_press_delivered_twice_makes_one_order(harness: Harness) -> None:
    anna = harness.person()
    await open_item(
        anna,
        "🏪 Книжная лавка «Переплёт»",
        "Художественная литература",
        "М. Булгаков. Мастер и Маргарита · 650,00 ₽",
    )
    card = anna.last
    update = harness.engine.press(anna.id, card.message_id, data=card.data_of("🛒 Купить"))
    await harness.feed(update)
    harness.engine.callbacks[update["callback_query"]["id"]].answered = False
    await harness.feed(update)
    rows = await harness.services.db.fetchall("SELECT id FROM orders")
    assert len(rows) == 1
    item = await harness.services.merchant.item(
        (await harness.services.merchant.order(rows[0][0])).item_id
    )
    assert item.stock == 4


async def test_owner_pages_through_many_orders_and_comes_back_to_the_same_page(
    harness: Harness,
) -> None:
    olga = await owner(harness, "flowers")
    merchant = harness.services.merchant
    row = await harness.services.db.fetchone("SELECT id FROM items WHERE sku = 'delivery'")
    assert row is not None
    numbers = []
    for n in range(23):
        order = await merchant.create_order(1000 + n, row[0], 1, buyer_name=f"b{n}", contact="")
        await mark_paid(merchant, order.id)
        numbers.append(order.id)
    numbers.reverse()  # newest first, as the owner sees them

    def listed(labels: list[str]) -> list[int]:
        return [int(label.split()[1]) for label in labels if label.startswith("№ ")]

    seen = await olga.send("/orders")
    assert "Страница 1 из 3 · 23 заказа" in seen.text
    assert listed(seen.labels) == numbers[:10]
    assert "⬅️ Новее" not in seen.labels
    seen = await olga.press("Ранее ➡️")
    assert "Страница 2 из 3" in seen.text
    assert listed(seen.labels) == numbers[10:20]
    card = next(label for label in seen.labels if label.startswith(f"№ {numbers[12]} "))
    await olga.press(card)
    seen = await olga.press("⬅️ К заказам")
    assert "Страница 2 из 3" in seen.text and listed(seen.labels) == numbers[10:20]
    seen = await olga.press("Ранее ➡️")
    assert "Страница 3 из 3" in seen.text and listed(seen.labels) == numbers[20:]
    assert "Ранее ➡️" not in seen.labels and "⬅️ Новее" in seen.labels
    # A stale button pointing past the end shows the last page instead of an empty one.
    seen = await olga.press_data(seen.message_id, "o1:orders:paid:0:9")
    assert "Страница 3 из 3" in seen.text and listed(seen.labels) == numbers[20:]


async def test_long_section_is_paged_six_items_at_a_time(harness: Harness, tmp_path: Path) -> None:
    catalogue = tmp_path / "long.toml"
    items = "".join(
        f'\n    [[shops.categories.items]]\n    id = "card-{n}"\n'
        f'    name = "Открытка № {n}"\n    price = "{100 + n}.00"\n'
        for n in range(1, 9)
    )
    catalogue.write_text(
        '[[shops]]\nid = "cards"\nname = "Открытки"\ndescription = "Открытки."\n\n'
        '  [[shops.categories]]\n  id = "all"\n  name = "Все открытки"\n' + items,
        encoding="utf-8",
    )
    async with running_harness(tmp_path / "long", catalogue_path=catalogue) as h:
        anna = h.person()
        await anna.send("/start")
        await anna.press("🛍 Магазины")
        await anna.press("🏪 Открытки")
        seen = await anna.press("Все открытки")
        assert "Страница 1 из 2" in seen.text
        cards = [label for label in seen.labels if label.startswith("Открытка")]
        assert cards[0] == "Открытка № 1 · 101,00 ₽" and len(cards) == 6
        seen = await anna.press("➡️")
        assert "Страница 2 из 2" in seen.text
        cards = [label for label in seen.labels if label.startswith("Открытка")]
        assert cards == ["Открытка № 7 · 107,00 ₽", "Открытка № 8 · 108,00 ₽"]
        assert "➡️" not in seen.labels
        seen = await anna.press("Открытка № 8 · 108,00 ₽")
        assert "108,00 ₽" in seen.text
        await anna.send("2")  # typing a quantity keeps the way back to the same page
        seen = await anna.press("⬅️ Назад")
        assert "Страница 2 из 2" in seen.text
        seen = await anna.press("⬅️")
        assert "Страница 1 из 2" in seen.text
        # A stale button pointing past the end shows the last page.
        prefix, action, section, shop, _page, quantity = seen.data_of("➡️").split(":")
        stale = ":".join((prefix, action, section, shop, "7", quantity))
        seen = await anna.press_data(seen.message_id, stale)
        assert "Страница 2 из 2" in seen.text


async def master_and_margarita_card(anna: Person) -> tuple[int, str]:
    await open_item(
        anna,
        "🏪 Книжная лавка «Переплёт»",
        "Художественная литература",
        "М. Булгаков. Мастер и Маргарита · 650,00 ₽",
    )
    card = anna.last
    return card.message_id, card.data_of("🛒 Купить")


async def test_five_taps_on_buy_make_one_order(harness: Harness) -> None:
    anna = harness.person()
    message, buy = await master_and_margarita_card(anna)
    numbers = set()
    for _ in range(5):
        seen = await anna.press_data(message, buy)
        found = re.search(r"Заказ № (\d+)", seen.text)
        assert found, seen.text
        numbers.add(int(found.group(1)))
    assert len(numbers) == 1
    orders = await harness.services.db.fetchall("SELECT id FROM orders")
    assert [row[0] for row in orders] == list(numbers)
    item = await harness.services.merchant.item(
        (await harness.services.merchant.order(*numbers)).item_id
    )
    assert item.stock == 4


async def test_five_taps_at_once_on_buy_make_one_order(harness: Harness) -> None:
    anna = harness.person()
    message, buy = await master_and_margarita_card(anna)
    await asyncio.gather(*(anna.press_data(message, buy) for _ in range(5)))
    orders = await harness.services.db.fetchall("SELECT id, quantity FROM orders")
    assert len(orders) == 1
    item = await harness.services.merchant.item(
        (await harness.services.merchant.order(orders[0][0])).item_id
    )
    assert item.stock == 4
    # Every tap was answered, and the chat shows the one order.
    assert all(c.answer is not None for c in harness.engine.callbacks.values())
    assert anna.last.text.startswith(f"🧾 Заказ № {orders[0][0]} ·")


async def test_a_cancelled_order_can_be_bought_again_from_the_same_screen(
    harness: Harness,
) -> None:
    anna = harness.person()
    message, buy = await master_and_margarita_card(anna)
    first = await anna.press_data(message, buy)
    await anna.press("✖️ Отменить заказ")
    seen = await anna.press("🛍 Магазины")
    assert seen.message_id == message  # the same chat message, drawn anew
    await anna.press("🏪 Книжная лавка «Переплёт»")
    await anna.press("Художественная литература")
    await anna.press("М. Булгаков. Мастер и Маргарита · 650,00 ₽")
    second = await anna.press("🛒 Купить")
    assert second.text.split("·")[0] != first.text.split("·")[0]
    assert "Заказ №" in second.text


async def test_a_fourth_unpaid_order_is_refused_with_what_to_do(harness: Harness) -> None:
    anna = harness.person()
    books = "🏪 Книжная лавка «Переплёт»"
    for section, item in (
        ("Художественная литература", "М. Булгаков. Мастер и Маргарита · 650,00 ₽"),
        ("Художественная литература", "И. Ильф, Е. Петров. Двенадцать стульев · 549,50 ₽"),
        ("Детям", "К. Чуковский. Мойдодыр · 349,90 ₽"),
    ):
        await open_item(anna, books, section, item)
        seen = await anna.press("🛒 Купить")
        assert seen.text.startswith("🧾 Заказ №"), seen.text
    await open_item(
        anna,
        books,
        "Художественная литература",
        "А. Грин. Алые паруса (последний экземпляр) · 1 250,00 ₽",
    )
    seen = await anna.press("🛒 Купить")
    assert seen.text == (
        "У вас уже 3 неоплаченных заказа — больше одновременно нельзя. "
        "Оплатите или отмените один из них в «🧾 Мои заказы» и попробуйте снова."
    )
    assert seen.labels == ["🧾 Мои заказы", "⬅️ Назад", "🏠 Меню"]
    orders = await harness.services.db.fetchall("SELECT id FROM orders")
    assert len(orders) == 3
    assert await stock_of_sku(harness, "last-copy") == 1
    # She cancels one in «My orders»; then the fourth goes through.
    seen = await anna.press("🧾 Мои заказы")
    await anna.press(seen.labels[0])
    await anna.press("✖️ Отменить заказ")
    await open_item(
        anna,
        books,
        "Художественная литература",
        "А. Грин. Алые паруса (последний экземпляр) · 1 250,00 ₽",
    )
    seen = await anna.press("🛒 Купить")
    assert seen.text.startswith("🧾 Заказ №"), seen.text
    assert await stock_of_sku(harness, "last-copy") == 0


async def stock_of_sku(h: Harness, sku: str) -> int | None:
    row = await h.services.db.fetchone("SELECT stock FROM items WHERE sku = ?", (sku,))
    assert row is not None
    return row[0]  # type: ignore[no-any-return]
