"""Shops journey: shop → category → item card → quantity → order summary; deep links to items."""

from __future__ import annotations

import html
from enum import StrEnum
from typing import Any

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.i18n import clock_time, money, ngettext, phone, when
from bot.settings import Settings
from handlers.callbacks import Callback, MenuAction, MenuCb
from handlers.keyboards import button, home_button, newer_older
from handlers.screens import fetch_page, show, user_id
from services.catalogue import Item, ItemNotFound
from services.merchant import Merchant
from services.numbers import parse_id
from services.orders import BadQuantity, Order, OrderNotFound, SoldOut, TooManyOpenOrders
from services.wallet import WalletService

PAGE = 6


class Shopping(StatesGroup):
    quantity = State()  # the item card is open; a typed number sets the quantity


class ShopAction(StrEnum):
    shops = "shops"
    shop = "shop"
    category = "cat"
    item = "item"
    quantity = "qty"
    buy = "buy"
    cancel_order = "cancel"
    order = "order"
    mine = "mine"


class ShopCb(Callback, prefix="s1"):
    action: ShopAction
    id: int = 0  # category, item or order id
    shop: str = ""
    page: int = 0
    quantity: int = 1


# ---- texts -----------------------------------------------------------------------------


def item_text(item: Item, quantity: int) -> str:
    lines = [
        f"<b>{html.escape(item.name)}</b>",
        html.escape(item.shop_name),
        "",
        _("Price: {price}").format(price=money(item.price)),
    ]
    if item.description:
        lines.append(html.escape(item.description))
    if item.kind == "service":
        lines.append(_("Service"))
    elif item.stock is not None:
        lines.append(
            _("In stock: {count}").format(count=item.stock) if item.stock else _("Sold out")
        )
    lines.append("")
    lines.append(
        _("Quantity: {quantity} · total {total}").format(
            quantity=quantity, total=money(item.price * quantity)
        )
    )
    lines.append(_("You can also type the quantity as a number."))
    return "\n".join(lines)


def order_text(order: Order) -> str:
    return _(
        "🧾 Order No. {number} · {shop}\n{quantity} × {item} = <b>{amount}</b>\n"
        "Pay by {time}, otherwise the order is cancelled."
    ).format(
        number=order.id,
        shop=html.escape(order.shop_name),
        quantity=order.quantity,
        item=html.escape(order.item_name),
        amount=money(order.amount),
        time=clock_time(order.expires_at),
    )


def order_keyboard(order: Order, extra: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    rows = [
        *extra,
        [button(_("✖️ Cancel the order"), ShopCb(action=ShopAction.cancel_order, id=order.id))],
        [home_button()],
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def render_order_expired(payload: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup | None]:
    text = _("⌛ Order No. {number} ({item}) was not paid in time and is cancelled.").format(
        number=payload["order"], item=html.escape(payload["item"])
    )
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [button(_("🛍 Back to the shop"), ShopCb(action=ShopAction.shop, shop=payload["shop"]))]
        ]
    )
    return text, markup


def render_order_paid_buyer(payload: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup | None]:
    from datetime import UTC, datetime

    paid_at = datetime.fromtimestamp(payload["paid_at"], UTC)
    body = "\n".join(
        [
            _("RECEIPT for order No. {number}").format(number=payload["order"]),
            html.escape(payload["shop"]),
            f"{payload['quantity']} × {html.escape(payload['item'])}",
            _("Amount: {amount}").format(amount=money(payload["amount"])),
            _("Paid: {when}").format(when=when(paid_at)),
            _("Method: Robokassa · Visa QIWI Wallet"),
            _("Commission: {sum}").format(sum=money(0)),
        ]
    )
    text = _("✅ Payment received. Order No. {number} is paid.").format(number=payload["order"])
    return f"{text}\n<pre>{body}</pre>", InlineKeyboardMarkup(inline_keyboard=[[home_button()]])


def render_order_fulfilled(payload: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup | None]:
    return _("📦 Order No. {number} ({item}) has been handed over by {shop}. Thank you!").format(
        number=payload["order"],
        item=html.escape(payload["item"]),
        shop=html.escape(payload["shop"]),
    ), None


def render_order_refunded_buyer(
    payload: dict[str, Any],
) -> tuple[str, InlineKeyboardMarkup | None]:
    text = _(
        "↩️ {shop} has refunded {amount} for order No. {number} ({item}). The money goes back "
        "where the payment came from: the QIWI wallet or that number's mobile balance."
    ).format(
        shop=html.escape(payload["shop"]),
        amount=money(payload["amount"]),
        number=payload["order"],
        item=html.escape(payload["item"]),
    )
    return text, InlineKeyboardMarkup(inline_keyboard=[[home_button()]])


