"""Catalogue chores: `python -m bot.i18n_tools fill-english` copies English msgids into `en`.

The code's texts are English msgids, so the English catalogue is the identity; Russian is
translated by hand in `locales/ru/LC_MESSAGES/bot.po`.
"""

from __future__ import annotations

import sys

from babel.messages.pofile import read_po, write_po

from bot.i18n import DOMAIN, LOCALES_DIR


def fill_english() -> int:
    path = LOCALES_DIR / "en" / "LC_MESSAGES" / f"{DOMAIN}.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale="en")
    filled = 0
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple | list):
            if not isinstance(message.string, tuple | list) or not all(message.string):
                message.string = (message.id[0], message.id[1])
                filled += 1
        elif not message.string:
            message.string = message.id
            filled += 1
        message.flags.discard("fuzzy")
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, omit_header=False, sort_output=True)
    return filled


def main(argv: list[str]) -> int:
    if argv[:1] == ["fill-english"]:
        print(f"filled {fill_english()} English entries")
        return 0
    print("usage: python -m bot.i18n_tools fill-english", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
