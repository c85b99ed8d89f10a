"""Checkout: Robokassa → "Visa QIWI Wallet" → a bill to a phone → pay it three ways.

In sandbox mode the bot plays the buyer's browser: it opens the signed payment page over HTTP
(the sandbox validates it like Robokassa does), then acts for the buyer. In live mode the buyer
gets a button to the real payment page. Either way "paid" is announced only after ResultURL
(or OpStateExt) confirmed it: the receipt comes from the outbox.

Paying at a terminal is the top-up journey's `TERMINAL` sub-flow; a number without a wallet
goes through the wallet journey's `REGISTRATION` sub-flow; both come back here.
"""

from __future__ import annotations

import contextlib

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _
from pydantic import BaseModel

from bot.i18n import current_locale, money, phone
from handlers.callbacks import PayAction, PayCb
from handlers.flow import (
    REGISTRATION,
    TERMINAL,
    Flows,
    ForInvoice,
    PayBill,
    Slot,
    TerminalPaid,
    WalletOpened,
)
from handlers.payments import Payments
from handlers.phones import read_phone
from handlers.screens import show, tell, user_id
from handlers.states import Paying
from handlers.views import payment as views
from handlers.views.common import back_home
from handlers.views.errors import (
    give_working_number_text,
    locked_text,
    not_signed_in_text,
    not_your_order_text,
    start_again_text,
    wallet_blocked_text,
)
from handlers.views.wallet import (
    attempts_left_text,
    not_a_key_text,
    ready_keyboard,
    ready_text,
)
from services.aggregator import Aggregator
from services.bills import Bill, BillClosed, BillNotFound, NoWalletOnPhone
from services.errors import InsufficientFunds
from services.merchant import Merchant
from services.operator import PhoneDeactivated
from services.orders import Order, OrderNotFound
from services.secrets import looks_like_secret_key
from services.wallet import (
    MonthlyLimitExceeded,
    TooManyAttempts,
    WalletBlocked,
    WalletNotFound,
    WalletService,
    WrongSecret,
)

OPERATION_HEADER = "X-Robokassa-Operation"
CALLER = "payment"


class PaymentData(BaseModel):
    operation: int | None = None  # the Robokassa operation opened for `order`
    order: int | None = None
    bill: int | None = None
    pay_phone: str | None = None  # a number without a wallet the person wanted to pay from


PAYMENT = Slot("payment", PaymentData)


async def payable_order(
    query: CallbackQuery, merchant: Merchant, order_id: int, answer: CallbackAnswer
) -> Order | None:
    try:
        order = await merchant.order_of(order_id, user_id(query))
    except OrderNotFound:
        await tell(query, not_your_order_text(), answer)
        return None
    if not order.payable:
        await not_payable(query, order)
        return None
    return order


async def not_payable(event: Message | CallbackQuery, order: Order) -> None:
    await show(event, views.not_payable_text(order), views.not_payable_keyboard(order))


# ---- Robokassa: the payment page and the method list -----------------------------------


async def start_payment(
    query: CallbackQuery,
    callback_data: PayCb,
    state: FSMContext,
    merchant: Merchant,
    services: Payments,
    callback_answer: CallbackAnswer,
) -> None:
    order = await payable_order(query, merchant, callback_data.order, callback_answer)
    if order is None:
        return
    url = services.checkout().payment_url(order, culture=current_locale())
    await merchant.mark_awaiting(order.id)
    if not services.sandbox or services.robokassa is None:
        await show(
            query,
            _(
                "Robokassa: pay order No. {number} on the payment page. Choose «QIWI Wallet» "
                "there. I will send the receipt as soon as Robokassa confirms the payment."
            ).format(number=order.id),
            views.payment_page_keyboard(url),
        )
        return
    # Sandbox: open the signed payment page as the buyer's browser would.
    page = await services.robokassa.open_payment_page(url)
    operation = page.headers.get(OPERATION_HEADER)
    if operation is None:
        text = _("Robokassa refused the payment (error {code}). Try again later.").format(
            code=page.headers.get("X-Robokassa-Error", "?")
        )
        await tell(query, text, callback_answer)
        return
    await PAYMENT.update(state, operation=int(operation), order=order.id)
    methods = await services.robokassa.currencies(language=current_locale())
    await show(
        query,
        _("Robokassa: choose how to pay {amount} for order No. {number}.").format(
            amount=money(order.amount), number=order.id
        ),
        views.methods_keyboard(order, methods),
    )


