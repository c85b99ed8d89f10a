"""Texts and keyboards of the wallet: the SMS, registration, sign-in, the wallet screen."""

from __future__ import annotations

from aiogram.types import InlineKeyboardMarkup, KeyboardButton, ReplyKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __
from aiogram.utils.keyboard import ReplyKeyboardBuilder

from bot.i18n import money, ngettext, phone, when
from handlers.callbacks import MenuAction, MenuCb, TopAction, TopCb, WalletAction, WalletCb
from handlers.views.common import Button, home, keyboard, to_shops
from services.ledger import Movement
from services.operator import Sms
from services.wallet import WalletInfo

SHARE_LABEL = __("📱 Share my number")
TYPE_LABEL = __("⌨️ Type another number")
BACK_LABEL = __("⬅️ Back")


def sms_text(sms: Sms) -> str:
    head = _("📩 SMS from QIWI to {phone}").format(phone=phone(sms.number, masked=True))
    if sms.kind == "code":
        body = _(
            "Confirmation code: <code>{code}</code>. Type it only in this bot; "
            "do not tell it to anyone else."
        )
    else:
        body = _(
            "Your secret key: <code>{code}</code>. It is the wallet's password: with it you "
            "sign in to the wallet and pay invoices on the QIWI site. Keep it and tell it to "
            "no one but this bot."
        )
    return f"{head}\n{body.format(code=sms.value)}"


def not_proved_text(number: str) -> str:
    return _(
        "An SMS to {phone} comes only to the Telegram account that has this number. "
        "If the number is yours, tap «📱 Share my number» in that account: the SMS will come there."
    ).format(phone=phone(number))


def attempts_left_text(left: int, *, secret: bool) -> str:
    first = _("Wrong secret key.") if secret else _("Wrong code.")
    rest = ngettext("{n} attempt left.", "{n} attempts left.", left).format(n=left)
    return f"{first} {rest}"


def not_a_key_text() -> str:
    return _(
        "That is not a secret key: it is 8 Latin letters and digits, like ABCD-2345. "
        "The key came by SMS when the wallet was registered: look for «📩 SMS from QIWI» "
        "in the chat. No attempt was used."
    )


def ask_phone_text() -> str:
    return _(
        "You have no wallet yet. It needs a mobile number: "
        "an SMS with a code will come to it.\n"
        "Tap «Share my number» or type the number, for example +7 912 345-67-89."
    )


def enter_code_text() -> str:
    return _("Enter the code from the SMS: 6 digits. It is valid for 5 minutes.")


def level_name(level: str) -> str:
    """The level with what it means: «minimal» alone read like something was wrong."""
    if level == "basic":
        return _("basic (confirmed with a passport)")
    return _(
        "minimal, as every new wallet has; enough for purchases here, a passport is needed "
        "only for higher limits"
    )


def wallet_text(wallet: WalletInfo) -> str:
    return _(
        "👛 Wallet {phone}\n"
        "Balance: <b>{balance}</b>\n"
        "Identification: {level}. Limits: balance up to {max_balance}, "
        "payments up to {monthly} a month (spent this month: {spent})."
    ).format(
        phone=phone(wallet.phone),
        balance=money(wallet.balance),
        level=level_name(wallet.level),
        max_balance=money(wallet.limits.max_balance),
        monthly=money(wallet.limits.monthly_payments),
        spent=money(wallet.spent_this_month),
    )


def blocked_wallet_text(number: str) -> str:
    return _(
        "Wallet {phone} is blocked: the operator no longer serves this number. "
        "Register again on a working number to use a wallet."
    ).format(phone=phone(number))


def opened_here_text(wallet: WalletInfo) -> str:
    """A wallet just registered and signed in (at the terminal): what it is and its limits."""
    return _(
        "✅ Wallet {phone} is open and you are signed in to it. Balance {balance}.\n"
        "Identification: {level}. Limits: balance up to {max_balance}, "
        "payments up to {monthly} a month."
    ).format(
        phone=phone(wallet.phone),
        balance=money(wallet.balance),
        level=level_name(wallet.level),
        max_balance=money(wallet.limits.max_balance),
        monthly=money(wallet.limits.monthly_payments),
    )


def ready_text(number: str, balance: int) -> str:
    return _("✅ Wallet {phone} is ready. Balance {balance}.").format(
        phone=phone(number, masked=True), balance=money(balance)
    )


def counterparty_name(account: str) -> str:
    kind, _sep, rest = account.partition(":")
    if kind == "wallet":
        return _("QIWI wallet {phone}").format(phone=phone(rest, masked=True))
    if kind == "phone":
        return _("mobile balance {phone}").format(phone=phone(rest, masked=True))
    if kind == "external":
        return _("cash")
    if kind == "shop":
        return _("shop")
    if kind == "clearing":
        return _("Robokassa")
    return account