# ---- screens ---------------------------------------------------------------------------


async def list_shops(query: CallbackQuery, state: FSMContext, merchant: Merchant) -> None:
    await state.clear()
    shops = await merchant.shops()
    rows = [[button(f"🏪 {s.name}", ShopCb(action=ShopAction.shop, shop=s.id))] for s in shops]
    rows.append([home_button()])
    text = (
        _("🛍 Shops that work with Robokassa. Choose one:")
        if shops
        else _("No shops are open right now.")
    )
    await show(query, text, InlineKeyboardMarkup(inline_keyboard=rows))


async def open_shop(
    query: CallbackQuery, callback_data: ShopCb, state: FSMContext, merchant: Merchant
) -> None:
    await state.clear()
    shop = await merchant.shop(callback_data.shop)
    if shop is None:
        await query.answer(_("This shop is closed."), show_alert=True)
        return
    categories = await merchant.categories(shop.id)
    rows = [[button(c.name, ShopCb(action=ShopAction.category, id=c.id))] for c in categories]
    rows.append([button(_("⬅️ Shops"), ShopCb(action=ShopAction.shops)), home_button()])
    text = f"🏪 <b>{html.escape(shop.name)}</b>\n{html.escape(shop.description)}"
    await show(query, text, InlineKeyboardMarkup(inline_keyboard=rows))


