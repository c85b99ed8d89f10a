"""Checking a receipt by its number."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import TopAction, TopCb
from handlers.screens import show
from handlers.states import TopUp
from handlers.topup.data import finish
from handlers.views.topup import after_receipt_keyboard, back_keyboard, receipt_status_text
from services.numbers import parse_id
from services.terminal import CashDesk, ReceiptNotFound


async def ask_receipt(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(TopUp.check)
    await show(
        query, _("Enter the receipt number: 6 digits at the top of the receipt."), back_keyboard()
    )


async def check_receipt(message: Message, state: FSMContext, cash: CashDesk) -> None:
    text = (message.text or "").strip().lstrip("№").strip()
    try:
        number = parse_id(text)
    except ValueError:
        number = None
    if number is None or len(text) != 6:
        await message.answer(_("A receipt number is 6 digits, for example 100123."))
        return
    try:
        receipt = await cash.receipt(number)
    except ReceiptNotFound:
        await message.answer(
            _(
                "Receipt No. {number} is not found. Check the number at the top of the receipt."
            ).format(number=text)
        )
        return
    await finish(state)
    await message.answer(receipt_status_text(receipt), reply_markup=after_receipt_keyboard(receipt))


async def junk(message: Message) -> None:
    await message.answer(_("I'm waiting for a receipt number: 6 digits."))


def make_router() -> Router:
    router = Router(name="topup.receipt")
    router.callback_query.register(
        ask_receipt, TopCb.filter(F.action == TopAction.check), StateFilter("*")
    )
    router.message.register(check_receipt, TopUp.check, F.text, ~F.text.startswith("/"))
    router.message.register(junk, TopUp.check, ~F.text.startswith("/"))
    return router
