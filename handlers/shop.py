"""Shops journey: shop → section → item card → quantity → order; deep links to items."""

from __future__ import annotations

import html

from aiogram import F, Router
from aiogram.filters import CommandObject, CommandStart, StateFilter, or_f
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from pydantic import BaseModel

from bot.i18n import phone
from bot.settings import Settings
from handlers.callbacks import MenuAction, MenuCb, ShopAction, ShopCb
from handlers.flow import Slot
from handlers.payments import Payments, one_tap_balance
from handlers.screens import show, tell, user_id
from handlers.states import Shopping
from handlers.views import shop as views
from services.catalogue import Item, ItemNotFound
from services.merchant import Merchant
from services.numbers import parse_id
from services.orders import BadQuantity, SoldOut, TooManyOpenOrders
from services.tgpay import TelegramPayments
from services.wallet import WalletService

PAGE = 6


class ShopData(BaseModel):
    item: int | None = None  # the item card on screen
    quantity: int = 1
    page: int = 0  # the section's page the card was opened from


SHOP = Slot("shop", ShopData)


def no_longer_sold() -> str:
    return _("This item is no longer sold.")


async def list_shops(query: CallbackQuery, state: FSMContext, merchant: Merchant) -> None:
    await state.clear()
    shops = await merchant.shops()
    text = (
        _("🛍 Shops that work with Robokassa. Choose one:")
        if shops
        else _("No shops are open right now.")
    )
    await show(query, text, views.shop_list_keyboard(shops))


async def open_shop(
    query: CallbackQuery,
    callback_data: ShopCb,
    state: FSMContext,
    merchant: Merchant,
    callback_answer: CallbackAnswer,
) -> None:
    await state.clear()
    shop = await merchant.shop(callback_data.shop)
    if shop is None:
        await tell(query, _("This shop is closed."), callback_answer)
        return
    categories = await merchant.categories(shop.id)
    description = (
        shop.words.description_en if views.in_english() and shop.words.description_en else ""
    )
    text = f"🏪 <b>{html.escape(views.catalogue_name(shop.name, shop.words))}</b>\n"
    text += html.escape(description or shop.description)
    await show(query, text, views.shop_keyboard(categories))