async def open_category(
    query: CallbackQuery, callback_data: ShopCb, state: FSMContext, merchant: Merchant
) -> None:
    await state.clear()
    category = await merchant.category(callback_data.id)
    if category is None:
        await query.answer(_("This section is no longer available."), show_alert=True)
        return
    items = await merchant.items(category.id)
    pages = max(1, -(-len(items) // PAGE))
    page = min(max(callback_data.page, 0), pages - 1)  # a stale button may point past the end
    shown = items[page * PAGE : (page + 1) * PAGE]
    rows = [
        [button(f"{i.name} · {money(i.price)}", ShopCb(action=ShopAction.item, id=i.id, page=page))]
        for i in shown
    ]
    nav = []
    if page > 0:
        nav.append(button("⬅️", ShopCb(action=ShopAction.category, id=category.id, page=page - 1)))
    if (page + 1) * PAGE < len(items):
        nav.append(button("➡️", ShopCb(action=ShopAction.category, id=category.id, page=page + 1)))
    if nav:
        rows.append(nav)
    rows.append(
        [
            button(_("⬅️ Sections"), ShopCb(action=ShopAction.shop, shop=category.shop_id)),
            home_button(),
        ]
    )
    text = f"<b>{html.escape(category.name)}</b>"
    if not items:
        text += "\n" + _("Nothing here yet.")
    elif pages > 1:
        text += "\n" + _("Page {page} of {pages}").format(page=page + 1, pages=pages)
    await show(query, text, InlineKeyboardMarkup(inline_keyboard=rows))


def item_keyboard(item: Item, quantity: int, page: int = 0) -> InlineKeyboardMarkup:
    """`page`: the page of the section the item was opened from, for the way back."""

    def qty(value: int, label: str) -> InlineKeyboardButton:
        return button(
            label, ShopCb(action=ShopAction.quantity, id=item.id, quantity=value, page=page)
        )

    rows = []
    if item.max_quantity > 0:
        rows.append(
            [
                qty(max(quantity - 1, 1), "−"),
                qty(quantity, str(quantity)),
                qty(min(quantity + 1, item.max_quantity), "+"),
            ]
        )
        rows.append(
            [button(_("🛒 Buy"), ShopCb(action=ShopAction.buy, id=item.id, quantity=quantity))]
        )
    rows.append(
        [
            button(_("⬅️ Back"), ShopCb(action=ShopAction.category, id=item.category_id, page=page)),
            home_button(),
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def show_item(
    event: Message | CallbackQuery,
    state: FSMContext,
    item: Item,
    quantity: int = 1,
    page: int = 0,
) -> None:
    await state.set_state(Shopping.quantity)
    await state.update_data(item=item.id, quantity=quantity, page=page)
    await show(event, item_text(item, quantity), item_keyboard(item, quantity, page))


async def open_item(
    query: CallbackQuery, callback_data: ShopCb, state: FSMContext, merchant: Merchant
) -> None:
    try:
        item = await merchant.item(callback_data.id)
    except ItemNotFound:
        await query.answer(_("This item is no longer sold."), show_alert=True)
        return
    await show_item(query, state, item, page=max(callback_data.page, 0))


async def open_item_link(
    message: Message, state: FSMContext, merchant: Merchant, item_id: int
) -> None:
    """`/start item-<id>`: a shop shared a link to one of its goods."""
    try:
        item = await merchant.item(item_id)
    except ItemNotFound:
        await message.answer(
            _("This item is not sold any more. Have a look at the shops instead."),
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[
                    [button(_("🛍 Shops"), ShopCb(action=ShopAction.shops))],
                    [home_button()],
                ]
            ),
        )
        return
    await show_item(message, state, item)


async def change_quantity(
    query: CallbackQuery, callback_data: ShopCb, state: FSMContext, merchant: Merchant
) -> None:
    try:
        item = await merchant.item(callback_data.id)
    except ItemNotFound:
        await query.answer(_("This item is no longer sold."), show_alert=True)
        return
    quantity = min(max(callback_data.quantity, 1), max(item.max_quantity, 1))
    await show_item(query, state, item, quantity, max(callback_data.page, 0))


async def typed_quantity(message: Message, state: FSMContext, merchant: Merchant) -> None:
    data = await state.get_data()
    text = (message.text or "").strip()
    try:
        item = await merchant.item(int(data["item"]))
    except (KeyError, ItemNotFound):
        await state.clear()
        await message.answer(_("This item is no longer sold."), reply_markup=shops_keyboard())
        return
    try:
        quantity = parse_id(text, high=item.max_quantity)
    except ValueError:
        await message.answer(
            _("Type a quantity from 1 to {max}.").format(max=max(item.max_quantity, 1))
        )
        return
    await show_item(message, state, item, quantity, int(data.get("page", 0)))


def shops_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[button(_("🛍 Shops"), ShopCb(action=ShopAction.shops))], [home_button()]]
    )


def buy_request(query: CallbackQuery, callback_data: ShopCb) -> str:
    """One button on one message is one order, however often it is pressed: a quick double
    tap sends several presses before the screen changes, each its own update."""
    if query.message is None:
        return f"cb:{query.id}"
    return (
        f"buy:{query.message.chat.id}:{query.message.message_id}"
        f":{callback_data.id}:{callback_data.quantity}"
    )


def too_many_text(count: int) -> str:
    return ngettext(
        "You already have {n} unpaid order, that is the most at one time. Pay or cancel it in "
        "«🧾 My orders» and try again.",
        "You already have {n} unpaid orders, that is the most at one time. Pay or cancel one "
        "of them in «🧾 My orders» and try again.",
        count,
    ).format(n=count)


def too_many_keyboard(item_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [button(_("🧾 My orders"), MenuCb(action=MenuAction.my_orders))],
            [button(_("⬅️ Back"), ShopCb(action=ShopAction.item, id=item_id))],
            [home_button()],
        ]
    )


async def buy(
    query: CallbackQuery,
    callback_data: ShopCb,
    state: FSMContext,
    merchant: Merchant,
    wallets: WalletService,
    settings: Settings,
) -> None:
    wallet = await wallets.wallet_of(user_id(query))
    assert query.from_user is not None
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
        await show(query, too_many_text(error.count), too_many_keyboard(callback_data.id))
        return
    except SoldOut as error:
        text = (
            _("Sorry, it is sold out.")
            if error.available == 0
            else _("Only {count} left. Choose a smaller quantity.").format(count=error.available)
        )
        await query.answer(text, show_alert=True)
        return
    except BadQuantity as error:
        await query.answer(
            _("Choose a quantity from 1 to {max}.").format(max=error.maximum), show_alert=True
        )
        return
    except ItemNotFound:
        await query.answer(_("This item is no longer sold."), show_alert=True)
        return
    await state.clear()
    await show_order(query, order)


async def show_order(event: Message | CallbackQuery, order: Order) -> None:
    from handlers.payment import payment_buttons

    await show(event, order_text(order), order_keyboard(order, payment_buttons(order)))


