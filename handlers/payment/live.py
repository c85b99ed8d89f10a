"""Live mode: paying a shop's real Robokassa account.

The buyer sees the methods the shop's account lists today (`GetCurrencies`, cached; QIWI only
if Robokassa still lists it), or chooses on Robokassa's own page, and gets a button with the
signed link for that method. When the list does not come in time the buyer still gets a
working link. A shop that takes payments inside Telegram offers that too. Either way "paid" is
announced only after ResultURL (or OpStateExt, or Telegram's successful payment) confirmed it.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery
from aiogram.utils.callback_answer import CallbackAnswer

from bot.i18n import current_locale
from handlers.callbacks import LiveCb
from handlers.payment.common import payable_order
from handlers.payments import Payments
from handlers.screens import show, tell
from handlers.views import live as views
from handlers.views.common import back_home
from handlers.views.errors import stale_button_text
from services.checkout import ShopNotConnected, UnknownShop
from services.fiscal import ReceiptError
from services.merchant import Merchant
from services.orders import Order
from services.tgpay import TelegramPayments


async def start(
    query: CallbackQuery,
    order: Order,
    merchant: Merchant,
    services: Payments,
    telegram_payments: TelegramPayments,
) -> None:
    """«Pay» in live mode: the shop's methods of today, Robokassa's page, or Telegram."""
    checkout = services.checkout
    try:
        checkout.account(order.shop_id)
    except (ShopNotConnected, UnknownShop):
        await show(query, views.not_connected_text(order), back_home())
        return
    methods = views.offered(await checkout.methods(order.shop_id, current_locale()))
    await merchant.mark_awaiting(order.id)
    await show(
        query,
        views.methods_text(order, methods),
        views.methods_keyboard(order, methods, telegram=telegram_payments.offered(order.shop_id)),
    )


async def chosen(
    query: CallbackQuery,
    callback_data: LiveCb,
    merchant: Merchant,
    services: Payments,
    callback_answer: CallbackAnswer,
) -> None:
    """A method (or none): the signed link with that IncCurrLabel. A label the shop no longer
    lists is dropped by the checkout, and the buyer chooses on Robokassa's page."""
    if services.sandbox:  # live buttons mean nothing to the sandbox's QIWI world
        await tell(query, stale_button_text(), callback_answer)
        return
    order = await payable_order(query, merchant, callback_data.order)
    if order is None:
        return
    checkout = services.checkout
    try:
        url = await checkout.payment_link(
            order, method=callback_data.method or None, culture=current_locale()
        )
    except (ShopNotConnected, UnknownShop):
        await show(query, views.not_connected_text(order), back_home())
        return
    except ReceiptError:
        # The shop's receipt settings do not add up: nothing is sent to Robokassa.
        await show(query, views.not_connected_text(order), back_home())
        return
    # The same (cached) list the link was checked against: the named method is the one in it.
    methods = {m.label: m for m in await checkout.methods(order.shop_id, current_locale())}
    method = methods.get(callback_data.method)
    await merchant.mark_awaiting(order.id)
    await show(query, views.link_text(order, method), views.link_keyboard(order, url))


def make_router() -> Router:
    router = Router(name="payment-live")
    router.callback_query.register(chosen, LiveCb.filter(), StateFilter("*"))
    return router
