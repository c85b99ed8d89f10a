"""Wallet journey: register by phone and SMS code, secret key, sign in, balance, history."""

from __future__ import annotations

import contextlib
from enum import StrEnum

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import lazy_gettext as __

from bot.i18n import clock_time, money, ngettext, phone, when
from handlers.callbacks import Callback, MenuAction, MenuCb
from handlers.keyboards import button, home_button, main_menu
from handlers.phones import read_phone
from handlers.screens import show, user_id
from handlers.start import menu_for
from services.ledger import Movement
from services.operator import NotProved, Operator, PhoneDeactivated, Sms
from services.secrets import looks_like_secret_key
from services.wallet import (
    AlreadyRegistered,
    CodeExpired,
    NoPendingCode,
    ResendTooSoon,
    TooManyAttempts,
    WalletBlocked,
    WalletExists,
    WalletInfo,
    WalletNotFound,
    WalletService,
    WrongCode,
    WrongSecret,
)

HISTORY_PAGE = 5
SHARE_LABEL = __("📱 Share my number")
TYPE_LABEL = __("⌨️ Type another number")
BACK_LABEL = __("⬅️ Back")


class Registration(StatesGroup):
    phone = State()
    code = State()


class SignIn(StatesGroup):
    secret = State()


class ChangeSecret(StatesGroup):
    current = State()


class WalletAction(StrEnum):
    resend = "resend"
    change_number = "number"
    sign_in = "signin"
    history = "hist"
    change_secret = "secret"
    sign_out = "out"
    sign_out_confirm = "out!"
    reregister = "rereg"


class WalletCb(Callback, prefix="w1"):
    action: WalletAction
    before: int = 0


# ---- texts -----------------------------------------------------------------------------


def sms_text(sms: Sms) -> str:
    head = _("📩 SMS from QIWI to {phone}").format(phone=phone(sms.number, masked=True))
    if sms.kind == "code":
        body = _("Confirmation code: <code>{code}</code>. Do not tell it to anyone.")
    else:
        body = _(
            "Your secret key: <code>{code}</code>. Keep it: you need it to pay. "
            "Do not tell it to anyone."
        )
    return f"{head}\n{body.format(code=sms.value)}"


async def send_sms(bot: Bot, sms: Sms, markup: ReplyKeyboardRemove | None = None) -> None:
    """The stand-in SMS arrives in the chat of the account that has the number, wherever the
    action was taken (the key changed by a second account reaches the owner)."""
    # Someone who blocked the bot is a phone that is switched off: the SMS is lost.
    with contextlib.suppress(TelegramForbiddenError):
        await bot.send_message(sms.to_user, sms_text(sms), reply_markup=markup)


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


def locked_text(error: TooManyAttempts) -> str:
    return _("Too many wrong attempts. Try again after {time}.").format(
        time=clock_time(error.until)
    )


def level_name(level: str) -> str:
    return _("basic") if level == "basic" else _("minimal")


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


def phone_keyboard() -> ReplyKeyboardMarkup:
    return ReplyKeyboardMarkup(
        keyboard=[
            [KeyboardButton(text=str(SHARE_LABEL), request_contact=True)],
            [KeyboardButton(text=str(TYPE_LABEL))],
            [KeyboardButton(text=str(BACK_LABEL))],
        ],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def share_keyboard() -> ReplyKeyboardMarkup:
    """Only the button that shares one's own number (outside the wallet's number step)."""
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=str(SHARE_LABEL), request_contact=True)]],
        resize_keyboard=True,
        one_time_keyboard=True,
    )


def code_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [button(_("🔁 Send again"), WalletCb(action=WalletAction.resend))],
            [button(_("📱 Change number"), WalletCb(action=WalletAction.change_number))],
            [home_button()],
        ]
    )


def wallet_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [button(_("💵 Top up"), MenuCb(action=MenuAction.topup))],
            [
                button(_("📜 History"), WalletCb(action=WalletAction.history)),
                button(_("🔑 Change key"), WalletCb(action=WalletAction.change_secret)),
            ],
            [button(_("🚪 Sign out"), WalletCb(action=WalletAction.sign_out))],
            [home_button()],
        ]
    )


def to_wallet_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [button(_("👛 Wallet"), MenuCb(action=MenuAction.wallet)), home_button()],
        ]
    )


def existing_wallet_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [button(_("🔑 Sign in with the key"), WalletCb(action=WalletAction.sign_in))],
            [button(_("📱 Another number"), WalletCb(action=WalletAction.change_number))],
            [home_button()],
        ]
    )


