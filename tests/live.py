"""End-to-end mode: the real bot polls the emulator over HTTP; people are driven by its driver API.

`LiveHarness`/`LivePerson` offer the same surface as `Harness`/`Person`, so one scenario runs in
both modes. Every action waits on `/api/settle` (the emulator knows when the bot is done), then
reads the chat back; nothing sleeps.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bot.app import Services
from bot.runner import Runtime
from bot.settings import Settings
from services.clock import ManualClock
from tests.harness import ErrorLog, Seen, _after_press, _seen, plain


@dataclass
class LiveHarness:
    runtime: Runtime
    client: httpx.AsyncClient
    clock: ManualClock
    errors: ErrorLog
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(501))

    @property
    def services(self) -> Services:
        assert self.runtime.services is not None
        return self.runtime.services

    def person(
        self,
        first_name: str = "Анна",
        *,
        phone: str | None = "+79123456789",
        language_code: str | None = "ru",
        user_id: int | None = None,
    ) -> LivePerson:
        return LivePerson(self, user_id or next(self._ids), first_name, phone, language_code)

    async def settle(self) -> None:
        response = await self.client.post("/api/settle", json={"timeout": 20})
        assert response.status_code == 200, response.text


@dataclass
class LivePerson:
    h: LiveHarness
    id: int
    first_name: str
    phone: str | None
    language_code: str | None
    created: bool = False
    chat: dict[str, Any] = field(default_factory=dict)

    async def _act(self, path: str, body: dict[str, Any]) -> Seen:
        if not self.created:
            response = await self.h.client.post(
                "/api/users",
                json={
                    "id": self.id,
                    "first_name": self.first_name,
                    "phone": self.phone,
                    "language_code": self.language_code,
                },
            )
            response.raise_for_status()
            self.created = True
        response = await self.h.client.post(f"/api/users/{self.id}/{path}", json=body)
        response.raise_for_status()
        await self.h.settle()
        response = await self.h.client.get(f"/api/users/{self.id}/messages")
        response.raise_for_status()
        self.chat = response.json()
        return self.last

    async def wait_for(self, prefix: str, seconds: float = 20) -> Seen:
        """Long-poll the chat until a bot message starting with `prefix` shows up."""
        async with asyncio.timeout(seconds):
            while True:
                for message in reversed(self.bot_messages()):
                    if message.text.startswith(prefix):
                        return message
                response = await self.h.client.get(
                    f"/api/users/{self.id}/messages",
                    params={"wait": 5, "version": self.chat.get("version", -1)},
                )
                self.chat = response.json()

    async def send(self, text: str) -> Seen:
        return await self._act("send", {"text": text})

    async def send_media(self, kind: str) -> Seen:
        return await self._act("send", {"kind": kind})

    async def share_contact(self, phone: str | None = None, owner_id: int | None = None) -> Seen:
        assert phone is None and owner_id is None, "the driver shares the person's own contact"
        return await self._act("contact", {})

    async def press(self, label: str, *, message_id: int | None = None) -> Seen:
        for message in reversed(self.messages()):
            if label in message.labels and message_id in (None, message.message_id):
                return await self.press_data(message.message_id, message.data_of(label))
        if message_id is None and label in self.reply_keyboard:
            return await self.send(label)
        raise AssertionError(f"no button {label!r} in the chat; last: {self.last}")

    async def press_data(self, message_id: int, data: str) -> Seen:
        newest = self.last.message_id if self.bot_messages() else 0
        await self._act("press", {"message_id": message_id, "callback_data": data})
        return _after_press(self.bot_messages(), newest, message_id)

    def messages(self, after: int = 0) -> list[Seen]:
        return [_seen(v) for v in self.chat.get("messages", []) if v["message_id"] > after]

    def bot_messages(self, after: int = 0) -> list[Seen]:
        return [m for m in self.messages(after) if m.sender == "bot"]

    @property
    def last(self) -> Seen:
        messages = self.bot_messages()
        assert messages, "the bot has not said anything yet"
        return messages[-1]

    @property
    def last_answer(self) -> dict[str, Any] | None:
        answers = self.chat.get("callback_answers") or []
        if not answers:
            return None
        return {"text": plain(answers[-1]["text"]), "show_alert": answers[-1]["show_alert"]}

    @property
    def reply_keyboard(self) -> list[str]:
        keyboard = self.chat.get("reply_keyboard") or {}
        return [
            b["text"] if isinstance(b, dict) else b
            for row in keyboard.get("keyboard", [])
            for b in row
        ]


@asynccontextmanager
async def running_live(tmp_path: Path, **settings: Any) -> AsyncIterator[LiveHarness]:
    clock = ManualClock()
    config = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_path=tmp_path / "live.sqlite3",
        web_port=0,
        emulator_port=0,
        **settings,
    )
    runtime = Runtime(config, clock=clock)
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    await runtime.start()
    assert runtime.services is not None
    runtime.services.cash.delayed = lambda: False  # tests choose delays explicitly
    try:
        async with httpx.AsyncClient(base_url=runtime.emulator_url, timeout=30) as client:
            yield LiveHarness(runtime, client, clock, errors)
    finally:
        logging.getLogger().removeHandler(errors)
        await runtime.stop()
