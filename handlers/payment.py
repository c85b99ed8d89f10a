"""Checkout: Robokassa → "Visa QIWI Wallet" → a bill to a phone → pay it three ways.

In sandbox mode the bot plays the buyer's browser: it opens the signed payment page over HTTP
(the sandbox validates it like Robokassa does), then acts for the buyer. In live mode the buyer
gets a button to the real payment page. Either way "paid" is announced only after ResultURL
(or OpStateExt) confirmed it: the receipt comes from the outbox.
"""

from __future__ import annotations

import contextlib
import html
from enum import StrEnum
from typing import Any

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _

from bot.i18n import clock_time, current_locale, money, phone
from handlers.callbacks import Callback, MenuAction, MenuCb
from handlers.keyboards import button, home_button
from handlers.phones import read_phone
from handlers.screens import show, user_id
from services.aggregator import Aggregator
from services.bills import Bill, BillClosed, BillNotFound, NoWalletOnPhone
from services.errors import InsufficientFunds
from services.merchant import Merchant
from services.operator import PhoneDeactivated
from services.orders import Order, OrderNotFound
from services.robokassa import QIWI_LABEL
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


class Paying(StatesGroup):
    phone = State()
    secret = State()


class PayAction(StrEnum):
    start = "start"
    method = "method"
    unavailable = "na"
    my_number = "mine"
    other_number = "other"
    site = "site"
    app = "app"
    terminal = "term"
    resume = "resume"
    register = "reg"


class PayCb(Callback, prefix="p1"):
    action: PayAction
    order: int = 0
    bill: int = 0


def payment_buttons(order: Order) -> list[list[InlineKeyboardButton]]:
    if not order.payable:
        return []
    return [[button(_("💳 Pay via Robokassa"), PayCb(action=PayAction.start, order=order.id))]]


def render_payment_returned(payload: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup | None]:
    """Money reached an order that could no longer be paid; it went back to the payer."""
    if payload.get("reason") == "cancelled":
        why = _("Order No. {number} ({item}) had been cancelled when the payment arrived.")
    else:
        why = _("Order No. {number} ({item}) had expired when the payment arrived.")
    text = (
        why.format(number=payload["order"], item=html.escape(payload["item"]))
        + "\n"
        + _(
            "↩️ The {amount} went back where it came from: the QIWI wallet or that number's "
            "mobile balance."
        ).format(amount=money(payload["amount"]))
    )
    return text, InlineKeyboardMarkup(inline_keyboard=[[home_button()]])


def invoice_text(order: Order, bill: Bill) -> str:
    return _(
        "🧾 Invoice No. {bill} for <b>{amount}</b> is issued to {phone}\n"
        "Order No. {order} · commission {fee} · valid until {time}\n"
        "How will you pay it?"
    ).format(
        bill=bill.id,
        amount=money(bill.amount),
        phone=phone(bill.phone, masked=True),
        order=order.id,
        fee=money(0),
        time=clock_time(bill.expires_at),
    )


def invoice_keyboard(order: Order, bill: Bill) -> InlineKeyboardMarkup:
    def pay(action: PayAction, label: str) -> InlineKeyboardButton:
        return button(label, PayCb(action=action, order=order.id, bill=bill.id))

    return InlineKeyboardMarkup(
        inline_keyboard=[
            [pay(PayAction.site, _("💻 On the QIWI site"))],
            [pay(PayAction.terminal, _("🏧 At a QIWI terminal"))],
            [pay(PayAction.app, _("📱 In the app"))],
            [home_button()],
        ]
    )


def back_to_invoice(order_id: int) -> InlineKeyboardButton:
    return button(_("💳 Back to the invoice"), PayCb(action=PayAction.resume, order=order_id))


async def _order(query: CallbackQuery, merchant: Merchant, order_id: int) -> Order | None:
    try:
        order = await merchant.order_of(order_id, user_id(query))
    except OrderNotFound:
        await query.answer(_("This is not your order."), show_alert=True)
        return None
    if not order.payable:
        await _not_payable(query, order)
        return None
    return order


