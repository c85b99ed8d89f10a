"""Texts and keyboards of paying a real Robokassa account: the methods it lists today, the
payment page, and paying inside Telegram. Nothing here names a method the shop does not have."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import clock_time, money
from handlers.callbacks import LiveCb, PayAction, PayCb, ShopAction, ShopCb, TgPayCb
from handlers.views.common import Button, home, keyboard
from services.checkout import TELEGRAM_NOT_FOUND
from services.orders import Order
from services.robokassa import Currency

# Labels that fit a button's data (64 bytes, no separator); Robokassa's are short and plain.
_LABEL = re.compile(r"[A-Za-z0-9_.\-]{1,40}")


def tgpay_button(order: Order) -> list[Button]:
    """«Pay in Telegram», as a row, for an order whose shop takes payments in Telegram."""
    if not order.payable:
        return []
    return [(_("📲 Pay in Telegram"), TgPayCb(order=order.id))]


def offered(methods: Sequence[Currency]) -> list[Currency]:
    """The methods a button can carry, each label once."""
    seen: set[str] = set()
    found = []
    for method in methods:
        if _LABEL.fullmatch(method.label) and method.label not in seen:
            seen.add(method.label)
            found.append(method)
    return found


def methods_text(order: Order, methods: Sequence[Currency]) -> str:
    head = _("Robokassa: order No. {number}, {amount}.").format(
        number=order.id, amount=money(order.amount)
    )
    if not methods:
        return "\n".join(
            [
                head,
                _(
                    "Robokassa did not send its list of methods just now: open its payment page "
                    "and choose the method there."
                ),
            ]
        )
    return "\n".join([head, _("Choose how to pay:")])


def methods_keyboard(
    order: Order, methods: Sequence[Currency], *, telegram: bool
) -> InlineKeyboardMarkup:
    rows: list[list[Button]] = [
        [(method.name or method.alias or method.label, LiveCb(order=order.id, method=method.label))]
        for method in methods
    ]
    rows.append([(_("🌐 Choose on Robokassa's page"), LiveCb(order=order.id))])
    if telegram:
        rows.append(tgpay_button(order))
    back = ShopCb(action=ShopAction.order, id=order.id)
    return keyboard(*rows, [(_("⬅️ Back to the order"), back)], [home()])


def link_text(order: Order, method: Currency | None) -> str:
    lines = [
        _("Robokassa: order No. {number}, {amount}.").format(
            number=order.id, amount=money(order.amount)
        )
    ]
    if method is None:
        lines.append(_("Open the payment page and choose the method there."))
    else:
        lines.append(
            _("Method: {name}. Open the payment page to pay.").format(
                name=method.name or method.alias or method.label
            )
        )
    lines.append(_("I will send the receipt as soon as Robokassa confirms the payment."))
    return "\n".join(lines)


def link_keyboard(order: Order, url: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("💳 Open the payment page"), url=url)
    builder.button(
        text=_("⬅️ Another method"),
        callback_data=PayCb(action=PayAction.start, order=order.id),
    )
    builder.button(text=home()[0], callback_data=home()[1])
    builder.adjust(1)
    return builder.as_markup()


def not_connected_text(order: Order) -> str:
    return _(
        "{shop} does not take payments yet: its Robokassa account is not connected. The order "
        "stays reserved until {time}: try again later, or cancel it in «My orders»."
    ).format(shop=html.escape(order.shop_name), time=clock_time(order.expires_at))


def refund_reason(reason: str) -> str:
    """Why Robokassa refused a refund, for the owner (escaped): its own words, or ours where
    only the cabinet can help."""
    if reason == TELEGRAM_NOT_FOUND:
        return _(
            "Robokassa does not find this Telegram payment by the order number: return the "
            "money in Robokassa's cabinet"
        )
    return html.escape(reason)