async def unavailable(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    text = _("This method is not available in the sandbox. Choose Visa QIWI Wallet.")
    await tell(query, text, callback_answer)


async def choose_qiwi(
    query: CallbackQuery,
    callback_data: PayCb,
    state: FSMContext,
    wallets: WalletService,
    merchant: Merchant,
    callback_answer: CallbackAnswer,
) -> None:
    order = await payable_order(query, merchant, callback_data.order, callback_answer)
    if order is None:
        return
    await ask_number(query, state, wallets, order)


async def ask_number(
    query: CallbackQuery, state: FSMContext, wallets: WalletService, order: Order
) -> None:
    await state.set_state(Paying.phone)
    wallet = await wallets.wallet_of(user_id(query))
    own = wallet.phone if wallet is not None and wallet.active else None
    await show(
        query,
        _("Mobile number for the invoice: tap yours or type another, like +7 912 345-67-89."),
        views.number_keyboard(order, own),
    )


async def my_number(
    query: CallbackQuery,
    callback_data: PayCb,
    state: FSMContext,
    wallets: WalletService,
    merchant: Merchant,
    aggregator: Aggregator,
    callback_answer: CallbackAnswer,
) -> None:
    wallet = await wallets.wallet_of(user_id(query))
    if wallet is None:
        await tell(query, not_signed_in_text(), callback_answer)
        return
    await issue(query, state, merchant, aggregator, callback_data.order, wallet.phone)


async def typed_number(
    message: Message, state: FSMContext, merchant: Merchant, aggregator: Aggregator
) -> None:
    number = await read_phone(message)
    if number is None:
        return
    order_id = (await PAYMENT.get(state)).order
    if order_id is None:
        await state.clear()
        await message.answer(start_again_text(), reply_markup=back_home())
        return
    await issue(message, state, merchant, aggregator, order_id, number)


async def issue(
    event: Message | CallbackQuery,
    state: FSMContext,
    merchant: Merchant,
    aggregator: Aggregator,
    order_id: int,
    number: str,
) -> None:
    """A bill to `number` for the order; no wallet there → say exactly that, offer one."""
    try:
        order = await merchant.order_of(order_id, user_id(event))
    except OrderNotFound:
        await show(event, not_your_order_text(), None)
        return
    if not order.payable:
        await not_payable(event, order)
        return
    operation = (await PAYMENT.get(state)).operation
    if operation is None:
        await show(event, start_again_text(), views.pay_again_keyboard(order))
        return
    try:
        bill = await aggregator.issue_bill(operation, number)
    except NoWalletOnPhone:
        await PAYMENT.update(state, order=order.id, pay_phone=number)
        await show(
            event,
            _(
                "The payment did not go through: there is no QIWI wallet registered on {phone}."
            ).format(phone=phone(number)),
            views.no_wallet_keyboard(order.id),
        )
        return
    except PhoneDeactivated:
        await show(event, give_working_number_text(), None)
        return
    except (BillClosed, BillNotFound):
        await not_payable(event, await merchant.order(order.id))
        return
    await state.set_state(None)
    await PAYMENT.update(state, bill=bill.id, order=order.id)
    await show(event, views.invoice_text(order, bill), views.invoice_keyboard(order, bill))


async def register_wallet(
    query: CallbackQuery, callback_data: PayCb, state: FSMContext, flows: Flows
) -> None:
    await PAYMENT.update(state, order=callback_data.order)
    await flows.start(REGISTRATION, ForInvoice(callback_data.order), caller=CALLER)


@REGISTRATION.returns_to(CALLER)
async def wallet_opened(message: Message, state: FSMContext, result: WalletOpened) -> None:
    """Registration started from a failed payment is done: the way back to that invoice."""
    order = (await PAYMENT.get(state)).order
    first = [[views.back_to_invoice(order)]] if order is not None else []
    await message.answer(
        ready_text(result.phone, result.balance), reply_markup=ready_keyboard(*first)
    )


async def resume(
    query: CallbackQuery,
    callback_data: PayCb,
    state: FSMContext,
    merchant: Merchant,
    aggregator: Aggregator,
    wallets: WalletService,
    callback_answer: CallbackAnswer,
) -> None:
    """Back to the same invoice after registering or topping up: a bill to the wallet's number."""
    order = await payable_order(query, merchant, callback_data.order, callback_answer)
    if order is None:
        return
    wallet = await wallets.wallet_of(user_id(query))
    data = await PAYMENT.get(state)
    if data.operation is None or data.order != order.id:
        await show(query, _("Let's open the payment again."), views.pay_again_keyboard(order))
        return
    number = wallet.phone if wallet is not None else data.pay_phone
    if number is None:
        await ask_number(query, state, wallets, order)
        return
    await issue(query, state, merchant, aggregator, order.id, number)


# ---- paying the bill -------------------------------------------------------------------


async def open_bill(
    query: CallbackQuery,
    aggregator: Aggregator,
    merchant: Merchant,
    callback_data: PayCb,
    answer: CallbackAnswer,
) -> tuple[Order, Bill] | None:
    order = await payable_order(query, merchant, callback_data.order, answer)
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
        _("💻 qiwi.com: enter the secret key of wallet {phone} to pay {amount}.").format(
            phone=phone(bill.phone, masked=True), amount=money(bill.amount)
        ),
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
            reply_markup=views.short_of_money_keyboard(order_id),
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
    flows: Flows,
    callback_answer: CallbackAnswer,
) -> None:
    found = await open_bill(query, aggregator, merchant, callback_data, callback_answer)
    if found is None:
        return
    order, bill = found
    await PAYMENT.update(state, order=order.id, bill=bill.id)
    await flows.start(TERMINAL, PayBill(bill.id), caller=CALLER)


