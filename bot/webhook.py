"""Webhook mode: Telegram POSTs updates; each is answered 200 only once it is in the inbox.

aiogram's `SimpleRequestHandler` either answers 200 at once and handles the update in a task
(a replica that dies then loses it: Telegram never sends an answered update again), or answers
only after the handler (a slow step holds Telegram's connection, a timeout makes Telegram send
it again while it is still being handled, and a failing handler answers 500, so Telegram repeats
it). It also answers 500 to a body that is not an update. Here the request only stores the update,
as polling does (`bot/polling.py`), and the same code handles it from the inbox.
"""

from __future__ import annotations

import asyncio
import logging
import secrets

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from aiogram.utils.backoff import Backoff
from aiohttp import web
from pydantic import ValidationError

from bot.polling import InboxPolling
from services.inbox import Inbox, Received, update_key

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class InboxDrain(InboxPolling):
    """Handles what the webhook stored; on start, first what an earlier run left in the inbox."""

    def __init__(self, dp: Dispatcher, bot: Bot, inbox: Inbox, *, url: str, secret: str) -> None:
        super().__init__(dp, bot, inbox)
        self.url = url
        self.secret = secret
        self.ready = asyncio.Event()

    async def run(self) -> None:
        for item in await self.inbox.unhandled():
            self.handle_soon(item)
        # Until then the endpoint answers 503: a person's earlier update goes before a newer one.
        await self.wait_handled()
        self.ready.set()
        backoff = Backoff(self.backoff)
        while True:
            try:
                # Every replica says the same on start; Telegram keeps one webhook.
                await self.bot.set_webhook(
                    url=self.url,
                    secret_token=self.secret,
                    allowed_updates=self.dp.resolve_used_update_types(),
                    drop_pending_updates=False,
                )
                break
            except Exception as error:
                log.error("cannot set the webhook: %s: %s", type(error).__name__, error)
                await backoff.asleep()
        await asyncio.Event().wait()  # updates come by HTTP from now on; runs until cancelled


class WebhookEndpoint:
    """The aiohttp route Telegram posts to. It exists before the bot does (the web app starts
    first); until `attach`, and while the inbox's leftovers are handled, it answers 503.
    """

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.drain: InboxDrain | None = None

    def register(self, app: web.Application, path: str) -> None:
        app.router.add_post(path, self.handle)

    def attach(self, drain: InboxDrain) -> None:
        self.drain = drain

    def detach(self) -> None:
        """Stopping: what arrives now is Telegram's to send again (to another replica)."""
        self.drain = None

    async def handle(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not secrets.compare_digest(given.encode(), self.secret.encode()):
            log.warning("webhook call from %s without the right secret token", request.remote)
            return web.Response(status=401, text="Unauthorized")
        drain = self.drain
        if drain is None or not drain.ready.is_set():
            return web.Response(status=503, text="starting", headers={"Retry-After": "1"})
        update = await _read_update(request, drain.bot)
        if update is None:
            return web.Response(status=400, text="body must be a Telegram Update (JSON)")
        payload = update.model_dump_json(exclude_none=True)
        try:
            fresh = await drain.inbox.store([(update.update_id, payload)])
        except Exception as error:
            # Not recorded, so not acknowledged: Telegram sends it again.
            log.error("cannot store update %s: %s", update.update_id, type(error).__name__)
            return web.Response(status=503, text="try again")
        if fresh:
            drain.handle_soon(fresh[0])
        else:
            # Sent again: the replica that stored it may have died before handling it. A copy
            # that meets the first still being handled waits for the person's lock (events
            # isolation, across replicas with Redis); then SkipHandledUpdates finds it handled.
            key = update_key(update.update_id, payload)
            if not await drain.inbox.is_handled(key):
                drain.handle_soon(Received(key, update.update_id, payload))
        return web.json_response({})


async def _read_update(request: web.Request, bot: Bot) -> Update | None:
    try:
        body = await request.read()
        return Update.model_validate_json(body, context={"bot": bot})
    except (ValueError, ValidationError):
        return None
