"""Keyboards every journey uses: the main menu, the way home, newer/older paging."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import MenuAction, MenuCb

Button = tuple[str, CallbackData]


def keyboard(*rows: Sequence[Button]) -> InlineKeyboardMarkup:
    """A keyboard from rows of (label, data): the plain shape of most of our screens."""
    builder = InlineKeyboardBuilder()
    for row in rows:
        for text, data in row:
            builder.button(text=text, callback_data=data)
    builder.adjust(*(len(row) for row in rows if row))
    return builder.as_markup()


def home() -> tuple[str, MenuCb]:
    return _("🏠 Menu"), MenuCb(action=MenuAction.home)


def main_menu(*, has_wallet: bool, is_owner: bool = False) -> InlineKeyboardMarkup:
    """The menu adapts: without a wallet the first button offers to open one; owners see orders."""
    wallet_label = _("👛 Wallet") if has_wallet else _("👛 Open a wallet")
    builder = InlineKeyboardBuilder()
    builder.button(text=wallet_label, callback_data=MenuCb(action=MenuAction.wallet))
    builder.button(text=_("💵 Top up"), callback_data=MenuCb(action=MenuAction.topup))
    builder.button(text=_("🛍 Shops"), callback_data=MenuCb(action=MenuAction.shops))
    builder.button(text=_("🧾 My orders"), callback_data=MenuCb(action=MenuAction.my_orders))
    if is_owner:
        builder.button(text=_("📦 Shop orders"), callback_data=MenuCb(action=MenuAction.orders))
    builder.button(text=_("❓ Help"), callback_data=MenuCb(action=MenuAction.help))
    builder.button(text=_("ℹ️ About Robokassa"), callback_data=MenuCb(action=MenuAction.about))
    builder.adjust(*((2, 2, 1, 2) if is_owner else (2,)))
    return builder.as_markup()


def back_home() -> InlineKeyboardMarkup:
    return keyboard([home()])


def newer_older(page: int, pages: int, to_page: Callable[[int], CallbackData]) -> list[Button]:
    """«⬅️ Newer» / «Older ➡️» under a newest-first list; empty when it fits on one page."""
    nav: list[Button] = []
    if page > 0:
        nav.append((_("⬅️ Newer"), to_page(page - 1)))
    if page + 1 < pages:
        nav.append((_("Older ➡️"), to_page(page + 1)))
    return nav


def to_shops() -> Button:
    """«🛍 To the shops» where a step is done and buying is the likely next one."""
    return _("🛍 To the shops"), MenuCb(action=MenuAction.shops)
