"""From «Pay» to an invoice: the payment page, the method list, the number, the bill; a
number without a wallet goes through registration and comes back here."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot.i18n import current_locale, money
from handlers.callbacks import PayCb
from handlers.flow import (
    REGISTRATION,
    Flows,
    ForInvoice,
    WalletOpened,
)
from handlers.payment import live
from handlers.payment.bill import pay_from_wallet
from handlers.payment.common import (
    CALLER,
    OPERATION_HEADER,
    PAYMENT,
    not_payable,
    payable_order,
    show_bill,
)
from handlers.payments import Payments
from handlers.phones import read_phone
from handlers.screens import show, tell, user_id
from handlers.states import Paying
from handlers.views import payment as views
from handlers.views.common import back_home
from handlers.views.errors import (
    not_signed_in_text,
    not_your_order_text,
    start_again_text,
)
from handlers.views.wallet import (
    ready_keyboard,
    ready_text,
)
from services.aggregator import Aggregator
from services.bills import Bill, BillClosed, BillNotFound, NoWalletOnPhone
from services.merchant import Merchant
from services.operator import Operator, PhoneDeactivated
from services.orders import Order, OrderNotFound
from services.tgpay import TelegramPayments
from services.wallet import (
    WalletService,
)


async def start_payment(
    query: CallbackQuery,
    callback_data: PayCb,
    state: FSMContext,
    merchant: Merchant,
    services: Payments,
    callback_answer: CallbackAnswer,
    telegram_payments: TelegramPayments,
) -> None:
    order = await payable_order(query, merchant, callback_data.order)
    if order is None:
        return
    if not services.sandbox:
        await live.start(query, order, merchant, services, telegram_payments)
        return
    url = services.checkout.payment_url(order, culture=current_locale())
    await merchant.mark_awaiting(order.id)
    if not await open_operation(query, state, order, url, services, callback_answer):
        return
    methods = await services.robokassa.currencies(language=current_locale())
    await show(
        query,
        _(
            "Robokassa: choose how to pay {amount} for order No. {number}.\n"
            "«Visa QIWI Wallet» is what Robokassa's list calls the QIWI wallet: "
            "no bank card is needed."
        ).format(amount=money(order.amount), number=order.id),
        views.methods_keyboard(order, methods),
    )


async def open_operation(
    query: CallbackQuery,
    state: FSMContext,
    order: Order,
    url: str,
    services: Payments,
    callback_answer: CallbackAnswer,
) -> bool:
    """Sandbox: open the signed payment page as the buyer's browser would; its operation is
    remembered for the bill. False (and the person told) when Robokassa refused."""
    page = await services.robokassa.open_payment_page(url)
    operation = page.headers.get(OPERATION_HEADER)
    if operation is None:
        text = _("Robokassa refused the payment (error {code}). Try again later.").format(
            code=page.headers.get("X-Robokassa-Error", "?")
        )
        await tell(query, text, callback_answer)
        return False
    await PAYMENT.update(state, operation=int(operation), order=order.id)
    return True


async def pay_order_from_wallet(
    query: CallbackQuery,
    callback_data: PayCb,
    state: FSMContext,
    merchant: Merchant,
    services: Payments,
    aggregator: Aggregator,
    wallets: WalletService,
    callback_answer: CallbackAnswer,
    telegram_payments: TelegramPayments,
) -> None:
    """«Pay … from the wallet» on the order: the article's way (Robokassa → Visa QIWI Wallet →
    a bill to the wallet's number → paid in the app) in one tap, for one's own wallet."""
    order = await payable_order(query, merchant, callback_data.order)
    if order is None:
        return
    wallet = await wallets.wallet_of(user_id(query))
    if not services.sandbox or wallet is None or not wallet.active:
        # The wallet is gone since the button was drawn: the ordinary way, step by step.
        await start_payment(
            query, callback_data, state, merchant, services, callback_answer, telegram_payments
        )
        return
    url = services.checkout.payment_url(order, culture=current_locale())
    await merchant.mark_awaiting(order.id)
    if not await open_operation(query, state, order, url, services, callback_answer):
        return
    bill = await issue(
        query, state, merchant, aggregator, order.id, wallet.phone, wallets, quiet=True
    )
    if bill is None:
        return
    assert isinstance(query.message, Message)
    await pay_from_wallet(query.message, bill, order.id, aggregator, merchant, "app")


async def unavailable(query: CallbackQuery, callback_answer: CallbackAnswer) -> None:
    text = _("This method is not available in the sandbox. Choose Visa QIWI Wallet.")
    await tell(query, text, callback_answer)


async def choose_qiwi(
    query: CallbackQuery,
    callback_data: PayCb,
    state: FSMContext,
    wallets: WalletService,
    operator: Operator,
    merchant: Merchant,
) -> None:
    order = await payable_order(query, merchant, callback_data.order)
    if order is None:
        return
    await ask_number(query, state, wallets, operator, order)


async def own_number(
    user: int, wallets: WalletService, operator: Operator
) -> tuple[str | None, bool]:
    """The person's own number to offer, and whether it is their wallet's: the signed-in
    wallet's, else the one their shared contact proved while the operator still serves it."""
    wallet = await wallets.wallet_of(user)
    if wallet is not None and wallet.active:
        return wallet.phone, True
    known = await operator.number_of(user)
    if known is None or await operator.status(known) != "active":
        return None, False
    return known, False


