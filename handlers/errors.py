"""Last line of defence: log the failure, tell the person briefly, keep the bot running."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _

log = logging.getLogger(__name__)


async def on_error(event: ErrorEvent) -> bool:
    update = event.update
    log.error(
        "update %s failed: %s",
        update.update_id,
        type(event.exception).__name__,
        exc_info=event.exception,
    )
    text = _("Something went wrong on our side. Please try again, or send /cancel.")
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.message is not None:
            await update.message.answer(text)
    except Exception:
        log.warning("could not tell the user about the failure of update %s", update.update_id)
    return True


def make_router() -> Router:
    router = Router(name="errors")
    router.errors.register(on_error)
    return router
