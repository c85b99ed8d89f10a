"""Texts and keyboards of the shops, the order screen and the buyer's own orders."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import clock_time, current_locale, money, ngettext, plural_form, when
from handlers.callbacks import MenuAction, MenuCb, ShopAction, ShopCb
from handlers.views.common import Button, home, keyboard, newer_older
from handlers.views.live import tgpay_button
from handlers.views.payment import pay_button, wallet_pay_button
from services.catalogue import Category, Item, Shop, Words
from services.checkout import TELEGRAM_METHOD
from services.orders import Order
from services.outbox import (
    OrderExpired,
    OrderExpiring,
    OrderFulfilled,
    OrderPaid,
    OrderRefunded,
)


def in_english() -> bool:
    return current_locale() == "en"


def catalogue_name(name: str, words: Words) -> str:
    """A catalogue name as this person reads it: the English one on English screens, when the
    catalogue gives one."""
    return words.name_en if words.name_en and in_english() else name


def units(count: int, words: Words) -> str:
    """`6 букетов`: a count of the item's own units («7 роз · В наличии: 6» read as 6 roses)."""
    forms = words.unit_en if in_english() else words.unit
    if not forms:
        return _("{count} pcs.").format(count=count)
    return f"{count} {plural_form(count, forms)}"


def item_text(item: Item, quantity: int) -> str:
    description = item.description
    if in_english() and item.words.description_en:
        description = item.words.description_en
    shop_name = item.shop_name_en if in_english() and item.shop_name_en else item.shop_name
    lines = [
        f"<b>{html.escape(catalogue_name(item.name, item.words))}</b>",
        html.escape(shop_name),
        "",
        _("Price: {price}").format(price=money(item.price)),
    ]
    if description:
        lines.append(html.escape(description))
    if item.kind == "service":
        lines.append(_("Service"))
    elif item.stock is not None:
        lines.append(
            _("In stock: {count}").format(count=units(item.stock, item.words))
            if item.stock
            else _("Sold out")
        )
    lines.append("")
    lines.append(
        _("Quantity: {quantity} · total {total}").format(
            quantity=quantity, total=money(item.price * quantity)
        )
    )
    lines.append(_("You can also type the quantity as a number."))
    return "\n".join(lines)


