"""The stand-in SMS and proving a number by sharing one's own contact: used by registration in
the wallet journey and by registration at the cash terminal."""

from __future__ import annotations

import contextlib

from aiogram import Bot
from aiogram.exceptions import TelegramForbiddenError
from aiogram.types import Message, ReplyKeyboardRemove
from aiogram.utils.i18n import gettext as _

from handlers.phones import read_phone
from handlers.screens import user_id
from handlers.views.wallet import sms_text
from services.operator import Operator, Sms


async def send_sms(bot: Bot, sms: Sms, markup: ReplyKeyboardRemove | None = None) -> None:
    """The stand-in SMS arrives in the chat of the account that has the number, wherever the
    action was taken (the key changed by a second account reaches the owner)."""
    # Someone who blocked the bot is a phone that is switched off: the SMS is lost.
    with contextlib.suppress(TelegramForbiddenError):
        await bot.send_message(sms.to_user, sms_text(sms), reply_markup=markup)


async def own_number(message: Message, operator: Operator) -> str | None:
    """The number of a contact the person shared, recorded as theirs when it is their own.

    Telegram vouches for a contact whose user_id is the sender's: that account has the number.
    Someone else's contact proves nothing and gets an answer saying so (None).
    """
    contact = message.contact
    assert contact is not None
    if contact.user_id != user_id(message):
        await message.answer(
            _(
                "This is someone else's contact. Share your own number with the button below "
                "or type it."
            )
        )
        return None
    number = await read_phone(message, contact.phone_number)
    if number is not None:
        await operator.prove(number, user_id(message))
    return number
