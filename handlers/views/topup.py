"""Texts and keyboards of topping up: the terminal's screens and receipt, the mobile shop."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.i18n import money, phone, when
from handlers.callbacks import MenuAction, MenuCb, PayAction, PayCb, TopAction, TopCb, TopForCb
from handlers.screens import keep
from handlers.views.common import Button, home, keyboard, to_shops
from services.money import AmountNotUnderstood
from services.outbox import ReceiptCredited
from services.terminal import (
    BANKNOTES,
    CashDesk,
    CashSession,
    ForOrder,
    Receipt,
    WouldBreakCap,
    banknote_sum_for,
)


def menu_text() -> str:
    # Change and round sums are explained once the sum is known, at the terminal's sum step.
    return _(
        "💵 How would you like to top up the wallet?\n"
        "🏧 Terminal — cash in banknotes.\n"
        "🏬 Mobile shop — a consultant credits the money.\n"
        "🧾 Check a receipt — see whether the money has arrived."
    )


def for_order_menu_text(order: int, needed: int) -> str:
    """The top-up menu reached from an invoice the wallet could not pay."""
    if needed <= 0:
        return _("The wallet already has enough for order No. {number}.").format(number=order)
    return (
        _("Order No. {number} needs {sum} more in the wallet.").format(
            number=order, sum=money(needed)
        )
        + "\n\n"
        + menu_text()
    )


def order_offer_text(for_order: ForOrder) -> str:
    """The sum step when an unpaid order lacks money: what it needs, what banknotes make of it
    and where the rest goes."""
    cash = banknote_sum_for(for_order.needed)
    text = _("Order No. {number} needs {sum} more in the wallet.").format(
        number=for_order.order, sum=money(for_order.needed)
    )
    if cash > for_order.needed:
        text += " " + _(
            "The terminal gives no change: banknotes make {cash}, and the {rest} above it "
            "stays in the wallet."
        ).format(cash=money(cash), rest=money(cash - for_order.needed))
    return text


def intended_refused_text(error: WouldBreakCap) -> str:
    if error.room < min(BANKNOTES) * 100:
        return _("The wallet can hold at most {cap}, and it is full: no banknote fits now.").format(
            cap=money(error.cap)
        )
    return _(
        "That does not fit: the wallet can hold at most {cap}, so at most {room} more can be "
        "credited now. Type a smaller sum or tap «Skip»."
    ).format(cap=money(error.cap), room=money(error.room))


def kopecks_refused_text(intended: int) -> str:
    return _(
        "The terminal takes banknotes only, so it cannot put in kopecks. Type whole roubles, "
        "for example {sum}."
    ).format(sum=money(-(-intended // 100) * 100))


def banknote_refused_text(error: WouldBreakCap) -> str:
    if error.room < min(BANKNOTES) * 100:
        return _(
            "The banknote is not accepted: the wallet can hold at most {cap}, and no more "
            "banknotes fit."
        ).format(cap=money(error.cap))
    return _(
        "The banknote is not accepted: the wallet can hold at most {cap}. "
        "You can insert up to {room} more."
    ).format(cap=money(error.cap), room=money(error.room))


def amount_error_text(error: AmountNotUnderstood) -> str:
    if error.reason == "not_positive":
        return _("The sum must be more than zero. For example: 1 000 or 250,50.")
    if error.reason == "too_precise":
        return _("Kopecks take at most two digits after the comma. For example: 250,50.")
    if error.reason == "too_big":
        return _("That is too much for one operation. Type a smaller sum.")
    return _("Type the sum in roubles with digits, for example 1 000 or 250,50.")


def commission_line(cash: CashDesk) -> str:
    percent = cash.rules.commission_bp / 100
    shown = f"{percent:g}".replace(".", ",")
    return _("Commission: {percent} %").format(percent=shown)


def cash_screen(session: CashSession, cash: CashDesk) -> str:
    if session.purpose == "payment":
        return payment_cash_screen(session)
    lines = [
        _("🏧 Terminal {terminal} · «Top up»").format(terminal=session.point),
        _("Number: {phone}").format(phone=phone(session.phone)),
    ]
    if session.intended:
        lines.append(_("You want to credit: {sum}").format(sum=money(session.intended)))
    lines.append(commission_line(cash))
    lines.append(_("Inserted: <b>{sum}</b>").format(sum=money(session.inserted)))
    lines.append(_("Will be credited: {sum}").format(sum=money(session.to_credit)))
    lines.append("")
    lines.append(_("Insert banknotes one by one. The terminal gives no change."))
    return "\n".join(lines)


def payment_cash_screen(session: CashSession) -> str:
    lines = [
        _("🏧 Terminal {terminal} · «Pay an invoice»").format(terminal=session.point),
        _("Invoice for {phone}").format(phone=phone(session.phone, masked=True)),
        _("To pay: <b>{sum}</b>").format(sum=money(session.amount or 0)),
        _("Inserted: <b>{sum}</b>").format(sum=money(session.inserted)),
    ]
    if session.missing:
        lines.append(_("Still to insert: {sum}").format(sum=money(session.missing)))
    elif session.remainder:
        lines.append(
            _("Remainder: {sum} — you choose where it goes").format(sum=money(session.remainder))
        )
    lines.append(_("Commission: {sum}").format(sum=money(0)))
    lines.append("")
    lines.append(_("Insert banknotes one by one. The terminal gives no change."))
    return "\n".join(lines)


def remainder_keyboard(session: CashSession) -> InlineKeyboardMarkup:
    return keyboard(
        [(_("📱 To the mobile balance"), TopCb(action=TopAction.rest_phone, visit=session.id))],
        [(_("👛 To the wallet"), TopCb(action=TopAction.rest_wallet, visit=session.id))],
    )


def cash_keyboard(session: CashSession) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for note in BANKNOTES:
        builder.button(
            text=f"{note} ₽",
            callback_data=TopCb(action=TopAction.note, value=note, visit=session.id),
        )
    # Topping up puts money into one's own wallet: «Pay» there read as paying for the goods.
    label = _("✅ Pay") if session.purpose == "payment" else _("✅ Credit")
    builder.button(text=label, callback_data=TopCb(action=TopAction.pay, visit=session.id))
    builder.button(
        text=_("✖️ Leave the terminal"),
        callback_data=TopCb(action=TopAction.leave, visit=session.id),
    )
    builder.adjust(3, 3, len(BANKNOTES) - 6, 1, 1)
    return builder.as_markup()


def receipt_text(receipt: Receipt) -> str:
    """The printed receipt, monospace like the terminal's paper."""
    title = _("RECEIPT No. {number}").format(number=receipt.number)
    if receipt.kind == "salon":
        place = _("Mobile shop {point}").format(point=receipt.point)
    else:
        place = _("Terminal {point}").format(point=receipt.point)
    lines = [title, when(receipt.created_at), place]
    if receipt.purpose == "payment" and receipt.order is not None:
        number, shop = receipt.order
        lines.append(_("Payment for order No. {number}").format(number=number))
        if shop:
            lines.append(shop)
    elif receipt.purpose == "payment":
        lines.append(_("Invoice payment"))
    else:
        lines.append(_("QIWI wallet top-up"))
    lines.append(_("Number: {phone}").format(phone=phone(receipt.phone, masked=True)))
    if receipt.notes:
        lines.append(_("Banknotes: {notes}").format(notes=" + ".join(map(str, receipt.notes))))
    lines.append(_("Inserted: {sum}").format(sum=money(receipt.inserted)))
    lines.append(_("Commission: {sum}").format(sum=money(receipt.commission)))
    if receipt.purpose == "payment":
        lines.append(_("Paid: {sum}").format(sum=money(receipt.paid)))
        if receipt.remainder:
            where = (
                _("to the mobile balance")
                if receipt.remainder_to == "phone"
                else _("to the wallet")
            )
            lines.append(
                _("Remainder {sum} {where}").format(sum=money(receipt.remainder), where=where)
            )
    elif receipt.pending:
        lines.append(_("To be credited: {sum}").format(sum=money(receipt.credited)))
    else:
        lines.append(_("Credited: {sum}").format(sum=money(receipt.credited)))
    if receipt.above_intended:
        lines.append(
            _("Above the intended {intended}: {sum}").format(
                intended=money(receipt.intended or 0), sum=money(receipt.above_intended)
            )
        )
    if receipt.for_order is not None and receipt.for_order.needed:
        lines.append(
            _("For order No. {number}: {sum}").format(
                number=receipt.for_order.order, sum=money(receipt.for_order.needed)
            )
        )
    status = _("Credited") if not receipt.pending else _("Processing")
    lines.append(_("Status: {status}").format(status=status))
    body = "\n".join(lines)
    text = f"<pre>{body}</pre>\n"
    if receipt.above_intended:
        text += (
            _(
                "The terminal gives no change: the {sum} above the intended sum is credited to "
                "the wallet too."
            ).format(sum=money(receipt.above_intended))
            + "\n"
        )
    if receipt.left_in_wallet:
        text += (
            _(
                "Order No. {number} takes {needed}; the remaining {rest} stays in the wallet."
            ).format(
                number=receipt.for_order.order if receipt.for_order else 0,
                needed=money(receipt.for_order.needed if receipt.for_order else 0),
                rest=money(receipt.left_in_wallet),
            )
            + "\n"
        )
    if receipt.pending:
        text += _(
            "Keep the receipt until the money arrives: it usually takes up to a few hours. "
            "I will write to you when it is credited."
        )
    else:
        text += _("Keep the receipt until you see the money in the wallet.")
    return text


