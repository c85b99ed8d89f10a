"""Signing in to an existing wallet with its number and secret key."""

from __future__ import annotations

import contextlib

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot.i18n import phone
from handlers.callbacks import WalletAction, WalletCb
from handlers.screens import show, tell, user_id
from handlers.states import Registration, SignIn
from handlers.views import wallet as views
from handlers.views.errors import (
    locked_text,
    stale_button_text,
    start_again_text,
    wallet_blocked_text,
)
from handlers.wallet.data import WALLET
from services.secrets import looks_like_secret_key
from services.wallet import (
    TooManyAttempts,
    WalletBlocked,
    WalletNotFound,
    WalletService,
    WrongSecret,
)


async def forget_secret_message(message: Message) -> None:
    """A secret typed into the chat should not stay there."""
    with contextlib.suppress(TelegramBadRequest):
        await message.delete()


async def start_sign_in(
    query: CallbackQuery, state: FSMContext, callback_answer: CallbackAnswer
) -> None:
    number = (await WALLET.get(state)).phone
    if number is None:
        await tell(query, stale_button_text(), callback_answer, alert=False)
        return
    await state.set_state(SignIn.secret)
    await show(
        query,
        _(
            "Enter the secret key of wallet {phone}: the wallet's password, it came by SMS at "
            "registration. For safety I delete the message with the key at once."
        ).format(phone=phone(number, masked=True)),
        views.cancel_keyboard(),
    )


async def got_secret(message: Message, state: FSMContext, wallets: WalletService) -> None:
    number = (await WALLET.get(state)).phone
    await forget_secret_message(message)
    if number is None:
        await state.clear()
        await message.answer(start_again_text(), reply_markup=views.cancel_keyboard())
        return
    if not looks_like_secret_key(message.text or ""):
        await message.answer(views.not_a_key_text(), reply_markup=views.cancel_keyboard())
        return
    try:
        wallet = await wallets.sign_in(number, message.text or "", user_id(message))
    except WrongSecret as error:
        await message.answer(views.attempts_left_text(error.attempts_left, secret=True))
        return
    except TooManyAttempts as error:
        await message.answer(locked_text(error), reply_markup=views.cancel_keyboard())
        return
    except (WalletBlocked, WalletNotFound):
        await state.clear()
        await message.answer(wallet_blocked_text(), reply_markup=views.cancel_keyboard())
        return
    await state.clear()
    await message.answer(
        _("✅ You are signed in.") + "\n\n" + views.wallet_text(wallet),
        reply_markup=views.wallet_keyboard(),
    )


async def secret_step_junk(message: Message) -> None:
    await message.answer(
        _("I'm waiting for the secret key: 8 letters and digits, like ABCD-2345."),
        reply_markup=views.cancel_keyboard(),
    )


def make_router() -> Router:
    router = Router(name="wallet.sign_in")
    router.callback_query.register(
        start_sign_in, Registration.phone, WalletCb.filter(F.action == WalletAction.sign_in)
    )
    router.message.register(got_secret, SignIn.secret, F.text)
    router.message.register(secret_step_junk, SignIn.secret)
    return router
