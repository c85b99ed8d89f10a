"""The cash terminal: number → «Next» → optional sum → banknotes → «Pay» → a receipt.

It is also the `TERMINAL` sub-flow: another journey sends the person here to pay bill N in
cash (`PayBill`), and gets `TerminalPaid` back once the receipt is printed.
"""

from __future__ import annotations

import contextlib

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.filters.callback_data import CallbackQueryFilter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message, ReplyKeyboardRemove
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from bot.i18n import money, phone
from handlers.callbacks import TopAction, TopCb
from handlers.flow import TERMINAL, Flows, PayBill, TerminalLeft, TerminalPaid
from handlers.phones import read_phone
from handlers.screens import show, tell, user_id
from handlers.sms import own_number, send_sms
from handlers.states import TopUp
from handlers.topup.data import TOPUP, finish
from handlers.views import topup as views
from handlers.views.errors import (
    give_working_number_text,
    no_sms_text,
    not_signed_in_text,
    stale_button_text,
    start_again_text,
)
from handlers.views.wallet import not_proved_text, opened_here_text, share_keyboard
from services.aggregator import Aggregator
from services.bills import BillClosed
from services.ledger import Ledger
from services.merchant import Merchant
from services.money import AmountNotUnderstood, parse_rubles
from services.numbers import parse_id
from services.operator import NotProved, Operator, PhoneDeactivated
from services.orders import Order, OrderNotFound
from services.terminal import (
    BANKNOTES,
    CashDesk,
    ForOrder,
    KopecksForCash,
    NotABanknote,
    NotEnoughCash,
    NothingInserted,
    RemainderChoiceNeeded,
    SessionNotFound,
    WouldBreakCap,
    banknote_sum_for,
)
from services.wallet import (
    WalletBlocked,
    WalletExists,
    WalletInfo,
    WalletNotFound,
    WalletService,
    wallet_account,
)

# ---- the number -----------------------------------------------------------------------


