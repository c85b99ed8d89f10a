"""Assembly: services, dispatcher, routers and middlewares, built the same way in tests and prod."""

from __future__ import annotations

import asyncio
import secrets
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, StorageKey
from aiogram.types import BotCommand, TelegramObject, Update
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n.middleware import SimpleI18nMiddleware

import handlers
from bot.i18n import make_i18n
from bot.jobs import BackgroundJobs
from bot.outbox_worker import OutboxWorker, Renderer
from bot.settings import Settings
from bot.shops import connect_shops, telegram_payments
from bot.storage import SQLiteStorage, update_unit
from bot.throttle import Limit, MemoryThrottleStore, Throttle
from handlers import callbacks, states
from handlers.views import owner, payment, shop, topup
from services.aggregator import Aggregator, MerchantAccount
from services.checkout import Checkout
from services.clock import Clock, SystemClock
from services.db import Database
from services.inbox import Inbox, update_key
from services.ledger import Ledger
from services.merchant import Merchant
from services.operator import Operator
from services.outbox import Kind, Outbox
from services.robokassa import REAL_REFUND_URL, Robokassa
from services.secrets import load_or_create_key
from services.terminal import CashDesk, CashRules
from services.tgpay import TelegramPayments
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
    merchant: Merchant
    aggregator: Aggregator
    inbox: Inbox
    robokassa: Robokassa
    checkout: Checkout
    telegram_payments: TelegramPayments
    jobs_wake: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def sandbox(self) -> bool:
        """No real Robokassa address configured: the embedded sandbox plays the aggregator."""
        return not self.settings.robokassa.base_url

    def wake_jobs(self) -> None:
        self.jobs_wake.set()

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
            "merchant": self.merchant,
            "aggregator": self.aggregator,
            "robokassa": self.robokassa,
            "checkout": self.checkout,
            "telegram_payments": self.telegram_payments,
            "wake_jobs": self.wake_jobs,
            "services": self,
        }


def _robokassa(settings: Settings, web_url: str) -> Robokassa:
    """The client: pointed at the real service, or at the sandbox in our own web app."""
    config = settings.robokassa
    base = config.base_url or f"{web_url}/robokassa-sandbox"
    refunds = config.refund_url or (REAL_REFUND_URL if config.base_url else f"{base}/RefundService")
    return Robokassa(
        config.login,
        config.password1.get_secret_value(),
        config.password2.get_secret_value(),
        algorithm=config.algorithm,
        is_test=config.is_test,
        base_url=base,
        password3=config.password3.get_secret_value(),
        refund_url=refunds,
    )


def _open_sandbox_account(settings: Settings, web_url: str, aggregator: Aggregator) -> None:
    """The sandbox knows our shop as the real service would, and its ResultURL is ours."""
    config = settings.robokassa
    password1 = config.password1.get_secret_value()
    password2 = config.password2.get_secret_value()
    # Test mode has its own passwords: the mode not in use gets ones nobody knows.
    unknown = (secrets.token_hex(16), secrets.token_hex(16))
    live = unknown if config.is_test else (password1, password2)
    test = (password1, password2) if config.is_test else unknown
    aggregator.register(
        MerchantAccount(
            login=config.login,
            password1=live[0],
            password2=live[1],
            test_password1=test[0],
            test_password2=test[1],
            result_url=f"{web_url}/robokassa/result",
            algorithm=config.algorithm,
            password3=config.password3.get_secret_value(),
        )
    )


