"""Checkout: Robokassa → "Visa QIWI Wallet" → a bill to a phone → pay it three ways.

In sandbox mode the bot plays the buyer's browser: it opens the signed payment page over HTTP
(the sandbox validates it like Robokassa does), then acts for the buyer. In live mode the buyer
gets a button to the real payment page. Either way "paid" is announced only after ResultURL
(or OpStateExt) confirmed it: the receipt comes from the outbox.

Paying at a terminal is the top-up journey's `TERMINAL` sub-flow; a number without a wallet
goes through the wallet journey's `REGISTRATION` sub-flow; both come back here.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import PayAction, PayCb
from handlers.payment.bill import pay_at_terminal, pay_in_app, pay_on_site, typed_secret
from handlers.payment.invoice import (
    choose_qiwi,
    my_number,
    pay_order_from_wallet,
    register_wallet,
    resume,
    start_payment,
    typed_number,
    unavailable,
)
from handlers.states import Paying


async def junk(message: Message, state: FSMContext) -> None:
    if await state.get_state() == Paying.secret.state:
        text = _("I'm waiting for the secret key: 8 letters and digits, like ABCD-2345.")
    else:
        text = _("I'm waiting for a phone number, like +7 912 345-67-89.")
    await message.answer(text)


def make_router() -> Router:
    router = Router(name="payment")
    router.callback_query.filter(PayCb.filter())
    router.message.filter(StateFilter(Paying))
    anywhere = StateFilter("*")

    def on(action: PayAction) -> CallbackQueryFilter:
        return PayCb.filter(F.action == action)

    router.callback_query.register(start_payment, on(PayAction.start), anywhere)
    router.callback_query.register(unavailable, on(PayAction.unavailable), anywhere)
    router.callback_query.register(choose_qiwi, on(PayAction.method), anywhere)
    router.callback_query.register(my_number, on(PayAction.my_number), anywhere)
    router.callback_query.register(register_wallet, on(PayAction.register), anywhere)
    router.callback_query.register(resume, on(PayAction.resume), anywhere)
    router.callback_query.register(pay_on_site, on(PayAction.site), anywhere)
    router.callback_query.register(pay_in_app, on(PayAction.app), anywhere)
    router.callback_query.register(pay_at_terminal, on(PayAction.terminal), anywhere)
    router.callback_query.register(pay_order_from_wallet, on(PayAction.wallet), anywhere)
    router.message.register(typed_number, Paying.phone, F.text, ~F.text.startswith("/"))
    router.message.register(typed_secret, Paying.secret, F.text, ~F.text.startswith("/"))
    router.message.register(junk, StateFilter(Paying), ~F.text.startswith("/"))
    return router
