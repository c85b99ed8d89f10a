"""Top-up journeys: the cash terminal (banknotes, no change, receipt) and the mobile shop."""

from __future__ import annotations

import contextlib
from enum import StrEnum
from typing import Any

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _

from bot.i18n import money, phone, when
from handlers import start
from handlers.callbacks import Callback, MenuAction, MenuCb
from handlers.keyboards import button, home_button
from handlers.phones import read_phone
from handlers.screens import show, user_id
from services.aggregator import Aggregator
from services.bills import BillClosed
from services.money import AmountNotUnderstood, parse_rubles
from services.numbers import parse_id
from services.operator import NotProved, Operator, PhoneDeactivated
from services.terminal import (
    BANKNOTES,
    BadAmount,
    CashDesk,
    CashSession,
    NotABanknote,
    NotEnoughCash,
    NothingInserted,
    Receipt,
    ReceiptNotFound,
    RemainderChoiceNeeded,
    SessionNotFound,
    WouldBreakCap,
)
from services.wallet import WalletBlocked, WalletExists, WalletNotFound, WalletService


class TopUp(StatesGroup):
    terminal_phone = State()
    intended = State()
    cash = State()
    salon_phone = State()
    salon_amount = State()
    check = State()


class TopAction(StrEnum):
    menu = "menu"
    terminal = "term"
    salon = "salon"
    check = "check"
    my_number = "mine"
    next = "next"
    skip = "skip"
    note = "note"
    pay = "pay"
    leave = "leave"
    register_here = "reg"
    rest_phone = "rphone"
    rest_wallet = "rwallet"


class TopCb(Callback, prefix="t1"):
    action: TopAction
    value: int = 0  # a banknote in roubles
    visit: int = 0  # the terminal visit a button belongs to


# ---- texts -----------------------------------------------------------------------------


def amount_error_text(error: AmountNotUnderstood) -> str:
    if error.reason == "not_positive":
        return _("The sum must be more than zero. For example: 1 000 or 250,50.")
    if error.reason == "too_precise":
        return _("Kopecks take at most two digits after the comma. For example: 250,50.")
    if error.reason == "too_big":
        return _("That is too much for one operation. Type a smaller sum.")
    return _("Type the sum in roubles with digits, for example 1 000 or 250,50.")


def commission_line(cash: CashDesk) -> str:
    percent = cash.rules.commission_bp / 100
    shown = f"{percent:g}".replace(".", ",")
    return _("Commission: {percent} %").format(percent=shown)


def cash_screen(session: CashSession, cash: CashDesk) -> str:
    if session.purpose == "payment":
        return payment_cash_screen(session)
    lines = [
        _("🏧 Terminal {terminal} · «Top up»").format(terminal=session.point),
        _("Number: {phone}").format(phone=phone(session.phone)),
    ]
    if session.intended:
        lines.append(_("You want to credit: {sum}").format(sum=money(session.intended)))
    lines.append(commission_line(cash))
    lines.append(_("Inserted: <b>{sum}</b>").format(sum=money(session.inserted)))
    lines.append(_("Will be credited: {sum}").format(sum=money(session.to_credit)))
    lines.append("")
    lines.append(_("Insert banknotes one by one. The terminal gives no change."))
    return "\n".join(lines)


def payment_cash_screen(session: CashSession) -> str:
    lines = [
        _("🏧 Terminal {terminal} · «Pay an invoice»").format(terminal=session.point),
        _("Invoice for {phone}").format(phone=phone(session.phone, masked=True)),
        _("To pay: <b>{sum}</b>").format(sum=money(session.amount or 0)),
        _("Inserted: <b>{sum}</b>").format(sum=money(session.inserted)),
    ]
    if session.missing:
        lines.append(_("Still to insert: {sum}").format(sum=money(session.missing)))
    elif session.remainder:
        lines.append(
            _("Remainder: {sum} — you choose where it goes").format(sum=money(session.remainder))
        )
    lines.append(commission_free_line())
    lines.append("")
    lines.append(_("Insert banknotes one by one. The terminal gives no change."))
    return "\n".join(lines)


def commission_free_line() -> str:
    return _("Commission: {sum}").format(sum=money(0))


