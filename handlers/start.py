"""First contact: /start, the main menu, /help, /cancel and the Robokassa FAQ.

Deep links (`/start item-…`, `/start owner-…`) are handled by the journeys that own them, whose
routers come before this one.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import MenuAction, MenuCb
from handlers.menu import menu_for
from handlers.screens import show
from handlers.views.common import back_home
from handlers.views.start import about_text, greeting, help_text, menu_prompt
from services.wallet import WalletService


async def start(message: Message, state: FSMContext, wallets: WalletService) -> None:
    await state.clear()
    await message.answer(greeting(), reply_markup=await menu_for(message, wallets))


async def home(query: CallbackQuery, state: FSMContext, wallets: WalletService) -> None:
    await state.clear()
    await show(query, menu_prompt(), await menu_for(query, wallets))


async def help_command(message: Message) -> None:
    await message.answer(help_text(), reply_markup=back_home())


async def help_button(query: CallbackQuery) -> None:
    await show(query, help_text(), back_home())


async def about(query: CallbackQuery) -> None:
    await show(query, about_text(), back_home())


async def cancel(message: Message, state: FSMContext, wallets: WalletService) -> None:
    had_state = await state.get_state() is not None
    await state.clear()
    text = _("Cancelled.") if had_state else _("Nothing to cancel.")
    # A reply keyboard (such as "share contact") must go away when a journey is left.
    await message.answer(text, reply_markup=ReplyKeyboardRemove())
    await message.answer(menu_prompt(), reply_markup=await menu_for(message, wallets))


def make_router() -> Router:
    router = Router(name="start")
    anywhere = StateFilter("*")
    router.callback_query.filter(
        MenuCb.filter(F.action.in_({MenuAction.home, MenuAction.help, MenuAction.about}))
    )
    router.message.register(start, CommandStart(), anywhere)
    router.message.register(help_command, Command("help"), anywhere)
    router.message.register(cancel, Command("cancel"), anywhere)
    router.callback_query.register(home, MenuCb.filter(F.action == MenuAction.home), anywhere)
    router.callback_query.register(
        help_button, MenuCb.filter(F.action == MenuAction.help), anywhere
    )
    router.callback_query.register(about, MenuCb.filter(F.action == MenuAction.about), anywhere)
    return router
