"""Honour Telegram's flood control: wait `retry_after` and send again, a bounded number of times."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType

log = logging.getLogger(__name__)


class RetryAfter(BaseRequestMiddleware):
    def __init__(
        self,
        attempts: int = 3,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.attempts = attempts
        self.sleep = sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        for attempt in range(1, self.attempts + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                if attempt == self.attempts:
                    raise
                log.warning(
                    "flood control on %s: waiting %s s", method.__api_method__, error.retry_after
                )
                await self.sleep(error.retry_after)
        raise AssertionError("unreachable")


class KeepResponseModels(BaseRequestMiddleware):
    """Hold each `Response[T]` model aiogram builds, so it is built once per process.

    aiogram parses every answer with `Response[method.__returning__]`; pydantic caches those
    generic models in a weak dictionary, so a garbage collection drops them and the next call
    builds the model again (about 7 ms each, dozens of times a minute under load).
    """

    def __init__(self) -> None:
        self.models: dict[Any, Any] = {}

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        returning = method.__returning__
        if returning not in self.models:
            self.models[returning] = Response[returning]  # type: ignore[valid-type]
        return await make_request(bot, method)
