"""Keyboards shared by several journeys."""

from __future__ import annotations

from collections.abc import Callable

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import MenuAction, MenuCb


def button(text: str, data: CallbackData | str) -> InlineKeyboardButton:
    packed = data if isinstance(data, str) else data.pack()
    return InlineKeyboardButton(text=text, callback_data=packed)


def main_menu(*, has_wallet: bool, is_owner: bool = False) -> InlineKeyboardMarkup:
    """The menu adapts: without a wallet the first button offers to open one; owners see orders."""
    wallet_label = _("👛 Wallet") if has_wallet else _("👛 Open a wallet")
    rows = [
        [
            button(wallet_label, MenuCb(action=MenuAction.wallet)),
            button(_("💵 Top up"), MenuCb(action=MenuAction.topup)),
        ],
        [
            button(_("🛍 Shops"), MenuCb(action=MenuAction.shops)),
            button(_("🧾 My orders"), MenuCb(action=MenuAction.my_orders)),
        ],
    ]
    if is_owner:
        rows.append([button(_("📦 Shop orders"), MenuCb(action=MenuAction.orders))])
    return InlineKeyboardMarkup(
        inline_keyboard=[
            *rows,
            [
                button(_("❓ Help"), MenuCb(action=MenuAction.help)),
                button(_("ℹ️ About Robokassa"), MenuCb(action=MenuAction.about)),
            ],
        ]
    )


def home_button() -> InlineKeyboardButton:
    return button(_("🏠 Menu"), MenuCb(action=MenuAction.home))


def back_home() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[home_button()]])


def newer_older(
    page: int, pages: int, to_page: Callable[[int], CallbackData]
) -> list[list[InlineKeyboardButton]]:
    """«⬅️ Newer» / «Older ➡️» under a newest-first list; no row when it fits on one page."""
    nav = []
    if page > 0:
        nav.append(button(_("⬅️ Newer"), to_page(page - 1)))
    if page + 1 < pages:
        nav.append(button(_("Older ➡️"), to_page(page + 1)))
    return [nav] if nav else []