def remainder_keyboard(session: CashSession) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                button(
                    _("📱 To the mobile balance"),
                    TopCb(action=TopAction.rest_phone, visit=session.id),
                )
            ],
            [button(_("👛 To the wallet"), TopCb(action=TopAction.rest_wallet, visit=session.id))],
        ]
    )


def cash_keyboard(session: CashSession) -> InlineKeyboardMarkup:
    notes = [
        button(f"{note} ₽", TopCb(action=TopAction.note, value=note, visit=session.id))
        for note in BANKNOTES
    ]
    return InlineKeyboardMarkup(
        inline_keyboard=[
            notes[:3],
            notes[3:6],
            notes[6:],
            [button(_("✅ Pay"), TopCb(action=TopAction.pay, visit=session.id))],
            [button(_("✖️ Leave the terminal"), TopCb(action=TopAction.leave, visit=session.id))],
        ]
    )


def receipt_text(receipt: Receipt) -> str:
    """The printed receipt, monospace like the terminal's paper."""
    title = _("RECEIPT No. {number}").format(number=receipt.number)
    if receipt.kind == "salon":
        place = _("Mobile shop {point}").format(point=receipt.point)
    else:
        place = _("Terminal {point}").format(point=receipt.point)
    lines = [title, when(receipt.created_at), place]
    if receipt.purpose == "payment" and receipt.order is not None:
        number, shop = receipt.order
        lines.append(_("Payment for order No. {number}").format(number=number))
        if shop:
            lines.append(shop)
    elif receipt.purpose == "payment":
        lines.append(_("Invoice payment"))
    else:
        lines.append(_("QIWI wallet top-up"))
    lines.append(_("Number: {phone}").format(phone=phone(receipt.phone, masked=True)))
    if receipt.notes:
        lines.append(_("Banknotes: {notes}").format(notes=" + ".join(map(str, receipt.notes))))
    lines.append(_("Inserted: {sum}").format(sum=money(receipt.inserted)))
    lines.append(_("Commission: {sum}").format(sum=money(receipt.commission)))
    if receipt.purpose == "payment":
        lines.append(_("Paid: {sum}").format(sum=money(receipt.paid)))
        if receipt.remainder:
            where = (
                _("to the mobile balance")
                if receipt.remainder_to == "phone"
                else _("to the wallet")
            )
            lines.append(
                _("Remainder {sum} {where}").format(sum=money(receipt.remainder), where=where)
            )
    elif receipt.pending:
        lines.append(_("To be credited: {sum}").format(sum=money(receipt.credited)))
    else:
        lines.append(_("Credited: {sum}").format(sum=money(receipt.credited)))
    status = _("Credited") if not receipt.pending else _("Processing")
    lines.append(_("Status: {status}").format(status=status))
    body = "\n".join(lines)
    text = f"<pre>{body}</pre>\n"
    if receipt.pending:
        text += _(
            "Keep the receipt until the money arrives: it usually takes up to a few hours. "
            "I will write to you when it is credited."
        )
    else:
        text += _("Keep the receipt until you see the money in the wallet.")
    return text


def receipt_status_text(receipt: Receipt) -> str:
    if receipt.pending:
        return _(
            "🧾 Receipt No. {number} of {date}: {sum} to be credited to {phone}, expected by {due}."
        ).format(
            number=receipt.number,
            date=when(receipt.created_at),
            sum=money(receipt.credited or receipt.inserted),
            phone=phone(receipt.phone, masked=True),
            due=when(receipt.due_at),
        )
    credited_at = receipt.credited_at or receipt.created_at
    return _("🧾 Receipt No. {number} of {date}: {sum} to {phone} — credited {credited}.").format(
        number=receipt.number,
        date=when(receipt.created_at),
        sum=money(receipt.credited or receipt.paid),
        phone=phone(receipt.phone, masked=True),
        credited=when(credited_at),
    )


def render_receipt_credited(payload: dict[str, Any]) -> tuple[str, InlineKeyboardMarkup | None]:
    """The outbox message sent when a delayed receipt is finally credited."""
    text = _("💰 The money for receipt No. {number} has arrived: {sum} to wallet {phone}.").format(
        number=payload["receipt"], sum=money(payload["amount"]), phone=phone(payload["phone"])
    )
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[button(_("👛 Wallet"), MenuCb(action=MenuAction.wallet))]]
    )
    return text, markup


