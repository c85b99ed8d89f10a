"""Reading a phone number a person typed: one place for the rules and the answer when it fails."""

from __future__ import annotations

from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from services.operator import InvalidPhone, normalize_phone


def phone_error_text(error: InvalidPhone) -> str:
    if error.reason == "foreign":
        return _("Only Russian numbers (+7) work here. Type it like this: +7 912 345-67-89.")
    if error.reason == "digits":
        return _("Type the number with the ordinary digits 0–9, for example: +7 912 345-67-89.")
    if error.reason == "not_mobile":
        return _("A mobile number is needed: it starts with +7 9. For example: +7 912 345-67-89.")
    return _("That doesn't look like a phone number. Type it like this: +7 912 345-67-89.")


async def read_phone(message: Message, raw: str | None = None) -> str | None:
    """The normalised number, or None after telling the person what is expected."""
    try:
        return normalize_phone(message.text or "" if raw is None else raw)
    except InvalidPhone as error:
        await message.answer(phone_error_text(error))
        return None