def cancel_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[home_button()]])


# ---- entry: the wallet button ----------------------------------------------------------


async def open_wallet(query: CallbackQuery, state: FSMContext, wallets: WalletService) -> None:
    wallet = await wallets.wallet_of(user_id(query))
    if wallet is None:
        await ask_phone(query, state)
        return
    await state.clear()
    if not wallet.active:
        await show(
            query,
            _(
                "Wallet {phone} is blocked: the operator no longer serves this number. "
                "Register again on a working number to use a wallet."
            ).format(phone=phone(wallet.phone)),
            InlineKeyboardMarkup(
                inline_keyboard=[
                    [button(_("🔁 Register again"), WalletCb(action=WalletAction.reregister))],
                    [home_button()],
                ]
            ),
        )
        return
    await show(query, wallet_text(wallet), wallet_keyboard())


async def ask_phone(event: Message | CallbackQuery, state: FSMContext) -> None:
    await state.set_state(Registration.phone)
    await show(
        event,
        _(
            "You have no wallet yet. It needs a mobile number: "
            "an SMS with a code will come to it.\n"
            "Tap «Share my number» or type the number, for example +7 912 345-67-89."
        ),
        phone_keyboard(),
    )


async def reregister(query: CallbackQuery, state: FSMContext) -> None:
    await ask_phone(query, state)


# ---- step 1: the number ----------------------------------------------------------------


async def own_number(message: Message, operator: Operator) -> str | None:
    """The number of a contact the person shared, recorded as theirs when it is their own.

    Telegram vouches for a contact whose user_id is the sender's: that account has the number.
    Someone else's contact proves nothing and gets an answer saying so (None).
    """
    contact = message.contact
    assert contact is not None
    if contact.user_id != user_id(message):
        await message.answer(
            _(
                "This is someone else's contact. Share your own number with the button below "
                "or type it."
            )
        )
        return None
    number = await read_phone(message, contact.phone_number)
    if number is not None:
        await operator.prove(number, user_id(message))
    return number


async def got_contact(
    message: Message, state: FSMContext, wallets: WalletService, operator: Operator
) -> None:
    number = await own_number(message, operator)
    if number is not None:
        await got_number(message, state, wallets, number)


async def got_contact_elsewhere(
    message: Message, state: FSMContext, wallets: WalletService, operator: Operator
) -> None:
    """One's own contact outside the number step still proves the number (say, to get a new
    secret key by SMS)."""
    number = await own_number(message, operator)
    if number is None:
        return
    await message.answer(
        _("✅ Number {phone} is confirmed: SMS to it will come to this chat.").format(
            phone=phone(number)
        ),
        reply_markup=ReplyKeyboardRemove(),
    )
    if await state.get_state() is None:
        await message.answer(
            _("Main menu. What would you like to do?"),
            reply_markup=await menu_for(message, wallets),
        )


async def got_text_number(message: Message, state: FSMContext, wallets: WalletService) -> None:
    await got_number(message, state, wallets, message.text or "")


async def type_number_hint(message: Message) -> None:
    await message.answer(_("Type the number like this: +7 912 345-67-89."))


async def leave_to_menu(message: Message, state: FSMContext, wallets: WalletService) -> None:
    await state.clear()
    await message.answer(_("Back to the menu."), reply_markup=ReplyKeyboardRemove())
    await message.answer(
        _("Main menu. What would you like to do?"), reply_markup=await menu_for(message, wallets)
    )


async def got_number(message: Message, state: FSMContext, wallets: WalletService, raw: str) -> None:
    number = await read_phone(message, raw)
    if number is None:
        return
    await state.update_data(phone=number)
    if await wallets.has_wallet(number) == "active":
        await message.answer(_("Got it."), reply_markup=ReplyKeyboardRemove())
        await message.answer(
            _("There is already a wallet on {phone}. Sign in with its secret key?").format(
                phone=phone(number)
            ),
            reply_markup=existing_wallet_keyboard(),
        )
        return
    await send_code(message, state, wallets, number)