async def terminal(query: CallbackQuery, state: FSMContext, wallets: WalletService) -> None:
    await state.set_state(TopUp.terminal_phone)
    wallet = await wallets.wallet_of(user_id(query))
    own = wallet.phone if wallet is not None and wallet.active else None
    await show(
        query,
        _("🏧 QIWI terminal · «Top up»\nEnter the phone number of the wallet."),
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
    await number_chosen(query, state, wallets, wallet.phone)


async def typed_number(message: Message, state: FSMContext, wallets: WalletService) -> None:
    number = await read_phone(message)
    if number is not None:
        await number_chosen(message, state, wallets, number)


async def number_chosen(
    event: Message | CallbackQuery, state: FSMContext, wallets: WalletService, number: str
) -> None:
    await TOPUP.update(state, phone=number)
    status = await wallets.has_wallet(number)
    if status is None:
        await show(
            event,
            _(
                "There is no QIWI wallet on {phone}. The terminal can register one right now: "
                "the secret key will come by SMS."
            ).format(phone=phone(number)),
            views.no_wallet_keyboard(),
        )
        return
    if status == "blocked":
        await show(event, blocked_text(number), views.to_wallet_keyboard())
        return
    await show(event, _("Number: {phone}").format(phone=phone(number)), views.next_keyboard())


def blocked_text(number: str) -> str:
    return _("The wallet on {phone} is blocked. Register it again in «Wallet».").format(
        phone=phone(number)
    )


async def register_here(
    query: CallbackQuery,
    state: FSMContext,
    wallets: WalletService,
    merchant: Merchant,
    ledger: Ledger,
    callback_answer: CallbackAnswer,
) -> None:
    number = (await TOPUP.get(state)).phone
    if number is None or not isinstance(query.message, Message):
        await tell(query, stale_button_text(), callback_answer, alert=False)
        return
    try:
        registered = await wallets.register_at_terminal(number, user_id(query))
    except PhoneDeactivated:
        await tell(query, no_sms_text(), callback_answer)
        return
    except WalletBlocked:
        await tell(query, blocked_text(number), callback_answer)
        return
    except NotProved:
        # Sharing the number from here registers it at once (see `shared_number`).
        await TOPUP.update(state, registering=True)
        await query.message.answer(
            _("The secret key comes by SMS.") + " " + not_proved_text(number),
            reply_markup=share_keyboard(),
        )
        return
    except WalletExists:
        await ask_intended(query, state, merchant, ledger)
        return
    # The SMS arrives as its own message, and the terminal's next screen comes after it.
    assert query.bot is not None
    await send_sms(query.bot, registered.sms)
    await ask_intended(query.message, state, merchant, ledger, opened=registered.wallet)


async def shared_number(
    message: Message,
    state: FSMContext,
    wallets: WalletService,
    operator: Operator,
    merchant: Merchant,
    ledger: Ledger,
) -> None:
    """The person shared their own number at the terminal: it is theirs now, and if they were
    registering, the terminal goes on with it."""
    number = await own_number(message, operator)
    if number is None:
        return
    data = await TOPUP.get(state)
    await message.answer(_("Got it."), reply_markup=ReplyKeyboardRemove())
    if not (data.registering and data.phone == number):
        await number_chosen(message, state, wallets, number)
        return
    await TOPUP.update(state, registering=False)
    try:
        registered = await wallets.register_at_terminal(number, user_id(message))
    except (PhoneDeactivated, WalletBlocked, WalletExists, NotProved):
        await number_chosen(message, state, wallets, number)
        return
    assert message.bot is not None
    await send_sms(message.bot, registered.sms)
    await ask_intended(message, state, merchant, ledger, opened=registered.wallet)


# ---- the intended sum ------------------------------------------------------------------


async def ask_intended(
    event: Message | CallbackQuery,
    state: FSMContext,
    merchant: Merchant,
    ledger: Ledger,
    *,
    opened: WalletInfo | None = None,
) -> None:
    """The sum step; `opened`: the wallet this visit just registered, said to be ready first so
    nobody inserts cash without knowing where it goes. An unpaid order that lacks money in the
    wallet is offered as the sum, with what banknotes make of it and where the rest goes."""
    await state.set_state(TopUp.intended)
    text = _(
        "How much do you want to credit? Type the sum, or tap «Skip» and just insert banknotes."
    )
    offer = await order_offer(event, state, merchant, ledger)
    if offer is not None:
        text = f"{views.order_offer_text(offer)}\n\n{text}"
    if opened is not None:
        text = f"{opened_here_text(opened)}\n\n{text}"
    await show(event, text, views.skip_keyboard(offer))


async def order_offer(
    event: Message | CallbackQuery, state: FSMContext, merchant: Merchant, ledger: Ledger
) -> ForOrder | None:
    """The order this top-up may be for: the one whose invoice sent the person here, else their
    newest unpaid one; None when there is none or the wallet already has enough for it."""
    data = await TOPUP.get(state)
    if data.phone is None:
        return None
    order: Order | None = None
    if data.carried and data.order is not None:
        try:
            order = await merchant.order_of(data.order, user_id(event))
        except OrderNotFound:
            order = None
    else:
        orders, _total = await merchant.buyer_orders(user_id(event))
        order = next((o for o in orders if o.payable), None)
    if order is None or not order.payable:
        return None
    needed = order.amount - await ledger.balance(wallet_account(data.phone))
    bill = data.bill if data.carried and data.order == order.id else 0
    await TOPUP.update(state, order=order.id, bill=bill, needed=max(needed, 0))
    if needed <= 0:
        return None
    return ForOrder(order.id, bill, needed)


async def next_step(
    query: CallbackQuery,
    state: FSMContext,
    merchant: Merchant,
    ledger: Ledger,
    callback_answer: CallbackAnswer,
) -> None:
    if (await TOPUP.get(state)).phone is None:
        await tell(query, stale_button_text(), callback_answer, alert=False)
        return
    await ask_intended(query, state, merchant, ledger)


async def typed_intended(message: Message, state: FSMContext, cash: CashDesk) -> None:
    try:
        intended = parse_rubles(message.text or "")
    except AmountNotUnderstood as error:
        await message.answer(views.amount_error_text(error))
        return
    await start_cash(message, state, cash, intended)


async def skip_intended(query: CallbackQuery, state: FSMContext, cash: CashDesk) -> None:
    await start_cash(query, state, cash, None)


async def for_order(
    query: CallbackQuery, state: FSMContext, cash: CashDesk, callback_answer: CallbackAnswer
) -> None:
    """The offered sum: what the order lacks, made of banknotes."""
    data = await TOPUP.get(state)
    if data.order is None or data.needed <= 0:
        await tell(query, stale_button_text(), callback_answer, alert=False)
        return
    await start_cash(query, state, cash, banknote_sum_for(data.needed), for_order=True)


async def start_cash(
    event: Message | CallbackQuery,
    state: FSMContext,
    cash: CashDesk,
    intended: int | None,
    *,
    for_order: bool = False,
) -> None:
    data = await TOPUP.get(state)
    number = data.phone
    if number is None:
        await finish(state)
        await show(event, start_again_text(), views.topup_menu())
        return
    # The top-up is for the order when the person came from its invoice or took the offer.
    meant = None
    if data.order is not None and (data.carried or for_order):
        meant = ForOrder(data.order, data.bill, data.needed)
    offer = meant if meant is not None and meant.needed > 0 else None
    try:
        session = await cash.open_session(
            user_id(event), number, intended=intended, for_order=meant
        )
    except PhoneDeactivated:
        await show(event, give_working_number_text(), views.topup_menu())
        return
    except (WalletNotFound, WalletBlocked):
        await show(event, _("There is no working wallet on this number."), views.topup_menu())
        return
    except KopecksForCash:
        # The step stays: the person types whole roubles next.
        await show(event, views.kopecks_refused_text(intended or 0), views.skip_keyboard(offer))
        return
    except WouldBreakCap as error:
        await show(event, views.intended_refused_text(error), views.skip_keyboard())
        return
    await state.set_state(TopUp.cash)
    await TOPUP.update(state, visit=session.id)
    await show(event, views.cash_screen(session, cash), views.cash_keyboard(session))


@TERMINAL.entry
async def pay_bill(
    query: CallbackQuery,
    state: FSMContext,
    arg: PayBill,
    aggregator: Aggregator,
    cash: CashDesk,
) -> None:
    """The terminal as a sub-flow: a visit for exactly the bill's amount."""
    visit = await aggregator.open_terminal_payment(arg.bill, user_id(query))
    session = await cash.session(visit, user_id(query))
    await state.set_state(TopUp.cash)
    await TOPUP.update(state, visit=visit)
    screen = views.cash_screen(session, cash)
    await show(
        query, f"{arg.note}\n\n{screen}" if arg.note else screen, views.cash_keyboard(session)
    )


# ---- banknotes -------------------------------------------------------------------------


async def insert_note(
    query: CallbackQuery, callback_data: TopCb, cash: CashDesk, callback_answer: CallbackAnswer
) -> None:
    await insert(
        query, cash, callback_data.visit, callback_data.value, f"cb:{query.id}", callback_answer
    )


async def insert(
    event: Message | CallbackQuery,
    cash: CashDesk,
    visit: int,
    banknote: int,
    request: str,
    answer: CallbackAnswer | None = None,
) -> None:
    try:
        session = await cash.insert(visit, user_id(event), banknote, request=request)
    except (SessionNotFound, NotABanknote):  # a visit that is over, or a forged button
        await stale(event, cash, visit, answer)
        return
    except WouldBreakCap as error:
        await tell(event, views.banknote_refused_text(error), answer)
        return
    screen, markup = views.cash_screen(session, cash), views.cash_keyboard(session)
    if isinstance(event, CallbackQuery):
        await tell(event, _("Accepted: {note} ₽").format(note=banknote), answer, alert=False)
        assert isinstance(event.message, Message)
        with contextlib.suppress(TelegramBadRequest):  # "not modified": the same press again
            await event.message.edit_text(screen, reply_markup=markup)
    else:
        await event.answer(screen, reply_markup=markup)


async def typed_in_cash(message: Message, state: FSMContext, cash: CashDesk) -> None:
    visit = (await TOPUP.get(state)).visit
    text = (message.text or "").strip().removesuffix("₽").strip()
    try:
        note: int | None = parse_id(text)
    except ValueError:
        note = None
    if visit is not None and note in BANKNOTES:
        assert note is not None
        await insert(message, cash, visit, note, f"msg:{message.message_id}")
        return
    await message.answer(
        _(
            "The terminal takes only banknotes: 10, 50, 100, 200, 500, 1000, 2000 and 5000 ₽; "
            "no coins. Tap a banknote button."
        )
    )


# ---- paying and leaving ----------------------------------------------------------------


async def pay(
    query: CallbackQuery,
    callback_data: TopCb,
    state: FSMContext,
    cash: CashDesk,
    flows: Flows,
    callback_answer: CallbackAnswer,
) -> None:
    remainder_to = {TopAction.rest_phone: "phone", TopAction.rest_wallet: "wallet"}.get(
        callback_data.action
    )
    visit = callback_data.visit
    if await cash.finished_receipt(visit, user_id(query)) is not None:
        # Paid or left already: the receipt exists; this old screen must not restart anything.
        await stale(query, cash, visit, callback_answer)
        return
    try:
        receipt = await cash.pay(visit, user_id(query), remainder_to=remainder_to)
    except NothingInserted:
        await tell(query, _("Insert banknotes first."), callback_answer)
        return
    except NotEnoughCash as error:
        text = _("Not enough for the invoice: insert {sum} more.").format(sum=money(error.missing))
        await tell(query, text, callback_answer)
        return
    except RemainderChoiceNeeded as error:
        session = await cash.session(visit, user_id(query))
        await show(
            query,
            _(
                "The invoice sum is not round, and the terminal gives no change. "
                "Where should the remainder of {sum} go?"
            ).format(sum=money(error.remainder)),
            views.remainder_keyboard(session),
        )
        return
    except (WalletNotFound, WalletBlocked):
        text = _("There is no working wallet on this number: send the remainder to the phone.")
        await tell(query, text, callback_answer)
        return
    except BillClosed:
        text = _(
            "The invoice is no longer open. Leave the terminal: what you inserted is credited."
        )
        await tell(query, text, callback_answer)
        return
    except SessionNotFound:
        await stale(query, cash, visit, callback_answer)
        return
    await state.set_state(None)
    await show(query, views.receipt_text(receipt), views.after_receipt_keyboard(receipt))
    if receipt.purpose == "payment" and isinstance(query.message, Message):
        await flows.done(TERMINAL, TerminalPaid(receipt.number), event=query.message)


async def leave(
    query: CallbackQuery,
    callback_data: TopCb,
    state: FSMContext,
    cash: CashDesk,
    flows: Flows,
    callback_answer: CallbackAnswer,
) -> None:
    try:
        paying = (await cash.session(callback_data.visit, user_id(query))).purpose == "payment"
    except SessionNotFound:
        paying = False
    receipt = await cash.cancel(callback_data.visit, user_id(query))
    if receipt is None and await cash.finished_receipt(callback_data.visit, user_id(query)):
        # A screen of a visit that is over: this press ends nothing, the current step stays.
        await stale(query, cash, callback_data.visit, callback_answer)
        return
    if paying and await flows.caller(TERMINAL) is not None:
        # Sent here to pay an invoice: leaving goes back to that invoice, not to «Top up».
        await finish(state)
        if receipt is None:
            await flows.done(TERMINAL, TerminalLeft(), event=query)
            return
        await show(query, views.left_with_cash_text(receipt), None)
        # The receipt stays on screen; the invoice comes as a new message below it.
        below = query.message if isinstance(query.message, Message) else query
        await flows.done(TERMINAL, TerminalLeft(receipt.number), event=below)
        return
    await finish(state)
    if receipt is None:
        await show(query, _("You left the terminal. Nothing was inserted."), views.topup_menu())
        return
    await show(query, views.left_with_cash_text(receipt), views.after_receipt_keyboard(receipt))


async def leave_by_command(message: Message, state: FSMContext, cash: CashDesk) -> None:
    """/cancel or /start at the terminal: cash already inside is receipted, never lost; then
    the command goes on to do what it always does."""
    visit = (await TOPUP.get(state)).visit
    if visit is not None:
        receipt = await cash.cancel(visit, user_id(message))
        if receipt is not None:
            await message.answer(views.left_with_cash_text(receipt))
    raise SkipHandler


async def stale(
    event: Message | CallbackQuery, cash: CashDesk, visit: int, answer: CallbackAnswer | None
) -> None:
    receipt = await cash.finished_receipt(visit, user_id(event))
    if receipt is not None:
        text = views.visit_over_text(receipt)
    else:
        text = _("This terminal screen is finished. Start again from «Top up».")
    await tell(event, text, answer)


async def junk(message: Message, state: FSMContext) -> None:
    """Stickers, photos and the like at the terminal: say what is expected, keep the step."""
    hints = {
        TopUp.terminal_phone.state: _("I'm waiting for a phone number, like +7 912 345-67-89."),
        TopUp.intended.state: _("I'm waiting for a sum, like 1 000, or tap «Skip»."),
        TopUp.cash.state: _("The terminal takes banknotes: tap a banknote button."),
    }
    current = await state.get_state()
    await message.answer(hints.get(current or "", _("Use the buttons above or /cancel.")))


def make_router() -> Router:
    router = Router(name="topup.terminal")
    anywhere = StateFilter("*")
    not_command = ~F.text.startswith("/")

    def on(action: TopAction) -> CallbackQueryFilter:
        return TopCb.filter(F.action == action)

    router.message.register(leave_by_command, TopUp.cash, Command("cancel"))
    router.message.register(leave_by_command, TopUp.cash, CommandStart())
    router.callback_query.register(terminal, on(TopAction.terminal), anywhere)
    router.callback_query.register(my_number, on(TopAction.my_number), TopUp.terminal_phone)
    router.callback_query.register(register_here, on(TopAction.register_here), TopUp.terminal_phone)
    router.callback_query.register(next_step, on(TopAction.next), TopUp.terminal_phone)
    router.callback_query.register(skip_intended, on(TopAction.skip), TopUp.intended)
    router.callback_query.register(for_order, on(TopAction.for_order), TopUp.intended)
    router.callback_query.register(insert_note, on(TopAction.note), anywhere)
    for action in (TopAction.pay, TopAction.rest_phone, TopAction.rest_wallet):
        router.callback_query.register(pay, on(action), anywhere)
    router.callback_query.register(leave, on(TopAction.leave), anywhere)
    router.message.register(shared_number, TopUp.terminal_phone, F.contact)
    router.message.register(typed_number, TopUp.terminal_phone, F.text, not_command)
    router.message.register(typed_intended, TopUp.intended, F.text, not_command)
    router.message.register(typed_in_cash, TopUp.cash, F.text, not_command)
    router.message.register(
        junk, StateFilter(TopUp.terminal_phone, TopUp.intended, TopUp.cash), not_command
    )
    return router
