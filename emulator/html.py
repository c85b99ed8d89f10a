"""Telegram's HTML parse mode: which tags are allowed, what text a person sees, and its entities."""

from __future__ import annotations

import html as html_lib
from html.parser import HTMLParser
from typing import Any

ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
    "a", "code", "pre", "blockquote", "tg-emoji",
}  # fmt: skip
KNOWN_ENTITIES = {"lt", "gt", "amp", "quot"}
ENTITY_TYPES = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "tg-spoiler": "spoiler", "a": "text_link", "code": "code", "pre": "pre",
    "blockquote": "blockquote", "tg-emoji": "custom_emoji",
}  # fmt: skip


def utf16_length(text: str) -> int:
    """Telegram counts offsets and lengths in UTF-16 code units (an emoji is often 2)."""
    return len(text.encode("utf-16-le")) // 2


class EntityParseError(ValueError):
    pass


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[tuple[str, dict[str, str | None], int]] = []
        self.parts: list[str] = []
        self.at = 0  # in UTF-16 code units
        self.entities: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            raise EntityParseError(f'Unsupported start tag "{tag}"')
        self.stack.append((tag, dict(attrs), self.at))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1][0] != tag:
            raise EntityParseError(f'Unmatched end tag "{tag}"')
        _, attrs, start = self.stack.pop()
        if self.at == start:
            return  # Telegram drops empty entities
        entity: dict[str, Any] = {"offset": start, "length": self.at - start}
        kind = ENTITY_TYPES.get(tag, "")
        if tag == "span":
            if attrs.get("class") != "tg-spoiler":
                return
            kind = "spoiler"
        if tag == "a":
            entity["url"] = attrs.get("href") or ""
        if tag == "code" and self.stack and self.stack[-1][0] == "pre":
            # <pre><code class="language-x"> is one pre entity with a language.
            language = (attrs.get("class") or "").removeprefix("language-")
            if language:
                self.stack[-1][1]["language"] = language
            return
        if tag == "pre" and attrs.get("language"):
            entity["language"] = attrs["language"]
        self.entities.append({"type": kind, **entity})

    def handle_data(self, data: str) -> None:
        if "<" in data:
            raise EntityParseError("Unsupported start tag")
        self._add(data)

    def handle_entityref(self, name: str) -> None:
        if name not in KNOWN_ENTITIES:
            raise EntityParseError(f'Unsupported entity "{name}"')
        self._add(html_lib.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self._add(html_lib.unescape(f"&#{name};"))

    def _add(self, text: str) -> None:
        self.parts.append(text)
        self.at += utf16_length(text)


def parse_html(markup: str) -> tuple[str, list[dict[str, Any]]]:
    """The text Telegram shows for an HTML message and its entities (UTF-16 offsets, sorted).

    Raises EntityParseError on what Telegram rejects.
    """
    parser = _Parser()
    parser.feed(markup)
    parser.close()
    if parser.stack:
        raise EntityParseError(
            f'Can\'t find end tag corresponding to start tag "{parser.stack[-1][0]}"'
        )
    entities = sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))
    return "".join(parser.parts), entities