async def _not_payable(event: Message | CallbackQuery, order: Order) -> None:
    from handlers.shop import ShopAction, ShopCb

    if order.status in ("paid", "fulfilled"):
        text = _("Order No. {number} is already paid.").format(number=order.id)
    elif order.status == "cancelled":
        text = _(
            "Order No. {number} is cancelled and its invoice is closed. No money was taken."
        ).format(number=order.id)
    else:
        text = _("The invoice has expired and order No. {number} is cancelled.").format(
            number=order.id
        )
    await show(
        event,
        text,
        InlineKeyboardMarkup(
            inline_keyboard=[
                [
                    button(
                        _("🛍 Back to the shop"), ShopCb(action=ShopAction.shop, shop=order.shop_id)
                    )
                ],
                [home_button()],
            ]
        ),
    )


# ---- Robokassa: the payment page and the method list -----------------------------------


async def start_payment(
    query: CallbackQuery,
    callback_data: PayCb,
    state: FSMContext,
    merchant: Merchant,
    services: Any,
) -> None:
    order = await _order(query, merchant, callback_data.order)
    if order is None:
        return
    checkout = services.checkout()
    url = checkout.payment_url(order, culture=current_locale())
    await merchant.mark_awaiting(order.id)
    if not services.sandbox:
        await show(
            query,
            _(
                "Robokassa: pay order No. {number} on the payment page. Choose «QIWI Wallet» "
                "there. I will send the receipt as soon as Robokassa confirms the payment."
            ).format(number=order.id),
            InlineKeyboardMarkup(
                inline_keyboard=[
                    [InlineKeyboardButton(text=_("💳 Open the payment page"), url=url)],
                    [home_button()],
                ]
            ),
        )
        return
    # Sandbox: open the signed payment page as the buyer's browser would.
    page = await services.robokassa.open_payment_page(url)
    operation = page.headers.get(OPERATION_HEADER)
    if operation is None:
        await query.answer(
            _("Robokassa refused the payment (error {code}). Try again later.").format(
                code=page.headers.get("X-Robokassa-Error", "?")
            ),
            show_alert=True,
        )
        return
    await state.update_data(operation=int(operation), order=order.id)
    methods = await services.robokassa.currencies(language=current_locale())
    rows = []
    for method in methods:
        if method.label == QIWI_LABEL:
            rows.append(
                [button("Visa QIWI Wallet", PayCb(action=PayAction.method, order=order.id))]
            )
        else:
            rows.append(
                [
                    button(
                        _("{name} (unavailable)").format(name=method.name),
                        PayCb(action=PayAction.unavailable, order=order.id),
                    )
                ]
            )
    rows.append([home_button()])
    await show(
        query,
        _("Robokassa: choose how to pay {amount} for order No. {number}.").format(
            amount=money(order.amount), number=order.id
        ),
        InlineKeyboardMarkup(inline_keyboard=rows),
    )


async def unavailable(query: CallbackQuery) -> None:
    await query.answer(
        _("This method is not available in the sandbox. Choose Visa QIWI Wallet."),
        show_alert=True,
    )


async def choose_qiwi(
    query: CallbackQuery,
    callback_data: PayCb,
    state: FSMContext,
    wallets: WalletService,
    merchant: Merchant,
) -> None:
    order = await _order(query, merchant, callback_data.order)
    if order is None:
        return
    await state.set_state(Paying.phone)
    rows = []
    wallet = await wallets.wallet_of(user_id(query))
    if wallet is not None and wallet.active:
        rows.append(
            [
                button(
                    _("📱 {phone} (your wallet)").format(phone=phone(wallet.phone)),
                    PayCb(action=PayAction.my_number, order=order.id),
                )
            ]
        )
    rows.append([home_button()])
    await show(
        query,
        _("Mobile number for the invoice: tap yours or type another, like +7 912 345-67-89."),
        InlineKeyboardMarkup(inline_keyboard=rows),
    )


async def my_number(
    query: CallbackQuery,
    callback_data: PayCb,
    state: FSMContext,
    wallets: WalletService,
    merchant: Merchant,
    aggregator: Aggregator,
) -> None:
    wallet = await wallets.wallet_of(user_id(query))
    if wallet is None:
        await query.answer(_("You are not signed in to a wallet."), show_alert=True)
        return
    await issue(query, state, merchant, aggregator, callback_data.order, wallet.phone)


