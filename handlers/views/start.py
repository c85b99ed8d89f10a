"""Texts of first contact: greeting, help, the Robokassa FAQ."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _


def greeting() -> str:
    return _(
        "Hello! I help you pay in Robokassa shops with a QIWI wallet.\n"
        "I will guide you step by step: wallet, top-up, purchase, payment."
    )


def menu_prompt() -> str:
    return _("Main menu. What would you like to do?")


def help_text() -> str:
    return _(
        "<b>How it works</b>\n"
        "1. Open a wallet with your mobile number: the code comes by SMS.\n"
        "2. Top up the wallet at a cash terminal or a mobile shop.\n"
        "3. Choose an item in a shop that works with Robokassa.\n"
        "4. Pay with «Visa QIWI Wallet»: the invoice is issued to your number.\n\n"
        "Commands: /start — main menu, /cancel — stop the current step, /help — this help."
    )


def about_text() -> str:
    return _(
        "<b>About Robokassa</b>\n"
        "A payment aggregator on the Russian market since 2003. More than 30 000 companies "
        "use it, from small businesses to large retail chains.\n"
        "Payments go over a secured connection. Paying with «Visa QIWI Wallet» costs the buyer "
        "no commission, and the money reaches the shop online."
    )
