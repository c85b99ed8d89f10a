"""Paying the invoice: on the QIWI site (secret key), in the app, or at a terminal (the top-up
journey's TERMINAL sub-flow)."""

from __future__ import annotations

import contextlib

from aiogram.exceptions import TelegramBadRequest
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot.i18n import money, phone
from handlers.callbacks import PayCb
from handlers.flow import (
    TERMINAL,
    Flows,
    PayBill,
    TerminalLeft,
    TerminalPaid,
)
from handlers.payment.common import CALLER, PAYMENT, not_payable, payable_order, show_bill
from handlers.screens import show, tell, user_id
from handlers.states import Paying
from handlers.views import payment as views
from handlers.views.common import back_home
from handlers.views.errors import (
    locked_text,
    not_your_order_text,
    start_again_text,
    wallet_blocked_text,
)
from handlers.views.wallet import (
    attempts_left_text,
    not_a_key_text,
)
from services.aggregator import Aggregator
from services.bills import Bill, BillClosed, BillNotFound
from services.errors import InsufficientFunds
from services.merchant import Merchant
from services.orders import Order
from services.secrets import looks_like_secret_key
from services.wallet import (
    MonthlyLimitExceeded,
    TooManyAttempts,
    WalletBlocked,
    WalletNotFound,
    WalletService,
    WrongSecret,
)


async def open_bill(
    query: CallbackQuery,
    aggregator: Aggregator,
    merchant: Merchant,
    callback_data: PayCb,
    answer: CallbackAnswer,
) -> tuple[Order, Bill] | None:
    order = await payable_order(query, merchant, callback_data.order)
    if order is None:
        return None
    try:
        bill = await aggregator.bill(callback_data.bill)
    except BillNotFound:
        await tell(query, _("This invoice is not found."), answer)
        return None
    if bill.inv_id != order.id:
        await tell(query, not_your_order_text(), answer)
        return None
    if bill.status == "PAID":
        await tell(query, _("This invoice is already paid. The receipt is on its way."), answer)
        return None
    if bill.status != "WAITING" or bill.expires_at <= aggregator.clock.now():
        await not_payable(query, await merchant.order(order.id))
        return None
    return order, bill


async def pay_on_site(
    query: CallbackQuery,
    callback_data: PayCb,
    state: FSMContext,
    aggregator: Aggregator,
    merchant: Merchant,
    callback_answer: CallbackAnswer,
) -> None:
    found = await open_bill(query, aggregator, merchant, callback_data, callback_answer)
    if found is None:
        return
    order, bill = found
    await state.set_state(Paying.secret)
    await PAYMENT.update(state, bill=bill.id, order=order.id)
    await show(
        query,
        _(
            "💻 qiwi.com: enter the secret key of wallet {phone} to pay {amount}. "
            "For safety I delete the message with the key at once."
        ).format(phone=phone(bill.phone, masked=True), amount=money(bill.amount)),
        views.site_keyboard(order.id),
    )


async def typed_secret(
    message: Message,
    state: FSMContext,
    wallets: WalletService,
    aggregator: Aggregator,
    merchant: Merchant,
) -> None:
    with contextlib.suppress(TelegramBadRequest):
        await message.delete()  # the key should not stay in the chat
    data = await PAYMENT.get(state)
    if data.bill is None or data.order is None:
        await state.clear()
        await message.answer(start_again_text())
        return
    try:
        bill = await aggregator.bill(data.bill)
    except BillNotFound:
        await state.clear()
        await message.answer(start_again_text())
        return
    if bill.status != "WAITING" or bill.expires_at <= aggregator.clock.now():
        # Closed meanwhile (the order was cancelled or expired): no key needed, nothing to pay.
        await state.set_state(None)
        await not_payable(message, await merchant.order(bill.inv_id))
        return
    if not looks_like_secret_key(message.text or ""):
        await message.answer(
            not_a_key_text()
            + "\n"
            + _("Signed in to this wallet here? «📱 In the app» pays without the key.")
        )
        return
    try:
        await wallets.verify_secret(bill.phone, message.text or "", user_id(message))
    except WrongSecret as error:
        await message.answer(attempts_left_text(error.attempts_left, secret=True))
        return
    except TooManyAttempts as error:
        await state.set_state(None)
        await message.answer(locked_text(error))
        return
    except (WalletBlocked, WalletNotFound):
        await state.set_state(None)
        await message.answer(wallet_blocked_text())
        return
    await state.set_state(None)
    await pay_from_wallet(message, bill, data.order, aggregator, merchant, "site")


