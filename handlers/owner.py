"""Shop owners: joining by invite link, paid-order notifications, orders, hand-over, stats."""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from aiogram import BaseMiddleware, F, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, TelegramObject
from aiogram.utils.i18n import gettext as _

from bot.i18n import money, ngettext, when
from handlers.callbacks import Callback, MenuAction, MenuCb
from handlers.keyboards import button, home_button, newer_older
from handlers.screens import fetch_page, show, user_id
from services.checkout import Checkout, Refund, RefundNotPossible
from services.merchant import Merchant
from services.orders import Order
from services.owners import InviteInvalid, NotAnOwner

FILTERS = ("paid", "awaiting", "fulfilled")
PER_PAGE = 10


class OwnerAction(StrEnum):
    orders = "orders"
    card = "card"
    fulfil = "done"
    stats = "stats"
    refund = "refund"
    refund_yes = "refundok"


class OwnerCb(Callback, prefix="o1"):
    action: OwnerAction
    status: str = "paid"
    order: int = 0
    page: int = 0


def short(name: str, limit: int = 28) -> str:
    return name if len(name) <= limit else name[: limit - 1].rstrip() + "…"


def status_name(status: str) -> str:
    return {
        "created": _("awaiting payment"),
        "awaiting": _("awaiting payment"),
        "paid": _("paid"),
        "fulfilled": _("handed over"),
        "expired": _("expired"),
        "cancelled": _("cancelled"),
    }.get(status, status)


def render_order_paid_owner(payload: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup | None]:
    paid_at = datetime.fromtimestamp(payload["paid_at"], UTC)
    text = _(
        "🛒 New paid order No. {number}\n{shop}\n{quantity} × {item} = <b>{amount}</b>\n"
        "Buyer: {buyer}{contact}\nPaid: {when}"
    ).format(
        number=payload["order"],
        shop=html.escape(payload["shop"]),
        quantity=payload["quantity"],
        item=html.escape(payload["item"]),
        amount=money(payload["amount"]),
        buyer=html.escape(payload["buyer"]),
        contact=f", {html.escape(payload['contact'])}" if payload["contact"] else "",
        when=when(paid_at),
    )
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [
                button(
                    _("📦 Open the order"), OwnerCb(action=OwnerAction.card, order=payload["order"])
                )
            ]
        ]
    )
    return text, markup


