"""The payment journey's own FSM data and the checks every payment step makes."""

from __future__ import annotations

from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from pydantic import BaseModel

from handlers.flow import (
    Slot,
)
from handlers.screens import show, tell, user_id
from handlers.views import payment as views
from handlers.views.errors import (
    not_your_order_text,
)
from services.merchant import Merchant
from services.orders import Order, OrderNotFound

OPERATION_HEADER = "X-Robokassa-Operation"
CALLER = "payment"


class PaymentData(BaseModel):
    operation: int | None = None  # the Robokassa operation opened for `order`
    order: int | None = None
    bill: int | None = None
    pay_phone: str | None = None  # a number without a wallet the person wanted to pay from


PAYMENT = Slot("payment", PaymentData)


async def payable_order(
    query: CallbackQuery, merchant: Merchant, order_id: int, answer: CallbackAnswer
) -> Order | None:
    try:
        order = await merchant.order_of(order_id, user_id(query))
    except OrderNotFound:
        await tell(query, not_your_order_text(), answer)
        return None
    if not order.payable:
        await not_payable(query, order)
        return None
    return order


async def not_payable(event: Message | CallbackQuery, order: Order) -> None:
    await show(event, views.not_payable_text(order), views.not_payable_keyboard(order))
