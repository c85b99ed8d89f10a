"""Typed callback data of every journey, in one module below them all.

Journeys hand each other buttons (the order screen carries payment's «Pay», the invoice
registration carries the wallet's), so the data classes live here and not in the journey that
handles them. Prefixes carry a version so old buttons fail soft after a change.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Self

from aiogram.filters.callback_data import CallbackData
from pydantic import ValidationInfo, field_validator

from services.numbers import MAX_ID, parse_id

# Ends the data of every button under a message that must stay as it is (a receipt, a
# notification): see `handlers.screens.keep`. Read back as if it were not there.
KEEP = "~"


class Callback(CallbackData, prefix="cb"):
    """The base of every button's data. Its numbers are what `parse_id` takes (ASCII digits,
    within SQLite's range): pydantic alone takes `+5`, `1_000` and ids past int64, which then
    fail deep in a handler. Data that does not parse matches no handler, so the person hears
    "this button is out of date" from the fallback router."""

    @field_validator("*", mode="before", check_fields=False)
    @classmethod
    def _strict_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if field is None or field.annotation is not int:
            return value
        if isinstance(value, str):
            return parse_id(value, low=0)
        if isinstance(value, int) and not 0 <= value <= MAX_ID:
            raise ValueError("number out of range")
        return value

    @classmethod
    def unpack(cls, value: str) -> Self:
        return super().unpack(value.removesuffix(KEEP))


class MenuAction(StrEnum):
    home = "home"
    help = "help"
    about = "about"
    wallet = "wallet"
    topup = "topup"
    shops = "shops"
    orders = "orders"
    my_orders = "mine"


class MenuCb(Callback, prefix="m1"):
    action: MenuAction


class WalletAction(StrEnum):
    resend = "resend"
    change_number = "number"
    sign_in = "signin"
    history = "hist"
    change_secret = "secret"
    sign_out = "out"
    sign_out_confirm = "out!"
    reregister = "rereg"


class WalletCb(Callback, prefix="w1"):
    action: WalletAction
    before: int = 0


class TopAction(StrEnum):
    menu = "menu"
    terminal = "term"
    salon = "salon"
    check = "check"
    my_number = "mine"
    next = "next"
    skip = "skip"
    note = "note"
    pay = "pay"
    leave = "leave"
    register_here = "reg"
    rest_phone = "rphone"
    rest_wallet = "rwallet"
    for_order = "order"  # the sum an unpaid order needs, offered at the sum step


class TopCb(Callback, prefix="t1"):
    action: TopAction
    value: int = 0  # a banknote in roubles
    visit: int = 0  # the terminal visit a button belongs to


class TopForCb(Callback, prefix="tf1"):
    """«Top up» from an invoice the wallet could not pay: the top-up is for that order."""

    order: int
    bill: int = 0


class ShopAction(StrEnum):
    shops = "shops"
    shop = "shop"
    category = "cat"
    item = "item"
    quantity = "qty"
    buy = "buy"
    cancel_order = "cancel"
    order = "order"
    mine = "mine"


class ShopCb(Callback, prefix="s1"):
    action: ShopAction
    id: int = 0  # category, item or order id
    shop: str = ""
    page: int = 0
    quantity: int = 1


class PayAction(StrEnum):
    start = "start"
    method = "method"
    unavailable = "na"
    my_number = "mine"
    site = "site"
    app = "app"
    terminal = "term"
    resume = "resume"
    register = "reg"
    wallet = "wallet"  # the order paid from one's own wallet in one tap


class PayCb(Callback, prefix="p1"):
    action: PayAction
    order: int = 0
    bill: int = 0


class OwnerAction(StrEnum):
    orders = "orders"
    card = "card"
    fulfil = "done"
    stats = "stats"
    refund = "refund"
    refund_yes = "refundok"
    open = "open"  # the card as a new message, under a notification that stays


class OwnerCb(Callback, prefix="o1"):
    action: OwnerAction
    status: str = "paid"
    order: int = 0
    page: int = 0


class TgPayCb(Callback, prefix="tgp"):
    """Pay an order inside Telegram (Robokassa as the Telegram Payments provider)."""

    order: int


class LiveCb(Callback, prefix="lv1"):
    """Live mode: pay an order with a method the shop's Robokassa account lists today
    (`method` is its IncCurrLabel; empty: the buyer chooses on Robokassa's page)."""

    order: int
    method: str = ""
