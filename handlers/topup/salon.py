"""The mobile shop: a consultant credits any sum to a wallet."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot.i18n import money, phone
from handlers.callbacks import TopAction, TopCb
from handlers.phones import read_phone
from handlers.screens import show, tell, user_id
from handlers.states import TopUp
from handlers.topup.data import TOPUP, finish
from handlers.views import topup as views
from handlers.views.errors import not_signed_in_text, start_again_text
from services.money import AmountNotUnderstood, parse_rubles
from services.operator import PhoneDeactivated
from services.terminal import BadAmount, CashDesk, ForOrder, WouldBreakCap
from services.wallet import WalletBlocked, WalletNotFound, WalletService


async def salon(query: CallbackQuery, state: FSMContext, wallets: WalletService) -> None:
    await state.set_state(TopUp.salon_phone)
    wallet = await wallets.wallet_of(user_id(query))
    own = wallet.phone if wallet is not None and wallet.active else None
    await show(
        query,
        _("🏬 Mobile shop. Tell the consultant the phone number of the wallet."),
        views.phone_keyboard(own),
    )


async def my_number(
    query: CallbackQuery,
    state: FSMContext,
    wallets: WalletService,
    callback_answer: CallbackAnswer,
) -> None:
    wallet = await wallets.wallet_of(user_id(query))
    if wallet is None:
        await tell(query, not_signed_in_text(), callback_answer)
        return
    await ask_amount(query, state, wallets, wallet.phone)


async def typed_number(message: Message, state: FSMContext, wallets: WalletService) -> None:
    number = await read_phone(message)
    if number is not None:
        await ask_amount(message, state, wallets, number)


async def ask_amount(
    event: Message | CallbackQuery, state: FSMContext, wallets: WalletService, number: str
) -> None:
    await TOPUP.update(state, phone=number)
    if await wallets.has_wallet(number) != "active":
        await show(
            event,
            _("There is no working wallet on {phone}. Open one in «Wallet» first.").format(
                phone=phone(number)
            ),
            views.to_wallet_keyboard(),
        )
        return
    await state.set_state(TopUp.salon_amount)
    await show(
        event,
        _("How much should the consultant credit to {phone}? For example: 1 000 or 250,50.").format(
            phone=phone(number)
        ),
        views.back_keyboard(),
    )


async def salon_amount(message: Message, state: FSMContext, cash: CashDesk) -> None:
    data = await TOPUP.get(state)
    number = data.phone
    try:
        amount = parse_rubles(message.text or "")
    except AmountNotUnderstood as error:
        await message.answer(views.amount_error_text(error))
        return
    if number is None:
        await finish(state)
        await message.answer(start_again_text(), reply_markup=views.topup_menu())
        return
    try:
        # Came from an invoice the wallet could not pay: the receipt leads back to it.
        meant = (
            ForOrder(data.order, data.bill, data.needed) if data.carried and data.order else None
        )
        receipt = await cash.salon_top_up(
            user_id(message), number, amount, request=f"msg:{message.message_id}", for_order=meant
        )
    except BadAmount:
        await message.answer(
            _("The consultant takes from {min} to {max} at a time.").format(
                min=money(100), max=money(cash.rules.salon_max)
            )
        )
        return
    except WouldBreakCap as error:
        await message.answer(
            _("That would break the wallet's limit of {cap}. At most {room} fits now.").format(
                cap=money(error.cap), room=money(error.room)
            )
        )
        return
    except (PhoneDeactivated, WalletNotFound, WalletBlocked):
        await finish(state)
        await message.answer(
            _("There is no working wallet on this number."), reply_markup=views.topup_menu()
        )
        return
    await finish(state)
    if receipt.pending:
        head = _("The consultant took {sum}. Crediting is in progress.")
    else:
        head = _("The consultant credited {sum} to {phone}.")
    await message.answer(
        head.format(sum=money(receipt.credited), phone=phone(number, masked=True))
        + "\n\n"
        + views.receipt_text(receipt),
        reply_markup=views.after_receipt_keyboard(receipt),
    )


async def junk(message: Message, state: FSMContext) -> None:
    if await state.get_state() == TopUp.salon_phone.state:
        await message.answer(_("I'm waiting for a phone number, like +7 912 345-67-89."))
    else:
        await message.answer(_("I'm waiting for a sum, like 1 000 or 250,50."))


def make_router() -> Router:
    router = Router(name="topup.salon")
    not_command = ~F.text.startswith("/")
    router.callback_query.register(
        salon, TopCb.filter(F.action == TopAction.salon), StateFilter("*")
    )
    router.callback_query.register(
        my_number, TopCb.filter(F.action == TopAction.my_number), TopUp.salon_phone
    )
    router.message.register(typed_number, TopUp.salon_phone, F.text, not_command)
    router.message.register(salon_amount, TopUp.salon_amount, F.text, not_command)
    router.message.register(junk, StateFilter(TopUp.salon_phone, TopUp.salon_amount), not_command)
    return router