async def typed_number(
    message: Message, state: FSMContext, merchant: Merchant, aggregator: Aggregator
) -> None:
    number = await read_phone(message)
    if number is None:
        return
    order_id = (await state.get_data()).get("order")
    if order_id is None:
        await state.clear()
        await message.answer(
            _("Let's start again."),
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[[home_button()]]),
        )
        return
    await issue(message, state, merchant, aggregator, int(order_id), number)


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
        await show(event, _("This is not your order."), None)
        return
    if not order.payable:
        await _not_payable(event, order)
        return
    operation = (await state.get_data()).get("operation")
    if operation is None:
        await show(
            event,
            _("Let's start again."),
            InlineKeyboardMarkup(inline_keyboard=[*payment_buttons(order), [home_button()]]),
        )
        return
    try:
        bill = await aggregator.issue_bill(int(operation), number)
    except NoWalletOnPhone:
        await state.update_data(resume_order=order.id, pay_phone=number)
        await show(
            event,
            _(
                "The payment did not go through: there is no QIWI wallet registered on {phone}."
            ).format(phone=phone(number)),
            InlineKeyboardMarkup(
                inline_keyboard=[
                    [
                        button(
                            _("👛 Open a wallet"), PayCb(action=PayAction.register, order=order.id)
                        )
                    ],
                    [home_button()],
                ]
            ),
        )
        return
    except PhoneDeactivated:
        await show(
            event, _("The operator does not serve this number. Give a working number."), None
        )
        return
    except (BillClosed, BillNotFound):
        await _not_payable(event, await merchant.order(order.id))
        return
    await state.set_state(None)
    await state.update_data(bill=bill.id, order=order.id)
    await show(event, invoice_text(order, bill), invoice_keyboard(order, bill))


async def register_wallet(query: CallbackQuery, callback_data: PayCb, state: FSMContext) -> None:
    from handlers.wallet import ask_phone

    await state.update_data(resume_order=callback_data.order)
    await ask_phone(query, state)


async def resume(
    query: CallbackQuery,
    callback_data: PayCb,
    state: FSMContext,
    merchant: Merchant,
    aggregator: Aggregator,
    wallets: WalletService,
) -> None:
    """Back to the same invoice after registering or topping up: a bill to the wallet's number."""
    order = await _order(query, merchant, callback_data.order)
    if order is None:
        return
    wallet = await wallets.wallet_of(user_id(query))
    data = await state.get_data()
    if data.get("operation") is None or data.get("order") != order.id:
        await start_payment_again(query, state, merchant, order)
        return
    number = wallet.phone if wallet is not None else data.get("pay_phone")
    if number is None:
        await choose_qiwi(
            query, PayCb(action=PayAction.method, order=order.id), state, wallets, merchant
        )
        return
    await issue(query, state, merchant, aggregator, order.id, number)


async def start_payment_again(
    query: CallbackQuery, state: FSMContext, merchant: Merchant, order: Order
) -> None:
    await show(
        query,
        _("Let's open the payment again."),
        InlineKeyboardMarkup(inline_keyboard=[*payment_buttons(order), [home_button()]]),
    )


# ---- paying the bill -------------------------------------------------------------------


async def _bill(
    query: CallbackQuery, aggregator: Aggregator, merchant: Merchant, callback_data: PayCb
) -> tuple[Order, Bill] | None:
    order = await _order(query, merchant, callback_data.order)
    if order is None:
        return None
    try:
        bill = await aggregator.bill(callback_data.bill)
    except BillNotFound:
        await query.answer(_("This invoice is not found."), show_alert=True)
        return None
    if bill.inv_id != order.id:
        await query.answer(_("This is not your order."), show_alert=True)
        return None
    if bill.status == "PAID":
        await query.answer(
            _("This invoice is already paid. The receipt is on its way."), show_alert=True
        )
        return None
    if bill.status != "WAITING" or bill.expires_at <= aggregator.clock.now():
        await _not_payable(query, await merchant.order(order.id))
        return None
    return order, bill


