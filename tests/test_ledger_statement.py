"""A wallet's statement names the order (and its shop) each payment, refund or terminal
remainder belongs to; a top-up names none. The statement's lines are read from the ledger."""

from __future__ import annotations

from services.wallet import wallet_account
from tests.harness import Harness
from tests.helpers import PHONE, order_roses, paid_roses, register, to_invoice

ROSES = 189_000
SHOP = "Цветочная мастерская «Ромашка»"


async def test_a_payment_and_its_refund_name_the_order_and_shop_a_top_up_names_none(
    harness: Harness,
) -> None:
    _, _, order = await paid_roses(harness)  # 5 000 ₽ topped up, one bouquet paid in the app
    robokassa = harness.services.checkout.robokassa
    op_key = (await robokassa.op_state(order)).op_key
    assert op_key
    assert (await robokassa.create_refund(op_key)).success

    refund, payment, top_up = await harness.services.ledger.history(wallet_account(PHONE))

    assert (refund.amount, refund.order, refund.shop) == (ROSES, order, SHOP)
    assert (payment.amount, payment.order, payment.shop) == (-ROSES, order, SHOP)
    assert (top_up.amount, top_up.order, top_up.shop) == (500_000, None, "")


async def test_a_terminal_remainder_put_in_the_wallet_names_the_order_it_was_left_from(
    harness: Harness,
) -> None:
    anna = harness.person()
    await register(anna)
    order = await order_roses(anna, quantity=1)
    await to_invoice(anna)
    await anna.press("🏧 В терминале QIWI")
    await anna.press("2000 ₽")
    seen = await anna.press("✅ Оплатить")
    assert "Куда зачислить остаток 110,00 ₽?" in seen.text
    await anna.press("👛 В кошелёк")

    (remainder,) = await harness.services.ledger.history(wallet_account(PHONE))

    assert (remainder.amount, remainder.memo) == (11_000, "remainder")
    assert (remainder.order, remainder.shop) == (order, SHOP)