async def send_code(
    message: Message, state: FSMContext, wallets: WalletService, number: str
) -> None:
    try:
        sent = await wallets.start_registration(number, user_id(message))
    except PhoneDeactivated:
        await message.answer(
            _(
                "The operator does not serve this number — the SMS will not arrive. "
                "Give a working number."
            )
        )
        return
    except NotProved:
        await message.answer(not_proved_text(number), reply_markup=phone_keyboard())
        return
    except ResendTooSoon as error:
        await state.set_state(Registration.code)
        await message.answer(
            _("The code has already been sent to {phone}. A new one in {seconds} s.").format(
                phone=phone(number, masked=True), seconds=error.seconds
            ),
            reply_markup=code_keyboard(),
        )
        return
    except TooManyAttempts as error:
        await message.answer(locked_text(error))
        return
    except WalletExists:
        await message.answer(
            _("There is already a wallet on {phone}. Sign in with its secret key?").format(
                phone=phone(number)
            ),
            reply_markup=existing_wallet_keyboard(),
        )
        return
    await state.set_state(Registration.code)
    assert message.bot is not None
    await send_sms(message.bot, sent.sms, ReplyKeyboardRemove())
    text = _("Enter the code from the SMS: 6 digits. It is valid for 5 minutes.")
    if sent.reregistration:
        text += "\n" + _(
            "The wallet on this number was blocked: after the code it works again, with its money."
        )
    await message.answer(text, reply_markup=code_keyboard())


async def phone_step_junk(message: Message) -> None:
    await message.answer(
        _(
            "I'm waiting for a phone number: tap «Share my number» or type it, "
            "for example +7 912 345-67-89."
        )
    )


# ---- step 2: the SMS code --------------------------------------------------------------


async def got_code(message: Message, state: FSMContext, wallets: WalletService) -> None:
    code = "".join((message.text or "").split())
    if not (len(code) == 6 and code.isdigit()):
        await message.answer(_("The code is 6 digits from the SMS, for example 123456."))
        return
    number = (await state.get_data()).get("phone")
    if number is None:
        await state.clear()
        await message.answer(_("Let's start again."), reply_markup=cancel_keyboard())
        return
    try:
        registered = await wallets.confirm_code(number, code, user_id(message))
    except WrongCode as error:
        await message.answer(attempts_left_text(error.attempts_left, secret=False))
        return
    except CodeExpired:
        await message.answer(
            _("The code has expired. Tap «Send again»."), reply_markup=code_keyboard()
        )
        return
    except NoPendingCode:
        await message.answer(
            _("This code is no longer valid. Ask for a new one."), reply_markup=code_keyboard()
        )
        return
    except AlreadyRegistered:
        await state.clear()
        await message.answer(
            _("✅ The wallet is already registered; the secret key came by SMS."),
            reply_markup=to_wallet_keyboard(),
        )
        return
    except TooManyAttempts as error:
        await message.answer(locked_text(error), reply_markup=code_keyboard())
        return
    except PhoneDeactivated:
        await state.clear()
        await message.answer(
            _("The operator has stopped serving this number. Register with a working one."),
            reply_markup=cancel_keyboard(),
        )
        return
    except NotProved:
        await state.set_state(Registration.phone)
        await message.answer(not_proved_text(number), reply_markup=phone_keyboard())
        return
    before = await state.get_data()
    resume_order = before.get("resume_order")
    await state.clear()
    if resume_order is not None:
        # Keep the payment's place so "back to the invoice" issues the bill straight away.
        await state.update_data(operation=before.get("operation"), order=resume_order)
    assert message.bot is not None
    await send_sms(message.bot, registered.sms)
    rows = [
        [button(_("💵 Top up"), MenuCb(action=MenuAction.topup))],
        [button(_("👛 Wallet"), MenuCb(action=MenuAction.wallet)), home_button()],
    ]
    if resume_order is not None:
        # Registration started from a failed payment: go back to that same invoice.
        from handlers.payment import back_to_invoice

        rows.insert(0, [back_to_invoice(int(resume_order))])
    await message.answer(
        _("✅ Wallet {phone} is ready. Balance {balance}.").format(
            phone=phone(registered.wallet.phone, masked=True),
            balance=money(registered.wallet.balance),
        ),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=rows),
    )


async def resend(query: CallbackQuery, state: FSMContext, wallets: WalletService) -> None:
    number = (await state.get_data()).get("phone")
    message = query.message
    if number is None or not isinstance(message, Message):
        await query.answer(_("This button is out of date. Open the menu with /start."))
        return
    try:
        sent = await wallets.start_registration(number, user_id(query))
    except ResendTooSoon as error:
        await query.answer(
            _("A new code can be sent in {seconds} s.").format(seconds=error.seconds),
            show_alert=True,
        )
        return
    except (PhoneDeactivated, TooManyAttempts, WalletExists, NotProved) as error:
        await query.answer()
        if isinstance(error, NotProved):
            await state.set_state(Registration.phone)
            await message.answer(not_proved_text(number), reply_markup=phone_keyboard())
        elif isinstance(error, TooManyAttempts):
            await message.answer(locked_text(error))
        elif isinstance(error, PhoneDeactivated):
            await message.answer(
                _("The operator does not serve this number — the SMS will not arrive.")
            )
        else:
            await message.answer(
                _("There is already a wallet on {phone}. Sign in with its secret key?").format(
                    phone=phone(number)
                ),
                reply_markup=existing_wallet_keyboard(),
            )
        return
    await query.answer(_("The code has been sent again."))
    assert message.bot is not None
    await send_sms(message.bot, sent.sms)
    await message.answer(
        _("Enter the code from the SMS: 6 digits. It is valid for 5 minutes."),
        reply_markup=code_keyboard(),
    )