def left_with_cash_text(receipt: Receipt) -> str:
    return (
        _("The terminal gives no change back, so it credited what you inserted.")
        + "\n\n"
        + receipt_text(receipt)
    )


def receipt_status_text(receipt: Receipt) -> str:
    if receipt.pending:
        return _(
            "🧾 Receipt No. {number} of {date}: {sum} to be credited to {phone}, expected by {due}."
        ).format(
            number=receipt.number,
            date=when(receipt.created_at),
            sum=money(receipt.credited or receipt.inserted),
            phone=phone(receipt.phone, masked=True),
            due=when(receipt.due_at),
        )
    credited_at = receipt.credited_at or receipt.created_at
    return _("🧾 Receipt No. {number} of {date}: {sum} to {phone} — credited {credited}.").format(
        number=receipt.number,
        date=when(receipt.created_at),
        sum=money(receipt.credited or receipt.paid),
        phone=phone(receipt.phone, masked=True),
        credited=when(credited_at),
    )


def visit_over_text(receipt: Receipt) -> str:
    if receipt.purpose == "payment" and receipt.paid:
        what = _("paid {sum}").format(sum=money(receipt.paid))
    elif receipt.pending:
        what = _("{sum} will be credited by {due}").format(
            sum=money(receipt.credited or receipt.remainder), due=when(receipt.due_at)
        )
    else:
        what = _("credited {sum}").format(sum=money(receipt.credited or receipt.remainder))
    return _("This visit to the terminal is already over: receipt No. {number}, {what}.").format(
        number=receipt.number, what=what
    )


