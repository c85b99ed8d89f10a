"""First contact: /start, the main menu, /help, /cancel and the Robokassa FAQ."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import MenuAction, MenuCb
from handlers.keyboards import back_home, main_menu
from handlers.screens import show
from services.merchant import Merchant
from services.numbers import parse_id
from services.wallet import WalletService


def greeting() -> str:
    return _(
        "Hello! I help you pay in Robokassa shops with a QIWI wallet.\n"
        "I will guide you step by step: wallet, top-up, purchase, payment."
    )


def help_text() -> str:
    return _(
        "<b>How it works</b>\n"
        "1. Open a wallet with your mobile number: the code comes by SMS.\n"
        "2. Top up the wallet at a cash terminal or a mobile shop.\n"
        "3. Choose an item in a shop that works with Robokassa.\n"
        "4. Pay with «Visa QIWI Wallet»: the invoice is issued to your number.\n\n"
        "Commands: /start — main menu, /cancel — stop the current step, /help — this help."
    )


def about_text() -> str:
    return _(
        "<b>About Robokassa</b>\n"
        "A payment aggregator on the Russian market since 2003. More than 30 000 companies "
        "use it, from small businesses to large retail chains.\n"
        "Payments go over a secured connection. Paying with «Visa QIWI Wallet» costs the buyer "
        "no commission, and the money reaches the shop online."
    )


async def menu_for(event: Message | CallbackQuery, wallets: WalletService) -> InlineKeyboardMarkup:
    assert event.from_user is not None
    user = event.from_user.id
    owner = await wallets.db.fetchone("SELECT 1 FROM shop_owners WHERE user_id = ?", (user,))
    return main_menu(
        has_wallet=await wallets.wallet_of(user) is not None, is_owner=owner is not None
    )


async def start(
    message: Message,
    state: FSMContext,
    wallets: WalletService,
    merchant: Merchant | None = None,
    command: CommandObject | None = None,
) -> None:
    """/start, or a deep link: `item-<id>` opens an item, `owner-<token>` joins a shop."""
    await state.clear()
    payload = (command.args or "").strip() if command is not None else ""
    if merchant is not None and payload.startswith("item-"):
        from handlers.shop import open_item_link

        try:
            item = parse_id(payload.removeprefix("item-"))
        except ValueError:
            item = 0  # no item has it: "not sold any more", as for a removed one
        await open_item_link(message, state, merchant, item)
        return
    if merchant is not None and payload.startswith("owner-"):
        from handlers.owner import accept_invite

        await accept_invite(message, state, merchant, payload.removeprefix("owner-"))
        return
    await message.answer(greeting(), reply_markup=await menu_for(message, wallets))


async def home(query: CallbackQuery, state: FSMContext, wallets: WalletService) -> None:
    await state.clear()
    await show(query, _("Main menu. What would you like to do?"), await menu_for(query, wallets))


async def help_command(message: Message) -> None:
    await message.answer(help_text(), reply_markup=back_home())


async def help_button(query: CallbackQuery) -> None:
    await show(query, help_text(), back_home())


async def about(query: CallbackQuery) -> None:
    await show(query, about_text(), back_home())


async def cancel(message: Message, state: FSMContext, wallets: WalletService) -> None:
    had_state = await state.get_state() is not None
    await state.clear()
    text = _("Cancelled.") if had_state else _("Nothing to cancel.")
    # A reply keyboard (such as "share contact") must go away when a journey is left.
    await message.answer(text, reply_markup=ReplyKeyboardRemove())
    await message.answer(
        _("Main menu. What would you like to do?"), reply_markup=await menu_for(message, wallets)
    )


def make_router() -> Router:
    router = Router(name="start")
    anywhere = StateFilter("*")
    router.message.register(start, CommandStart(), anywhere)
    router.message.register(help_command, Command("help"), anywhere)
    router.message.register(cancel, Command("cancel"), anywhere)
    router.callback_query.register(home, MenuCb.filter(F.action == MenuAction.home), anywhere)
    router.callback_query.register(
        help_button, MenuCb.filter(F.action == MenuAction.help), anywhere
    )
    router.callback_query.register(about, MenuCb.filter(F.action == MenuAction.about), anywhere)
    return router
