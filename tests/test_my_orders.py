"""The buyer's own orders: what is open, paid, handed over or refunded, and a way back to pay."""

from __future__ import annotations

from tests.harness import Harness
from tests.helpers import PHONE, fund, order_roses, owner_of, register, to_invoice


async def test_an_open_order_can_be_paid_later_from_my_orders(harness: Harness) -> None:
    olga = await owner_of(harness, "flowers")
    anna = harness.person()
    seen = await anna.send("/start")
    seen = await anna.press("🧾 Мои заказы")
    assert seen.text == "Заказов пока нет. Выберите что-нибудь в магазинах."
    assert seen.labels == ["🛍 Магазины", "🏠 Меню"]
    await register(anna)
    await fund(harness, PHONE, 500_000)
    order = await order_roses(anna, quantity=1)
    await anna.send("/start")  # left the order screen without paying
    seen = await anna.press("🧾 Мои заказы")
    assert seen.text == "🧾 Ваши заказы, сначала новые."
    assert seen.labels == [f"№ {order} · 1 890,00 ₽ · ⏳ ждёт оплаты", "🏠 Меню"]
    seen = await anna.press(seen.labels[0])
    assert seen.text.startswith(f"🧾 Заказ № {order} · Цветочная мастерская «Ромашка»")
    assert "💳 Оплатить через Робокассу" in seen.labels
    await to_invoice(anna)
    await anna.press("📱 В приложении")
    await harness.jobs.run_once()
    await anna.send("/start")
    seen = await anna.press("🧾 Мои заказы")
    assert seen.labels[0] == f"№ {order} · 1 890,00 ₽ · ✅ оплачен"
    seen = await anna.press(seen.labels[0])
    assert "Статус: ✅ оплачен" in seen.text and "Оплачен: 28.11.2026" in seen.text
    assert seen.labels == ["⬅️ Мои заказы", "🏠 Меню"]
    # The owner hands it over; Anna's list says so.
    seen = await olga.send("/orders")
    await olga.press(next(label for label in seen.labels if label.startswith(f"№ {order} ")))
    await olga.press("✅ Выдан")
    seen = await anna.press("⬅️ Мои заказы")
    assert seen.labels[0] == f"№ {order} · 1 890,00 ₽ · 📦 выдан"


async def test_someone_elses_order_stays_closed(harness: Harness) -> None:
    anna = harness.person()
    order = await order_roses(anna, quantity=1)
    mallory = harness.person("Мэллори", phone="+79990001111")
    menu = await mallory.send("/start")
    await mallory.press_data(menu.message_id, f"s1:order:{order}::0:1")
    assert mallory.last_answer is not None and mallory.last_answer["show_alert"]
    assert mallory.last_answer["text"] == "Это не ваш заказ."
