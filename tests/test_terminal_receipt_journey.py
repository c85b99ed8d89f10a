"""What a cash receipt for a bill tells the person."""

from __future__ import annotations

from tests.harness import Harness
from tests.helpers import order_roses, register, to_invoice


async def test_a_receipt_for_a_bill_names_the_order_it_paid(harness: Harness) -> None:
    anna = harness.person()
    await register(anna)
    order = await order_roses(anna, quantity=1)
    await to_invoice(anna)
    seen = await anna.press("🏧 В терминале QIWI")
    assert "К оплате: 1 890,00 ₽" in seen.text
    await anna.press("2000 ₽")
    seen = await anna.press("✅ Оплатить")
    assert "Куда зачислить остаток 110,00 ₽?" in seen.text
    await anna.press("📱 На баланс телефона")
    receipt = anna.bot_messages()[-2].text
    assert f"Оплата заказа № {order}" in receipt and "Купюры: 2000" in receipt
    assert "Остаток 110,00 ₽ на баланс телефона" in receipt
