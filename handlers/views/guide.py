"""Help for the step a person is at, given when they ask a question in their own words."""

from __future__ import annotations

import html

from aiogram.utils.i18n import gettext as _

from bot.i18n import clock_time, money
from handlers.views.start import help_text
from services.orders import Order
from services.terminal import CashSession


def cash_line() -> str:
    return _(
        "Only cash? That works: put it into the wallet at a QIWI terminal or a mobile shop, "
        "or pay the invoice right at a QIWI terminal."
    )


def general_help() -> str:
    return help_text() + "\n\n" + cash_line()


def open_order_help(order: Order) -> str:
    return _(
        "Order No. {number} ({item}, {amount}) is waiting for payment until {time}.\n"
        "How to pay: «💳 Pay via Robokassa» → «Visa QIWI Wallet» → a mobile number: "
        "an invoice for payment is issued to it. Then pay the invoice one of three ways:\n"
        "💻 on the QIWI site, with the wallet's secret key;\n"
        "🏧 at a QIWI terminal in cash: banknotes, no change, the remainder goes to your wallet "
        "or phone;\n"
        "📱 in the app, if you are signed in to the wallet here."
    ).format(
        number=order.id,
        item=html.escape(order.item_name),
        amount=money(order.amount),
        time=clock_time(order.expires_at),
    )


def phone_step_help() -> str:
    return _(
        "We are opening your QIWI wallet. It is free and needs only your mobile number: "
        "an SMS with a code comes to it. Tap «📱 Share my number» below or type the number, "
        "like +7 912 345-67-89.\n"
        "Cash goes into the wallet later, at a terminal or a mobile shop."
    )


def code_step_help() -> str:
    return _(
        "I'm waiting for the code from the SMS: 6 digits in the message «📩 SMS from QIWI» "
        "above. Type them here: this bot may have the code, no one else. "
        "No SMS? Tap «🔁 Send again»."
    )


def key_step_help() -> str:
    return _(
        "I'm waiting for the secret key: it is the wallet's password, 8 letters and digits like "
        "ABCD-2345. It came by SMS when the wallet was opened: look for «📩 SMS from QIWI» in "
        "the chat. Type it here: to this bot only, no one else. For safety I delete the "
        "message with the key at once."
    )


def pay_number_help() -> str:
    return _(
        "I'm waiting for the mobile number the invoice for payment goes to: it is paid from "
        "the QIWI wallet on that number. Type it like +7 912 345-67-89."
    )


def terminal_phone_help() -> str:
    return _(
        "You are at a QIWI terminal: it puts cash into a QIWI wallet. Type the wallet's phone "
        "number, like +7 912 345-67-89, then insert banknotes. The terminal gives no change."
    )


def intended_help() -> str:
    return _(
        "How much do you plan to put in? Type the sum, like 1 000, or tap «Skip ➡️» and insert "
        "banknotes: all you insert goes to the wallet."
    )


def cash_help(session: CashSession | None) -> str:
    if session is not None and session.purpose == "payment":
        return _(
            "The terminal pays the invoice in cash: tap the banknote buttons until the sum is "
            "reached, then «✅ Pay». It gives no change: you choose where the remainder goes."
        )
    return _(
        "Insert cash with the banknote buttons, then tap «✅ Credit»: the money goes to the "
        "wallet and you get a receipt. The terminal gives no change."
    )


def salon_help() -> str:
    return _(
        "In a mobile shop a consultant takes your cash and credits it to the wallet. "
        "Type the wallet's number, then the sum."
    )


def check_help() -> str:
    return _(
        "Type the receipt number: 6 digits at the top of the receipt, like 100123. "
        "I will tell you whether the money has arrived."
    )


def quantity_help() -> str:
    return _(
        "You are on an item's card: choose the quantity with «−» and «+» or type a number, "
        "then tap «🛒 Buy». The order then gets a «💳 Pay via Robokassa» button."
    )
