"""The payment journey's own FSM data and the checks every payment step makes."""

from __future__ import annotations

from aiogram.types import CallbackQuery, Message
from pydantic import BaseModel

from handlers.flow import (
    Slot,
)
from handlers.screens import show, user_id
from handlers.views import payment as views
from services.bills import Bill
from services.merchant import Merchant
from services.orders import Order
from services.wallet import WalletService

OPERATION_HEADER = "X-Robokassa-Operation"
CALLER = "payment"


class PaymentData(BaseModel):
    operation: int | None = None  # the Robokassa operation opened for `order`
    order: int | None = None
    bill: int | None = None
    pay_phone: str | None = None  # a number without a wallet the person wanted to pay from


PAYMENT = Slot("payment", PaymentData)


async def payable_order(query: CallbackQuery, merchant: Merchant, order_id: int) -> Order | None:
    # Someone else's order (a forged button) raises OrderNotFound: handlers/errors.py words it.
    order = await merchant.order_of(order_id, user_id(query))
    if not order.payable:
        await not_payable(query, order)
        return None
    return order


async def not_payable(event: Message | CallbackQuery, order: Order) -> None:
    await show(event, views.not_payable_text(order), views.not_payable_keyboard(order))


async def show_bill(
    event: Message | CallbackQuery, order: Order, bill: Bill, wallets: WalletService
) -> None:
    """The invoice with the person's own wallet's balance when it is to that wallet."""
    # The buyer, also when `event` is the bot's own message a sub-flow came back on.
    balance = views.own_balance(await wallets.wallet_of(order.user_id), bill.phone)
    await show(
        event,
        views.invoice_text(order, bill, balance),
        views.invoice_keyboard(order, bill, balance),
    )
