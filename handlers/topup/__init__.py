"""Top-up journey: the cash terminal, the mobile shop and checking a receipt, from one menu."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import StateFilter, or_f
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery

from handlers.callbacks import MenuAction, MenuCb, TopAction, TopCb, TopForCb
from handlers.screens import show, user_id
from handlers.states import TopUp
from handlers.topup import receipt, salon, terminal
from handlers.topup.data import TOPUP, TopUpData, finish
from handlers.views.common import home, keyboard
from handlers.views.payment import not_payable_keyboard, not_payable_text
from handlers.views.topup import back_to_order_button, for_order_menu_text, menu_text, topup_menu
from services.aggregator import Aggregator
from services.bills import BillNotFound
from services.ledger import Ledger
from services.merchant import Merchant
from services.terminal import ForOrder
from services.wallet import WalletService, wallet_account


async def open_menu(query: CallbackQuery, state: FSMContext) -> None:
    await finish(state)
    await show(query, menu_text(), topup_menu())


async def open_for_order(
    query: CallbackQuery,
    callback_data: TopForCb,
    state: FSMContext,
    merchant: Merchant,
    aggregator: Aggregator,
    wallets: WalletService,
    ledger: Ledger,
) -> None:
    """«Top up» under an invoice the wallet could not pay: the top-up carries that invoice, so
    its receipt leads back to it."""
    # Someone else's order (a forged button) raises OrderNotFound: handlers/errors.py words it.
    order = await merchant.order_of(callback_data.order, user_id(query))
    await finish(state)
    if not order.payable:
        await show(query, not_payable_text(order), not_payable_keyboard(order))
        return
    number: str | None = None
    bill_id = 0
    try:
        bill = await aggregator.bill(callback_data.bill)
        if bill.inv_id == order.id:
            number, bill_id = bill.phone, bill.id
    except BillNotFound:
        pass
    if number is None:
        wallet = await wallets.wallet_of(user_id(query))
        number = wallet.phone if wallet is not None else None
    needed = order.amount
    if number is not None:
        needed -= await ledger.balance(wallet_account(number))
    await TOPUP.set(
        state, TopUpData(order=order.id, bill=bill_id, needed=max(needed, 0), carried=True)
    )
    if needed <= 0:
        # Money arrived meanwhile: the way back to the invoice comes first.
        back = back_to_order_button(ForOrder(order.id, bill_id))
        await show(query, for_order_menu_text(order.id, needed), keyboard([back], [home()]))
        return
    await show(query, for_order_menu_text(order.id, needed), topup_menu())


def make_router() -> Router:
    router = Router(name="topup")
    router.callback_query.filter(
        or_f(TopCb.filter(), TopForCb.filter(), MenuCb.filter(F.action == MenuAction.topup))
    )
    router.message.filter(StateFilter(TopUp))
    anywhere = StateFilter("*")
    router.callback_query.register(open_menu, MenuCb.filter(F.action == MenuAction.topup), anywhere)
    router.callback_query.register(open_menu, TopCb.filter(F.action == TopAction.menu), anywhere)
    router.callback_query.register(open_for_order, TopForCb.filter(), anywhere)
    router.include_routers(terminal.make_router(), salon.make_router(), receipt.make_router())
    return router