async def open_category(
    query: CallbackQuery,
    callback_data: ShopCb,
    state: FSMContext,
    merchant: Merchant,
    callback_answer: CallbackAnswer,
) -> None:
    await state.clear()
    category = await merchant.category(callback_data.id)
    if category is None:
        await tell(query, _("This section is no longer available."), callback_answer)
        return
    items = await merchant.items(category.id)
    pages = max(1, -(-len(items) // PAGE))
    page = min(max(callback_data.page, 0), pages - 1)  # a stale button may point past the end
    shown = items[page * PAGE : (page + 1) * PAGE]
    text = f"<b>{html.escape(views.catalogue_name(category.name, category.words))}</b>"
    if not items:
        text += "\n" + _("Nothing here yet.")
    elif pages > 1:
        text += "\n" + _("Page {page} of {pages}").format(page=page + 1, pages=pages)
    more = (page + 1) * PAGE < len(items)
    await show(query, text, views.category_keyboard(category, shown, page, more))


async def show_item(
    event: Message | CallbackQuery,
    state: FSMContext,
    item: Item,
    quantity: int = 1,
    page: int = 0,
) -> None:
    await state.set_state(Shopping.quantity)
    await SHOP.set(state, ShopData(item=item.id, quantity=quantity, page=page))
    await show(event, views.item_text(item, quantity), views.item_keyboard(item, quantity, page))


async def open_item(
    query: CallbackQuery,
    callback_data: ShopCb,
    state: FSMContext,
    merchant: Merchant,
    callback_answer: CallbackAnswer,
) -> None:
    try:
        item = await merchant.item(callback_data.id)
    except ItemNotFound:
        await tell(query, no_longer_sold(), callback_answer)
        return
    await show_item(query, state, item, page=max(callback_data.page, 0))


async def open_item_link(
    message: Message, command: CommandObject, state: FSMContext, merchant: Merchant
) -> None:
    """`/start item-<id>`: a shop shared a link to one of its goods."""
    await state.clear()
    try:
        item = await merchant.item(parse_id((command.args or "").removeprefix("item-")))
    except (ValueError, ItemNotFound):
        await message.answer(
            _("This item is not sold any more. Have a look at the shops instead."),
            reply_markup=views.shops_keyboard(),
        )
        return
    await show_item(message, state, item)


async def change_quantity(
    query: CallbackQuery,
    callback_data: ShopCb,
    state: FSMContext,
    merchant: Merchant,
    callback_answer: CallbackAnswer,
) -> None:
    try:
        item = await merchant.item(callback_data.id)
    except ItemNotFound:
        await tell(query, no_longer_sold(), callback_answer)
        return
    quantity = min(max(callback_data.quantity, 1), max(item.max_quantity, 1))
    await show_item(query, state, item, quantity, max(callback_data.page, 0))


async def typed_quantity(message: Message, state: FSMContext, merchant: Merchant) -> None:
    data = await SHOP.get(state)
    text = (message.text or "").strip()
    try:
        if data.item is None:
            raise ItemNotFound(0)
        item = await merchant.item(data.item)
    except ItemNotFound:
        await state.clear()
        await message.answer(no_longer_sold(), reply_markup=views.shops_keyboard())
        return
    try:
        quantity = parse_id(text, high=item.max_quantity)
    except ValueError:
        await message.answer(
            _("Type a quantity from 1 to {max}.").format(max=max(item.max_quantity, 1))
        )
        return
    await show_item(message, state, item, quantity, data.page)


def buy_request(query: CallbackQuery, callback_data: ShopCb) -> str:
    """One button on one message is one order, however often it is pressed: a quick double
    tap sends several presses before the screen changes, each its own update."""
    if query.message is None:
        return f"cb:{query.id}"
    return (
        f"buy:{query.message.chat.id}:{query.message.message_id}"
        f":{callback_data.id}:{callback_data.quantity}"
    )


async def buy(
    query: CallbackQuery,
    callback_data: ShopCb,
    state: FSMContext,
    merchant: Merchant,
    wallets: WalletService,
    settings: Settings,
    services: Payments,
    callback_answer: CallbackAnswer,
    telegram_payments: TelegramPayments,
) -> None:
    wallet = await wallets.wallet_of(user_id(query))
    contact = phone(wallet.phone) if wallet is not None else ""
    if query.from_user.username:
        contact = f"{contact} · @{query.from_user.username}".strip(" ·")
    try:
        order = await merchant.create_order(
            user_id(query),
            callback_data.id,
            callback_data.quantity,
            buyer_name=query.from_user.full_name,
            contact=contact,
            request=buy_request(query, callback_data),
            open_limit=settings.max_open_orders,
        )
    except TooManyOpenOrders as error:
        await show(
            query, views.too_many_text(error.count), views.too_many_keyboard(callback_data.id)
        )
        return
    except SoldOut as error:
        text = (
            _("Sorry, it is sold out.")
            if error.available == 0
            else _("Only {count} left. Choose a smaller quantity.").format(count=error.available)
        )
        await tell(query, text, callback_answer)
        return
    except BadQuantity as error:
        text = _("Choose a quantity from 1 to {max}.").format(max=error.maximum)
        await tell(query, text, callback_answer)
        return
    except ItemNotFound:
        await tell(query, no_longer_sold(), callback_answer)
        return
    await state.clear()
    balance = await one_tap_balance(user_id(query), wallets, services)
    telegram = telegram_payments.offered(order.shop_id)
    await show(
        query,
        views.order_text(order, merchant.clock.now()),
        views.order_keyboard(order, balance, telegram=telegram),
    )


async def cancel_order(
    query: CallbackQuery,
    callback_data: ShopCb,
    merchant: Merchant,
) -> None:
    order = await merchant.cancel_order(callback_data.id, user_id(query))  # errors.py: not yours
    if order.status == "cancelled":
        text = _("Order No. {number} is cancelled.").format(number=order.id)
    elif order.status in ("paid", "fulfilled"):
        text = _("Order No. {number} is already paid and cannot be cancelled here.").format(
            number=order.id
        )
    else:
        text = _("Order No. {number} is no longer active.").format(number=order.id)
    await show(query, text, views.shops_keyboard())


SHOP_ACTIONS = {
    ShopAction.shops,
    ShopAction.shop,
    ShopAction.category,
    ShopAction.item,
    ShopAction.quantity,
    ShopAction.buy,
    ShopAction.cancel_order,
}


def make_router() -> Router:
    router = Router(name="shop")
    router.callback_query.filter(
        or_f(
            ShopCb.filter(F.action.in_(SHOP_ACTIONS)),
            MenuCb.filter(F.action == MenuAction.shops),
        )
    )
    anywhere = StateFilter("*")

    def on(action: ShopAction) -> CallbackQueryFilter:
        return ShopCb.filter(F.action == action)

    router.message.register(
        open_item_link, CommandStart(deep_link=True, magic=F.args.startswith("item-")), anywhere
    )
    router.callback_query.register(
        list_shops, MenuCb.filter(F.action == MenuAction.shops), anywhere
    )
    router.callback_query.register(list_shops, on(ShopAction.shops), anywhere)
    router.callback_query.register(open_shop, on(ShopAction.shop), anywhere)
    router.callback_query.register(open_category, on(ShopAction.category), anywhere)
    router.callback_query.register(open_item, on(ShopAction.item), anywhere)
    router.callback_query.register(change_quantity, on(ShopAction.quantity), anywhere)
    router.callback_query.register(buy, on(ShopAction.buy), anywhere)
    router.callback_query.register(cancel_order, on(ShopAction.cancel_order), anywhere)
    router.message.register(typed_quantity, Shopping.quantity, F.text, ~F.text.startswith("/"))
    return router
