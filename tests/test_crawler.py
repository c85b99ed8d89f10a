"""The crawler: press every button within a depth bound, throw junk at every screen reached.

Asserts that every update is answered, nothing raises, no traceback reaches a chat, and no
screen is a dead end (each has a button or a reply keyboard to go on with). The corpus and the
screens visited are printed (`pytest -s`) for the record.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.wallet import wallet_account
from tests.harness import Harness, Person, Seen, plain, running_harness
from tests.helpers import (
    INTERNAL_ID,
    prepared_person,
    press_forged_buttons,
)

CORPUS: list[tuple[str, str]] = [
    ("text", " "),
    ("text", "я" * 5000),
    ("text", "🤖💸🔥👛"),
    ("text", "مرحبا بالعالم"),
    ("text", "'; DROP TABLE orders; --"),
    ("text", "<b>жирный</b><script>alert(1)</script> & <"),
    ("text", "-100"),
    ("text", "1e309"),
    ("text", "0,001"),
    ("text", "99999999999999999999999"),
    ("text", "+1 212 555 0100"),
    ("text", "/definitely_not_a_command"),
    ("media", "sticker"),
    ("media", "photo"),
    ("media", "voice"),
]
MAX_DEPTH = 7
# Where crawls start, and how many paths each may explore. Deep links and the owner's command
# start further in, so invoice screens and the owner's panel are reached within the bound.
SEEDS = {"/start": 200, "/start item-{delivery}": 60, "/orders": 30}
# Buttons whose effect is final for the person and would end the crawl of that branch.
SKIP = {"🚪 Да, выйти", "✖️ Отойти от терминала"}


async def press_at(person: Person, screen: Seen, place: tuple[int, int]) -> Seen | None:
    """Replay a press by the button's place on the screen (labels and ids differ per person).

    None when the screen no longer has that button (earlier crawling bought the last unit)."""
    row, column = place
    keyboard = screen.raw.get("inline_keyboard") or []
    if row >= len(keyboard) or column >= len(keyboard[row]):
        return None
    return await person.press_data(screen.message_id, keyboard[row][column]["callback_data"])


def places(screen: Seen, forward_only: bool = False) -> list[tuple[int, int]]:
    backward = ("🏠", "⬅️") if forward_only else ()
    return [
        (r, c)
        for r, row in enumerate(screen.raw.get("inline_keyboard") or [])
        for c, button in enumerate(row)
        if "callback_data" in button
        and plain(button["text"]) not in SKIP
        and not plain(button["text"]).startswith(backward or ("\0",))
    ]


def pressable_labels(screen: Seen) -> set[str]:
    """Buttons that send data (not links, not Telegram's own «Pay» of an invoice)."""
    keyboard = screen.raw.get("inline_keyboard") or []
    return {plain(b["text"]) for row in keyboard for b in row if "callback_data" in b}


def signature(text: str) -> str:
    return re.sub(r"\d", "#", text.splitlines()[0] if text else "")[:60]


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    """The crawler floods on purpose (the junk corpus at every screen, one owner for every
    owner path, a stranger pressing every forged button), far faster than anyone could: with
    anti-flood on, it would drop the very updates the crawl checks are answered."""
    async with running_harness(tmp_path, throttle={"rate": 0}) as h:
        yield h


async def test_crawl_every_screen_with_junk(harness: Harness) -> None:
    owner = harness.person("Ольга", user_id=49_999)
    for shop in ("books", "flowers", "mobile"):
        await harness.services.merchant.add_owner(shop, owner.id)
    delivery = await harness.services.db.fetchone("SELECT id FROM items WHERE sku = 'delivery'")
    assert delivery is not None
    visited: Counter[str] = Counter()
    shown: list[str] = []  # every screen's text and buttons as it was when reached
    unanswered: list[str] = []
    dead_ends: list[str] = []
    explored = 0
    stranger = await prepared_person(harness, 0)
    stranger_menu = await stranger.send("/start")
    for seed, budget in SEEDS.items():
        start = seed.format(delivery=delivery[0])
        paths: list[list[tuple[int, int]]] = [[]]
        expanded: set[str] = set()
        # Seeds past the menu only go forward: the menu and the ways back are crawled from /start.
        forward_only = seed != "/start"
        taken = 0
        while paths and taken < budget:
            path = paths.pop(0)
            taken += 1
            explored += 1
            # The owner's panel is crawled as the owner; everything else by a fresh person.
            person = owner if seed == "/orders" else await prepared_person(harness, explored)
            screen: Seen | None = await person.send(start)
            for place in path:
                assert screen is not None
                screen = await press_at(person, screen, place)
                if screen is None:
                    break
            if screen is None:
                continue
            visited[signature(screen.text)] += 1
            shown.append("\n".join([screen.text, *screen.labels]))
            if not screen.labels and not person.reply_keyboard:
                dead_ends.append(f"{start} {path}")
            labels = [label for label in screen.labels if label not in SKIP]
            key = signature(screen.text) + "|" + "|".join(labels)
            if len(path) < MAX_DEPTH and key not in expanded:
                expanded.add(key)
                paths.extend([*path, place] for place in places(screen, forward_only))
            fsm = harness.dp.fsm.get_context(harness.bot, person.id, person.id)
            state = await fsm.get_state()
            for kind, value in CORPUS:
                before = len(person.bot_messages())
                if kind == "text":
                    await person.send(value)
                else:
                    await person.send_media(value)
                if len(person.bot_messages()) <= before:
                    unanswered.append(f"{start} {path} | {kind}:{value[:20]}")
                assert "Traceback" not in person.last.text
            after = await fsm.get_state()
            assert after in (state, None), (start, path, state, after)
            # Someone else's button data on this screen: answered, refused or harmless.
            pressable = [
                screen.data_of(label) for label in labels if label in pressable_labels(screen)
            ]
            for data in pressable[:3]:
                await stranger.press_data(stranger_menu.message_id, data)
                assert stranger.last_answer is not None
    forged = await press_forged_buttons(harness, stranger, stranger_menu.message_id)
    print(f"\ncrawled {explored} paths, {len(visited)} distinct screens:")
    for name, count in sorted(visited.items()):
        print(f"  {count:3} × {name}")
    print("corpus:", [value[:20] for _, value in CORPUS])
    print(f"forged button data pressed: {forged}")
    assert unanswered == []
    assert dead_ends == []
    # No screen, message or button shows a person an internal id like `bill:4`.
    for person in harness.people.values():
        shown.extend("\n".join([m.text, *m.labels]) for m in person.bot_messages())
    leaks = {found for text in shown for found in INTERNAL_ID.findall(text)}
    assert not leaks, leaks
    assert not harness.errors.records, [r.getMessage() for r in harness.errors.records]
    # Money was not created or lost by any of it.
    report = await harness.services.ledger.check_invariants()
    assert report.ok, report
    assert await harness.services.ledger.balance(wallet_account("+79120000000")) == 500_000
    # The deep screens are part of the crawl, not left to other tests.
    seen = "\n".join(visited)
    for screen in ("🧾 Счёт на оплату № ", "📦 Заказы ", "📊 Продажи"):
        assert screen in seen, screen


async def test_crawl_in_english_leaves_nothing_in_russian(harness: Harness) -> None:
    """Every screen exists in English too: an English speaker's crawl finds no Russian word
    except the names orders were sold under (an order keeps its shop's and item's names)."""
    owner = harness.person("Olga", user_id=49_999, language_code="en")
    for shop in ("books", "flowers", "mobile"):
        await harness.services.merchant.add_owner(shop, owner.id)
    delivery = await harness.services.db.fetchone("SELECT id FROM items WHERE sku = 'delivery'")
    assert delivery is not None
    sold = [
        row[0]
        for row in await harness.services.db.fetchall(
            "SELECT name FROM items UNION SELECT name FROM shops"
        )
    ]
    explored = 0
    for seed, budget in {"/start": 80, "/start item-{delivery}": 30, "/orders": 15}.items():
        start = seed.format(delivery=delivery[0])
        paths: list[list[tuple[int, int]]] = [[]]
        expanded: set[str] = set()
        taken = 0
        while paths and taken < budget:
            path = paths.pop(0)
            taken += 1
            explored += 1
            if seed == "/orders":
                person = owner
            else:
                person = await prepared_person(harness, explored, language_code="en")
            screen: Seen | None = await person.send(start)
            for place in path:
                assert screen is not None
                screen = await press_at(person, screen, place)
                if screen is None:
                    break
            if screen is None:
                continue
            key = signature(screen.text) + "|" + "|".join(screen.labels)
            if len(path) < MAX_DEPTH and key not in expanded:
                expanded.add(key)
                skip = {"🚪 Yes, sign out", "✖️ Leave the terminal"}
                paths.extend(
                    [*path, place]
                    for place in places(screen, forward_only=seed != "/start")
                    if plain(screen.raw["inline_keyboard"][place[0]][place[1]]["text"]) not in skip
                )
    russian = re.compile(r"[А-Яа-яЁё]")
    left = set()
    for person in harness.people.values():
        for message in person.bot_messages():
            text = "\n".join([message.text, *message.labels])
            for name in sold:
                text = text.replace(name, "")
            if russian.search(text):
                left.add(message.text.splitlines()[0] if message.text else "|".join(message.labels))
    print(f"\ncrawled {explored} paths in English")
    assert left == set()
