"""Telegram's HTML parse mode: which tags are allowed, and what text a person sees."""

from __future__ import annotations

import html as html_lib
from html.parser import HTMLParser

ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
    "a", "code", "pre", "blockquote", "tg-emoji",
}  # fmt: skip
KNOWN_ENTITIES = {"lt", "gt", "amp", "quot"}


class EntityParseError(ValueError):
    pass


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            raise EntityParseError(f'Unsupported start tag "{tag}"')
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            raise EntityParseError(f'Unmatched end tag "{tag}"')
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if "<" in data:
            raise EntityParseError("Unsupported start tag")
        self.parts.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in KNOWN_ENTITIES:
            raise EntityParseError(f'Unsupported entity "{name}"')
        self.parts.append(html_lib.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.parts.append(html_lib.unescape(f"&#{name};"))


def visible_text(markup: str) -> str:
    """The plain text Telegram shows for an HTML message; raises on what Telegram rejects."""
    parser = _Parser()
    parser.feed(markup)
    parser.close()
    if parser.stack:
        raise EntityParseError(
            f'Can\'t find end tag corresponding to start tag "{parser.stack[-1]}"'
        )
    return "".join(parser.parts)