async def change_number(query: CallbackQuery, state: FSMContext) -> None:
    await ask_phone(query, state)


async def code_step_junk(message: Message) -> None:
    await message.answer(
        _("I'm waiting for the code from the SMS: 6 digits."), reply_markup=code_keyboard()
    )


# ---- signing in with the secret key ----------------------------------------------------


async def start_sign_in(query: CallbackQuery, state: FSMContext) -> None:
    number = (await state.get_data()).get("phone")
    if number is None:
        await query.answer(_("This button is out of date. Open the menu with /start."))
        return
    await state.set_state(SignIn.secret)
    await show(
        query,
        _("Enter the secret key of wallet {phone} (it came by SMS at registration).").format(
            phone=phone(number, masked=True)
        ),
        cancel_keyboard(),
    )


async def forget_secret_message(message: Message) -> None:
    """A secret typed into the chat should not stay there."""
    with contextlib.suppress(TelegramBadRequest):
        await message.delete()


async def got_secret(message: Message, state: FSMContext, wallets: WalletService) -> None:
    number = (await state.get_data()).get("phone")
    await forget_secret_message(message)
    if number is None:
        await state.clear()
        await message.answer(_("Let's start again."), reply_markup=cancel_keyboard())
        return
    if not looks_like_secret_key(message.text or ""):
        await message.answer(not_a_key_text(), reply_markup=cancel_keyboard())
        return
    try:
        wallet = await wallets.sign_in(number, message.text or "", user_id(message))
    except WrongSecret as error:
        await message.answer(attempts_left_text(error.attempts_left, secret=True))
        return
    except TooManyAttempts as error:
        await message.answer(locked_text(error), reply_markup=cancel_keyboard())
        return
    except (WalletBlocked, WalletNotFound):
        await state.clear()
        await message.answer(
            _("This wallet is blocked. Register again on a working number."),
            reply_markup=cancel_keyboard(),
        )
        return
    await state.clear()
    await message.answer(
        _("✅ You are signed in.") + "\n\n" + wallet_text(wallet), reply_markup=wallet_keyboard()
    )


async def secret_step_junk(message: Message) -> None:
    await message.answer(
        _("I'm waiting for the secret key: 8 letters and digits, like ABCD-2345."),
        reply_markup=cancel_keyboard(),
    )


# ---- the wallet screen -----------------------------------------------------------------


async def history(query: CallbackQuery, callback_data: WalletCb, wallets: WalletService) -> None:
    wallet = await wallets.wallet_of(user_id(query))
    if wallet is None:
        await query.answer(_("You are not signed in to a wallet."), show_alert=True)
        return
    before = callback_data.before or None
    page = await wallets.history(wallet.phone, limit=HISTORY_PAGE + 1, before_id=before)
    more = len(page) > HISTORY_PAGE
    page = page[:HISTORY_PAGE]
    if page:
        text = _("📜 History of {phone}").format(phone=phone(wallet.phone, masked=True))
        text += "\n\n" + "\n\n".join(movement_line(m) for m in page)
    elif before:
        text = _("No earlier operations.")
    else:
        text = _("No operations yet. Top up the wallet to start.")
    rows = []
    if more:
        rows.append(
            [
                button(
                    _("⬅️ Earlier"),
                    WalletCb(action=WalletAction.history, before=page[-1].transfer_id),
                )
            ]
        )
    rows.append([button(_("👛 Wallet"), MenuCb(action=MenuAction.wallet)), home_button()])
    await show(query, text, InlineKeyboardMarkup(inline_keyboard=rows))


async def ask_current_secret(
    query: CallbackQuery, state: FSMContext, wallets: WalletService
) -> None:
    if await wallets.wallet_of(user_id(query)) is None:
        await query.answer(_("You are not signed in to a wallet."), show_alert=True)
        return
    await state.set_state(ChangeSecret.current)
    await show(query, _("Enter the current secret key."), cancel_keyboard())


