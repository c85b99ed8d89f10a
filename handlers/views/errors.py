"""One wording per error a person can run into, whichever journey meets it."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.i18n import clock_time, phone
from services.wallet import TooManyAttempts


def stale_button_text() -> str:
    return _("This button is out of date. Open the menu with /start.")


def not_your_order_text() -> str:
    return _("This is not your order.")


def wallet_blocked_text() -> str:
    return _("This wallet is blocked. Register again on a working number.")


def wallet_exists_text(number: str) -> str:
    return _("There is already a wallet on {phone}. Sign in with its secret key?").format(
        phone=phone(number)
    )


def not_signed_in_text() -> str:
    return _("You are not signed in to a wallet.")


def start_again_text() -> str:
    return _("Let's start again.")


def locked_text(error: TooManyAttempts) -> str:
    return _("Too many wrong attempts. Try again after {time}.").format(
        time=clock_time(error.until)
    )


def no_sms_text() -> str:
    return _("The operator does not serve this number — the SMS will not arrive.")


def give_working_number_text() -> str:
    return _("The operator does not serve this number. Give a working number.")