async def pay_in_app(
    query: CallbackQuery,
    callback_data: PayCb,
    wallets: WalletService,
    aggregator: Aggregator,
    merchant: Merchant,
    callback_answer: CallbackAnswer,
) -> None:
    found = await open_bill(query, aggregator, merchant, callback_data, callback_answer)
    if found is None:
        return
    order, bill = found
    wallet = await wallets.wallet_of(user_id(query))
    if wallet is None or wallet.phone != bill.phone:
        text = _(
            "In the app you are signed in to another wallet (or none). Pay on the site with "
            "the secret key instead."
        )
        await tell(query, text, callback_answer)
        return
    assert isinstance(query.message, Message)
    await pay_from_wallet(query.message, bill, order.id, aggregator, merchant, "app")


async def pay_from_wallet(
    message: Message,
    bill: Bill,
    order_id: int,
    aggregator: Aggregator,
    merchant: Merchant,
    method: str,
) -> None:
    try:
        await aggregator.pay_bill_from_wallet(bill.id, method=method)
    except InsufficientFunds as error:
        await message.answer(
            _("Not enough money in the wallet: {missing} short.").format(
                missing=money(error.shortfall)
            ),
            reply_markup=views.short_of_money_keyboard(order_id, bill.id),
        )
        return
    except MonthlyLimitExceeded as error:
        await message.answer(
            _(
                "This payment would break the wallet's monthly limit: at most {room} more this "
                "month."
            ).format(room=money(error.room)),
            reply_markup=back_home(),
        )
        return
    except WalletBlocked:
        await message.answer(wallet_blocked_text(), reply_markup=back_home())
        return
    except (BillClosed, BillNotFound):
        await not_payable(message, await merchant.order(order_id))
        return
    await paid_waiting(message, order_id, aggregator)


async def paid_waiting(message: Message, order_id: int, aggregator: Aggregator) -> None:
    await message.answer(views.paid_waiting_text(order_id), reply_markup=back_home())
    # The sandbox tells the shop (ResultURL) right away; retries happen in the background.
    await aggregator.deliver_callbacks(inv_id=order_id)


async def pay_at_terminal(
    query: CallbackQuery,
    callback_data: PayCb,
    state: FSMContext,
    aggregator: Aggregator,
    merchant: Merchant,
    wallets: WalletService,
    flows: Flows,
    callback_answer: CallbackAnswer,
) -> None:
    found = await open_bill(query, aggregator, merchant, callback_data, callback_answer)
    if found is None:
        return
    order, bill = found
    await PAYMENT.update(state, order=order.id, bill=bill.id)
    balance = views.own_balance(await wallets.wallet_of(user_id(query)), bill.phone)
    # Cash for a bill the wallet could pay is a detour: the terminal says so before cash goes in.
    note = views.terminal_hint_text(balance) if balance and balance >= bill.amount else ""
    await flows.start(TERMINAL, PayBill(bill.id, note), caller=CALLER)


@TERMINAL.returns_to(CALLER)
async def back_from_terminal(
    event: Message | CallbackQuery,
    state: FSMContext,
    aggregator: Aggregator,
    merchant: Merchant,
    wallets: WalletService,
    result: TerminalPaid | TerminalLeft,
) -> None:
    data = await PAYMENT.get(state)
    if data.order is None:
        return
    message = event.message if isinstance(event, CallbackQuery) else event
    if isinstance(result, TerminalPaid):
        assert isinstance(message, Message)
        await paid_waiting(message, data.order, aggregator)
        return
    # Left without paying: the same invoice again (the cash that went in may now cover it).
    order = await merchant.order(data.order)
    try:
        bill = None if data.bill is None else await aggregator.bill(data.bill)
    except BillNotFound:
        bill = None
    if not order.payable:
        await not_payable(event, order)
        return
    if bill is None or bill.status != "WAITING":
        await show(event, _("Let's open the payment again."), views.pay_again_keyboard(order))
        return
    await show_bill(event, order, bill, wallets)
