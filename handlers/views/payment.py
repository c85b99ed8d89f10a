"""Texts and keyboards of paying: Robokassa's method list, the invoice, the ways to pay it."""

from __future__ import annotations

import html
from collections.abc import Sequence

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import clock_time, money, phone
from handlers.callbacks import PayAction, PayCb, ShopAction, ShopCb
from handlers.screens import keep
from handlers.views.common import Button, home, keyboard
from handlers.views.topup import top_up_for_order_button
from services.bills import Bill
from services.orders import Order
from services.outbox import PaymentReturned
from services.robokassa import QIWI_LABEL, Currency
from services.wallet import WalletInfo


def pay_button(order: Order) -> list[Button]:
    """«Pay» under an order, as a row for the order screen; none once it cannot be paid."""
    if not order.payable:
        return []
    return [(_("💳 Pay via Robokassa"), PayCb(action=PayAction.start, order=order.id))]


def wallet_pay_button(order: Order, balance: int | None) -> list[Button]:
    """One tap instead of four when the person's own wallet holds enough: Robokassa, Visa QIWI
    Wallet, a bill to that wallet's number, paid in the app. `balance`: the signed-in wallet's."""
    if not order.payable or balance is None or balance < order.amount:
        return []
    label = _("👛 Pay {amount} from the wallet").format(amount=money(order.amount))
    return [(label, PayCb(action=PayAction.wallet, order=order.id))]


def back_to_invoice(order_id: int) -> Button:
    return _("💳 Back to the invoice"), PayCb(action=PayAction.resume, order=order_id)


def render_payment_returned(payload: PaymentReturned) -> tuple[str, InlineKeyboardMarkup | None]:
    """Money reached an order that could no longer be paid; it went back to the payer."""
    if payload.get("reason") == "cancelled":
        why = _("Order No. {number} ({item}) had been cancelled when the payment arrived.")
    else:
        why = _("Order No. {number} ({item}) had expired when the payment arrived.")
    text = (
        why.format(number=payload["order"], item=html.escape(payload["item"]))
        + "\n"
        + _(
            "↩️ The {amount} went back where it came from: the QIWI wallet or that number's "
            "mobile balance."
        ).format(amount=money(payload["amount"]))
    )
    return text, keyboard([home()])


def not_payable_text(order: Order) -> str:
    if order.status in ("paid", "fulfilled"):
        return _("Order No. {number} is already paid.").format(number=order.id)
    if order.status == "cancelled":
        return _(
            "Order No. {number} is cancelled and its invoice is closed. No money was taken."
        ).format(number=order.id)
    return _("The invoice has expired and order No. {number} is cancelled.").format(number=order.id)


def not_payable_keyboard(order: Order) -> InlineKeyboardMarkup:
    return keyboard(
        [(_("🛍 Back to the shop"), ShopCb(action=ShopAction.shop, shop=order.shop_id))], [home()]
    )


def payment_page_keyboard(url: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("💳 Open the payment page"), url=url)
    builder.button(text=home()[0], callback_data=home()[1])
    builder.adjust(1)
    return builder.as_markup()


def methods_keyboard(order: Order, methods: Sequence[Currency]) -> InlineKeyboardMarkup:
    rows: list[list[Button]] = []
    for method in methods:
        if method.label == QIWI_LABEL:
            rows.append([("Visa QIWI Wallet", PayCb(action=PayAction.method, order=order.id))])
        else:
            label = _("{name} (unavailable)").format(name=method.name)
            rows.append([(label, PayCb(action=PayAction.unavailable, order=order.id))])
    return keyboard(*rows, [home()])


def number_prompt_text(own_phone: str | None) -> str:
    if own_phone is None:
        return _("Mobile number for the invoice: type it, like +7 912 345-67-89.")
    return _("Mobile number for the invoice: tap yours or type another, like +7 912 345-67-89.")


def number_keyboard(order: Order, own_phone: str | None, is_wallet: bool) -> InlineKeyboardMarkup:
    """`own_phone`: the wallet's number, or (no wallet yet) the one the person's contact proved."""
    if own_phone is None:
        return keyboard([home()])
    if is_wallet:
        mine = _("📱 {phone} (your wallet)").format(phone=phone(own_phone))
    else:
        mine = _("📱 My number {phone}").format(phone=phone(own_phone))
    return keyboard([(mine, PayCb(action=PayAction.my_number, order=order.id))], [home()])


