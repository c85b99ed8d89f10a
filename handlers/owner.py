"""Shop owners: joining by invite link, orders, hand-over, refunds, sales.

Every panel screen and button passes `OwnersOnly` (a middleware on the panel's router) before
its handler; joining by invite link is its own router, open to anyone with the link.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware, F, Router
from aiogram.filters import Command, CommandObject, CommandStart, StateFilter, or_f
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot.i18n import money, ngettext
from handlers.callbacks import MenuAction, MenuCb, OwnerAction, OwnerCb
from handlers.screens import fetch_page, show, tell, user_id
from handlers.views import owner as views
from handlers.views.common import back_home
from services.checkout import Checkout, RefundNotPossible
from services.merchant import Merchant
from services.orders import Order
from services.owners import InviteInvalid, NotAnOwner

PER_PAGE = 10
ORDER_ACTIONS = (
    OwnerAction.card,
    OwnerAction.open,
    OwnerAction.fulfil,
    OwnerAction.refund,
    OwnerAction.refund_yes,
)


async def accept_invite(
    message: Message, command: CommandObject, state: FSMContext, merchant: Merchant
) -> None:
    """`/start owner-<token>`: a single-use link makes the person an owner of a shop."""
    await state.clear()
    token = (command.args or "").removeprefix("owner-")
    try:
        shop = await merchant.accept_invite(token, user_id(message))
    except InviteInvalid as error:
        text = {
            "used": _("This invite link has already been used. Ask for a new one."),
            "expired": _("This invite link has expired. Ask for a new one."),
        }.get(error.reason, _("This invite link is not valid."))
        await message.answer(text, reply_markup=back_home())
        return
    await message.answer(
        _(
            "✅ You are connected as an owner of «{shop}». Every paid order will come here as a "
            "message. Orders and sales: /orders."
        ).format(shop=html.escape(shop.name)),
        reply_markup=views.joined_keyboard(),
    )


class OwnersOnly(BaseMiddleware):
    """Every owner screen and button passes here before its handler, so none can forget it.

    A button about an order resolves that order among the person's own shops' orders (handlers
    get it as `order`); anything else needs the person to own a shop. A stranger, even one who
    forged the button, learns nothing about the order, not even whether it exists.
    """

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, Message | CallbackQuery)
        merchant: Merchant = data["merchant"]
        answer: CallbackAnswer | None = data.get("callback_answer")
        callback_data = data.get("callback_data")
        if isinstance(callback_data, OwnerCb) and callback_data.action in ORDER_ACTIONS:
            try:
                data["order"] = await merchant.owner_order(callback_data.order, user_id(event))
            except NotAnOwner:
                await tell(event, _("This order is not from your shop."), answer)
                return None
        elif not await merchant.owned_shops(user_id(event)):
            await tell(event, views.not_an_owner_text(), answer)
            return None
        return await handler(event, data)


async def orders_command(message: Message, merchant: Merchant, checkout: Checkout) -> None:
    await orders_screen(message, merchant, checkout, "paid")


async def orders_button(
    query: CallbackQuery, callback_data: OwnerCb, merchant: Merchant, checkout: Checkout
) -> None:
    status = callback_data.status if callback_data.status in views.FILTERS else "paid"
    await orders_screen(query, merchant, checkout, status, callback_data.page)


async def orders_menu(query: CallbackQuery, merchant: Merchant, checkout: Checkout) -> None:
    await orders_screen(query, merchant, checkout, "paid")


async def orders_screen(
    event: Message | CallbackQuery,
    merchant: Merchant,
    checkout: Checkout,
    status: str,
    page: int = 0,
) -> None:
    shops = await merchant.owned_shops(user_id(event))
    orders, total, page, pages = await fetch_page(
        lambda n: merchant.shop_orders(user_id(event), status, page=n, per_page=PER_PAGE),
        page,
        PER_PAGE,
    )
    refunded = await merchant.refunded_among([o.id for o in orders])
    # A shop that cannot take payments (live mode, settings missing) says why, to its owner.
    missing = {shop.id: checkout.missing_settings(shop.id) for shop in shops}
    await show(
        event,
        views.orders_text(shops, status, bool(orders), total, page, pages, missing),
        views.orders_keyboard(orders, refunded, status, page, pages),
    )


async def show_card(
    query: CallbackQuery,
    order: Order,
    checkout: Checkout,
    back: str | None,
    page: int = 0,
    *,
    new: bool = False,
) -> None:
    """`back` is the list the card returns to; None: the list the order is in now."""
    refund = await checkout.refund_of(order.id)
    back = back or views.list_of(order, refund)
    about = "refund" if refund is not None and refund.done else "fulfilled"
    told = await checkout.merchant.buyer_message(order.id, about)
    text = views.card_text(order, refund, told)
    markup = views.card_keyboard(order, back, page, refund)
    if new:
        assert query.bot is not None
        await query.bot.send_message(user_id(query), text, reply_markup=markup)
        return
    await show(query, text, markup)


def back_filter(callback_data: OwnerCb) -> str:
    return callback_data.status if callback_data.status in views.FILTERS else "paid"


async def order_card(
    query: CallbackQuery, callback_data: OwnerCb, order: Order, checkout: Checkout
) -> None:
    await show_card(query, order, checkout, back_filter(callback_data), callback_data.page)


async def open_from_message(query: CallbackQuery, order: Order, checkout: Checkout) -> None:
    """The button under a notification: the notification stays, the card comes below it."""
    await show_card(query, order, checkout, None, new=True)


async def fulfil(
    query: CallbackQuery,
    order: Order,
    merchant: Merchant,
    checkout: Checkout,
    callback_answer: CallbackAnswer,
) -> None:
    refund = await checkout.refund_of(order.id)
    if refund is not None and (refund.done or refund.open):
        await tell(query, _("The money for this order is being returned."), callback_answer)
        return
    order = await merchant.fulfil(order.id, user_id(query))
    await show_card(query, order, checkout, "fulfilled")


async def refund_confirm(query: CallbackQuery, callback_data: OwnerCb, order: Order) -> None:
    await show(
        query,
        views.refund_confirm_text(order),
        views.refund_confirm_keyboard(order, back_filter(callback_data), callback_data.page),
    )


async def refund_do(
    query: CallbackQuery,
    callback_data: OwnerCb,
    order: Order,
    merchant: Merchant,
    checkout: Checkout,
    callback_answer: CallbackAnswer,
) -> None:
    try:
        refund = await checkout.refund(order.id, user_id(query))
    except RefundNotPossible:
        await tell(query, _("Only a paid order can be refunded."), callback_answer)
        return
    order = await merchant.owner_order(order.id, user_id(query))
    if refund.done:
        await tell(query, _("Refund done."), callback_answer, alert=False)
    elif not refund.open:
        await tell(query, _("Robokassa refused the refund."), callback_answer)
    await show_card(query, order, checkout, back_filter(callback_data), callback_data.page)


async def stats(query: CallbackQuery, merchant: Merchant) -> None:
    lines = [_("📊 Sales")]
    names = {1: _("Today"), 7: _("7 days"), 30: _("30 days")}
    month = None
    for days in (1, 7, 30):
        period = await merchant.stats(user_id(query), days)
        month = period
        count = ngettext("{n} order", "{n} orders", period.count).format(n=period.count)
        lines.append(
            _("{period}: {count}, {revenue}").format(
                period=names[days], count=count, revenue=money(period.revenue)
            )
        )
    if month is not None and month.top_items:
        lines.append("")
        lines.append(_("Top items for 30 days:"))
        for place, (name, quantity, revenue) in enumerate(month.top_items, start=1):
            lines.append(
                _("{place}. {item} — {quantity} pcs, {revenue}").format(
                    place=place, item=html.escape(name), quantity=quantity, revenue=money(revenue)
                )
            )
    await show(query, "\n".join(lines), views.stats_keyboard())


def make_invite_router() -> Router:
    """Before /start's own router: the invite link is a /start with arguments."""
    router = Router(name="owner.invite")
    router.message.register(
        accept_invite,
        CommandStart(deep_link=True, magic=F.args.startswith("owner-")),
        StateFilter("*"),
    )
    return router