def order_text(order: Order, now: datetime) -> str:
    return (
        _(
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
        + "\n"
        + time_left_text(order.expires_at - now)
    )


def time_left_text(left: timedelta) -> str:
    """`⏳ 21 minutes left` with the right plural; a started minute counts as a whole one."""
    seconds = max(int(left.total_seconds()), 0)
    if seconds < 60:
        return _("⏳ Less than a minute left.")
    minutes = -(-seconds // 60)
    return ngettext("⏳ {n} minute left.", "⏳ {n} minutes left.", minutes).format(n=minutes)


def order_keyboard(
    order: Order, balance: int | None = None, *, telegram: bool = False
) -> InlineKeyboardMarkup:
    """An open order: pay it (the payment journey's buttons; inside Telegram too where its shop
    takes that) or cancel it. `balance`: the person's own wallet's, when it can pay here in
    one tap."""
    return keyboard(
        wallet_pay_button(order, balance),
        pay_button(order),
        tgpay_button(order) if telegram else [],
        [(_("✖️ Cancel the order"), ShopCb(action=ShopAction.cancel_order, id=order.id))],
        [home()],
    )


def shops_button() -> Button:
    return _("🛍 Shops"), ShopCb(action=ShopAction.shops)


def shops_keyboard() -> InlineKeyboardMarkup:
    return keyboard([shops_button()], [home()])


def shop_list_keyboard(shops: list[Shop]) -> InlineKeyboardMarkup:
    rows = [
        [(f"🏪 {catalogue_name(s.name, s.words)}", ShopCb(action=ShopAction.shop, shop=s.id))]
        for s in shops
    ]
    return keyboard(*rows, [home()])


def shop_keyboard(categories: list[Category]) -> InlineKeyboardMarkup:
    rows = [
        [(catalogue_name(c.name, c.words), ShopCb(action=ShopAction.category, id=c.id))]
        for c in categories
    ]
    return keyboard(*rows, [(_("⬅️ Shops"), ShopCb(action=ShopAction.shops)), home()])


def category_keyboard(
    category: Category, shown: list[Item], page: int, more: bool
) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for item in shown:
        builder.button(
            text=f"{catalogue_name(item.name, item.words)} · {money(item.price)}",
            callback_data=ShopCb(action=ShopAction.item, id=item.id, page=page),
        )
    sizes = [1] * len(shown)
    nav = []
    if page > 0:
        nav.append(("⬅️", ShopCb(action=ShopAction.category, id=category.id, page=page - 1)))
    if more:
        nav.append(("➡️", ShopCb(action=ShopAction.category, id=category.id, page=page + 1)))
    for text, data in nav:
        builder.button(text=text, callback_data=data)
    if nav:
        sizes.append(len(nav))
    builder.button(
        text=_("⬅️ Sections"), callback_data=ShopCb(action=ShopAction.shop, shop=category.shop_id)
    )
    builder.button(text=home()[0], callback_data=home()[1])
    builder.adjust(*sizes, 2)
    return builder.as_markup()


def item_keyboard(item: Item, quantity: int, page: int = 0) -> InlineKeyboardMarkup:
    """`page`: the page of the section the item was opened from, for the way back."""

    def qty(value: int, label: str) -> Button:
        return label, ShopCb(action=ShopAction.quantity, id=item.id, quantity=value, page=page)

    rows: list[list[Button]] = []
    if item.max_quantity > 0:
        rows.append(
            [
                qty(max(quantity - 1, 1), "−"),
                qty(quantity, str(quantity)),
                qty(min(quantity + 1, item.max_quantity), "+"),
            ]
        )
        rows.append([(_("🛒 Buy"), ShopCb(action=ShopAction.buy, id=item.id, quantity=quantity))])
    back = ShopCb(action=ShopAction.category, id=item.category_id, page=page)
    return keyboard(*rows, [(_("⬅️ Back"), back), home()])


def too_many_text(count: int) -> str:
    return ngettext(
        "You already have {n} unpaid order, that is the most at one time. Pay or cancel it in "
        "«🧾 My orders» and try again.",
        "You already have {n} unpaid orders, that is the most at one time. Pay or cancel one "
        "of them in «🧾 My orders» and try again.",
        count,
    ).format(n=count)


def too_many_keyboard(item_id: int) -> InlineKeyboardMarkup:
    return keyboard(
        [(_("🧾 My orders"), MenuCb(action=MenuAction.my_orders))],
        [(_("⬅️ Back"), ShopCb(action=ShopAction.item, id=item_id))],
        [home()],
    )


# ---- the buyer's own orders -------------------------------------------------------------


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


def my_orders_keyboard(
    orders: list[Order], refunded: set[int], page: int, pages: int
) -> InlineKeyboardMarkup:
    rows = [
        [
            (
                f"№ {o.id} · {money(o.amount)} · {buyer_status(o, o.id in refunded)}",
                ShopCb(action=ShopAction.order, id=o.id, page=page),
            )
        ]
        for o in orders
    ]
    nav = newer_older(page, pages, lambda n: ShopCb(action=ShopAction.mine, page=n))
    return keyboard(*rows, nav, [home()])


def my_order_text(order: Order, refunded: bool) -> str:
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
    return "\n".join(lines)


def my_order_keyboard(page: int) -> InlineKeyboardMarkup:
    back = ShopCb(action=ShopAction.mine, page=page)
    return keyboard([(_("⬅️ My orders"), back)], [home()])


# ---- outbox messages to the buyer --------------------------------------------------------


def render_order_expired(payload: OrderExpired) -> tuple[str, InlineKeyboardMarkup | None]:
    text = _("⌛ Order No. {number} ({item}) was not paid in time and is cancelled.").format(
        number=payload["order"], item=html.escape(payload["item"])
    )
    back = ShopCb(action=ShopAction.shop, shop=payload["shop"])
    return text, keyboard([(_("🛍 Back to the shop"), back)])


def render_order_expiring(payload: OrderExpiring) -> tuple[str, InlineKeyboardMarkup | None]:
    minutes = payload["minutes"]
    text = ngettext(
        "⏳ Order No. {number} ({item}) is not paid yet: {n} minute left, until {time}. "
        "Then it is cancelled.",
        "⏳ Order No. {number} ({item}) is not paid yet: {n} minutes left, until {time}. "
        "Then it is cancelled.",
        minutes,
    ).format(
        number=payload["order"],
        item=html.escape(payload["item"]),
        n=minutes,
        time=clock_time(datetime.fromtimestamp(payload["expires_at"], UTC)),
    )
    open_it = ShopCb(action=ShopAction.order, id=payload["order"])
    return text, keyboard([(_("🧾 Open the order"), open_it)])


def method_line(method: str | None) -> str:
    if method is None:
        return _("Method: Robokassa · Visa QIWI Wallet")
    if not method:
        return _("Method: Robokassa")
    return _("Method: Robokassa · {method}").format(method=html.escape(method))


def render_order_paid_buyer(payload: OrderPaid) -> tuple[str, InlineKeyboardMarkup | None]:
    paid_at = datetime.fromtimestamp(payload["paid_at"], UTC)
    body = "\n".join(
        [
            _("RECEIPT for order No. {number}").format(number=payload["order"]),
            html.escape(payload["shop"]),
            f"{payload['quantity']} × {html.escape(payload['item'])}",
            _("Amount: {amount}").format(amount=money(payload["amount"])),
            _("Paid: {when}").format(when=when(paid_at)),
            method_line(payload.get("method")),
            _("Commission: {sum}").format(sum=money(0)),
        ]
    )
    text = _("✅ Payment received. Order No. {number} is paid.").format(number=payload["order"])
    return f"{text}\n<pre>{body}</pre>", keyboard([home()])


def render_order_fulfilled(payload: OrderFulfilled) -> tuple[str, InlineKeyboardMarkup | None]:
    return _("📦 Order No. {number} ({item}) has been handed over by {shop}. Thank you!").format(
        number=payload["order"],
        item=html.escape(payload["item"]),
        shop=html.escape(payload["shop"]),
    ), None


def render_order_refunded_buyer(
    payload: OrderRefunded,
) -> tuple[str, InlineKeyboardMarkup | None]:
    if payload.get("method") == TELEGRAM_METHOD:
        text = _(
            "↩️ {shop} has refunded {amount} for order No. {number} ({item}). The money goes "
            "back to the card you paid with in Telegram."
        )
    elif "method" in payload:
        text = _(
            "↩️ {shop} has refunded {amount} for order No. {number} ({item}). The money goes "
            "back the way you paid."
        )
    else:
        text = _(
            "↩️ {shop} has refunded {amount} for order No. {number} ({item}). The money goes "
            "back where the payment came from: the QIWI wallet or that number's mobile balance."
        )
    text = text.format(
        shop=html.escape(payload["shop"]),
        amount=money(payload["amount"]),
        number=payload["order"],
        item=html.escape(payload["item"]),
    )
    return text, keyboard([home()])