def no_wallet_text(number: str) -> str:
    return (
        _("The payment did not go through: there is no QIWI wallet registered on {phone}.").format(
            phone=phone(number)
        )
        + "\n"
        + _("Open a wallet on this number or type another number, like +7 912 345-67-89.")
    )


def deactivated_text(number: str, *, blocked: bool) -> str:
    if blocked:
        return _(
            "The operator does not serve {phone} any more, and the wallet on it is blocked. "
            "Type another number or register the wallet again on a working number."
        ).format(phone=phone(number))
    return _(
        "The operator does not serve {phone}. Type a working number, like +7 912 345-67-89."
    ).format(phone=phone(number))


def deactivated_keyboard(order_id: int, *, blocked: bool) -> InlineKeyboardMarkup:
    register = _("🔁 Register again") if blocked else _("👛 Open a wallet")
    return keyboard(
        [(register, PayCb(action=PayAction.register, order=order_id))],
        [(_("⬅️ Another number"), PayCb(action=PayAction.method, order=order_id))],
        [home()],
    )


def pay_again_keyboard(order: Order) -> InlineKeyboardMarkup:
    return keyboard(pay_button(order), [home()])


def no_wallet_keyboard(order_id: int) -> InlineKeyboardMarkup:
    return keyboard(
        [(_("👛 Open a wallet"), PayCb(action=PayAction.register, order=order_id))], [home()]
    )


def invoice_text(order: Order, bill: Bill, balance: int | None = None) -> str:
    """`balance`: the person's own wallet's when the bill is to it (nobody else's is shown)."""
    text = _(
        "🧾 Invoice No. {bill} for <b>{amount}</b> is issued to {phone}\n"
        "Order No. {order} · commission {fee} · valid until {time}\n"
        "How will you pay it?"
    ).format(
        bill=bill.id,
        amount=money(bill.amount),
        phone=phone(bill.phone, masked=True),
        order=order.id,
        fee=money(0),
        time=clock_time(bill.expires_at),
    )
    if balance is None:
        return text
    if balance >= bill.amount:
        line = _("👛 Your wallet holds {balance}: enough to pay from it, no cash needed.")
    else:
        line = _(
            "👛 Your wallet holds {balance}, {missing} short: top it up, or pay in cash at a "
            "QIWI terminal."
        )
    return text + "\n" + line.format(balance=money(balance), missing=money(bill.amount - balance))


def invoice_keyboard(order: Order, bill: Bill, balance: int | None = None) -> InlineKeyboardMarkup:
    def pay(action: PayAction, label: str) -> list[Button]:
        return [(label, PayCb(action=action, order=order.id, bill=bill.id))]

    rows: list[list[Button]] = []
    if balance is not None and balance >= bill.amount:
        label = _("👛 Pay from the wallet (balance {balance})").format(balance=money(balance))
        rows.append(pay(PayAction.app, label))
    return keyboard(
        *rows,
        pay(PayAction.site, _("💻 On the QIWI site")),
        pay(PayAction.terminal, _("🏧 At a QIWI terminal")),
        pay(PayAction.app, _("📱 In the app")),
        [home()],
    )


def own_balance(wallet: WalletInfo | None, number: str) -> int | None:
    """The balance to show on a bill to `number`: only the person's own, working wallet's."""
    if wallet is None or not wallet.active or wallet.phone != number:
        return None
    return wallet.balance


def terminal_hint_text(balance: int) -> str:
    return _(
        "💡 Your wallet already holds {balance}, enough for this invoice: no cash needed. "
        "«✖️ Leave the terminal» takes you back to the invoice, where «👛 Pay from the "
        "wallet» pays it."
    ).format(balance=money(balance))


def site_keyboard(order_id: int) -> InlineKeyboardMarkup:
    return keyboard([back_to_invoice(order_id)], [home()])


def short_of_money_keyboard(order_id: int, bill: int = 0) -> InlineKeyboardMarkup:
    # The message stays: «Back to the invoice» is still under it after a top-up.
    return keep(keyboard([top_up_for_order_button(order_id, bill)], [back_to_invoice(order_id)]))


def paid_waiting_text(order_id: int) -> str:
    return _(
        "💸 QIWI has taken the payment for order No. {number}. Waiting for Robokassa to "
        "confirm it to the shop — the receipt will come in a moment."
    ).format(number=order_id)
