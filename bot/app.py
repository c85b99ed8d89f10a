"""Assembly: services, dispatcher, routers and middlewares, built the same way in tests and prod."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.fsm.storage.memory import SimpleEventIsolation
from aiogram.types import BotCommand, TelegramObject
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n.middleware import SimpleI18nMiddleware

from bot.i18n import make_i18n
from bot.jobs import BackgroundJobs
from bot.outbox_worker import OutboxWorker, Renderer
from bot.settings import Settings
from bot.storage import SQLiteStorage
from handlers import errors, fallback, start, topup, wallet
from services.clock import Clock, SystemClock
from services.db import Database
from services.ledger import Ledger
from services.operator import Operator
from services.outbox import Outbox
from services.terminal import CashDesk, CashRules
from services.wallet import WalletRules, WalletService


@dataclass
class Services:
    """Everything handlers may ask for by name (aiogram injects these as keyword arguments)."""

    settings: Settings
    db: Database
    clock: Clock
    ledger: Ledger
    operator: Operator
    wallets: WalletService
    cash: CashDesk
    outbox: Outbox
    extra: dict[str, Any] = field(default_factory=dict)

    def as_workflow_data(self) -> dict[str, Any]:
        return {
            "settings": self.settings,
            "db": self.db,
            "clock": self.clock,
            "ledger": self.ledger,
            "operator": self.operator,
            "wallets": self.wallets,
            "cash": self.cash,
            "outbox": self.outbox,
            **self.extra,
        }


async def build_services(settings: Settings, *, clock: Clock | None = None) -> Services:
    clock = clock or SystemClock()
    db = await Database.open(settings.database_path)
    ledger = Ledger(db, clock)
    operator = Operator(db, clock)
    rules = WalletRules(
        code_ttl=settings.wallet.code_ttl_seconds,
        resend_cooldown=settings.wallet.resend_cooldown_seconds,
        max_attempts=settings.wallet.max_attempts,
        lockout=settings.wallet.lockout_seconds,
    )
    await operator.apply_deactivated_list(settings.deactivated_phone_list())
    return Services(
        settings=settings,
        db=db,
        clock=clock,
        ledger=ledger,
        operator=operator,
        wallets=WalletService(db, clock, ledger, rules),
        cash=CashDesk(
            db,
            clock,
            CashRules(
                terminal_id=settings.cash.terminal_id,
                salon_id=settings.cash.salon_id,
                commission_bp=settings.cash.commission_bp,
                delayed_percent=settings.cash.delayed_percent,
                delay_seconds=settings.cash.delay_seconds,
                idle_seconds=settings.cash.idle_seconds,
            ),
        ),
        outbox=Outbox(db, clock),
    )


async def close_services(services: Services) -> None:
    await services.db.close()


def build_dispatcher(services: Services, i18n: I18n | None = None) -> Dispatcher:
    i18n = i18n or make_i18n(services.settings.default_locale)
    dp = Dispatcher(
        storage=SQLiteStorage(services.db),
        events_isolation=SimpleEventIsolation(),
        **services.as_workflow_data(),
    )
    locales = SimpleI18nMiddleware(i18n)
    locales.setup(dp)
    dp.update.outer_middleware(RememberPeople(services.outbox, locales))
    dp.include_routers(
        errors.make_router(),
        topup.make_router(),
        start.make_router(),
        wallet.make_router(),
        fallback.make_router(),
    )
    return dp


async def register_commands(bot: Bot, i18n: I18n) -> None:
    """The command list in the chat's menu, in each language we speak."""
    for locale in i18n.available_locales:
        with i18n.context(), i18n.use_locale(locale):
            commands = [
                BotCommand(command="start", description=i18n.gettext("Main menu")),
                BotCommand(command="help", description=i18n.gettext("How it works")),
                BotCommand(command="cancel", description=i18n.gettext("Stop the current step")),
            ]
        language = None if locale == i18n.default_locale else locale
        await bot.set_my_commands(commands, language_code=language)


class RememberPeople(BaseMiddleware):
    """Keeps each person's language, so background messages reach them in it."""

    def __init__(self, outbox: Outbox, locales: SimpleI18nMiddleware) -> None:
        self.outbox = outbox
        self.locales = locales
        self.known: dict[int, tuple[str, str]] = {}

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user = data.get("event_from_user")
        if user is not None and not user.is_bot:
            locale = await self.locales.get_locale(event, data)
            seen = (locale, user.first_name)
            if self.known.get(user.id) != seen:
                await self.outbox.remember_person(user.id, locale, user.first_name)
                self.known[user.id] = seen
        return await handler(event, data)


def renderers() -> dict[str, Renderer]:
    """Outbox message kinds and the journey that knows how to word them."""
    return {"receipt_credited": topup.render_receipt_credited}


def build_jobs(services: Services, bot: Bot, i18n: I18n) -> BackgroundJobs:
    worker = OutboxWorker(bot, services.outbox, i18n, renderers())
    return BackgroundJobs(services.cash, worker)
