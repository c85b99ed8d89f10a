"""Showing a screen: edit the message a button was pressed on, or send a new one.

Receipts, notifications and other messages a person may need later are never edited into
something else: their keyboards are marked with `keep`, and a screen reached from a marked
message comes as a new message.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from aiogram.utils.callback_answer import CallbackAnswer

from handlers.callbacks import KEEP

T = TypeVar("T")
Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | None


def user_id(event: Message | CallbackQuery) -> int:
    """Who sent this message or pressed this button (always set in private chats)."""
    assert event.from_user is not None
    return event.from_user.id


def keep(markup: InlineKeyboardMarkup) -> InlineKeyboardMarkup:
    """The keyboard of a message that stays: its buttons lead on in new messages.

    The mark travels in the buttons' data because that is what Telegram hands back with a
    press, so no table of message ids is needed."""
    rows = [
        [
            button.model_copy(update={"callback_data": button.callback_data + KEEP})
            if button.callback_data and not button.callback_data.endswith(KEEP)
            else button
            for button in row
        ]
        for row in markup.inline_keyboard
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


def kept(message: Message) -> bool:
    """Whether this message was sent with a `keep` keyboard."""
    markup = message.reply_markup
    return markup is not None and any(
        (button.callback_data or "").endswith(KEEP)
        for row in markup.inline_keyboard
        for button in row
    )


async def show(
    event: Message | CallbackQuery,
    text: str,
    markup: Markup = None,
) -> None:
    """Render a screen in reply to a message or a button press (the press itself is answered
    by `CallbackAnswerMiddleware`)."""
    if isinstance(event, CallbackQuery):
        message = event.message
        if (
            isinstance(message, Message)
            and not kept(message)
            and not isinstance(markup, ReplyKeyboardMarkup | ReplyKeyboardRemove)
        ):
            try:
                await message.edit_text(text, reply_markup=markup)
                return
            except TelegramBadRequest as exc:
                if "not modified" in exc.message:
                    return
        await event.bot.send_message(event.from_user.id, text, reply_markup=markup)  # type: ignore[union-attr]
        return
    await event.answer(text, reply_markup=markup)


async def fetch_page(
    fetch: Callable[[int], Awaitable[tuple[list[T], int]]], page: int, per_page: int
) -> tuple[list[T], int, int, int]:
    """(items, total, page, pages) of a paged list; a stale button past the end gets the last
    page, since the list may have got shorter after the button was drawn."""
    page = max(page, 0)
    items, total = await fetch(page)
    pages = max(1, -(-total // per_page))
    if page >= pages:
        page = pages - 1
        items, total = await fetch(page)
    return items, total, page, pages


async def tell(
    event: Message | CallbackQuery,
    text: str,
    answer: CallbackAnswer | None = None,
    *,
    alert: bool = True,
) -> None:
    """A short word that does not change the screen: the pop-up of a button press, or a reply
    to a message."""
    if isinstance(event, CallbackQuery):
        assert answer is not None, "a button press is told through its callback_answer"
        answer.text = text
        answer.show_alert = alert
        return
    await event.answer(text)
