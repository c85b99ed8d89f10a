"""Registration: the number (shared contact or typed), the SMS code, the secret key by SMS.

Also the `REGISTRATION` sub-flow: a journey that needs a wallet (a payment to a number without
one) starts it, and gets `WalletOpened` back when the wallet is ready.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot.i18n import phone
from handlers.callbacks import WalletAction, WalletCb
from handlers.flow import REGISTRATION, Flows, ForInvoice, WalletOpened
from handlers.menu import menu_for
from handlers.phones import read_phone
from handlers.screens import show, tell, user_id
from handlers.sms import own_number, send_sms
from handlers.states import Registration, SignIn
from handlers.views import wallet as views
from handlers.views.errors import (
    locked_text,
    no_sms_text,
    stale_button_text,
    start_again_text,
    wallet_exists_text,
)
from handlers.views.start import menu_prompt
from handlers.wallet.data import WALLET
from services.operator import NotProved, Operator, PhoneDeactivated
from services.wallet import (
    AlreadyRegistered,
    CodeExpired,
    NoPendingCode,
    ResendTooSoon,
    TooManyAttempts,
    WalletExists,
    WalletService,
    WrongCode,
)


async def ask_phone(event: Message | CallbackQuery, state: FSMContext) -> None:
    await state.set_state(Registration.phone)
    await show(event, views.ask_phone_text(), views.phone_keyboard())


@REGISTRATION.entry
async def register_for_invoice(
    event: Message | CallbackQuery, state: FSMContext, wallets: WalletService, arg: ForInvoice
) -> None:
    """Registration asked for by a payment: the same steps; the payment gets the result.
    The number the payment was refused for is not asked again: its SMS code goes out now."""
    if arg.phone is None:
        await ask_phone(event, state)
        return
    await state.set_state(Registration.phone)
    await WALLET.update(state, phone=arg.phone)
    await send_code(event, state, wallets, arg.phone)


# ---- step 1: the number ----------------------------------------------------------------


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
        await message.answer(menu_prompt(), reply_markup=await menu_for(message, wallets))


async def got_text_number(message: Message, state: FSMContext, wallets: WalletService) -> None:
    await got_number(message, state, wallets, message.text or "")


async def type_number_hint(message: Message) -> None:
    await message.answer(_("Type the number like this: +7 912 345-67-89."))


async def leave_to_menu(message: Message, state: FSMContext, wallets: WalletService) -> None:
    await state.clear()
    await message.answer(_("Back to the menu."), reply_markup=ReplyKeyboardRemove())
    await message.answer(menu_prompt(), reply_markup=await menu_for(message, wallets))


async def got_number(message: Message, state: FSMContext, wallets: WalletService, raw: str) -> None:
    number = await read_phone(message, raw)
    if number is None:
        return
    await WALLET.update(state, phone=number)
    if await wallets.has_wallet(number) == "active":
        await message.answer(_("Got it."), reply_markup=ReplyKeyboardRemove())
        await message.answer(
            wallet_exists_text(number), reply_markup=views.existing_wallet_keyboard()
        )
        return
    await send_code(message, state, wallets, number)


async def send_code(
    event: Message | CallbackQuery, state: FSMContext, wallets: WalletService, number: str
) -> None:
    message = event if isinstance(event, Message) else event.message
    assert isinstance(message, Message)  # a button of the bot's own message in a private chat
    try:
        sent = await wallets.start_registration(number, user_id(event))
    except PhoneDeactivated:
        await message.answer(
            _(
                "The operator does not serve this number — the SMS will not arrive. "
                "Give a working number."
            )
        )
        return
    except NotProved:
        await message.answer(views.not_proved_text(number), reply_markup=views.phone_keyboard())
        return
    except ResendTooSoon as error:
        await state.set_state(Registration.code)
        await message.answer(
            _("The code has already been sent to {phone}. A new one in {seconds} s.").format(
                phone=phone(number, masked=True), seconds=error.seconds
            ),
            reply_markup=views.code_keyboard(),
        )
        return
    except TooManyAttempts as error:
        await message.answer(locked_text(error))
        return
    except WalletExists:
        await message.answer(
            wallet_exists_text(number), reply_markup=views.existing_wallet_keyboard()
        )
        return
    await state.set_state(Registration.code)
    assert message.bot is not None
    await send_sms(message.bot, sent.sms, ReplyKeyboardRemove())
    text = views.enter_code_text()
    if sent.reregistration:
        text += "\n" + _(
            "The wallet on this number was blocked: after the code it works again, with its money."
        )
    await message.answer(text, reply_markup=views.code_keyboard())


async def phone_step_junk(message: Message) -> None:
    await message.answer(
        _(
            "I'm waiting for a phone number: tap «Share my number» or type it, "
            "for example +7 912 345-67-89."
        )
    )


# ---- step 2: the SMS code --------------------------------------------------------------


async def got_code(
    message: Message, state: FSMContext, wallets: WalletService, flows: Flows
) -> None:
    code = "".join((message.text or "").split())
    if not (len(code) == 6 and code.isdigit()):
        await message.answer(_("The code is 6 digits from the SMS, for example 123456."))
        return
    number = (await WALLET.get(state)).phone
    if number is None:
        await state.clear()
        await message.answer(start_again_text(), reply_markup=views.cancel_keyboard())
        return
    try:
        registered = await wallets.confirm_code(number, code, user_id(message))
    except WrongCode as error:
        await message.answer(views.attempts_left_text(error.attempts_left, secret=False))
        return
    except CodeExpired:
        await message.answer(
            _("The code has expired. Tap «Send again»."), reply_markup=views.code_keyboard()
        )
        return
    except NoPendingCode:
        await message.answer(
            _("This code is no longer valid. Ask for a new one."),
            reply_markup=views.code_keyboard(),
        )
        return
    except AlreadyRegistered:
        await state.clear()
        await message.answer(
            _("✅ The wallet is already registered; the secret key came by SMS."),
            reply_markup=views.to_wallet_keyboard(),
        )
        return
    except TooManyAttempts as error:
        await message.answer(locked_text(error), reply_markup=views.code_keyboard())
        return
    except PhoneDeactivated:
        await state.clear()
        await message.answer(
            _("The operator has stopped serving this number. Register with a working one."),
            reply_markup=views.cancel_keyboard(),
        )
        return
    except NotProved:
        await state.set_state(Registration.phone)
        await message.answer(views.not_proved_text(number), reply_markup=views.phone_keyboard())
        return
    opened = WalletOpened(phone=registered.wallet.phone, balance=registered.wallet.balance)
    returning = await flows.caller(REGISTRATION) is not None
    if returning:
        # The journey that asked keeps its place (its own data); only ours is done.
        await WALLET.drop(state)
        await state.set_state(None)
    else:
        await state.clear()
    assert message.bot is not None
    await send_sms(message.bot, registered.sms)
    if not await flows.done(REGISTRATION, opened):
        await message.answer(
            views.ready_text(opened.phone, opened.balance), reply_markup=views.ready_keyboard()
        )


async def resend(
    query: CallbackQuery,
    state: FSMContext,
    wallets: WalletService,
    callback_answer: CallbackAnswer,
) -> None:
    number = (await WALLET.get(state)).phone
    message = query.message
    if number is None or not isinstance(message, Message):
        await tell(query, stale_button_text(), callback_answer, alert=False)
        return
    try:
        sent = await wallets.start_registration(number, user_id(query))
    except ResendTooSoon as error:
        await tell(
            query,
            _("A new code can be sent in {seconds} s.").format(seconds=error.seconds),
            callback_answer,
        )
        return
    except NotProved:
        await state.set_state(Registration.phone)
        await message.answer(views.not_proved_text(number), reply_markup=views.phone_keyboard())
        return
    except TooManyAttempts as error:
        await message.answer(locked_text(error))
        return
    except PhoneDeactivated:
        await message.answer(no_sms_text())
        return
    except WalletExists:
        await message.answer(
            wallet_exists_text(number), reply_markup=views.existing_wallet_keyboard()
        )
        return
    await tell(query, _("The code has been sent again."), callback_answer, alert=False)
    assert message.bot is not None
    await send_sms(message.bot, sent.sms)
    await message.answer(views.enter_code_text(), reply_markup=views.code_keyboard())


async def change_number(query: CallbackQuery, state: FSMContext) -> None:
    await ask_phone(query, state)


async def code_step_junk(message: Message) -> None:
    await message.answer(
        _("I'm waiting for the code from the SMS: 6 digits."), reply_markup=views.code_keyboard()
    )


def make_router() -> Router:
    router = Router(name="wallet.registration")
    router.message.register(got_contact, Registration.phone, F.contact)
    router.message.register(leave_to_menu, Registration.phone, F.text == views.BACK_LABEL)
    router.message.register(type_number_hint, Registration.phone, F.text == views.TYPE_LABEL)
    router.message.register(got_text_number, Registration.phone, F.text)
    router.message.register(phone_step_junk, Registration.phone)
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
    router.message.register(got_contact_elsewhere, F.contact, StateFilter("*"))
    return router