# ---- keyboards -------------------------------------------------------------------------


def topup_menu() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [button(_("🏧 Terminal"), TopCb(action=TopAction.terminal))],
            [button(_("🏬 Mobile shop"), TopCb(action=TopAction.salon))],
            [button(_("🧾 Check a receipt"), TopCb(action=TopAction.check))],
            [home_button()],
        ]
    )


def back_to_topup() -> list[Any]:
    return [button(_("⬅️ Back"), TopCb(action=TopAction.menu)), home_button()]


async def phone_keyboard(
    event: Message | CallbackQuery, wallets: WalletService
) -> InlineKeyboardMarkup:
    rows = []
    wallet = await wallets.wallet_of(user_id(event))
    if wallet is not None and wallet.active:
        rows.append([button(f"📱 {phone(wallet.phone)}", TopCb(action=TopAction.my_number))])
    rows.append(back_to_topup())
    return InlineKeyboardMarkup(inline_keyboard=rows)


def after_receipt_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [button(_("🧾 Check a receipt"), TopCb(action=TopAction.check))],
            [button(_("👛 Wallet"), MenuCb(action=MenuAction.wallet)), home_button()],
        ]
    )


# ---- the top-up menu -------------------------------------------------------------------


async def open_menu(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()
    await show(
        query,
        _(
            "💵 How would you like to top up the wallet?\n"
            "🏧 Terminal — cash, banknotes only, no change.\n"
            "🏬 Mobile shop — a consultant credits the money.\n"
            "🧾 Check a receipt — see whether the money has arrived."
        ),
        topup_menu(),
    )


# ---- terminal: number, intended sum, banknotes, receipt --------------------------------


async def terminal(query: CallbackQuery, state: FSMContext, wallets: WalletService) -> None:
    await state.set_state(TopUp.terminal_phone)
    await show(
        query,
        _("🏧 QIWI terminal · «Top up»\nEnter the phone number of the wallet."),
        await phone_keyboard(query, wallets),
    )


async def my_number(
    query: CallbackQuery, state: FSMContext, wallets: WalletService, cash: CashDesk
) -> None:
    wallet = await wallets.wallet_of(user_id(query))
    if wallet is None:
        await query.answer(_("You are not signed in to a wallet."), show_alert=True)
        return
    await number_chosen(query, state, wallets, cash, wallet.phone)


async def typed_number(
    message: Message, state: FSMContext, wallets: WalletService, cash: CashDesk
) -> None:
    number = await read_phone(message)
    if number is None:
        return
    await number_chosen(message, state, wallets, cash, number)


async def number_chosen(
    event: Message | CallbackQuery,
    state: FSMContext,
    wallets: WalletService,
    cash: CashDesk,
    number: str,
) -> None:
    current = await state.get_state()
    await state.update_data(phone=number)
    if current == TopUp.salon_phone.state:
        await ask_salon_amount(event, state, wallets, number)
        return
    status = await wallets.has_wallet(number)
    if status is None:
        await show(
            event,
            _(
                "There is no QIWI wallet on {phone}. The terminal can register one right now: "
                "the secret key will come by SMS."
            ).format(phone=phone(number)),
            InlineKeyboardMarkup(
                inline_keyboard=[
                    [button(_("📝 Register here"), TopCb(action=TopAction.register_here))],
                    [button(_("👛 Register in the bot"), MenuCb(action=MenuAction.wallet))],
                    back_to_topup(),
                ]
            ),
        )
        return
    if status == "blocked":
        await show(
            event,
            _("The wallet on {phone} is blocked. Register it again in «Wallet».").format(
                phone=phone(number)
            ),
            InlineKeyboardMarkup(
                inline_keyboard=[
                    [button(_("👛 Wallet"), MenuCb(action=MenuAction.wallet))],
                    back_to_topup(),
                ]
            ),
        )
        return
    await show(
        event,
        _("Number: {phone}").format(phone=phone(number)),
        InlineKeyboardMarkup(
            inline_keyboard=[
                [button(_("Next ➡️"), TopCb(action=TopAction.next))],
                back_to_topup(),
            ]
        ),
    )


async def register_here(query: CallbackQuery, state: FSMContext, wallets: WalletService) -> None:
    from handlers.wallet import not_proved_text, send_sms, share_keyboard

    number = (await state.get_data()).get("phone")
    if number is None or not isinstance(query.message, Message):
        await query.answer(_("This button is out of date. Open the menu with /start."))
        return
    try:
        registered = await wallets.register_at_terminal(number, user_id(query))
    except PhoneDeactivated:
        await query.answer(
            _("The operator does not serve this number — the SMS will not arrive."),
            show_alert=True,
        )
        return
    except WalletBlocked:
        await query.answer(
            _("The wallet on {phone} is blocked. Register it again in «Wallet».").format(
                phone=phone(number)
            ),
            show_alert=True,
        )
        return
    except NotProved:
        await query.answer()
        # Sharing the number from here registers it at once (see `shared_number`).
        await state.update_data(register=True)
        await query.message.answer(
            _("The secret key comes by SMS.") + " " + not_proved_text(number),
            reply_markup=share_keyboard(),
        )
        return
    except WalletExists:
        await ask_intended(query, state)
        return
    await query.answer()
    # The SMS arrives as its own message, and the terminal's next screen comes after it.
    assert query.bot is not None
    await send_sms(query.bot, registered.sms)
    await ask_intended(query.message, state)


async def shared_number(
    message: Message,
    state: FSMContext,
    wallets: WalletService,
    cash: CashDesk,
    operator: Operator,
) -> None:
    """The person shared their own number at the terminal: it is theirs now, and if they were
    registering, the terminal goes on with it."""
    from handlers.wallet import own_number, send_sms

    number = await own_number(message, operator)
    if number is None:
        return
    data = await state.get_data()
    await message.answer(_("Got it."), reply_markup=ReplyKeyboardRemove())
    if not (data.get("register") and data.get("phone") == number):
        await number_chosen(message, state, wallets, cash, number)
        return
    await state.update_data(register=False)
    try:
        registered = await wallets.register_at_terminal(number, user_id(message))
    except (PhoneDeactivated, WalletBlocked, WalletExists, NotProved):
        await number_chosen(message, state, wallets, cash, number)
        return
    assert message.bot is not None
    await send_sms(message.bot, registered.sms)
    await ask_intended(message, state)


async def ask_intended(event: Message | CallbackQuery, state: FSMContext) -> None:
    await state.set_state(TopUp.intended)
    await show(
        event,
        _("How much do you want to credit? Type the sum, or tap «Skip» and just insert banknotes."),
        InlineKeyboardMarkup(
            inline_keyboard=[
                [button(_("Skip ➡️"), TopCb(action=TopAction.skip))],
                back_to_topup(),
            ]
        ),
    )


async def next_step(query: CallbackQuery, state: FSMContext) -> None:
    if (await state.get_data()).get("phone") is None:
        await query.answer(_("This button is out of date. Open the menu with /start."))
        return
    await ask_intended(query, state)


async def typed_intended(
    message: Message, state: FSMContext, cash: CashDesk, wallets: WalletService
) -> None:
    try:
        intended = parse_rubles(message.text or "")
    except AmountNotUnderstood as error:
        await message.answer(amount_error_text(error))
        return
    await start_cash(message, state, cash, intended)


async def skip_intended(query: CallbackQuery, state: FSMContext, cash: CashDesk) -> None:
    await start_cash(query, state, cash, None)


async def start_cash(
    event: Message | CallbackQuery, state: FSMContext, cash: CashDesk, intended: int | None
) -> None:
    number = (await state.get_data()).get("phone")
    if number is None:
        await state.clear()
        await show(event, _("Let's start again."), topup_menu())
        return
    try:
        session = await cash.open_session(user_id(event), number, intended=intended)
    except PhoneDeactivated:
        await show(
            event,
            _("The operator does not serve this number. Give a working number."),
            topup_menu(),
        )
        return
    except (WalletNotFound, WalletBlocked):
        await show(event, _("There is no working wallet on this number."), topup_menu())
        return
    await state.set_state(TopUp.cash)
    await state.update_data(visit=session.id)
    await show(event, cash_screen(session, cash), cash_keyboard(session))


async def insert_note(query: CallbackQuery, callback_data: TopCb, cash: CashDesk) -> None:
    await insert(query, cash, callback_data.visit, callback_data.value, request=f"cb:{query.id}")


async def insert(
    event: Message | CallbackQuery, cash: CashDesk, visit: int, banknote: int, request: str = ""
) -> None:
    try:
        session = await cash.insert(visit, user_id(event), banknote, request=request)
    except (SessionNotFound, NotABanknote):  # a visit that is over, or a forged button
        await _stale(event, cash, visit)
        return
    except WouldBreakCap as error:
        text = _(
            "The banknote is not accepted: the wallet can hold at most {cap}. "
            "You can insert up to {room} more."
        ).format(cap=money(error.cap), room=money(error.room))
        if isinstance(event, CallbackQuery):
            await event.answer(text, show_alert=True)
        else:
            await event.answer(text)
        return
    if isinstance(event, CallbackQuery):
        await event.answer(_("Accepted: {note} ₽").format(note=banknote))
        assert isinstance(event.message, Message)
        with contextlib.suppress(TelegramBadRequest):  # "not modified": the same press again
            await event.message.edit_text(
                cash_screen(session, cash), reply_markup=cash_keyboard(session)
            )
    else:
        await event.answer(cash_screen(session, cash), reply_markup=cash_keyboard(session))


def _typed_number(text: str) -> int | None:
    try:
        return parse_id(text)
    except ValueError:
        return None


async def typed_in_cash(message: Message, state: FSMContext, cash: CashDesk) -> None:
    visit = (await state.get_data()).get("visit")
    text = (message.text or "").strip().removesuffix("₽").strip()
    note = _typed_number(text)
    if visit is not None and note in BANKNOTES:
        await insert(message, cash, int(visit), note, request=f"msg:{message.message_id}")
        return
    await message.answer(
        _(
            "The terminal takes only banknotes: 10, 50, 100, 200, 500, 1000, 2000 and 5000 ₽; "
            "no coins. Tap a banknote button."
        )
    )


async def pay(
    query: CallbackQuery,
    callback_data: TopCb,
    state: FSMContext,
    cash: CashDesk,
    aggregator: Aggregator,
) -> None:
    remainder_to = {TopAction.rest_phone: "phone", TopAction.rest_wallet: "wallet"}.get(
        callback_data.action
    )
    if await cash.finished_receipt(callback_data.visit, user_id(query)) is not None:
        # Paid or left already: the receipt exists; this old screen must not restart anything.
        await _stale(query, cash, callback_data.visit)
        return
    try:
        receipt = await cash.pay(callback_data.visit, user_id(query), remainder_to=remainder_to)
    except NothingInserted:
        await query.answer(_("Insert banknotes first."), show_alert=True)
        return
    except NotEnoughCash as error:
        await query.answer(
            _("Not enough for the invoice: insert {sum} more.").format(sum=money(error.missing)),
            show_alert=True,
        )
        return
    except RemainderChoiceNeeded as error:
        session = await cash.session(callback_data.visit, user_id(query))
        await show(
            query,
            _(
                "The invoice sum is not round, and the terminal gives no change. "
                "Where should the remainder of {sum} go?"
            ).format(sum=money(error.remainder)),
            remainder_keyboard(session),
        )
        return
    except (WalletNotFound, WalletBlocked):
        await query.answer(
            _("There is no working wallet on this number: send the remainder to the phone."),
            show_alert=True,
        )
        return
    except BillClosed:
        await query.answer(
            _("The invoice is no longer open. Leave the terminal: what you inserted is credited."),
            show_alert=True,
        )
        return
    except SessionNotFound:
        await _stale(query, cash, callback_data.visit)
        return
    await state.set_state(None)
    await show(query, receipt_text(receipt), after_receipt_keyboard())
    if receipt.purpose == "payment" and isinstance(query.message, Message):
        from handlers.payment import paid_waiting

        order = (await state.get_data()).get("order")
        if order is not None:
            await paid_waiting(query.message, int(order), aggregator)


async def leave(
    query: CallbackQuery, callback_data: TopCb, state: FSMContext, cash: CashDesk
) -> None:
    receipt = await cash.cancel(callback_data.visit, user_id(query))
    if receipt is None and await cash.finished_receipt(callback_data.visit, user_id(query)):
        # A screen of a visit that is over: this press ends nothing, the current step stays.
        await _stale(query, cash, callback_data.visit)
        return
    await state.clear()
    if receipt is None:
        await show(query, _("You left the terminal. Nothing was inserted."), topup_menu())
        return
    await show(
        query,
        _("The terminal gives no change back, so it credited what you inserted.")
        + "\n\n"
        + receipt_text(receipt),
        after_receipt_keyboard(),
    )


async def leave_by_command(
    message: Message, state: FSMContext, cash: CashDesk, wallets: WalletService
) -> None:
    """/cancel or /start at the terminal: cash already inside is receipted, never lost."""
    visit = (await state.get_data()).get("visit")
    if visit is not None:
        receipt = await cash.cancel(int(visit), user_id(message))
        if receipt is not None:
            await message.answer(
                _("The terminal gives no change back, so it credited what you inserted.")
                + "\n\n"
                + receipt_text(receipt)
            )
    if message.text and message.text.startswith("/start"):
        await start.start(message, state, wallets)
    else:
        await start.cancel(message, state, wallets)


def visit_over_text(receipt: Receipt) -> str:
    if receipt.purpose == "payment" and receipt.paid:
        what = _("paid {sum}").format(sum=money(receipt.paid))
    elif receipt.pending:
        what = _("{sum} will be credited by {due}").format(
            sum=money(receipt.credited or receipt.remainder), due=when(receipt.due_at)
        )
    else:
        what = _("credited {sum}").format(sum=money(receipt.credited or receipt.remainder))
    return _("This visit to the terminal is already over: receipt No. {number}, {what}.").format(
        number=receipt.number, what=what
    )


async def _stale(event: Message | CallbackQuery, cash: CashDesk, visit: int) -> None:
    receipt = await cash.finished_receipt(visit, user_id(event))
    if receipt is not None:
        text = visit_over_text(receipt)
    else:
        text = _("This terminal screen is finished. Start again from «Top up».")
    if isinstance(event, CallbackQuery):
        await event.answer(text, show_alert=True)
    else:
        await event.answer(text)


# ---- mobile shop -----------------------------------------------------------------------


async def salon(query: CallbackQuery, state: FSMContext, wallets: WalletService) -> None:
    await state.set_state(TopUp.salon_phone)
    await show(
        query,
        _("🏬 Mobile shop. Tell the consultant the phone number of the wallet."),
        await phone_keyboard(query, wallets),
    )


async def ask_salon_amount(
    event: Message | CallbackQuery, state: FSMContext, wallets: WalletService, number: str
) -> None:
    if await wallets.has_wallet(number) != "active":
        await show(
            event,
            _("There is no working wallet on {phone}. Open one in «Wallet» first.").format(
                phone=phone(number)
            ),
            InlineKeyboardMarkup(
                inline_keyboard=[
                    [button(_("👛 Wallet"), MenuCb(action=MenuAction.wallet))],
                    back_to_topup(),
                ]
            ),
        )
        return
    await state.set_state(TopUp.salon_amount)
    await show(
        event,
        _("How much should the consultant credit to {phone}? For example: 1 000 or 250,50.").format(
            phone=phone(number)
        ),
        InlineKeyboardMarkup(inline_keyboard=[back_to_topup()]),
    )


async def salon_amount(message: Message, state: FSMContext, cash: CashDesk) -> None:
    number = (await state.get_data()).get("phone")
    try:
        amount = parse_rubles(message.text or "")
    except AmountNotUnderstood as error:
        await message.answer(amount_error_text(error))
        return
    if number is None:
        await state.clear()
        await message.answer(_("Let's start again."), reply_markup=topup_menu())
        return
    try:
        receipt = await cash.salon_top_up(
            user_id(message), number, amount, request=f"msg:{message.message_id}"
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
        await state.clear()
        await message.answer(
            _("There is no working wallet on this number."), reply_markup=topup_menu()
        )
        return
    await state.clear()
    if receipt.pending:
        head = _("The consultant took {sum}. Crediting is in progress.")
    else:
        head = _("The consultant credited {sum} to {phone}.")
    await message.answer(
        head.format(sum=money(receipt.credited), phone=phone(number, masked=True))
        + "\n\n"
        + receipt_text(receipt),
        reply_markup=after_receipt_keyboard(),
    )


# ---- checking a receipt ----------------------------------------------------------------


async def ask_receipt(query: CallbackQuery, state: FSMContext) -> None:
    await state.set_state(TopUp.check)
    await show(
        query,
        _("Enter the receipt number: 6 digits at the top of the receipt."),
        InlineKeyboardMarkup(inline_keyboard=[back_to_topup()]),
    )


async def check_receipt(message: Message, state: FSMContext, cash: CashDesk) -> None:
    text = (message.text or "").strip().lstrip("№").strip()
    number = _typed_number(text)
    if number is None or len(text) != 6:
        await message.answer(_("A receipt number is 6 digits, for example 100123."))
        return
    try:
        receipt = await cash.receipt(number)
    except ReceiptNotFound:
        await message.answer(
            _(
                "Receipt No. {number} is not found. Check the number at the top of the receipt."
            ).format(number=text)
        )
        return
    await state.clear()
    await message.answer(receipt_status_text(receipt), reply_markup=after_receipt_keyboard())


async def junk(message: Message, state: FSMContext) -> None:
    """Stickers, photos and the like in any top-up step: say what is expected, keep the step."""
    hints = {
        TopUp.terminal_phone.state: _("I'm waiting for a phone number, like +7 912 345-67-89."),
        TopUp.salon_phone.state: _("I'm waiting for a phone number, like +7 912 345-67-89."),
        TopUp.intended.state: _("I'm waiting for a sum, like 1 000, or tap «Skip»."),
        TopUp.salon_amount.state: _("I'm waiting for a sum, like 1 000 or 250,50."),
        TopUp.cash.state: _("The terminal takes banknotes: tap a banknote button."),
        TopUp.check.state: _("I'm waiting for a receipt number: 6 digits."),
    }
    current = await state.get_state()
    await message.answer(hints.get(current or "", _("Use the buttons above or /cancel.")))


def make_router() -> Router:
    router = Router(name="topup")
    anywhere = StateFilter("*")

    def on(action: TopAction) -> Any:
        return TopCb.filter(F.action == action)

    router.message.register(leave_by_command, TopUp.cash, Command("cancel"))
    router.message.register(leave_by_command, TopUp.cash, CommandStart())
    router.callback_query.register(open_menu, MenuCb.filter(F.action == MenuAction.topup), anywhere)
    router.callback_query.register(open_menu, on(TopAction.menu), anywhere)
    router.callback_query.register(terminal, on(TopAction.terminal), anywhere)
    router.callback_query.register(salon, on(TopAction.salon), anywhere)
    router.callback_query.register(ask_receipt, on(TopAction.check), anywhere)
    router.callback_query.register(
        my_number, on(TopAction.my_number), StateFilter(TopUp.terminal_phone, TopUp.salon_phone)
    )
    router.callback_query.register(register_here, on(TopAction.register_here), TopUp.terminal_phone)
    router.callback_query.register(next_step, on(TopAction.next), TopUp.terminal_phone)
    router.callback_query.register(skip_intended, on(TopAction.skip), TopUp.intended)
    router.callback_query.register(insert_note, on(TopAction.note), anywhere)
    router.callback_query.register(pay, on(TopAction.pay), anywhere)
    router.callback_query.register(pay, on(TopAction.rest_phone), anywhere)
    router.callback_query.register(pay, on(TopAction.rest_wallet), anywhere)
    router.callback_query.register(leave, on(TopAction.leave), anywhere)
    router.message.register(shared_number, TopUp.terminal_phone, F.contact)
    router.message.register(
        typed_number,
        StateFilter(TopUp.terminal_phone, TopUp.salon_phone),
        F.text,
        ~F.text.startswith("/"),
    )
    router.message.register(typed_intended, TopUp.intended, F.text, ~F.text.startswith("/"))
    router.message.register(typed_in_cash, TopUp.cash, F.text, ~F.text.startswith("/"))
    router.message.register(salon_amount, TopUp.salon_amount, F.text, ~F.text.startswith("/"))
    router.message.register(check_receipt, TopUp.check, F.text, ~F.text.startswith("/"))
    router.message.register(junk, StateFilter(TopUp), ~F.text.startswith("/"))
    return router
