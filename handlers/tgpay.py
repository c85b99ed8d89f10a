"""Paying an order inside Telegram (Robokassa as the Telegram Payments provider).

A button with `TgPayCb(order=…)` sends the invoice; Telegram's pre-checkout is answered at once
(well within its 10 seconds); the successful payment settles the order once, and the buyer's
receipt and the owners' notice come through the outbox as for any paid order.
"""

from __future__ import annotations

from collections.abc import Callable

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery, LabeledPrice, Message, PreCheckoutQuery
from aiogram.utils.callback_answer import CallbackAnswer
from aiogram.utils.i18n import gettext as _

from handlers.callbacks import TgPayCb
from services.fiscal import ReceiptError
from services.merchant import Merchant
from services.numbers import MAX_INV_ID
from services.orders import OrderNotFound
from services.tgpay import Outcome, Refusal, TelegramPayments


def refuse(callback_answer: CallbackAnswer, text: str) -> None:
    callback_answer.text = text
    callback_answer.show_alert = True


async def send_invoice(
    query: CallbackQuery,
    callback_data: TgPayCb,
    bot: Bot,
    merchant: Merchant,
    telegram_payments: TelegramPayments,
    callback_answer: CallbackAnswer,
) -> None:
    assert query.from_user is not None
    try:
        if not 1 <= callback_data.order <= MAX_INV_ID:  # a forged button: no such order
            raise OrderNotFound()
        order = await merchant.order_of(callback_data.order, query.from_user.id)
    except OrderNotFound:
        refuse(callback_answer, _("This order is not yours or no longer exists."))
        return
    # A shop without its own token (or no longer connected) takes no payments in Telegram.
    token = telegram_payments.token(order.shop_id)
    if not token or not order.payable:
        refuse(callback_answer, _("This order cannot be paid in Telegram."))
        return
    try:
        request = telegram_payments.invoice(order)
    except ReceiptError:
        refuse(callback_answer, _("This order cannot be paid in Telegram."))
        return
    await bot.send_invoice(
        chat_id=query.from_user.id,
        title=_("Order No. {number}").format(number=order.id)[:32],
        description=f"{order.item_name} × {order.quantity}, {order.shop_name}"[:255],
        payload=request.payload,
        provider_token=token,
        currency=request.currency,
        prices=[LabeledPrice(label=order.item_name[:32], amount=request.amount)],
        provider_data=request.provider_data,
    )


async def pre_checkout(query: PreCheckoutQuery, telegram_payments: TelegramPayments) -> None:
    refusal = await telegram_payments.pre_checkout(
        query.invoice_payload, query.currency, query.total_amount
    )
    if refusal is None:
        await query.answer(ok=True)
        return
    reasons = {
        Refusal.unknown: _("This order no longer exists."),
        Refusal.not_payable: _(
            "This order can no longer be paid: it is paid, cancelled or expired."
        ),
        Refusal.wrong_amount: _("The sum does not match the order. Open the order again."),
    }
    await query.answer(ok=False, error_message=reasons[refusal])


async def paid(
    message: Message, telegram_payments: TelegramPayments, wake_jobs: Callable[[], None]
) -> None:
    payment = message.successful_payment
    assert payment is not None
    try:
        recorded = await telegram_payments.settle(
            payment.telegram_payment_charge_id,
            payment.provider_payment_charge_id,
            payment.invoice_payload,
            payment.currency,
            payment.total_amount,
        )
    except ValueError:
        await message.answer(_("This payment is not for an order of ours."))
        return
    wake_jobs()  # the receipt and the owners' notice are in the outbox
    if recorded.new and recorded.outcome is not Outcome.settled:
        await message.answer(
            _(
                "The payment for order No. {number} does not match the order. The shop "
                "will return it; the order is not paid."
            ).format(number=recorded.order.id)
        )


def make_router() -> Router:
    router = Router(name="tgpay")
    router.callback_query.register(send_invoice, TgPayCb.filter())
    router.pre_checkout_query.register(pre_checkout)
    router.message.register(paid, F.successful_payment)
    return router
