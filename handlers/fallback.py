"""Anything no journey claimed: a short explanation, state kept, stale buttons answered.

A question in plain words («а как платить?») is answered at any step, before the step's own
handler could take it for a wrong number or key: with the help for that step and its buttons.
"""

from __future__ import annotations

import contextlib
import re

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
)
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import MenuAction, MenuCb
from handlers.menu import menu_for
from handlers.screens import tell, user_id
from handlers.states import ChangeSecret, Paying, Registration, Shopping, SignIn, TopUp
from handlers.views import guide
from handlers.views import topup as topup_views
from handlers.views import wallet as wallet_views
from handlers.views.common import back_home, home, keyboard
from handlers.views.errors import stale_button_text
from handlers.views.payment import number_keyboard, pay_button, site_keyboard
from handlers.views.shop import shops_keyboard
from services.merchant import Merchant
from services.orders import Order
from services.secrets import looks_like_secret_key
from services.terminal import CashDesk
from services.wallet import WalletService

# Beginnings of the words people ask with; a word that starts with one of them is a question
# word («платить», «оплатой», «наличными», «помогите»). Whole words only: a number, a code or
# a sum the step waits for has none of them.
QUESTION_WORDS = (
    "как", "где", "куда", "когда", "почему", "зачем", "что", "сколько", "плат", "оплат",
    "заплат", "помог", "помощ", "деньг", "денег", "чек", "ключ", "налич", "карт", "код",
    "вопрос", "понима", "понят", "объясн", "счёт", "счет", "кошел",
    "how", "where", "what", "why", "help", "pay", "cash", "money", "receipt", "key", "code",
    "card", "wallet", "invoice",
)  # fmt: skip
WORD = re.compile(r"[^\W\d_]+")
DIGIT = re.compile(r"[0-9]")
KEY_STEPS = (SignIn.secret.state, ChangeSecret.current.state, Paying.secret.state)

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup


def looks_like_question(text: str | None) -> bool:
    if not text or text.startswith("/") or looks_like_secret_key(text):
        return False
    words = WORD.findall(text.lower())
    if not words:
        return False
    return text.rstrip().endswith("?") or any(w.startswith(QUESTION_WORDS) for w in words)


async def is_question(message: Message, state: FSMContext) -> bool:
    """A question, unless at a step it carries what the step waits for: «+7 912 345-67-89,
    это мой кошелёк» at the number step is a number (a plain «?» still makes it a question)."""
    text = message.text
    if not looks_like_question(text):
        return False
    assert text is not None
    answer = len(DIGIT.findall(text)) >= 4 and not text.rstrip().endswith("?")
    return not (answer and await state.get_state() is not None)


async def newest_open_order(merchant: Merchant, user: int) -> Order | None:
    orders, _total = await merchant.buyer_orders(user, per_page=10)
    return next((order for order in orders if order.payable), None)


async def step_help(
    message: Message,
    state: FSMContext,
    wallets: WalletService,
    merchant: Merchant,
    cash: CashDesk,
) -> tuple[str, Markup]:
    """The help for the step the person is at and the buttons that go on from it."""
    step = await state.get_state()
    user = user_id(message)
    if step == Registration.phone.state:
        return guide.phone_step_help(), wallet_views.phone_keyboard()
    if step == Registration.code.state:
        return guide.code_step_help(), wallet_views.code_keyboard()
    if step in (SignIn.secret.state, ChangeSecret.current.state):
        return guide.key_step_help(), wallet_views.cancel_keyboard()
    if step == Paying.secret.state:
        order = await newest_open_order(merchant, user)
        markup = back_home() if order is None else site_keyboard(order.id)
        return guide.key_step_help(), markup
    if step == Paying.phone.state:
        order = await newest_open_order(merchant, user)
        wallet = await wallets.wallet_of(user)
        own = wallet.phone if wallet is not None and wallet.active else None
        markup = back_home() if order is None else number_keyboard(order, own, own is not None)
        return guide.pay_number_help(), markup
    if step == TopUp.terminal_phone.state:
        wallet = await wallets.wallet_of(user)
        own = wallet.phone if wallet is not None and wallet.active else None
        return guide.terminal_phone_help(), topup_views.phone_keyboard(own)
    if step == TopUp.intended.state:
        return guide.intended_help(), topup_views.skip_keyboard()
    if step == TopUp.cash.state:
        session = await cash.open_visit(user)
        markup = back_home() if session is None else topup_views.cash_keyboard(session)
        return guide.cash_help(session), markup
    if step in (TopUp.salon_phone.state, TopUp.salon_amount.state):
        return guide.salon_help(), topup_views.back_keyboard()
    if step == TopUp.check.state:
        return guide.check_help(), topup_views.back_keyboard()
    if step == Shopping.quantity.state:
        return guide.quantity_help(), shops_keyboard()
    order = await newest_open_order(merchant, user)
    if order is not None:
        my_orders = (_("🧾 My orders"), MenuCb(action=MenuAction.my_orders))
        return guide.open_order_help(order), keyboard(pay_button(order), [my_orders], [home()])
    return guide.general_help(), await menu_for(message, wallets)


async def question(
    message: Message,
    state: FSMContext,
    wallets: WalletService,
    merchant: Merchant,
    cash: CashDesk,
) -> None:
    if await state.get_state() in KEY_STEPS:
        # Typed where a key is awaited, a question may carry the key too: it does not stay.
        with contextlib.suppress(TelegramBadRequest):
            await message.delete()
    text, markup = await step_help(message, state, wallets, merchant, cash)
    await message.answer(text, reply_markup=markup)


async def unknown_in_menu(message: Message, wallets: WalletService) -> None:
    if message.text and message.text.startswith("/"):
        text = _("I don't know this command. Try /start, /help or /cancel.")
    elif message.text:
        text = _("I understand the menu buttons and commands. Choose what you need:")
    else:
        text = _("I can't read stickers, photos or voice messages. Choose what you need:")
    await message.answer(text, reply_markup=await menu_for(message, wallets))


async def unknown_in_step(message: Message) -> None:
    await message.answer(
        _("I'm waiting for something else at this step. Use the buttons above or /cancel.")
    )


async def stale_button(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    await tell(query, stale_button_text(), callback_answer)


def make_question_router() -> Router:
    """Asked before the journeys: a question is not a wrong answer to the step."""
    router = Router(name="questions")
    router.message.register(question, F.text, is_question, StateFilter("*"))
    return router


def make_router() -> Router:
    """Registered last: only what every journey router passed on arrives here."""
    router = Router(name="fallback")
    router.message.register(unknown_in_menu, StateFilter(None))
    router.message.register(unknown_in_step, StateFilter("*"))
    router.callback_query.register(stale_button, StateFilter("*"))
    return router