def movement_what(movement: Movement) -> str:
    """What the movement was, in the words of the person's receipts and orders."""
    kind, _sep, point = movement.counterparty.partition(":")
    if kind == "cash":
        if movement.memo == "salon":
            what = _("Mobile shop {point}, receipt No. {number}")
        else:
            what = _("QIWI terminal {point}, receipt No. {number}")
        what = what.format(point=point, number=movement.reference)
        if movement.memo == "remainder" and movement.order is not None:
            what += " · " + _("remainder of the payment for order No. {number}").format(
                number=movement.order
            )
        return what
    if movement.order is not None:
        if movement.amount > 0:
            what = _("Refund for order No. {number}").format(number=movement.order)
        else:
            what = _("Payment for order No. {number}").format(number=movement.order)
        return what + (f" · {movement.shop}" if movement.shop else "")
    what = counterparty_name(movement.counterparty)
    if movement.reference:
        what += " · " + _("No. {reference}").format(reference=movement.reference)
    return what


def movement_line(movement: Movement) -> str:
    sign = "+" if movement.amount > 0 else "−"
    line = f"{when(movement.created_at)} · <b>{sign}{money(abs(movement.amount))}</b>\n"
    return line + movement_what(movement)


# ---- keyboards -------------------------------------------------------------------------


def wallet_button() -> Button:
    return _("👛 Wallet"), MenuCb(action=MenuAction.wallet)


def top_up_button() -> Button:
    return _("💵 Top up"), MenuCb(action=MenuAction.topup)


def phone_keyboard() -> ReplyKeyboardMarkup:
    builder = ReplyKeyboardBuilder()
    builder.row(KeyboardButton(text=str(SHARE_LABEL), request_contact=True))
    builder.row(KeyboardButton(text=str(TYPE_LABEL)))
    builder.row(KeyboardButton(text=str(BACK_LABEL)))
    return builder.as_markup(resize_keyboard=True, one_time_keyboard=True)


def share_keyboard() -> ReplyKeyboardMarkup:
    """Only the button that shares one's own number (outside the wallet's number step)."""
    builder = ReplyKeyboardBuilder()
    builder.button(text=str(SHARE_LABEL), request_contact=True)
    return builder.as_markup(resize_keyboard=True, one_time_keyboard=True)


def code_keyboard() -> InlineKeyboardMarkup:
    return keyboard(
        [(_("🔁 Send again"), WalletCb(action=WalletAction.resend))],
        [(_("📱 Change number"), WalletCb(action=WalletAction.change_number))],
        [home()],
    )


def wallet_keyboard() -> InlineKeyboardMarkup:
    return keyboard(
        [top_up_button()],
        [
            (_("📜 History"), WalletCb(action=WalletAction.history)),
            (_("🔑 Change key"), WalletCb(action=WalletAction.change_secret)),
        ],
        [(_("🚪 Sign out"), WalletCb(action=WalletAction.sign_out))],
        [home()],
    )


def to_wallet_keyboard() -> InlineKeyboardMarkup:
    return keyboard([wallet_button(), home()])


def existing_wallet_keyboard() -> InlineKeyboardMarkup:
    return keyboard(
        [(_("🔑 Sign in with the key"), WalletCb(action=WalletAction.sign_in))],
        [(_("📱 Another number"), WalletCb(action=WalletAction.change_number))],
        [home()],
    )


def cancel_keyboard() -> InlineKeyboardMarkup:
    return keyboard([home()])


def blocked_wallet_keyboard() -> InlineKeyboardMarkup:
    return keyboard([(_("🔁 Register again"), WalletCb(action=WalletAction.reregister))], [home()])


def ready_keyboard(*first: list[Button]) -> InlineKeyboardMarkup:
    """After registration; `first`: a row the journey that asked for it puts on top. A new
    wallet is empty: the terminal, where most people top up, is one tap away."""
    terminal = (_("🏧 Top up at a terminal"), TopCb(action=TopAction.terminal))
    return keyboard(*first, [terminal], [to_shops()], [wallet_button(), home()])


def history_keyboard(earlier: int | None) -> InlineKeyboardMarkup:
    rows = []
    if earlier is not None:
        rows.append([(_("⬅️ Earlier"), WalletCb(action=WalletAction.history, before=earlier))])
    return keyboard(*rows, [wallet_button(), home()])


def sign_out_keyboard() -> InlineKeyboardMarkup:
    return keyboard(
        [(_("🚪 Yes, sign out"), WalletCb(action=WalletAction.sign_out_confirm))],
        [(_("👛 Stay"), MenuCb(action=MenuAction.wallet))],
    )
