"""Texts and keyboards of the shop owner's panel and the owner's outbox messages."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from bot.i18n import money, ngettext, phone, when
from handlers.callbacks import OwnerAction, OwnerCb
from handlers.views.common import Button, home, keyboard, newer_older
from handlers.views.live import refund_reason
from services.catalogue import Shop
from services.checkout import Refund
from services.orders import Order
from services.outbox import OrderPaid, RefundResult, Status, TgPaymentKept

FILTERS = ("paid", "awaiting", "fulfilled", "refunded")
_PHONE = re.compile(r"\+7\d{10}")


def short(name: str, limit: int = 28) -> str:
    return name if len(name) <= limit else name[: limit - 1].rstrip() + "…"


def status_name(status: str, refund: Refund | None = None) -> str:
    if refund is not None and refund.done:
        return _("money returned")
    if refund is not None and refund.open:
        return _("money being returned")
    return {
        "created": _("awaiting payment"),
        "awaiting": _("awaiting payment"),
        "paid": _("paid"),
        "fulfilled": _("handed over"),
        "expired": _("expired"),
        "cancelled": _("cancelled"),
    }.get(status, status)


def not_an_owner_text() -> str:
    return _("This section is for shop owners. If you own a shop, ask for an invite link.")


def open_order_button(order: int) -> Button:
    """Under a message: the card opens as a message of its own, the message stays."""
    return _("📦 Open the order"), OwnerCb(action=OwnerAction.open, order=order)


def contact_text(contact: str) -> str:
    """A phone kept as `+79123456789` shown as people write it."""
    return _PHONE.sub(lambda found: phone(found.group(0)), contact)


def render_order_paid_owner(payload: OrderPaid) -> tuple[str, InlineKeyboardMarkup | None]:
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
        contact=f", {html.escape(contact_text(payload['contact']))}" if payload["contact"] else "",
        when=when(paid_at),
    )
    return text, keyboard([open_order_button(payload["order"])])


def render_refund_result_owner(
    payload: RefundResult,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The outcome of a refund that Robokassa finished after the owner had moved on."""
    if payload["done"]:
        text = _("↩️ Order No. {number}: the refund of {amount} is done.")
    else:
        text = _("↩️ Order No. {number}: Robokassa refused the refund of {amount} ({reason}).")
    text = text.format(
        number=payload["order"],
        amount=money(payload["amount"]),
        reason=refund_reason(payload.get("reason") or ""),
    )
    return text, keyboard([open_order_button(payload["order"])])


def sum_of(amount: int, currency: str) -> str:
    if currency == "RUB":
        return money(amount)
    return f"{amount // 100}.{amount % 100:02d} {html.escape(currency)}"


