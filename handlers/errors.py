"""Errors that escape a handler: one place that words them for the person.

A domain error no journey expected at that point (a forged button's order id) gets its one
wording; anything else is logged and the person is told to try again — the bot keeps running.
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.filters import ExceptionTypeFilter
from aiogram.types import ErrorEvent, Update
from aiogram.utils.i18n import gettext as _

from handlers.views.errors import not_your_order_text
from services.orders import OrderNotFound

log = logging.getLogger(__name__)


async def tell(update: Update, text: str) -> None:
    """An alert for a button press, a reply for a message. Button presses are not answered by
    `CallbackAnswerMiddleware` when their handler failed, so this is their one answer."""
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.message is not None:
            await update.message.answer(text)
    except Exception:
        log.warning("could not tell the user about the failure of update %s", update.update_id)


async def not_your_order(event: ErrorEvent) -> bool:
    await tell(event.update, not_your_order_text())
    return True


async def on_error(event: ErrorEvent) -> bool:
    update = event.update
    log.error(
        "update %s failed: %s",
        update.update_id,
        type(event.exception).__name__,
        exc_info=event.exception,
    )
    await tell(update, _("Something went wrong on our side. Please try again, or send /cancel."))
    return True


def make_router() -> Router:
    router = Router(name="errors")
    router.errors.register(not_your_order, ExceptionTypeFilter(OrderNotFound))
    router.errors.register(on_error)
    return router
