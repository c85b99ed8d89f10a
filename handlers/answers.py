"""Every button press answered exactly once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.types import CallbackQuery, TelegramObject
from aiogram.utils.callback_answer import CallbackAnswerMiddleware


class AnswerOnce(CallbackAnswerMiddleware):
    """aiogram's `CallbackAnswerMiddleware` (handlers set `callback_answer.text` for a pop-up),
    except that a press whose handler failed is left to the error handlers, which answer it
    with an alert: answering twice is an error in Telegram."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, CallbackQuery):
            return await handler(event, data)
        answer = data["callback_answer"] = self.construct_callback_answer(properties=None)
        result = await handler(event, data)
        if not answer.disabled and not answer.answered:
            await self.answer(event, answer)
        return result