async def ask_number(
    query: CallbackQuery,
    state: FSMContext,
    wallets: WalletService,
    operator: Operator,
    order: Order,
) -> None:
    await state.set_state(Paying.phone)
    own, is_wallet = await own_number(user_id(query), wallets, operator)
    await show(query, views.number_prompt_text(own), views.number_keyboard(order, own, is_wallet))


async def my_number(
    query: CallbackQuery,
    callback_data: PayCb,
    state: FSMContext,
    wallets: WalletService,
    operator: Operator,
    merchant: Merchant,
    aggregator: Aggregator,
    callback_answer: CallbackAnswer,
) -> None:
    own, _is_wallet = await own_number(user_id(query), wallets, operator)
    if own is None:
        # A wallet blocked since the button was shown (its number dropped by the operator):
        # the bill to that number says why it cannot be paid there and what to do instead.
        wallet = await wallets.wallet_of(user_id(query))
        own = wallet.phone if wallet is not None else None
    if own is None:
        await tell(query, not_signed_in_text(), callback_answer)
        return
    await issue(query, state, merchant, aggregator, callback_data.order, own, wallets)


async def typed_number(
    message: Message,
    state: FSMContext,
    merchant: Merchant,
    aggregator: Aggregator,
    wallets: WalletService,
) -> None:
    number = await read_phone(message)
    if number is None:
        return
    order_id = (await PAYMENT.get(state)).order
    if order_id is None:
        await state.clear()
        await message.answer(start_again_text(), reply_markup=back_home())
        return
    await issue(message, state, merchant, aggregator, order_id, number, wallets)


async def issue(
    event: Message | CallbackQuery,
    state: FSMContext,
    merchant: Merchant,
    aggregator: Aggregator,
    order_id: int,
    number: str,
    wallets: WalletService,
    *,
    quiet: bool = False,
) -> Bill | None:
    """A bill to `number` for the order; no wallet there → say exactly that, offer one; a
    number the operator no longer serves → registering again, or another number. `quiet`:
    the caller pays the bill at once, so it is not shown. None: another screen was shown."""
    try:
        order = await merchant.order_of(order_id, user_id(event))
    except OrderNotFound:
        await show(event, not_your_order_text(), None)
        return None
    if not order.payable:
        await not_payable(event, order)
        return None
    operation = (await PAYMENT.get(state)).operation
    if operation is None:
        await show(event, start_again_text(), views.pay_again_keyboard(order))
        return None
    try:
        bill = await aggregator.issue_bill(operation, number)
    except NoWalletOnPhone:
        # Still the number step: the text invites typing another number.
        await state.set_state(Paying.phone)
        await PAYMENT.update(state, order=order.id, pay_phone=number)
        await show(event, views.no_wallet_text(number), views.no_wallet_keyboard(order.id))
        return None
    except PhoneDeactivated:
        await state.set_state(Paying.phone)
        await PAYMENT.update(state, order=order.id, pay_phone=None)
        wallet = await wallets.wallet_of(user_id(event))
        blocked = wallet is not None and not wallet.active and wallet.phone == number
        await show(
            event,
            views.deactivated_text(number, blocked=blocked),
            views.deactivated_keyboard(order.id, blocked=blocked),
        )
        return None
    except (BillClosed, BillNotFound):
        await not_payable(event, await merchant.order(order.id))
        return None
    await state.set_state(None)
    await PAYMENT.update(state, bill=bill.id, order=order.id)
    if not quiet:
        await show_bill(event, order, bill, wallets)
    return bill


async def register_wallet(
    query: CallbackQuery, callback_data: PayCb, state: FSMContext, flows: Flows
) -> None:
    data = await PAYMENT.get(state)
    refused = data.pay_phone if data.order == callback_data.order else None
    await PAYMENT.update(state, order=callback_data.order)
    await flows.start(REGISTRATION, ForInvoice(callback_data.order, refused), caller=CALLER)


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
    operator: Operator,
) -> None:
    """Back to the same invoice after registering or topping up: a bill to the wallet's number."""
    order = await payable_order(query, merchant, callback_data.order)
    if order is None:
        return
    wallet = await wallets.wallet_of(user_id(query))
    data = await PAYMENT.get(state)
    if callback_data.bill and (data.operation is None or data.order != order.id):
        # A button naming its invoice (under a top-up's receipt, maybe hours later): that
        # invoice, while it can still be paid, whatever the person did in between.
        try:
            bill = await aggregator.bill(callback_data.bill)
        except BillNotFound:
            bill = None
        payable = bill is not None and bill.inv_id == order.id and bill.status == "WAITING"
        if bill is not None and payable and bill.expires_at > aggregator.clock.now():
            await PAYMENT.update(state, bill=bill.id, order=order.id)
            await show(query, views.invoice_text(order, bill), views.invoice_keyboard(order, bill))
            return
    if data.operation is None or data.order != order.id:
        await show(query, _("Let's open the payment again."), views.pay_again_keyboard(order))
        return
    number = wallet.phone if wallet is not None else data.pay_phone
    if number is None:
        await ask_number(query, state, wallets, operator, order)
        return
    await issue(query, state, merchant, aggregator, order.id, number, wallets)
