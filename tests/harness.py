"""Conversation-level test harness: people talk to the real dispatcher via the emulated Telegram.

`EngineSession` is an aiogram session that sends every Bot API call to the emulator's engine
in-process (same parameters as over HTTP, answers passed through aiogram's own `check_response`,
so 400/403/429 surface as the real exceptions). `Harness.person(...)` gives a `Person` who can
`send`, `press` a button by its label and read what the bot showed.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.base import BaseSession
from aiogram.enums import ParseMode
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Update

from bot.app import Services, build_dispatcher, build_jobs, build_services, close_services
from bot.i18n import make_i18n
from bot.jobs import BackgroundJobs
from bot.retry import KeepResponseModels, RetryAfter
from bot.settings import Settings
from bot.web import bind, build_web_app, serve
from emulator.engine import Engine, TelegramError
from services.clock import ManualClock

TOKEN = "4242424242:TEST-token-for-the-harness-0123456789"


class EngineSession(BaseSession):
    """Bot API calls answered by the in-process emulator engine; faults can be queued."""

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self.engine = engine
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.faults: dict[str, list[TelegramError]] = {}

    def fail_next(self, method: str, error: TelegramError) -> None:
        self.faults.setdefault(method, []).append(error)

    async def make_request(
        self,
        bot: Bot,
        method: TelegramMethod[TelegramType],
        timeout: int | None = None,  # noqa: ASYNC109 (aiogram's signature)
    ) -> TelegramType:
        params: dict[str, Any] = {}
        files: dict[str, Any] = {}
        for key, value in method.model_dump(warnings=False).items():
            prepared = self.prepare_value(value, bot=bot, files=files)
            if not prepared:
                continue
            params[key] = prepared
        name = method.__api_method__
        self.calls.append((name, params))
        try:
            queued = self.faults.get(name)
            if queued:
                raise queued.pop(0)
            body: dict[str, Any] = {"ok": True, "result": self.engine.call(name, params)}
            status = 200
        except TelegramError as exc:
            body, status = exc.payload(), exc.code
        response = self.check_response(bot, method, status, json.dumps(body))
        return response.result  # type: ignore[return-value]

    async def close(self) -> None:
        pass

    async def stream_content(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover
        raise NotImplementedError("the harness has no files to stream")


def plain(text: str | None) -> str:
    """Message text with non-breaking spaces folded, so tests can write `1 250,50 ₽`."""
    return (text or "").replace("\u00a0", " ").replace("\u202f", " ")


@dataclass
class Seen:
    """A message as the person sees it in the chat."""

    message_id: int
    sender: str
    text: str
    buttons: list[list[str]]
    reply_buttons: list[list[str]]
    edited: bool
    raw: dict[str, Any]

    @property
    def labels(self) -> list[str]:
        return [label for row in self.buttons for label in row]

    @property
    def reply_labels(self) -> list[str]:
        return [label for row in self.reply_buttons for label in row]

    def data_of(self, label: str) -> str:
        """The callback data behind the button labelled `label` (spaces folded)."""
        for row in self.raw.get("inline_keyboard") or []:
            for button in row:
                if plain(button["text"]) == label and "callback_data" in button:
                    return str(button["callback_data"])
        raise AssertionError(f"no button {label!r} on {self.labels}")


def _after_press(messages: list[Seen], newest: int, pressed: int) -> Seen:
    if messages and messages[-1].message_id > newest:
        return messages[-1]
    for message in messages:
        if message.message_id == pressed:
            return message
    return messages[-1]


def _seen(view: dict[str, Any]) -> Seen:
    reply = view.get("reply_keyboard") or {}
    return Seen(
        message_id=view["message_id"],
        sender=view["from"],
        text=plain(view.get("text")),
        buttons=[[plain(b["text"]) for b in row] for row in view.get("inline_keyboard") or []],
        reply_buttons=[
            [b["text"] if isinstance(b, dict) else str(b) for b in row]
            for row in reply.get("keyboard", [])
        ],
        edited=view.get("edited", False),
        raw=view,
    )


class ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Harness:
    engine: Engine
    session: EngineSession
    bot: Bot
    dp: Dispatcher
    services: Services
    clock: ManualClock
    errors: ErrorLog
    jobs: BackgroundJobs
    _ids: int = 100
    people: dict[int, Person] = field(default_factory=dict)

    async def feed(self, update: dict[str, Any]) -> None:
        await self.dp.feed_update(
            self.bot, Update.model_validate(update, context={"bot": self.bot})
        )

    async def drain(self, rounds: int = 20) -> None:
        """Run background jobs, a second apart, until the outbox has nothing due."""
        for _ in range(rounds):
            await self.jobs.run_once()
            if not await self.services.outbox.due():
                return
            self.clock.advance(seconds=1)
        raise AssertionError("the outbox did not drain")

    def person(
        self,
        first_name: str = "Анна",
        *,
        phone: str | None = "+79123456789",
        language_code: str | None = "ru",
        user_id: int | None = None,
    ) -> Person:
        if user_id is None:
            self._ids += 1
            user_id = self._ids
        self.engine.add_person(user_id, first_name, phone=phone, language_code=language_code)
        person = Person(self, user_id)
        self.people[user_id] = person
        return person


@dataclass
class Person:
    h: Harness
    id: int

    async def send(self, text: str) -> Seen:
        await self.h.feed(self.h.engine.send_text(self.id, text))
        return self.last

    async def send_media(self, kind: str) -> Seen:
        await self.h.feed(self.h.engine.send_media(self.id, kind))
        return self.last

    async def share_contact(self, phone: str | None = None, owner_id: int | None = None) -> Seen:
        await self.h.feed(self.h.engine.share_contact(self.id, phone, owner_id))
        return self.last

    def block_bot(self, blocked: bool = True) -> None:
        """The person blocks the bot in Telegram: every message to them is refused with 403."""
        self.h.engine.block(self.id, blocked)

    async def press(self, label: str, *, message_id: int | None = None) -> Seen:
        """Press the newest inline button with this label, or a reply-keyboard button."""
        for message in reversed(self.messages()):
            if label in message.labels and message_id in (None, message.message_id):
                return await self.press_data(message.message_id, message.data_of(label))
        if message_id is None:
            keyboard = self.h.engine.current_reply_keyboard(self.id)
            labels = [
                b["text"] if isinstance(b, dict) else b
                for row in (keyboard or {}).get("keyboard", [])
                for b in row
            ]
            if label in labels:
                return await self.send(label)
        raise AssertionError(f"no button {label!r} in the chat; last: {self.last}")

    async def press_data(self, message_id: int, data: str) -> Seen:
        """Press a button; returns the screen it led to (a new message, or the edited one)."""
        newest = self.last.message_id if self.bot_messages() else 0
        await self.h.feed(self.h.engine.press(self.id, message_id, data=data))
        return _after_press(self.bot_messages(), newest, message_id)

    def messages(self, after: int = 0) -> list[Seen]:
        return [_seen(v) for v in self.h.engine.messages(self.id, after)]

    def bot_messages(self, after: int = 0) -> list[Seen]:
        return [m for m in self.messages(after) if m.sender == "bot"]

    @property
    def last(self) -> Seen:
        messages = self.bot_messages()
        assert messages, "the bot has not said anything yet"
        return messages[-1]

    @property
    def last_answer(self) -> dict[str, Any] | None:
        """The answer to this person's latest button press (toast or alert)."""
        mine = [c for c in self.h.engine.callbacks.values() if c.user_id == self.id]
        if not mine or mine[-1].answer is None:
            return None
        answer = mine[-1].answer
        return {"text": plain(answer["text"]), "show_alert": answer["show_alert"]}

    @property
    def reply_keyboard(self) -> list[str]:
        keyboard = self.h.engine.current_reply_keyboard(self.id) or {}
        return [
            b["text"] if isinstance(b, dict) else b
            for row in keyboard.get("keyboard", [])
            for b in row
        ]


