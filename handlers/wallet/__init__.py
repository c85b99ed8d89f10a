"""Wallet journey: registration by phone and SMS code, sign-in with the secret key, the wallet
screen (balance, history, a new key, signing out)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter, or_f

from handlers.callbacks import MenuAction, MenuCb, WalletCb
from handlers.states import ChangeSecret, Registration, SignIn
from handlers.wallet import account, registration, sign_in


def make_router() -> Router:
    router = Router(name="wallet")
    router.callback_query.filter(
        or_f(WalletCb.filter(), MenuCb.filter(F.action == MenuAction.wallet))
    )
    router.message.filter(or_f(StateFilter(Registration, SignIn, ChangeSecret), F.contact))
    router.include_routers(account.make_router(), registration.make_router(), sign_in.make_router())
    return router