def make_router() -> Router:
    router = Router(name="owner")
    router.callback_query.filter(
        or_f(OwnerCb.filter(), MenuCb.filter(F.action == MenuAction.orders))
    )
    router.message.filter(Command("orders"))
    # Inner middlewares run once a handler's filters matched, i.e. only for owner screens.
    router.message.middleware(OwnersOnly())
    router.callback_query.middleware(OwnersOnly())
    anywhere = StateFilter("*")

    def on(action: OwnerAction) -> CallbackQueryFilter:
        return OwnerCb.filter(F.action == action)

    router.message.register(orders_command, Command("orders"), anywhere)
    router.callback_query.register(
        orders_menu, MenuCb.filter(F.action == MenuAction.orders), anywhere
    )
    router.callback_query.register(orders_button, on(OwnerAction.orders), anywhere)
    router.callback_query.register(order_card, on(OwnerAction.card), anywhere)
    router.callback_query.register(open_from_message, on(OwnerAction.open), anywhere)
    router.callback_query.register(fulfil, on(OwnerAction.fulfil), anywhere)
    router.callback_query.register(stats, on(OwnerAction.stats), anywhere)
    router.callback_query.register(refund_confirm, on(OwnerAction.refund), anywhere)
    router.callback_query.register(refund_do, on(OwnerAction.refund_yes), anywhere)
    return router
