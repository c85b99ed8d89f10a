"""Receipts and the wallet history name things in words a person knows, never internal ids."""

from __future__ import annotations

import re

from tests.harness import Harness, Person
from tests.helpers import (
    INTERNAL_ID,
    open_card,
    owner_of,
    pay_roses_in_app,
    receipt_number,
    register,
    to_cash_screen,
    to_invoice,
)


async def history(anna: Person) -> str:
    await anna.send("/start")
    await anna.press("👛 Кошелёк")
    return (await anna.press("📜 История")).text


async def test_terminal_invoice_receipt_and_history_name_the_order(harness: Harness) -> None:
    anna = harness.person()
    await register(anna)
    await anna.send("/start")
    await anna.press("🛍 Магазины")
    await anna.press("🏪 Книжная лавка «Переплёт»")
    await anna.press("Художественная литература")
    await anna.press("И. Ильф, Е. Петров. Двенадцать стульев · 549,50 ₽")
    seen = await anna.press("🛒 Купить")
    order = int(re.search(r"Заказ № (\d+)", seen.text).group(1))  # type: ignore[union-attr]
    await to_invoice(anna)
    await anna.press("🏧 В терминале QIWI")
    await anna.press("500 ₽")
    await anna.press("50 ₽")
    await anna.press("✅ Оплатить")
    await anna.press("👛 В кошелёк")
    receipt = anna.bot_messages()[-2].text
    assert f"Оплата заказа № {order}" in receipt and "Книжная лавка «Переплёт»" in receipt
    assert not INTERNAL_ID.findall(receipt), receipt
    number = receipt_number(anna)
    text = await history(anna)
    assert f"Терминал QIWI T-0417, чек № {number}" in text
    assert f"остаток от оплаты заказа № {order}" in text
    assert not INTERNAL_ID.findall(text), text


async def test_history_names_terminal_salon_payment_and_refund(harness: Harness) -> None:
    olga = await owner_of(harness, "flowers")
    anna = harness.person()
    order = await pay_roses_in_app(harness, anna)
    await to_cash_screen(anna)
    await anna.press("100 ₽")
    await anna.press("✅ Зачислить")
    terminal = receipt_number(anna)
    await anna.send("/start")
    await anna.press("💵 Пополнить")
    await anna.press("🏬 Салон связи")
    await anna.press("📱 +7 912 345-67-89")
    await anna.send("300")
    salon = receipt_number(anna)
    await open_card(olga, order)
    await olga.press("↩️ Вернуть деньги")
    await olga.press("✅ Да, вернуть 1 890,00 ₽")
    text = await history(anna)
    assert f"Возврат по заказу № {order}" in text
    assert f"Терминал QIWI T-0417, чек № {terminal}" in text
    assert f"Салон связи S-0102, чек № {salon}" in text
    assert f"Оплата заказа № {order} · Цветочная мастерская «Ромашка»" in text
    assert not INTERNAL_ID.findall(text), text


async def test_delayed_receipt_says_to_be_credited_until_it_is(harness: Harness) -> None:
    anna = harness.person()
    await register(anna)
    harness.services.cash.delayed = lambda: True
    await to_cash_screen(anna)
    await anna.press("1000 ₽")
    seen = await anna.press("✅ Зачислить")
    assert "К зачислению: 1 000,00 ₽" in seen.text and "Зачислено:" not in seen.text
    number = receipt_number(anna)
    await anna.press("🧾 Проверить чек")
    seen = await anna.send(str(number))
    assert "к зачислению 1 000,00 ₽ на +7 912 *** ** 89" in seen.text
    await anna.send("/start")
    await anna.press("💵 Пополнить")
    await anna.press("🏬 Салон связи")
    await anna.press("📱 +7 912 345-67-89")
    seen = await anna.send("300")
    assert "К зачислению: 300,00 ₽" in seen.text and "Зачислено:" not in seen.text
    harness.clock.advance(hours=1)
    await harness.jobs.run_once()
    await anna.press("🧾 Проверить чек")
    seen = await anna.send(str(number))
    assert "— зачислено" in seen.text