async def cancel_order(query: CallbackQuery, callback_data: ShopCb, merchant: Merchant) -> None:
    try:
        order = await merchant.cancel_order(callback_data.id, user_id(query))
    except OrderNotFound:
        await query.answer(_("This is not your order."), show_alert=True)
        return
    if order.status == "cancelled":
        text = _("Order No. {number} is cancelled.").format(number=order.id)
    elif order.status in ("paid", "fulfilled"):
        text = _("Order No. {number} is already paid and cannot be cancelled here.").format(
            number=order.id
        )
    else:
        text = _("Order No. {number} is no longer active.").format(number=order.id)
    await show(query, text, shops_keyboard())


# ---- the buyer's own orders -------------------------------------------------------------

MY_PER_PAGE = 10


def buyer_status(order: Order, refunded: bool) -> str:
    if refunded:
        return _("↩️ money returned")
    return {
        "created": _("⏳ awaiting payment"),
        "awaiting": _("⏳ awaiting payment"),
        "paid": _("✅ paid"),
        "fulfilled": _("📦 handed over"),
        "expired": _("⌛ not paid in time"),
        "cancelled": _("✖️ cancelled"),
    }.get(order.status, order.status)


async def my_orders(
    query: CallbackQuery, state: FSMContext, merchant: Merchant, page: int = 0
) -> None:
    await state.clear()
    orders, _total, page, pages = await fetch_page(
        lambda n: merchant.buyer_orders(user_id(query), page=n, per_page=MY_PER_PAGE),
        page,
        MY_PER_PAGE,
    )
    if not orders:
        await show(
            query,
            _("You have no orders yet. Choose something in the shops."),
            InlineKeyboardMarkup(
                inline_keyboard=[
                    [button(_("🛍 Shops"), ShopCb(action=ShopAction.shops))],
                    [home_button()],
                ]
            ),
        )
        return
    refunded = await merchant.refunded_among([o.id for o in orders])
    rows = [
        [
            button(
                f"№ {o.id} · {money(o.amount)} · {buyer_status(o, o.id in refunded)}",
                ShopCb(action=ShopAction.order, id=o.id, page=page),
            )
        ]
        for o in orders
    ]
    rows += newer_older(page, pages, lambda n: ShopCb(action=ShopAction.mine, page=n))
    rows.append([home_button()])
    text = _("🧾 Your orders, newest first.")
    if pages > 1:
        text += "\n" + _("Page {page} of {pages}").format(page=page + 1, pages=pages)
    await show(query, text, InlineKeyboardMarkup(inline_keyboard=rows))


async def my_orders_menu(query: CallbackQuery, state: FSMContext, merchant: Merchant) -> None:
    await my_orders(query, state, merchant)


async def my_orders_page(
    query: CallbackQuery, callback_data: ShopCb, state: FSMContext, merchant: Merchant
) -> None:
    await my_orders(query, state, merchant, max(callback_data.page, 0))


async def my_order(query: CallbackQuery, callback_data: ShopCb, merchant: Merchant) -> None:
    try:
        order = await merchant.order_of(callback_data.id, user_id(query))
    except OrderNotFound:
        await query.answer(_("This is not your order."), show_alert=True)
        return
    if order.payable:
        await show_order(query, order)  # still open: pay or cancel it from here
        return
    refunded = bool(await merchant.refunded_among([order.id]))
    lines = [
        _("🧾 Order No. {number} · {shop}").format(
            number=order.id, shop=html.escape(order.shop_name)
        ),
        f"{order.quantity} × {html.escape(order.item_name)} = <b>{money(order.amount)}</b>",
        _("Created: {when}").format(when=when(order.created_at)),
    ]
    if order.paid_at:
        lines.append(_("Paid: {when}").format(when=when(order.paid_at)))
    lines.append(_("Status: {status}").format(status=buyer_status(order, refunded)))
    back = ShopCb(action=ShopAction.mine, page=max(callback_data.page, 0))
    await show(
        query,
        "\n".join(lines),
        InlineKeyboardMarkup(inline_keyboard=[[button(_("⬅️ My orders"), back)], [home_button()]]),
    )


def make_router() -> Router:
    router = Router(name="shop")
    anywhere = StateFilter("*")

    def on(action: ShopAction) -> Any:
        return ShopCb.filter(F.action == action)

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
    router.callback_query.register(
        my_orders_menu, MenuCb.filter(F.action == MenuAction.my_orders), anywhere
    )
    router.callback_query.register(my_orders_page, on(ShopAction.mine), anywhere)
    router.callback_query.register(my_order, on(ShopAction.order), anywhere)
    router.message.register(typed_quantity, Shopping.quantity, F.text, ~F.text.startswith("/"))
    return router
