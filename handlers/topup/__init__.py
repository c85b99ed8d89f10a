"""Top-up journey: the cash terminal, the mobile shop and checking a receipt, from one menu."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter, or_f
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery

from handlers.callbacks import MenuAction, MenuCb, TopAction, TopCb
from handlers.screens import show
from handlers.states import TopUp
from handlers.topup import receipt, salon, terminal
from handlers.views.topup import menu_text, topup_menu


async def open_menu(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await show(query, menu_text(), topup_menu())


def make_router() -> Router:
    router = Router(name="topup")
    router.callback_query.filter(or_f(TopCb.filter(), MenuCb.filter(F.action == MenuAction.topup)))
    router.message.filter(StateFilter(TopUp))
    anywhere = StateFilter("*")
    router.callback_query.register(open_menu, MenuCb.filter(F.action == MenuAction.topup), anywhere)
    router.callback_query.register(open_menu, TopCb.filter(F.action == TopAction.menu), anywhere)
    router.include_routers(terminal.make_router(), salon.make_router(), receipt.make_router())
    return router
