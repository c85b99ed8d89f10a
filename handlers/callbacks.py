"""Typed callback data. Prefixes carry a version so old buttons fail soft after a change."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData


class MenuAction(StrEnum):
    home = "home"
    help = "help"
    about = "about"
    wallet = "wallet"
    topup = "topup"
    shops = "shops"
    orders = "orders"
    my_orders = "mine"


class MenuCb(CallbackData, prefix="m1"):
    action: MenuAction
