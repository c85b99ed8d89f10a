"""Catalogues complete and in step with the code; money, plurals, dates and phones Russian style."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from bot.i18n import LOCALES_DIR, make_i18n, money, phone, rubles_word, when

ROOT = Path(__file__).resolve().parent.parent
CODE_DIRS = ["bot", "handlers", "services", "emulator"]


def catalog(locale: str):  # type: ignore[no-untyped-def]
    with (LOCALES_DIR / locale / "LC_MESSAGES" / "bot.po").open("rb") as handle:
        return read_po(handle, locale=locale)


def code_msgids() -> set[str]:
    found: set[str] = set()
    keywords = {"_": None, "__": None, "gettext": None, "ngettext": (1, 2)}
    for folder in CODE_DIRS:
        for _file, _line, message, _comments, _ctx in extract_from_dir(
            ROOT / folder, keywords=keywords
        ):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.mark.parametrize("locale", ["ru", "en"])
def test_catalogue_has_no_untranslated_or_fuzzy_entries(locale: str) -> None:
    problems = []
    for message in catalog(locale):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            problems.append(message.id)
    assert problems == []


@pytest.mark.parametrize("locale", ["ru", "en"])
def test_every_text_in_the_code_is_in_the_catalogue(locale: str) -> None:
    ids = {m.id[0] if isinstance(m.id, tuple) else m.id for m in catalog(locale) if m.id}
    missing = code_msgids() - ids
    assert missing == set(), "run `make messages` and translate"


def test_russian_catalogue_is_really_russian() -> None:
    untranslated = [
        m.id
        for m in catalog("ru")
        if m.id
        and not isinstance(m.id, tuple)
        and m.string == m.id
        and any(c.isalpha() for c in m.id)
    ]
    assert untranslated == []


def test_money_is_shown_russian_style() -> None:
    i18n = make_i18n()
    with i18n.context(), i18n.use_locale("ru"):
        assert money(125050).replace("\u00a0", " ") == "1 250,50 ₽"
        assert money(0).replace("\u00a0", " ") == "0,00 ₽"
        assert money(5).replace("\u00a0", " ") == "0,05 ₽"
        assert money(150000000).replace("\u00a0", " ") == "1 500 000,00 ₽"
    with i18n.context(), i18n.use_locale("en"):
        assert money(125050).replace("\u00a0", " ") == "1,250.50 ₽"


@pytest.mark.parametrize(
    ("count", "expected"),
    [
        (1, "1 рубль"),
        (2, "2 рубля"),
        (4, "4 рубля"),
        (5, "5 рублей"),
        (11, "11 рублей"),
        (12, "12 рублей"),
        (14, "14 рублей"),
        (21, "21 рубль"),
        (22, "22 рубля"),
        (25, "25 рублей"),
        (101, "101 рубль"),
        (111, "111 рублей"),
        (1001, "1 001 рубль"),
    ],
)
def test_rubles_take_the_right_plural_form(count: int, expected: str) -> None:
    i18n = make_i18n()
    with i18n.context(), i18n.use_locale("ru"):
        assert rubles_word(count).replace("\u00a0", " ") == expected


def test_english_plurals() -> None:
    i18n = make_i18n()
    with i18n.context(), i18n.use_locale("en"):
        assert rubles_word(1) == "1 ruble"
        assert rubles_word(5) == "5 rubles"


def test_dates_and_phones() -> None:
    assert when(datetime(2026, 11, 28, 11, 35, tzinfo=UTC)) == "28.11.2026 14:35"
    assert phone("+79123456789") == "+7 912 345-67-89"
    assert phone("+79123456789", masked=True) == "+7 912 *** ** 89"