async def pay_on_site(
    query: CallbackQuery,
    callback_data: PayCb,
    state: FSMContext,
    aggregator: Aggregator,
    merchant: Merchant,
) -> None:
    found = await _bill(query, aggregator, merchant, callback_data)
    if found is None:
        return
    order, bill = found
    await state.set_state(Paying.secret)
    await state.update_data(bill=bill.id, order=order.id)
    await show(
        query,
        _("💻 qiwi.com: enter the secret key of wallet {phone} to pay {amount}.").format(
            phone=phone(bill.phone, masked=True), amount=money(bill.amount)
        ),
        InlineKeyboardMarkup(inline_keyboard=[[back_to_invoice(order.id)], [home_button()]]),
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
    data = await state.get_data()
    try:
        bill = await aggregator.bill(int(data["bill"]))
    except (KeyError, BillNotFound):
        await state.clear()
        await message.answer(_("Let's start again."))
        return
    if bill.status != "WAITING" or bill.expires_at <= aggregator.clock.now():
        # Closed meanwhile (the order was cancelled or expired): no key needed, nothing to pay.
        await state.set_state(None)
        await _not_payable(message, await merchant.order(bill.inv_id))
        return
    if not looks_like_secret_key(message.text or ""):
        from handlers.wallet import not_a_key_text

        await message.answer(
            not_a_key_text()
            + "\n"
            + _("Signed in to this wallet here? «📱 In the app» pays without the key.")
        )
        return
    try:
        await wallets.verify_secret(bill.phone, message.text or "", user_id(message))
    except WrongSecret as error:
        from handlers.wallet import attempts_left_text

        await message.answer(attempts_left_text(error.attempts_left, secret=True))
        return
    except TooManyAttempts as error:
        from handlers.wallet import locked_text

        await state.set_state(None)
        await message.answer(locked_text(error))
        return
    except (WalletBlocked, WalletNotFound):
        await state.set_state(None)
        await message.answer(_("This wallet is blocked. Register again on a working number."))
        return
    await state.set_state(None)
    await pay_from_wallet(message, bill, int(data["order"]), aggregator, merchant, "site")


async def pay_in_app(
    query: CallbackQuery,
    callback_data: PayCb,
    wallets: WalletService,
    aggregator: Aggregator,
    merchant: Merchant,
) -> None:
    found = await _bill(query, aggregator, merchant, callback_data)
    if found is None:
        return
    order, bill = found
    wallet = await wallets.wallet_of(user_id(query))
    if wallet is None or wallet.phone != bill.phone:
        await query.answer(
            _(
                "In the app you are signed in to another wallet (or none). Pay on the site with "
                "the secret key instead."
            ),
            show_alert=True,
        )
        return
    await query.answer()
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
            reply_markup=InlineKeyboardMarkup(
                inline_keyboard=[
                    [button(_("💵 Top up"), MenuCb(action=MenuAction.topup))],
                    [back_to_invoice(order_id)],
                ]
            ),
        )
        return
    except MonthlyLimitExceeded as error:
        await message.answer(
            _(
                "This payment would break the wallet's monthly limit: at most {room} more this "
                "month."
            ).format(room=money(error.room)),
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[[home_button()]]),
        )
        return
    except WalletBlocked:
        await message.answer(
            _("This wallet is blocked. Register again on a working number."),
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[[home_button()]]),
        )
        return
    except (BillClosed, BillNotFound):
        await _not_payable(message, await merchant.order(order_id))
        return
    await paid_waiting(message, order_id, aggregator)


async def paid_waiting(message: Message, order_id: int, aggregator: Aggregator) -> None:
    await message.answer(
        _(
            "💸 QIWI has taken the payment for order No. {number}. Waiting for Robokassa to "
            "confirm it to the shop — the receipt will come in a moment."
        ).format(number=order_id),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[home_button()]]),
    )
    # The sandbox tells the shop (ResultURL) right away; retries happen in the background.
    await aggregator.deliver_callbacks(inv_id=order_id)


async def pay_at_terminal(
    query: CallbackQuery,
    callback_data: PayCb,
    state: FSMContext,
    aggregator: Aggregator,
    merchant: Merchant,
) -> None:
    from handlers.topup import TopUp, cash_keyboard, cash_screen

    found = await _bill(query, aggregator, merchant, callback_data)
    if found is None:
        return
    order, bill = found
    visit = await aggregator.open_terminal_payment(bill.id, user_id(query))
    session = await aggregator.cash.session(visit, user_id(query))
    await state.set_state(TopUp.cash)
    await state.update_data(visit=visit, order=order.id, bill=bill.id)
    await show(query, cash_screen(session, aggregator.cash), cash_keyboard(session))


async def junk(message: Message, state: FSMContext) -> None:
    if await state.get_state() == Paying.secret.state:
        text = _("I'm waiting for the secret key: 8 letters and digits, like ABCD-2345.")
    else:
        text = _("I'm waiting for a phone number, like +7 912 345-67-89.")
    await message.answer(text)


def make_router() -> Router:
    router = Router(name="payment")
    anywhere = StateFilter("*")

    def on(action: PayAction) -> Any:
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