@TERMINAL.returns_to(CALLER)
async def paid_at_terminal(
    message: Message, state: FSMContext, aggregator: Aggregator, result: TerminalPaid
) -> None:
    order = (await PAYMENT.get(state)).order
    if order is not None:
        await paid_waiting(message, order, aggregator)


async def junk(message: Message, state: FSMContext) -> None:
    if await state.get_state() == Paying.secret.state:
        text = _("I'm waiting for the secret key: 8 letters and digits, like ABCD-2345.")
    else:
        text = _("I'm waiting for a phone number, like +7 912 345-67-89.")
    await message.answer(text)


def make_router() -> Router:
    router = Router(name="payment")
    router.callback_query.filter(PayCb.filter())
    router.message.filter(StateFilter(Paying))
    anywhere = StateFilter("*")

    def on(action: PayAction) -> CallbackQueryFilter:
        return PayCb.filter(F.action == action)

    router.callback_query.register(start_payment, on(PayAction.start), anywhere)
    router.callback_query.register(unavailable, on(PayAction.unavailable), anywhere)
    router.callback_query.register(choose_qiwi, on(PayAction.method), anywhere)
    router.callback_query.register(my_number, on(PayAction.my_number), anywhere)
    router.callback_query.register(register_wallet, on(PayAction.register), anywhere)
    router.callback_query.register(resume, on(PayAction.resume), anywhere)
    router.callback_query.register(pay_on_site, on(PayAction.site), anywhere)
    router.callback_query.register(pay_in_app, on(PayAction.app), anywhere)
    router.callback_query.register(pay_at_terminal, on(PayAction.terminal), anywhere)
    router.message.register(typed_number, Paying.phone, F.text, ~F.text.startswith("/"))
    router.message.register(typed_secret, Paying.secret, F.text, ~F.text.startswith("/"))
    router.message.register(junk, StateFilter(Paying), ~F.text.startswith("/"))
    return router