async def got_current_secret(message: Message, state: FSMContext, wallets: WalletService) -> None:
    await forget_secret_message(message)
    if not looks_like_secret_key(message.text or ""):
        await message.answer(not_a_key_text(), reply_markup=to_wallet_keyboard())
        return
    try:
        sms = await wallets.change_secret(user_id(message), message.text or "")
    except WrongSecret as error:
        await message.answer(attempts_left_text(error.attempts_left, secret=True))
        return
    except TooManyAttempts as error:
        await state.clear()
        await message.answer(locked_text(error), reply_markup=to_wallet_keyboard())
        return
    except (WalletBlocked, WalletNotFound, PhoneDeactivated):
        await state.clear()
        await message.answer(
            _("This wallet is blocked. Register again on a working number."),
            reply_markup=cancel_keyboard(),
        )
        return
    except NotProved as error:
        await state.clear()
        await message.answer(
            _("The new key comes by SMS.") + " " + not_proved_text(error.number),
            reply_markup=share_keyboard(),
        )
        return
    await state.clear()
    assert message.bot is not None
    await send_sms(message.bot, sms)
    if sms.to_user == user_id(message):
        text = _("🔑 The secret key is changed. The old one no longer works.")
    else:
        text = _(
            "🔑 The secret key is changed: the new one came by SMS to {phone}. "
            "The old one no longer works."
        ).format(phone=phone(sms.number, masked=True))
    await message.answer(text, reply_markup=to_wallet_keyboard())


async def confirm_sign_out(query: CallbackQuery) -> None:
    await show(
        query,
        _(
            "Sign out of the wallet on this Telegram account? The money stays in the wallet; "
            "you can sign in again with the number and the secret key."
        ),
        InlineKeyboardMarkup(
            inline_keyboard=[
                [button(_("🚪 Yes, sign out"), WalletCb(action=WalletAction.sign_out_confirm))],
                [button(_("👛 Stay"), MenuCb(action=MenuAction.wallet))],
            ]
        ),
    )


async def sign_out(query: CallbackQuery, state: FSMContext, wallets: WalletService) -> None:
    await wallets.sign_out(user_id(query))
    await state.clear()
    await show(query, _("You have signed out of the wallet."), main_menu(has_wallet=False))


def make_router() -> Router:
    router = Router(name="wallet")
    anywhere = StateFilter("*")
    router.callback_query.register(
        open_wallet, MenuCb.filter(F.action == MenuAction.wallet), anywhere
    )
    # Step 1: the number (contact button, typed number, or the reply keyboard's buttons).
    router.message.register(got_contact, Registration.phone, F.contact)
    router.message.register(leave_to_menu, Registration.phone, F.text == BACK_LABEL)
    router.message.register(type_number_hint, Registration.phone, F.text == TYPE_LABEL)
    router.message.register(got_text_number, Registration.phone, F.text)
    router.message.register(phone_step_junk, Registration.phone)
    # Step 2: the code.
    router.message.register(got_code, Registration.code, F.text)
    router.message.register(code_step_junk, Registration.code)
    router.callback_query.register(
        resend, Registration.code, WalletCb.filter(F.action == WalletAction.resend)
    )
    router.callback_query.register(
        change_number,
        StateFilter(Registration.code, Registration.phone, SignIn.secret),
        WalletCb.filter(F.action == WalletAction.change_number),
    )
    router.callback_query.register(
        start_sign_in, Registration.phone, WalletCb.filter(F.action == WalletAction.sign_in)
    )
    router.message.register(got_secret, SignIn.secret, F.text)
    router.message.register(secret_step_junk, SignIn.secret)
    # The wallet screen.
    router.callback_query.register(
        history, WalletCb.filter(F.action == WalletAction.history), anywhere
    )
    router.callback_query.register(
        ask_current_secret, WalletCb.filter(F.action == WalletAction.change_secret), anywhere
    )
    router.message.register(got_current_secret, ChangeSecret.current, F.text)
    router.message.register(secret_step_junk, ChangeSecret.current)
    router.callback_query.register(
        confirm_sign_out, WalletCb.filter(F.action == WalletAction.sign_out), anywhere
    )
    router.callback_query.register(
        sign_out, WalletCb.filter(F.action == WalletAction.sign_out_confirm), anywhere
    )
    router.callback_query.register(
        reregister, WalletCb.filter(F.action == WalletAction.reregister), anywhere
    )
    router.message.register(got_contact_elsewhere, F.contact, anywhere)
    return router
