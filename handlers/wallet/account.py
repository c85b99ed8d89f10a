"""The wallet screen: balance and limits, history, a new secret key, signing out."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot.i18n import phone
from handlers.callbacks import MenuAction, MenuCb, WalletAction, WalletCb
from handlers.screens import show, tell, user_id
from handlers.sms import send_sms
from handlers.states import ChangeSecret
from handlers.views import wallet as views
from handlers.views.common import main_menu
from handlers.views.errors import locked_text, not_signed_in_text, wallet_blocked_text
from handlers.wallet.registration import ask_phone
from handlers.wallet.sign_in import forget_secret_message, secret_step_junk
from services.operator import NotProved, PhoneDeactivated
from services.secrets import looks_like_secret_key
from services.wallet import (
    TooManyAttempts,
    WalletBlocked,
    WalletNotFound,
    WalletService,
    WrongSecret,
)

HISTORY_PAGE = 5


async def open_wallet(query: CallbackQuery, state: FSMContext, wallets: WalletService) -> None:
    wallet = await wallets.wallet_of(user_id(query))
    if wallet is None:
        await ask_phone(query, state)
        return
    await state.clear()
    if not wallet.active:
        await show(query, views.blocked_wallet_text(wallet.phone), views.blocked_wallet_keyboard())
        return
    await show(query, views.wallet_text(wallet), views.wallet_keyboard())


async def reregister(query: CallbackQuery, state: FSMContext) -> None:
    await ask_phone(query, state)


async def history(
    query: CallbackQuery,
    callback_data: WalletCb,
    wallets: WalletService,
    callback_answer: CallbackAnswer,
) -> None:
    wallet = await wallets.wallet_of(user_id(query))
    if wallet is None:
        await tell(query, not_signed_in_text(), callback_answer)
        return
    before = callback_data.before or None
    page = await wallets.history(wallet.phone, limit=HISTORY_PAGE + 1, before_id=before)
    more = len(page) > HISTORY_PAGE
    page = page[:HISTORY_PAGE]
    if page:
        text = _("📜 History of {phone}").format(phone=phone(wallet.phone, masked=True))
        text += "\n\n" + "\n\n".join(views.movement_line(m) for m in page)
    elif before:
        text = _("No earlier operations.")
    else:
        text = _("No operations yet. Top up the wallet to start.")
    await show(query, text, views.history_keyboard(page[-1].transfer_id if more else None))


async def ask_current_secret(
    query: CallbackQuery,
    state: FSMContext,
    wallets: WalletService,
    callback_answer: CallbackAnswer,
) -> None:
    if await wallets.wallet_of(user_id(query)) is None:
        await tell(query, not_signed_in_text(), callback_answer)
        return
    await state.set_state(ChangeSecret.current)
    await show(
        query,
        _("Enter the current secret key. For safety I delete the message with the key at once."),
        views.cancel_keyboard(),
    )


async def got_current_secret(message: Message, state: FSMContext, wallets: WalletService) -> None:
    await forget_secret_message(message)
    if not looks_like_secret_key(message.text or ""):
        await message.answer(views.not_a_key_text(), reply_markup=views.to_wallet_keyboard())
        return
    try:
        sms = await wallets.change_secret(user_id(message), message.text or "")
    except WrongSecret as error:
        await message.answer(views.attempts_left_text(error.attempts_left, secret=True))
        return
    except TooManyAttempts as error:
        await state.clear()
        await message.answer(locked_text(error), reply_markup=views.to_wallet_keyboard())
        return
    except (WalletBlocked, WalletNotFound, PhoneDeactivated):
        await state.clear()
        await message.answer(wallet_blocked_text(), reply_markup=views.cancel_keyboard())
        return
    except NotProved as error:
        await state.clear()
        await message.answer(
            _("The new key comes by SMS.") + " " + views.not_proved_text(error.number),
            reply_markup=views.share_keyboard(),
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
    await message.answer(text, reply_markup=views.to_wallet_keyboard())


async def confirm_sign_out(query: CallbackQuery) -> None:
    await show(
        query,
        _(
            "Sign out of the wallet on this Telegram account? The money stays in the wallet; "
            "you can sign in again with the number and the secret key."
        ),
        views.sign_out_keyboard(),
    )


async def sign_out(query: CallbackQuery, state: FSMContext, wallets: WalletService) -> None:
    await wallets.sign_out(user_id(query))
    await state.clear()
    await show(query, _("You have signed out of the wallet."), main_menu(has_wallet=False))


def make_router() -> Router:
    router = Router(name="wallet.account")
    anywhere = StateFilter("*")

    def on(action: WalletAction) -> CallbackQueryFilter:
        return WalletCb.filter(F.action == action)

    router.callback_query.register(
        open_wallet, MenuCb.filter(F.action == MenuAction.wallet), anywhere
    )
    router.callback_query.register(history, on(WalletAction.history), anywhere)
    router.callback_query.register(ask_current_secret, on(WalletAction.change_secret), anywhere)
    router.message.register(got_current_secret, ChangeSecret.current, F.text)
    router.message.register(secret_step_junk, ChangeSecret.current)
    router.callback_query.register(confirm_sign_out, on(WalletAction.sign_out), anywhere)
    router.callback_query.register(sign_out, on(WalletAction.sign_out_confirm), anywhere)
    router.callback_query.register(reregister, on(WalletAction.reregister), anywhere)
    return router
