"""Delivers outbox messages: paced, retried with backoff, 429 waited out, 403 recorded.

Any number of bot processes may run this worker on one database. Each pass claims due messages
with a lease (`Outbox.claim`), so a message is sent by one process; pacing follows Telegram's
limits across all of them: the claim gives each message a send slot from one shared schedule
(at most one message a second to one chat, `Pacing.gap_ms` apart overall), and the worker waits
for its slot. A chat written to less than a second ago is simply left for a later pass, so one
slow chat never holds up the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import I18n

from handlers.screens import keep
from services.outbox import Outbox, OutboxMessage, Pacing

log = logging.getLogger(__name__)

Rendered = tuple[str, InlineKeyboardMarkup | None]
# A renderer takes the payload type services/outbox.py gives its message kind.
Renderer = Callable[[Any], Rendered]
MAX_ATTEMPTS = 10


class OutboxWorker:
    def __init__(
        self,
        bot: Bot,
        outbox: Outbox,
        i18n: I18n,
        renderers: Mapping[str, Renderer],
        *,
        pacing: Pacing | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.bot = bot
        self.outbox = outbox
        self.i18n = i18n
        self.renderers = renderers
        self.pacing = pacing or Pacing()
        self.sleep = sleep

    def render(self, message: OutboxMessage) -> Rendered:
        renderer = self.renderers[message.kind]
        with self.i18n.context(), self.i18n.use_locale(message.locale):
            text, markup = renderer(message.payload)
        # Every outbox message is a notification the person may come back to.
        return text, None if markup is None else keep(markup)

    async def deliver_due(self) -> int:
        """One pass: claim due messages and send each in its slot; returns how many went."""
        delivered = 0
        for message in await self.outbox.claim(self.pacing):
            wait = message.slot_ms / 1000 - self.outbox.clock.now().timestamp()
            if wait > 0:
                await self.sleep(wait)
            if await self._deliver(message):
                delivered += 1
        return delivered

    async def _deliver(self, message: OutboxMessage) -> bool:
        try:
            text, markup = self.render(message)
        except Exception:
            log.exception("outbox %s: cannot render %s", message.id, message.kind)
            await self.outbox.mark_failed(message.id, "render failed")
            return False
        try:
            await self.bot.send_message(message.chat_id, text, reply_markup=markup)
        except TelegramRetryAfter as error:
            await self.outbox.postpone(message.id, error.retry_after)
            return False
        except TelegramForbiddenError as error:
            log.warning("outbox %s: chat %s blocked the bot", message.id, message.chat_id)
            await self.outbox.mark_blocked(message.id, error.message)
            return False
        except TelegramBadRequest as error:
            log.warning("outbox %s: refused: %s", message.id, error.message)
            await self.outbox.mark_failed(message.id, error.message)
            return False
        except Exception as error:
            if message.attempts + 1 >= MAX_ATTEMPTS:
                log.error("outbox %s: giving up after %s attempts", message.id, MAX_ATTEMPTS)
                await self.outbox.mark_failed(message.id, repr(error))
            else:
                delay = min(2 ** (message.attempts + 1), 300)
                log.warning("outbox %s: %r, retrying in %s s", message.id, error, delay)
                await self.outbox.retry_later(message.id, delay, repr(error))
            return False
        await self.outbox.mark_sent(message.id)
        return True
