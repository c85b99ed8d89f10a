"""Anything no journey claimed: a short explanation, state kept, stale buttons answered."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import StateFilter
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from handlers.menu import menu_for
from handlers.screens import tell
from handlers.views.errors import stale_button_text
from services.wallet import WalletService


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


def make_router() -> Router:
    """Registered last: only what every journey router passed on arrives here."""
    router = Router(name="fallback")
    router.message.register(unknown_in_menu, StateFilter(None))
    router.message.register(unknown_in_step, StateFilter("*"))
    router.callback_query.register(stale_button, StateFilter("*"))
    return router
