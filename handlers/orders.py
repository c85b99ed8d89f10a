"""«🧾 My orders»: the buyer's orders, newest first; an open one can be paid or cancelled."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter, or_f
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import MenuAction, MenuCb, ShopAction, ShopCb
from handlers.payments import Payments, one_tap_balance
from handlers.screens import fetch_page, show, user_id
from handlers.views import shop as views
from services.merchant import Merchant
from services.tgpay import TelegramPayments
from services.wallet import WalletService

PER_PAGE = 10


async def my_orders(
    query: CallbackQuery, state: FSMContext, merchant: Merchant, page: int = 0
) -> None:
    await state.clear()
    orders, _total, page, pages = await fetch_page(
        lambda n: merchant.buyer_orders(user_id(query), page=n, per_page=PER_PAGE),
        page,
        PER_PAGE,
    )
    if not orders:
        await show(
            query,
            _("You have no orders yet. Choose something in the shops."),
            views.shops_keyboard(),
        )
        return
    refunded = await merchant.refunded_among([o.id for o in orders])
    text = _("🧾 Your orders, newest first.")
    if pages > 1:
        text += "\n" + _("Page {page} of {pages}").format(page=page + 1, pages=pages)
    await show(query, text, views.my_orders_keyboard(orders, refunded, page, pages))


async def my_orders_menu(query: CallbackQuery, state: FSMContext, merchant: Merchant) -> None:
    await my_orders(query, state, merchant)


async def my_orders_page(
    query: CallbackQuery, callback_data: ShopCb, state: FSMContext, merchant: Merchant
) -> None:
    await my_orders(query, state, merchant, max(callback_data.page, 0))


async def my_order(
    query: CallbackQuery,
    callback_data: ShopCb,
    merchant: Merchant,
    wallets: WalletService,
    services: Payments,
    telegram_payments: TelegramPayments,
) -> None:
    order = await merchant.order_of(callback_data.id, user_id(query))  # errors.py: not yours
    if order.payable:  # still open: pay or cancel it from here
        balance = await one_tap_balance(user_id(query), wallets, services)
        telegram = telegram_payments.offered(order.shop_id)
        await show(
            query,
            views.order_text(order, merchant.clock.now()),
            views.order_keyboard(order, balance, telegram=telegram),
        )
        return
    refunded = bool(await merchant.refunded_among([order.id]))
    await show(
        query,
        views.my_order_text(order, refunded),
        views.my_order_keyboard(max(callback_data.page, 0)),
    )


def make_router() -> Router:
    router = Router(name="orders")
    router.callback_query.filter(
        or_f(
            ShopCb.filter(F.action.in_({ShopAction.mine, ShopAction.order})),
            MenuCb.filter(F.action == MenuAction.my_orders),
        )
    )
    anywhere = StateFilter("*")
    router.callback_query.register(
        my_orders_menu, MenuCb.filter(F.action == MenuAction.my_orders), anywhere
    )
    router.callback_query.register(
        my_orders_page, ShopCb.filter(F.action == ShopAction.mine), anywhere
    )
    router.callback_query.register(my_order, ShopCb.filter(F.action == ShopAction.order), anywhere)
    return router
