"""Running everything together: the bot's web app, polling, and (without a token) the emulator."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import TelegramObject, Update
from aiohttp import web

from bot.app import (
    Services,
    build_dispatcher,
    build_jobs,
    build_services,
    close_services,
    register_commands,
)
from bot.i18n import make_i18n
from bot.jobs import BackgroundJobs
from bot.polling import InboxPolling, LateCallbackAnswers
from bot.retry import KeepResponseModels, RetryAfter
from bot.settings import Settings
from bot.storage import redis_state
from bot.web import bind, build_web_app, serve
from bot.webhook import InboxDrain, WebhookEndpoint
from emulator.engine import Engine
from emulator.server import DEFAULT_TOKEN, STATE_KEY, build_emulator_app
from services.clock import Clock

log = logging.getLogger("bot")
DEMO_OWNER_ID = 900001


class ReportHandled(BaseMiddleware):
    """Emulator mode only: tell the emulator each update is handled, so scripts never sleep."""

    def __init__(self, client: httpx.AsyncClient, runtime: Runtime) -> None:
        self.client = client
        self.runtime = runtime

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        # Not when cancelled by a shutdown: that update waits in the inbox for the next start.
        try:
            result = await handler(event, data)
        except Exception:
            await self._report(event)
            raise
        await self._report(event)
        return result

    async def _report(self, event: TelegramObject) -> None:
        if isinstance(event, Update):
            with contextlib.suppress(httpx.HTTPError):
                await self.client.post(
                    f"{self.runtime.emulator_url}/api/bot/processed",
                    json={"update_id": event.update_id},
                )


async def _start_site(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1] if runner.addresses else port
    return runner, f"http://{host}:{bound}"


@dataclass
class Runtime:
    """The running bot: services, dispatcher, web app and, in emulator mode, the emulator."""

    settings: Settings
    clock: Clock | None = None
    services: Services | None = None
    dp: Dispatcher | None = None
    bot: Bot | None = None
    web_url: str = ""
    emulator_url: str = ""
    _runners: list[web.AppRunner] = field(default_factory=list)
    _client: httpx.AsyncClient | None = None
    _polling: asyncio.Task[None] | None = None
    polling: InboxPolling | None = None
    _jobs_task: asyncio.Task[None] | None = None
    jobs: BackgroundJobs | None = None
    webhook: WebhookEndpoint | None = None

    @property
    def emulated(self) -> bool:
        return self.settings.bot_token is None

    async def start(self) -> None:
        settings = self.settings
        sock, self.web_url = bind(settings.web_host, settings.web_port)
        try:
            self.services = await build_services(settings, web_url=self.web_url, clock=self.clock)
        except BaseException:
            sock.close()
            raise
        i18n = make_i18n(settings.default_locale)
        first: list[BaseMiddleware] = []
        if self.emulated:
            self._client = httpx.AsyncClient(timeout=5)
            # Outermost: every update is reported, even one skipped as already handled.
            first.append(ReportHandled(self._client, self))
        redis_url = settings.redis_url
        state = None if redis_url is None else redis_state(redis_url.get_secret_value())
        self.dp = build_dispatcher(self.services, i18n, first, state=state)
        web_app = build_web_app(self.services)
        if settings.webhook_secret is not None and settings.webhook_url:
            self.webhook = WebhookEndpoint(settings.webhook_secret.get_secret_value())
            self.webhook.register(web_app, settings.webhook_path)
        self._runners.append(await serve(web_app, sock))
        defaults = DefaultBotProperties(parse_mode=ParseMode.HTML)
        if self.emulated:
            engine = None
            if settings.emulator_url:
                self.emulator_url = settings.emulator_url.rstrip("/")
            else:
                engine = self._engine()
                runner, self.emulator_url = await _start_site(
                    build_emulator_app(engine), settings.emulator_host, settings.emulator_port
                )
                self._runners.append(runner)
            session = AiohttpSession(api=TelegramAPIServer.from_base(self.emulator_url))
            self.bot = Bot(DEFAULT_TOKEN, session=session, default=defaults)

            if engine is not None:
                await self._seed_demo_owner(engine)
        else:
            assert settings.bot_token is not None
            self.bot = Bot(settings.bot_token.get_secret_value(), default=defaults)
        self.bot.session.middleware(KeepResponseModels())
        self.bot.session.middleware(RetryAfter())
        self.bot.session.middleware(LateCallbackAnswers())
        await register_commands(self.bot, i18n)
        if self.webhook is None:
            await self.bot.delete_webhook(drop_pending_updates=False)
        self.jobs = build_jobs(self.services, self.bot, i18n)
        self._jobs_task = asyncio.create_task(self.jobs.run())
        await self.dp.emit_startup(bot=self.bot)
        if self.webhook is not None:
            drain = InboxDrain(
                self.dp,
                self.bot,
                self.services.inbox,
                url=settings.webhook_url,
                secret=self.webhook.secret,
            )
            self.webhook.attach(drain)
            self.polling = drain
        else:
            self.polling = InboxPolling(self.dp, self.bot, self.services.inbox)
        self._polling = asyncio.create_task(self.polling.run())

    async def _seed_demo_owner(self, engine: Engine) -> None:
        """Emulator mode: a ready shop owner in the web chat, to watch paid-order messages."""
        assert self.services is not None
        shops = await self.services.merchant.shops()
        if not shops:
            return
        engine.add_person(DEMO_OWNER_ID, "Ольга (владелец)", phone="+79990000001")
        for shop in shops:
            await self.services.merchant.add_owner(shop.id, DEMO_OWNER_ID)

    def _engine(self) -> Engine:
        engine = Engine(flood_limit_per_chat=self.settings.emulator_flood_limit)
        clock = self.clock
        if clock is not None:
            engine.clock = lambda: clock.now().timestamp()
        return engine

    async def wait(self) -> None:
        assert self._polling is not None
        await self._polling

    async def stop(self) -> None:
        if self.webhook is not None:
            self.webhook.detach()
        for runner in self._runners:
            if STATE_KEY in runner.app:
                await runner.app[STATE_KEY].close()
        if self._polling is not None:
            self._polling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._polling
        if self.polling is not None:
            await self.polling.stop()
        if self.dp is not None and self.bot is not None and self._polling is not None:
            await self.dp.emit_shutdown(bot=self.bot)
        if self._jobs_task is not None:
            self._jobs_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._jobs_task
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()
        if self._client is not None:
            await self._client.aclose()
        if self.bot is not None:
            await self.bot.session.close()
        if self.services is not None:
            await close_services(self.services)
            self.services = None
