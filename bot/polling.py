"""Long polling through the inbox: no update is confirmed to Telegram before it is on disk.

aiogram's own polling asks for the next updates (which confirms the previous batch: Telegram then
forgets it) while the previous batch is still being handled, so a crash lost them. Here a batch
is stored in the inbox in one transaction before the next getUpdates, and handled from there;
on start, what the inbox still holds is finished first. A webhook would use the same pieces:
store, answer 200, `handle_soon`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiogram import Bot, Dispatcher
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramBadRequest
from aiogram.methods import AnswerCallbackQuery, GetUpdates, TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import Update
from aiogram.utils.backoff import Backoff, BackoffConfig

from services.inbox import Inbox, Received

log = logging.getLogger(__name__)

BACKOFF = BackoffConfig(min_delay=1.0, max_delay=5.0, factor=1.3, jitter=0.1)


class InboxPolling:
    def __init__(
        self,
        dp: Dispatcher,
        bot: Bot,
        inbox: Inbox,
        *,
        polling_timeout: int = 30,
        backoff: BackoffConfig = BACKOFF,
    ) -> None:
        self.dp = dp
        self.bot = bot
        self.inbox = inbox
        self.polling_timeout = polling_timeout
        self.backoff = backoff
        self._handling: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        """Finish what the inbox holds, then poll until cancelled."""
        for item in await self.inbox.unhandled():
            self.handle_soon(item)
        # Before anything new: a person's earlier press is handled before their later one.
        await self.wait_handled()
        get_updates = GetUpdates(
            timeout=self.polling_timeout,
            allowed_updates=self.dp.resolve_used_update_types(),
        )
        # The request waits up to polling_timeout on the server: give the HTTP call longer.
        request_timeout = int(self.bot.session.timeout + self.polling_timeout)
        backoff = Backoff(self.backoff)
        while True:
            try:
                updates = await self.bot(get_updates, request_timeout=request_timeout)
                batch = [(u.update_id, u.model_dump_json(exclude_none=True)) for u in updates]
                fresh = await self.inbox.store(batch) if batch else []
            except Exception as error:
                # Nothing was confirmed: the same offset asks Telegram for the same updates.
                log.error("cannot fetch or store updates: %s: %s", type(error).__name__, error)
                await backoff.asleep()
                continue
            backoff.reset()
            if updates:
                # Stored: only now may the next call's offset confirm them to Telegram.
                get_updates.offset = updates[-1].update_id + 1
            for item in fresh:
                self.handle_soon(item)

    def handle_soon(self, item: Received) -> None:
        """Handle concurrently; aiogram's event isolation keeps each person's updates in order."""
        task = asyncio.create_task(self._handle(item))
        self._handling.add(task)
        task.add_done_callback(self._handling.discard)

    async def _handle(self, item: Received) -> None:
        try:
            update = Update.model_validate_json(item.payload, context={"bot": self.bot})
        except Exception:
            log.exception("update %s cannot be read; set aside", item.update_id)
            await self.inbox.mark_handled(item.key, item.update_id)
            return
        try:
            # The handled mark is set by SkipHandledUpdates as soon as the handler finishes.
            response = await self.dp.feed_update(self.bot, update, inbox_key=item.key)
            if isinstance(response, TelegramMethod):
                await self.dp.silent_call_request(self.bot, response)
        except Exception:
            log.exception("update %s failed", item.update_id)

    async def wait_handled(self) -> None:
        while self._handling:
            await asyncio.wait(set(self._handling))

    async def stop(self, grace: float = 10.0) -> None:
        """After polling stopped: let updates in hand finish; the rest wait for the next start."""
        if self._handling:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wait_handled(), grace)
        left = list(self._handling)
        for task in left:
            task.cancel()
        await asyncio.gather(*left, return_exceptions=True)


class LateCallbackAnswers(BaseRequestMiddleware):
    """A press handled again from the inbox after a restart was maybe answered already, or is
    too old to answer (Telegram allows seconds). The screen it leads to matters, not the pop-up:
    such an answer is dropped instead of failing the handler half-way.
    """

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        try:
            return await make_request(bot, method)
        except TelegramBadRequest as error:
            if not isinstance(method, AnswerCallbackQuery) or "query is too old" not in str(error):
                raise
            log.info("press %s: too late to answer, going on", method.callback_query_id)
            return Response[TelegramType](ok=True, result=True)