def harness_sleep(clock: ManualClock, engine: Engine) -> Callable[[float], Awaitable[None]]:
    """Waiting in the harness moves the controllable clock instead of the wall clock."""

    async def sleep(seconds: float) -> None:
        clock.advance(seconds=seconds)

    return sleep


@asynccontextmanager
async def running_harness(tmp_path: Path, **settings: Any) -> AsyncIterator[Harness]:
    clock = ManualClock()
    config = Settings(_env_file=None, database_path=tmp_path / "bot.sqlite3", **settings)  # type: ignore[call-arg]
    # The bot's web app (ResultURL, the Robokassa sandbox) listens on loopback, as in production.
    sock, web_url = bind("127.0.0.1", 0)
    services = await build_services(config, web_url=web_url, clock=clock)
    engine = Engine(clock=lambda: clock.now().timestamp())
    session = EngineSession(engine)
    bot = Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    bot.session.middleware(KeepResponseModels())
    bot.session.middleware(RetryAfter(sleep=harness_sleep(clock, engine)))
    services.cash.delayed = lambda: False  # tests choose delays explicitly
    i18n = make_i18n()
    dp = build_dispatcher(services, i18n)
    jobs = build_jobs(services, bot, i18n)
    jobs.worker.sleep = harness_sleep(clock, engine)
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    runner = await serve(build_web_app(services), sock)
    harness = Harness(engine, session, bot, dp, services, clock, errors, jobs)
    try:
        await dp.emit_startup(bot=bot)
        yield harness
    finally:
        logging.getLogger().removeHandler(errors)
        await dp.emit_shutdown(bot=bot)
        await runner.cleanup()
        await close_services(services)
