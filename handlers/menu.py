"""The main menu for one person: it adapts to whether they have a wallet and own a shop."""

from __future__ import annotations

from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from handlers.screens import user_id
from handlers.views.common import main_menu
from services.wallet import WalletService


async def menu_for(event: Message | CallbackQuery, wallets: WalletService) -> InlineKeyboardMarkup:
    user = user_id(event)
    owner = await wallets.db.fetchone("SELECT 1 FROM shop_owners WHERE user_id = ?", (user,))
    return main_menu(
        has_wallet=await wallets.wallet_of(user) is not None, is_owner=owner is not None
    )