async def build_services(
    settings: Settings, *, web_url: str, clock: Clock | None = None, catalogue: bool = True
) -> Services:
    """`web_url` is where the bot's web app listens (bind its port first: the sandbox and
    Robokassa's ResultURL point there). `catalogue=False` for the command line: only the bot's
    start syncs the catalogue."""
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
    wallets = WalletService(db, clock, ledger, rules, code_key=await code_key(settings))
    cash = CashDesk(
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
    )
    inbox = Inbox(db, clock)
    await inbox.forget_handled()
    merchant = Merchant(db, clock, order_ttl=settings.order_ttl_seconds)
    try:
        if catalogue:
            await merchant.sync_catalogue(settings.catalogue_path)
    except BaseException:
        await db.close()
        raise
    aggregator = Aggregator(db, clock, wallets, cash, bill_ttl=settings.bill_ttl_seconds)
    robokassa = _robokassa(settings, web_url)
    sandbox = not settings.robokassa.base_url
    if sandbox:
        _open_sandbox_account(settings, web_url, aggregator)
    # Every shop's own account; in the sandbox a released order closes its invoice at that
    # shop's merchant in the same transaction (both sides live here).
    accounts = connect_shops(settings, robokassa, web_url, aggregator, merchant, sandbox=sandbox)
    checkout = Checkout(
        db,
        clock,
        merchant,
        robokassa,
        reconcile_after=settings.reconcile_after_seconds,
        accounts=accounts,
        sandbox=sandbox,
    )
    services = Services(
        settings=settings,
        db=db,
        clock=clock,
        ledger=ledger,
        operator=operator,
        wallets=wallets,
        cash=cash,
        outbox=Outbox(db, clock),
        merchant=merchant,
        aggregator=aggregator,
        inbox=inbox,
        robokassa=robokassa,
        checkout=checkout,
        telegram_payments=telegram_payments(settings, db, clock, checkout, aggregator, sandbox),
    )
    return services


async def code_key(settings: Settings) -> bytes:
    """The SMS codes' HMAC key: the setting, or the file next to the database (made once)."""
    if settings.code_key is not None:
        return bytes.fromhex(settings.code_key.get_secret_value())
    if str(settings.database_path) == ":memory:":
        return secrets.token_bytes(32)  # the codes cannot outlive this database anyway
    return await asyncio.to_thread(load_or_create_key, settings.code_key_path())


async def close_services(services: Services) -> None:
    await services.aggregator.aclose()
    for client in services.checkout.accounts.clients():
        await client.aclose()
    await services.db.close()


def build_dispatcher(
    services: Services,
    i18n: I18n | None = None,
    first: Sequence[BaseMiddleware] = (),
    *,
    state: tuple[BaseStorage, BaseEventIsolation] | None = None,
) -> Dispatcher:
    """The dispatcher with every router; `first` are outer middlewares that must run first;
    `state`: conversation storage and per-person locks shared by replicas (Redis)."""
    i18n = i18n or make_i18n(services.settings.default_locale)
    storage, isolation = state or (SQLiteStorage(services.db), EventIsolation())
    dp = Dispatcher(
        storage=storage,
        events_isolation=isolation,
        **services.as_workflow_data(),
    )
    for middleware in first:
        dp.update.outer_middleware(middleware)
    dp.update.outer_middleware(SkipHandledUpdates(services.inbox))
    locales = SimpleI18nMiddleware(i18n)
    locales.setup(dp)
    dp.update.outer_middleware(make_throttle(services.settings, locales))
    dp.update.outer_middleware(RememberPeople(services.outbox, locales))
    handlers.setup(dp)
    return dp


def make_throttle(settings: Settings, locales: SimpleI18nMiddleware) -> Throttle:
    limits = settings.throttle
    return Throttle(
        MemoryThrottleStore(),
        Limit(limits.rate, limits.burst),
        Limit(limits.strict_rate, limits.strict_burst),
        locales,
        strict_states={
            group.__full_group_name__
            for group in (
                states.Registration,
                states.SignIn,
                states.ChangeSecret,
                states.Paying,
            )
        },
        strict_callbacks=(f"{callbacks.PayCb.__prefix__}:",),
    )


