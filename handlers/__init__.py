"""Telegram handlers: one router per journey, and the shared modules they meet in.

Journeys (independent of each other; checked by import-linter): start, wallet, topup, shop,
orders, payment, owner, fallback. Below them: callbacks, states, flow (typed FSM data and
sub-flows), views (texts and keyboards), screens, menu, phones, sms, payments.
"""

from __future__ import annotations

from aiogram import Dispatcher, Router

from handlers import errors, fallback, orders, owner, payment, shop, start, tgpay, topup, wallet
from handlers.answers import AnswerOnce
from handlers.flow import FlowsMiddleware
from handlers.payment import live as payment_live


def routers() -> list[Router]:
    """In the order they are asked: the terminal's /cancel and /start come first (cash inside
    is receipted before the command does its usual work), deep links before plain /start, the
    fallback last."""
    return [
        errors.make_router(),
        fallback.make_question_router(),  # a question at any step gets that step's help
        tgpay.make_router(),  # a payment arrives whatever step the buyer is at
        topup.make_router(),
        payment.make_router(),
        payment_live.make_router(),
        shop.make_router(),
        owner.make_invite_router(),
        start.make_router(),
        wallet.make_router(),
        orders.make_router(),
        owner.make_router(),
        fallback.make_router(),
    ]


def setup(dp: Dispatcher) -> None:
    """Routers and the middlewares every journey relies on."""
    dp.callback_query.middleware(AnswerOnce())
    dp.message.middleware(FlowsMiddleware())
    dp.callback_query.middleware(FlowsMiddleware())
    dp.include_routers(*routers())