def render_receipt_credited(payload: ReceiptCredited) -> tuple[str, InlineKeyboardMarkup | None]:
    """The outbox message sent when a delayed receipt is finally credited."""
    text = _("💰 The money for receipt No. {number} has arrived: {sum} to wallet {phone}.").format(
        number=payload["receipt"], sum=money(payload["amount"]), phone=phone(payload["phone"])
    )
    if "order" in payload:
        meant = ForOrder(payload["order"], payload.get("bill", 0))
        return text, keyboard([back_to_order_button(meant)], [wallet_button()])
    return text, keyboard([wallet_button()])


# ---- keyboards -------------------------------------------------------------------------


def wallet_button() -> Button:
    return _("👛 Wallet"), MenuCb(action=MenuAction.wallet)


def back_to_topup() -> list[Button]:
    return [(_("⬅️ Back"), TopCb(action=TopAction.menu)), home()]


def topup_menu() -> InlineKeyboardMarkup:
    return keyboard(
        [(_("🏧 Terminal"), TopCb(action=TopAction.terminal))],
        [(_("🏬 Mobile shop"), TopCb(action=TopAction.salon))],
        [(_("🧾 Check a receipt"), TopCb(action=TopAction.check))],
        [home()],
    )


def phone_keyboard(own_phone: str | None) -> InlineKeyboardMarkup:
    """The number step: one's own wallet's number as a button (when signed in), and back."""
    if own_phone is None:
        return keyboard(back_to_topup())
    mine = (f"📱 {phone(own_phone)}", TopCb(action=TopAction.my_number))
    return keyboard([mine], back_to_topup())


def back_to_order_button(meant: ForOrder) -> Button:
    """Back to what the top-up was for: the invoice the wallet could not pay, in one tap, or
    (no invoice known) paying the order."""
    if meant.bill:
        label = _("💳 Back to invoice No. {number}").format(number=meant.bill)
        return label, PayCb(action=PayAction.resume, order=meant.order, bill=meant.bill)
    label = _("💳 Pay order No. {number}").format(number=meant.order)
    return label, PayCb(action=PayAction.start, order=meant.order)


def after_receipt_keyboard(receipt: Receipt | None = None) -> InlineKeyboardMarkup:
    """Under a receipt: it stays in the chat, whatever its buttons lead to."""
    first = []
    if receipt is not None and receipt.for_order is not None:
        first.append([back_to_order_button(receipt.for_order)])
    return keep(
        keyboard(
            *first,
            [(_("🧾 Check a receipt"), TopCb(action=TopAction.check))],
            [to_shops()],
            [wallet_button(), home()],
        )
    )


def top_up_for_order_button(order: int, bill: int) -> Button:
    """«Top up» under an invoice the wallet could not pay: the top-up carries that invoice."""
    return _("💵 Top up"), TopForCb(order=order, bill=bill)


def order_offer_button(for_order: ForOrder) -> Button:
    label = _("💵 {sum} for order No. {number}").format(
        sum=money(banknote_sum_for(for_order.needed)), number=for_order.order
    )
    return label, TopCb(action=TopAction.for_order)


def no_wallet_keyboard() -> InlineKeyboardMarkup:
    return keyboard(
        [(_("📝 Register here"), TopCb(action=TopAction.register_here))],
        [(_("👛 Register in the bot"), MenuCb(action=MenuAction.wallet))],
        back_to_topup(),
    )


def to_wallet_keyboard() -> InlineKeyboardMarkup:
    return keyboard([wallet_button()], back_to_topup())


def next_keyboard() -> InlineKeyboardMarkup:
    return keyboard([(_("Next ➡️"), TopCb(action=TopAction.next))], back_to_topup())


def skip_keyboard(offer: ForOrder | None = None) -> InlineKeyboardMarkup:
    first = [[order_offer_button(offer)]] if offer is not None else []
    return keyboard(*first, [(_("Skip ➡️"), TopCb(action=TopAction.skip))], back_to_topup())


def back_keyboard() -> InlineKeyboardMarkup:
    return keyboard(back_to_topup())