async def register_commands(bot: Bot, i18n: I18n) -> None:
    """The command list in the chat's menu, in each language we speak."""
    for locale in i18n.available_locales:
        with i18n.context(), i18n.use_locale(locale):
            commands = [
                BotCommand(command="start", description=i18n.gettext("Main menu")),
                BotCommand(command="help", description=i18n.gettext("How it works")),
                BotCommand(command="cancel", description=i18n.gettext("Stop the current step")),
                BotCommand(command="orders", description=i18n.gettext("Shop orders (owners)")),
            ]
        language = None if locale == i18n.default_locale else locale
        await bot.set_my_commands(commands, language_code=language)


class SkipHandledUpdates(BaseMiddleware):
    """An update is handled once: Telegram sends again what the bot had not confirmed before it
    died, and the inbox holds what it had confirmed but not finished.

    The update is marked handled as soon as its handler finishes (or fails), so one that died
    half-way is handled again; the money-moving steps are keyed themselves and change nothing
    the second time. One cancelled by a shutdown is left for the next start. The person's
    conversation state is written in the same transaction as the mark (`update_unit`), so a
    repeated update starts from the state the first try started from.
    """

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Update):
            return await handler(event, data)
        key = data.get("inbox_key") or update_key(
            event.update_id, event.model_dump_json(exclude_none=True)
        )
        if await self.inbox.is_handled(key):
            return None
        with update_unit() as unit:
            try:
                result = await handler(event, data)
            except Exception:
                await self.inbox.mark_handled(key, event.update_id, also=unit.write)
                raise
            await self.inbox.mark_handled(key, event.update_id, also=unit.write)
        return result


@dataclass
class _SharedLock:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0  # holding it or waiting for it


class EventIsolation(BaseEventIsolation):
    """One person's updates one at a time, as aiogram's SimpleEventIsolation does, but a lock
    lives only while someone holds or waits for it: that one kept a lock per person forever.
    """

    def __init__(self) -> None:
        self.locks: dict[Hashable, _SharedLock] = {}

    @asynccontextmanager
    async def lock(self, key: StorageKey) -> AsyncIterator[None]:
        shared = self.locks.setdefault(key, _SharedLock())
        shared.users += 1
        try:
            async with shared.lock:
                yield
        finally:
            shared.users -= 1
            if not shared.users:
                del self.locks[key]

    async def close(self) -> None:
        self.locks.clear()


class RememberPeople(BaseMiddleware):
    """Keeps each person's language, so background messages reach them in it.

    The people seen lately are remembered in memory (a bounded LRU) to spare a write per update.
    """

    def __init__(
        self, outbox: Outbox, locales: SimpleI18nMiddleware, *, remember: int = 10_000
    ) -> None:
        self.outbox = outbox
        self.locales = locales
        self.remember = remember
        self.known: OrderedDict[int, tuple[str, str]] = OrderedDict()

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
                if len(self.known) > self.remember:
                    self.known.popitem(last=False)
            self.known.move_to_end(user.id)
        return await handler(event, data)


def renderers() -> dict[str, Renderer]:
    """Outbox message kinds and the journey that knows how to word them."""
    return {
        Kind.RECEIPT_CREDITED: topup.render_receipt_credited,
        Kind.ORDER_PAID_OWNER: owner.render_order_paid_owner,
        Kind.ORDER_PAID_BUYER: shop.render_order_paid_buyer,
        Kind.ORDER_EXPIRED: shop.render_order_expired,
        Kind.ORDER_EXPIRING: shop.render_order_expiring,
        Kind.ORDER_FULFILLED: shop.render_order_fulfilled,
        Kind.ORDER_REFUNDED_BUYER: shop.render_order_refunded_buyer,
        Kind.REFUND_RESULT_OWNER: owner.render_refund_result_owner,
        Kind.PAYMENT_RETURNED: payment.render_payment_returned,
        Kind.TG_PAYMENT_KEPT_OWNER: owner.render_tg_payment_kept_owner,
    }


def build_jobs(services: Services, bot: Bot, i18n: I18n) -> BackgroundJobs:
    worker = OutboxWorker(bot, services.outbox, i18n, renderers())
    return BackgroundJobs(services, worker)