def render_refund_result_owner(
    payload: dict[str, Any],
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The outcome of a refund that Robokassa finished after the owner had moved on."""
    if payload["done"]:
        text = _("↩️ Order No. {number}: the refund of {amount} is done, the buyer has been told.")
    else:
        text = _("↩️ Order No. {number}: Robokassa refused the refund of {amount} ({reason}).")
    text = text.format(
        number=payload["order"],
        amount=money(payload["amount"]),
        reason=html.escape(payload.get("reason") or ""),
    )
    card = OwnerCb(action=OwnerAction.card, order=payload["order"])
    return text, InlineKeyboardMarkup(inline_keyboard=[[button(_("📦 Open the order"), card)]])


async def accept_invite(
    message: Message, state: FSMContext, merchant: Merchant, token: str
) -> None:
    await state.clear()
    try:
        shop = await merchant.accept_invite(token, user_id(message))
    except InviteInvalid as error:
        text = {
            "used": _("This invite link has already been used. Ask for a new one."),
            "expired": _("This invite link has expired. Ask for a new one."),
        }.get(error.reason, _("This invite link is not valid."))
        await message.answer(
            text, reply_markup=InlineKeyboardMarkup(inline_keyboard=[[home_button()]])
        )
        return
    await message.answer(
        _(
            "✅ You are connected as an owner of «{shop}». Every paid order will come here as a "
            "message. Orders and sales: /orders."
        ).format(shop=html.escape(shop.name)),
        reply_markup=InlineKeyboardMarkup(
            inline_keyboard=[[button(_("📦 Shop orders"), OwnerCb(action=OwnerAction.orders))]]
        ),
    )


def not_an_owner_text() -> str:
    return _("This section is for shop owners. If you own a shop, ask for an invite link.")


ORDER_ACTIONS = (
    OwnerAction.card,
    OwnerAction.fulfil,
    OwnerAction.refund,
    OwnerAction.refund_yes,
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
        callback_data = data.get("callback_data")
        if isinstance(callback_data, OwnerCb) and callback_data.action in ORDER_ACTIONS:
            try:
                data["order"] = await merchant.owner_order(callback_data.order, user_id(event))
            except NotAnOwner:
                assert isinstance(event, CallbackQuery)
                await event.answer(_("This order is not from your shop."), show_alert=True)
                return None
        elif not await merchant.owned_shops(user_id(event)):
            if isinstance(event, CallbackQuery):
                await event.answer(not_an_owner_text(), show_alert=True)
            else:
                await event.answer(not_an_owner_text())
            return None
        return await handler(event, data)


async def orders_command(message: Message, merchant: Merchant) -> None:
    await orders_screen(message, merchant, "paid")


async def orders_button(query: CallbackQuery, callback_data: OwnerCb, merchant: Merchant) -> None:
    status = callback_data.status if callback_data.status in FILTERS else "paid"
    await orders_screen(query, merchant, status, callback_data.page)


async def orders_menu(query: CallbackQuery, merchant: Merchant) -> None:
    await orders_screen(query, merchant, "paid")


async def orders_screen(
    event: Message | CallbackQuery, merchant: Merchant, status: str, page: int = 0
) -> None:
    shops = await merchant.owned_shops(user_id(event))
    orders, total, page, pages = await fetch_page(
        lambda n: merchant.shop_orders(user_id(event), status, page=n, per_page=PER_PAGE),
        page,
        PER_PAGE,
    )
    refunded = await merchant.refunded_among([o.id for o in orders])
    labels = {"paid": _("Paid"), "awaiting": _("Awaiting payment"), "fulfilled": _("Handed over")}
    filters = [
        button(
            ("• " if key == status else "") + labels[key],
            OwnerCb(action=OwnerAction.orders, status=key),
        )
        for key in FILTERS
    ]
    rows = [filters]
    rows += [
        [
            button(
                ("↩️ " if o.id in refunded else "")
                + f"№ {o.id} · {money(o.amount)} · {short(o.item_name)}",
                OwnerCb(action=OwnerAction.card, order=o.id, status=status, page=page),
            )
        ]
        for o in orders
    ]
    rows += newer_older(
        page, pages, lambda n: OwnerCb(action=OwnerAction.orders, status=status, page=n)
    )
    rows.append([button(_("📊 Sales"), OwnerCb(action=OwnerAction.stats)), home_button()])
    names = ", ".join(f"«{html.escape(s.name)}»" for s in shops)
    text = _("📦 Orders of {shops}: {filter}").format(shops=names, filter=labels[status].lower())
    if not orders:
        text += "\n" + _("No orders here yet.")
    elif pages > 1:
        where = _("Page {page} of {pages}").format(page=page + 1, pages=pages)
        count = ngettext("{n} order", "{n} orders", total).format(n=total)
        text += f"\n{where} · {count}"
    await show(event, text, InlineKeyboardMarkup(inline_keyboard=rows))


def refund_line(refund: Refund) -> str:
    amount = money(refund.amount)
    if refund.done:
        return _("↩️ Refund of {amount}: done, the buyer has been told.").format(amount=amount)
    if refund.open:
        return _("↩️ Refund of {amount}: Robokassa is processing it.").format(amount=amount)
    return _("↩️ Refund of {amount}: refused by Robokassa ({reason}).").format(
        amount=amount, reason=html.escape(refund.message or refund.state)
    )


def card_text(order: Order, refund: Refund | None = None) -> str:
    lines = [
        _("Order No. {number} · {shop}").format(number=order.id, shop=html.escape(order.shop_name)),
        f"{order.quantity} × {html.escape(order.item_name)} = <b>{money(order.amount)}</b>",
        _("Buyer: {buyer}").format(
            buyer=html.escape(", ".join(x for x in (order.buyer_name, order.contact) if x))
        ),
        _("Created: {when}").format(when=when(order.created_at)),
    ]
    if order.paid_at:
        lines.append(_("Paid: {when}").format(when=when(order.paid_at)))
    if order.fulfilled_at:
        lines.append(_("Handed over: {when}").format(when=when(order.fulfilled_at)))
    lines.append(_("Status: {status}").format(status=status_name(order.status)))
    if refund is not None:
        lines.append(refund_line(refund))
    return "\n".join(lines)


def card_keyboard(
    order: Order, back: str, page: int = 0, refund: Refund | None = None
) -> InlineKeyboardMarkup:
    rows = []
    if order.status == "paid" and (refund is None or not (refund.done or refund.open)):
        rows.append(
            [button(_("✅ Handed over"), OwnerCb(action=OwnerAction.fulfil, order=order.id))]
        )
    if order.status in ("paid", "fulfilled") and refund is None:
        rows.append(
            [
                button(
                    _("↩️ Refund"),
                    OwnerCb(action=OwnerAction.refund, order=order.id, status=back, page=page),
                )
            ]
        )
    rows.append([button(_("⬅️ Orders"), OwnerCb(action=OwnerAction.orders, status=back, page=page))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def show_card(
    query: CallbackQuery,
    order: Order,
    checkout: Checkout,
    back: str,
    page: int = 0,
    *,
    toast: str | None = None,
    alert: bool = False,
) -> None:
    refund = await checkout.refund_of(order.id)
    await show(
        query,
        card_text(order, refund),
        card_keyboard(order, back, page, refund),
        toast=toast,
        alert=alert,
    )


def back_filter(callback_data: OwnerCb) -> str:
    return callback_data.status if callback_data.status in FILTERS else "paid"


async def order_card(
    query: CallbackQuery, callback_data: OwnerCb, order: Order, services: Any
) -> None:
    await show_card(
        query, order, services.checkout(), back_filter(callback_data), callback_data.page
    )


async def fulfil(query: CallbackQuery, order: Order, merchant: Merchant, services: Any) -> None:
    checkout: Checkout = services.checkout()
    refund = await checkout.refund_of(order.id)
    if refund is not None and (refund.done or refund.open):
        await query.answer(_("The money for this order is being returned."), show_alert=True)
        return
    order = await merchant.fulfil(order.id, user_id(query))
    await show_card(query, order, checkout, "fulfilled")


async def refund_confirm(query: CallbackQuery, callback_data: OwnerCb, order: Order) -> None:
    back = OwnerCb(
        action=OwnerAction.card,
        order=order.id,
        status=back_filter(callback_data),
        page=callback_data.page,
    )
    yes = OwnerCb(
        action=OwnerAction.refund_yes,
        order=order.id,
        status=back_filter(callback_data),
        page=callback_data.page,
    )
    text = _(
        "Refund {amount} to the buyer for order No. {number} ({item})?\n"
        "Robokassa returns the money where the payment came from. A refund cannot be undone."
    ).format(amount=money(order.amount), number=order.id, item=html.escape(order.item_name))
    await show(
        query,
        text,
        InlineKeyboardMarkup(
            inline_keyboard=[
                [button(_("✅ Yes, refund {amount}").format(amount=money(order.amount)), yes)],
                [button(_("⬅️ Back"), back)],
            ]
        ),
    )


async def refund_do(
    query: CallbackQuery, callback_data: OwnerCb, order: Order, merchant: Merchant, services: Any
) -> None:
    checkout: Checkout = services.checkout()
    try:
        refund = await checkout.refund(order.id, user_id(query))
    except RefundNotPossible:
        await query.answer(_("Only a paid order can be refunded."), show_alert=True)
        return
    order = await merchant.owner_order(order.id, user_id(query))
    toast = None
    if refund.done:
        toast = _("Refund done.")
    elif not refund.open:
        toast = _("Robokassa refused the refund.")
    await show_card(
        query,
        order,
        checkout,
        back_filter(callback_data),
        callback_data.page,
        toast=toast,
        alert=not refund.done and not refund.open,
    )


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
    await show(
        query,
        "\n".join(lines),
        InlineKeyboardMarkup(
            inline_keyboard=[
                [button(_("⬅️ Orders"), OwnerCb(action=OwnerAction.orders)), home_button()]
            ]
        ),
    )


def make_router() -> Router:
    router = Router(name="owner")
    anywhere = StateFilter("*")
    # Inner middlewares run once a handler's filters matched, i.e. only for owner screens.
    router.message.middleware(OwnersOnly())
    router.callback_query.middleware(OwnersOnly())

    def on(action: OwnerAction) -> Any:
        return OwnerCb.filter(F.action == action)

    router.message.register(orders_command, Command("orders"), anywhere)
    router.callback_query.register(
        orders_menu, MenuCb.filter(F.action == MenuAction.orders), anywhere
    )
    router.callback_query.register(orders_button, on(OwnerAction.orders), anywhere)
    router.callback_query.register(order_card, on(OwnerAction.card), anywhere)
    router.callback_query.register(fulfil, on(OwnerAction.fulfil), anywhere)
    router.callback_query.register(stats, on(OwnerAction.stats), anywhere)
    router.callback_query.register(refund_confirm, on(OwnerAction.refund), anywhere)
    router.callback_query.register(refund_do, on(OwnerAction.refund_yes), anywhere)
    return router