def render_tg_payment_kept_owner(
    payload: TgPaymentKept,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """A Telegram payment that did not pay its order: the owner has money to give back."""
    if payload["reason"] == "wrong_amount":
        text = _(
            "⚠️ The payment for order No. {number} in Telegram does not match the order: "
            "{paid} came instead of {amount}. The order is not paid."
        )
    else:
        text = _(
            "⚠️ Order No. {number} was paid in Telegram ({paid}) when it was already paid, "
            "cancelled or expired."
        )
    text += "\n" + _(
        "This payment does not count for the order. Return the money to the buyer in the "
        "Robokassa cabinet (payment {charge})."
    )
    text = text.format(
        number=payload["order"],
        paid=sum_of(payload["amount"], payload["currency"]),
        amount=money(payload["expected"]),
        charge=html.escape(payload["charge"]),
    )
    return text, keyboard([open_order_button(payload["order"])])


def not_connected_text(shop: Shop, missing: tuple[str, ...]) -> str:
    """Why a shop is not offered for payment: the settings' names, never their values."""
    return _(
        "⚠️ «{shop}» takes no payments: the settings {names} are not set (the shop's passwords "
        "from its Robokassa cabinet).\n"
        "Set them in the bot's environment or in its .env file and restart the bot."
    ).format(shop=html.escape(shop.name), names=", ".join(missing))


def joined_keyboard() -> InlineKeyboardMarkup:
    return keyboard([(_("📦 Shop orders"), OwnerCb(action=OwnerAction.orders))])


def orders_text(
    shops: list[Shop],
    status: str,
    has_orders: bool,
    total: int,
    page: int,
    pages: int,
    missing: dict[str, tuple[str, ...]] | None = None,
) -> str:
    names = ", ".join(f"«{html.escape(s.name)}»" for s in shops)
    text = _("📦 Orders of {shops}: {filter}").format(
        shops=names, filter=filter_labels()[status].lower()
    )
    if not has_orders:
        text += "\n" + _("No orders here yet.")
    elif pages > 1:
        where = _("Page {page} of {pages}").format(page=page + 1, pages=pages)
        count = ngettext("{n} order", "{n} orders", total).format(n=total)
        text += f"\n{where} · {count}"
    for shop in shops:
        unset = (missing or {}).get(shop.id)
        if unset:
            text += "\n\n" + not_connected_text(shop, unset)
    return text


def filter_labels() -> dict[str, str]:
    return {
        "paid": _("Paid"),
        "awaiting": _("Awaiting payment"),
        "fulfilled": _("Handed over"),
        "refunded": _("Refunded"),
    }


def orders_keyboard(
    orders: list[Order], refunded: set[int], status: str, page: int, pages: int
) -> InlineKeyboardMarkup:
    labels = filter_labels()
    filters: list[Button] = [
        (
            ("• " if key == status else "") + labels[key],
            OwnerCb(action=OwnerAction.orders, status=key),
        )
        for key in FILTERS
    ]
    rows: list[list[Button]] = [
        [
            (
                ("↩️ " if o.id in refunded else "")
                + f"№ {o.id} · {money(o.amount)} · {short(o.item_name)}",
                OwnerCb(action=OwnerAction.card, order=o.id, status=status, page=page),
            )
        ]
        for o in orders
    ]
    nav = newer_older(
        page, pages, lambda n: OwnerCb(action=OwnerAction.orders, status=status, page=n)
    )
    stats = (_("📊 Sales"), OwnerCb(action=OwnerAction.stats))
    return keyboard(filters[:2], filters[2:], *rows, nav, [stats, home()])


def refund_line(refund: Refund) -> str:
    amount = money(refund.amount)
    if refund.done:
        return _("↩️ Refund of {amount}: done.").format(amount=amount)
    if refund.open:
        return _("↩️ Refund of {amount}: Robokassa is processing it.").format(amount=amount)
    return _("↩️ Refund of {amount}: refused by Robokassa ({reason}).").format(
        amount=amount, reason=refund_reason(refund.message or refund.state)
    )


def told_line(told: Status) -> str:
    """What became of the message for the buyer, as Telegram answered it."""
    return {
        Status.PENDING: _("The message to the buyer is on its way."),
        Status.SENT: _("The buyer has been told."),
        Status.BLOCKED: _("The buyer did not get the message: they have blocked the bot."),
        Status.FAILED: _("The message to the buyer was not delivered: Telegram refused it."),
    }[told]


def card_text(order: Order, refund: Refund | None = None, told: Status | None = None) -> str:
    lines = [
        _("Order No. {number} · {shop}").format(number=order.id, shop=html.escape(order.shop_name)),
        f"{order.quantity} × {html.escape(order.item_name)} = <b>{money(order.amount)}</b>",
        _("Buyer: {buyer}").format(
            buyer=html.escape(
                ", ".join(x for x in (order.buyer_name, contact_text(order.contact)) if x)
            )
        ),
        _("Created: {when}").format(when=when(order.created_at)),
    ]
    if order.paid_at:
        lines.append(_("Paid: {when}").format(when=when(order.paid_at)))
    if order.fulfilled_at:
        lines.append(_("Handed over: {when}").format(when=when(order.fulfilled_at)))
    lines.append(_("Status: {status}").format(status=status_name(order.status, refund)))
    if refund is not None:
        lines.append(refund_line(refund))
    if told is not None:
        lines.append(told_line(told))
    return "\n".join(lines)


def list_of(order: Order, refund: Refund | None) -> str:
    """Which of the owner's lists (`FILTERS`) holds the order now."""
    if refund is not None and (refund.done or refund.open):
        return "refunded"
    if order.status in ("created", "awaiting"):
        return "awaiting"
    return "fulfilled" if order.status == "fulfilled" else "paid"


def card_keyboard(
    order: Order, back: str, page: int = 0, refund: Refund | None = None
) -> InlineKeyboardMarkup:
    rows: list[list[Button]] = []
    if order.status == "paid" and (refund is None or not (refund.done or refund.open)):
        rows.append([(_("✅ Handed over"), OwnerCb(action=OwnerAction.fulfil, order=order.id))])
    if order.status in ("paid", "fulfilled") and refund is None:
        again = OwnerCb(action=OwnerAction.refund, order=order.id, status=back, page=page)
        rows.append([(_("↩️ Refund"), again)])
    orders = OwnerCb(action=OwnerAction.orders, status=back, page=page)
    return keyboard(*rows, [(_("⬅️ Orders"), orders)])


def refund_confirm_text(order: Order) -> str:
    return _(
        "Refund {amount} to the buyer for order No. {number} ({item})?\n"
        "Robokassa returns the money where the payment came from. A refund cannot be undone."
    ).format(amount=money(order.amount), number=order.id, item=html.escape(order.item_name))


def refund_confirm_keyboard(order: Order, back: str, page: int) -> InlineKeyboardMarkup:
    card = OwnerCb(action=OwnerAction.card, order=order.id, status=back, page=page)
    yes = OwnerCb(action=OwnerAction.refund_yes, order=order.id, status=back, page=page)
    label = _("✅ Yes, refund {amount}").format(amount=money(order.amount))
    return keyboard([(label, yes)], [(_("⬅️ Back"), card)])


def stats_keyboard() -> InlineKeyboardMarkup:
    return keyboard([(_("⬅️ Orders"), OwnerCb(action=OwnerAction.orders)), home()])
