"""Keyboards shared by several journeys."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import MenuAction, MenuCb


def button(text: str, data: MenuCb | str) -> InlineKeyboardButton:
    packed = data if isinstance(data, str) else data.pack()
    return InlineKeyboardButton(text=text, callback_data=packed)


def main_menu() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
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
