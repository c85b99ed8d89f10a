"""Gettext set-up and the Russian-style formatting of money, dates, phones and plurals."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n.context import get_i18n
from babel.numbers import format_decimal

from services.clock import MOSCOW

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "bot"
NBSP = "\u00a0"


def make_i18n(default_locale: str = "ru") -> I18n:
    return I18n(path=LOCALES_DIR, default_locale=default_locale, domain=DOMAIN)


def current_locale() -> str:
    try:
        return get_i18n().current_locale
    except LookupError:
        return "ru"


def money(kopecks: int, *, locale: str | None = None) -> str:
    """`125050` → `1 250,50 ₽` in Russian (non-breaking spaces), `1,250.50 ₽` in English."""
    amount = Decimal(kopecks) / 100
    number = format_decimal(amount, format="#,##0.00", locale=locale or current_locale())
    return f"{number}{NBSP}₽"


def ngettext(singular: str, plural: str, n: int) -> str:
    """Plural-aware gettext (Russian has three forms)."""
    return get_i18n().gettext(singular, plural, n)


def plural_form(n: int, forms: tuple[str, ...]) -> str:
    """The form of a word for `n` from forms given as data (a catalogue's units), by the
    current language's rule: Russian has three (1 букет, 2 букета, 5 букетов), English two."""
    if current_locale() == "ru" and len(forms) == 3:
        if n % 10 == 1 and n % 100 != 11:
            return forms[0]
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return forms[1]
        return forms[2]
    return forms[0] if n == 1 else forms[-1]


def rubles_word(rubles: int) -> str:
    """`1 рубль`, `2 рубля`, `5 рублей`: the count with the right plural form."""
    return ngettext("{count} ruble", "{count} rubles", rubles).format(
        count=format_decimal(rubles, format="#,##0", locale=current_locale())
    )


def when(moment: datetime) -> str:
    """Date and time as people in Russia read them: `28.11.2026 14:35` (Moscow time)."""
    return moment.astimezone(MOSCOW).strftime("%d.%m.%Y %H:%M")


def clock_time(moment: datetime) -> str:
    return moment.astimezone(MOSCOW).strftime("%H:%M")


def phone(number: str, *, masked: bool = False) -> str:
    """`+79123456789` → `+7 912 345-67-89`, or `+7 912 *** ** 89` when masked."""
    digits = number.removeprefix("+7")
    if len(digits) != 10 or not digits.isdigit():
        return number
    if masked:
        return f"+7 {digits[:3]} *** ** {digits[8:]}"
    return f"+7 {digits[:3]} {digits[3:6]}-{digits[6:8]}-{digits[8:]}"
