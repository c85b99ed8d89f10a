"""Anti-flood: each person gets a token bucket; updates beyond it are dropped unhandled.

The first update over the limit is answered once («Слишком часто — подождите секунду»), the rest
are dropped silently (button presses still get an empty answer, so no spinner hangs) until the
person slows down. Steps that cost the most (registration, sign-in, payment) also draw from a
second, stricter bucket.

The buckets live behind `ThrottleStore`: this process's memory today; a store shared by
replicas (Redis, say) needs only `hit`, done atomically on its side.
"""

from __future__ import annotations

import enum
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any, Protocol

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n.middleware import I18nMiddleware

from services.clock import Clock, SystemClock


@dataclass(frozen=True)
class Limit:
    rate: float  # updates per second, sustained
    burst: int  # updates at once, after a pause


class Verdict(enum.Enum):
    PASS = "pass"
    WARN = "warn"  # over the limit, and not told yet
    DROP = "drop"  # over the limit, already told


class ThrottleStore(Protocol):
    async def hit(self, key: str, now: float, limit: Limit) -> Verdict:
        """Take one token from `key`'s bucket (full when new), refilled at `limit.rate`."""
        ...


@dataclass
class _Bucket:
    tokens: float
    at: float
    warned: bool = False


class MemoryThrottleStore:
    """Buckets in this process. The people seen longest ago are forgotten past `max_keys`
    (a forgotten bucket is a full one: the worst case is one extra burst)."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self.max_keys = max_keys
        self.buckets: OrderedDict[str, _Bucket] = OrderedDict()

    async def hit(self, key: str, now: float, limit: Limit) -> Verdict:
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = _Bucket(tokens=limit.burst, at=now)
            if len(self.buckets) > self.max_keys:
                self.buckets.popitem(last=False)
        else:
            # max(): a wall clock stepping back must not take tokens away.
            refill = max(now - bucket.at, 0.0) * limit.rate
            bucket.tokens = min(float(limit.burst), bucket.tokens + refill)
            bucket.at = max(now, bucket.at)
            self.buckets.move_to_end(key)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            bucket.warned = False
            return Verdict.PASS
        verdict = Verdict.DROP if bucket.warned else Verdict.WARN
        bucket.warned = True
        return verdict


class Throttle(BaseMiddleware):
    """Outer update middleware; runs after the FSM's, so the person's state is known."""

    def __init__(
        self,
        store: ThrottleStore,
        general: Limit,
        strict: Limit,
        locales: I18nMiddleware,
        *,
        strict_states: Collection[str] = (),
        strict_callbacks: Collection[str] = (),
        clock: Clock | None = None,
    ) -> None:
        self.store = store
        self.general = general
        self.strict = strict
        # Runs before the journeys' routers set the person's language, so it asks on its own.
        self.locales = locales
        self.strict_states = frozenset(strict_states)  # state group names
        self.strict_callbacks = tuple(strict_callbacks)  # callback data prefixes
        # Wall time, not the services' clock: tests stop that one, people never stop.
        self.clock: Clock = clock or SystemClock()

    def _costly(self, update: Update, raw_state: str | None) -> bool:
        if raw_state is not None and raw_state.partition(":")[0] in self.strict_states:
            return True
        query = update.callback_query
        return bool(query and query.data and query.data.startswith(self.strict_callbacks))

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        user = data.get("event_from_user")
        if not isinstance(event, Update) or user is None or self.general.rate <= 0:
            return await handler(event, data)
        now = self.clock.now().timestamp()
        verdict = await self.store.hit(str(user.id), now, self.general)
        if verdict is Verdict.PASS and self._costly(event, data.get("raw_state")):
            verdict = await self.store.hit(f"{user.id}:costly", now, self.strict)
        if verdict is Verdict.PASS:
            return await handler(event, data)
        text = None
        if verdict is Verdict.WARN:
            locale = await self.locales.get_locale(event, data)
            with self.locales.i18n.context(), self.locales.i18n.use_locale(locale):
                text = _("Too often — please wait a second.")
        if event.callback_query is not None:
            await event.callback_query.answer(text)
        elif text is not None and event.message is not None:
            await event.message.answer(text)
        return None
