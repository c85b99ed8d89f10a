"""The emulated Telegram: people, private chats, updates and the Bot API methods the bot uses.

Pure state with no I/O: the HTTP server (`emulator.server`) and the in-process test session
(`tests/harness.py`) both drive the same engine, so the bot meets the same rules in each.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from emulator.html import EntityParseError, parse_html, utf16_length

MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


class TelegramError(Exception):
    """What the Bot API answers with `ok: false`."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(description: str) -> TelegramError:
    return TelegramError(400, f"Bad Request: {description}")


@dataclass
class Person:
    id: int
    first_name: str
    phone: str | None = None
    language_code: str | None = "ru"
    blocked_bot: bool = False

    def as_user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            user["language_code"] = self.language_code
        return user


@dataclass
class ChatMessage:
    message_id: int
    sender: str  # "bot" | "user"
    date: int
    text: str | None = None
    kind: str = "text"
    inline_keyboard: list[list[dict[str, str]]] | None = None
    reply_keyboard: dict[str, Any] | None = None
    edited: bool = False
    deleted: bool = False
    entities: list[dict[str, Any]] | None = None

    def view(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "from": self.sender,
            "kind": self.kind,
            "text": self.text,
            "entities": self.entities or [],
            "inline_keyboard": self.inline_keyboard,
            "reply_keyboard": self.reply_keyboard,
            "edited": self.edited,
        }


@dataclass
class CallbackRecord:
    id: str
    user_id: int
    message_id: int
    data: str
    answered: bool = False
    answer: dict[str, Any] | None = None


@dataclass
class Engine:
    bot_id: int = 1234567890
    bot_username: str = "qiwi_robokassa_demo_bot"
    bot_name: str = "QIWI · Робокасса"
    clock: Callable[[], float] = time.time
    # Optional flood control: at most this many bot messages per chat per second (0 = off).
    flood_limit_per_chat: int = 0
    people: dict[int, Person] = field(default_factory=dict)
    chats: dict[int, list[ChatMessage]] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)
    callbacks: dict[str, CallbackRecord] = field(default_factory=dict)
    commands: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    on_update: Callable[[dict[str, Any]], None] | None = None
    _update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _message_ids: dict[int, itertools.count[int]] = field(default_factory=dict)
    _callback_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _sent_times: dict[int, list[float]] = field(default_factory=dict)

    # ---- people's side -------------------------------------------------------------------

    def add_person(
        self,
        user_id: int,
        first_name: str,
        *,
        phone: str | None = None,
        language_code: str | None = "ru",
    ) -> Person:
        person = self.people.get(user_id)
        if person is None:
            person = Person(user_id, first_name, phone, language_code)
            self.people[user_id] = person
            self.chats[user_id] = []
        else:
            person.first_name = first_name
            person.phone = phone or person.phone
            person.language_code = language_code
        return person

    def person(self, user_id: int) -> Person:
        try:
            return self.people[user_id]
        except KeyError:
            raise LookupError(f"no person {user_id}") from None

    def _chat(self, person: Person) -> dict[str, Any]:
        return {"id": person.id, "type": "private", "first_name": person.first_name}

    def _user_message(self, person: Person, kind: str, text: str | None) -> dict[str, Any]:
        message = ChatMessage(
            self._next_message_id(person.id), "user", int(self.clock()), text, kind
        )
        self.chats[person.id].append(message)
        payload: dict[str, Any] = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": self._chat(person),
            "from": person.as_user(),
        }
        if kind == "text":
            payload["text"] = text
            if text and text.startswith("/"):
                command = text.split()[0]
                payload["entities"] = [
                    {
                        "type": "bot_command",
                        "offset": 0,
                        "length": utf16_length(command),
                    }
                ]
        elif kind == "sticker":
            payload["sticker"] = {
                "file_id": "sticker-1", "file_unique_id": "s1", "type": "regular",
                "width": 512, "height": 512, "is_animated": False, "is_video": False,
            }  # fmt: skip
        elif kind == "photo":
            payload["photo"] = [
                {"file_id": "photo-1", "file_unique_id": "p1", "width": 90, "height": 90}
            ]
        elif kind == "voice":
            payload["voice"] = {"file_id": "voice-1", "file_unique_id": "v1", "duration": 2}
        elif kind == "contact":
            payload["contact"] = json.loads(text or "{}")
        else:
            raise ValueError(f"cannot send a {kind}")
        return payload

    def _push(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        update = {"update_id": next(self._update_ids), kind: payload}
        self.updates.append(update)
        if self.on_update is not None:
            self.on_update(update)
        return update

    def send_text(self, user_id: int, text: str) -> dict[str, Any]:
        person = self.person(user_id)
        self._consume_one_time_keyboard(person.id, text)
        return self._push("message", self._user_message(person, "text", text))

    def send_media(self, user_id: int, kind: str) -> dict[str, Any]:
        person = self.person(user_id)
        return self._push("message", self._user_message(person, kind, None))

    def share_contact(
        self, user_id: int, phone: str | None = None, owner_id: int | None = None
    ) -> dict[str, Any]:
        """The person taps "share contact": Telegram sends their own verified number."""
        person = self.person(user_id)
        number = phone or person.phone
        if number is None:
            raise ValueError(f"person {user_id} has no phone number")
        contact = {
            "phone_number": number,
            "first_name": person.first_name,
            "user_id": owner_id if owner_id is not None else person.id,
        }
        self._consume_one_time_keyboard(person.id, None)
        return self._push("message", self._user_message(person, "contact", json.dumps(contact)))

    def press(
        self, user_id: int, message_id: int, *, text: str | None = None, data: str | None = None
    ) -> dict[str, Any]:
        """Press an inline button found by its label or its callback data."""
        person = self.person(user_id)
        message = self._find(person.id, message_id)
        if data is None:
            if text is None:
                raise ValueError("press needs a label or callback data")
            data = self._button_data(message, text)
        query_id = str(next(self._callback_ids))
        self.callbacks[query_id] = CallbackRecord(query_id, person.id, message_id, data)
        payload = {
            "id": query_id,
            "from": person.as_user(),
            "chat_instance": str(person.id),
            "data": data,
            "message": self._bot_message_payload(person, message),
        }
        return self._push("callback_query", payload)

    def _button_data(self, message: ChatMessage, label: str) -> str:
        for row in message.inline_keyboard or []:
            for button in row:
                if button["text"] == label and "callback_data" in button:
                    return button["callback_data"]
        labels = [b["text"] for row in message.inline_keyboard or [] for b in row]
        raise LookupError(f"no button {label!r} on message {message.message_id}; buttons: {labels}")

    def _consume_one_time_keyboard(self, chat_id: int, _text: str | None) -> None:
        for message in reversed(self.chats.get(chat_id, [])):
            if message.reply_keyboard is not None:
                if message.reply_keyboard.get("one_time_keyboard"):
                    message.reply_keyboard = None
                return

    def block(self, user_id: int, blocked: bool = True) -> None:
        self.person(user_id).blocked_bot = blocked

    def messages(self, user_id: int, after: int = 0) -> list[dict[str, Any]]:
        return [
            m.view() for m in self.chats.get(user_id, []) if m.message_id > after and not m.deleted
        ]

    def current_reply_keyboard(self, user_id: int) -> dict[str, Any] | None:
        for message in reversed(self.chats.get(user_id, [])):
            if message.sender == "bot" and message.reply_keyboard is not None:
                if message.reply_keyboard.get("remove_keyboard"):
                    return None
                return message.reply_keyboard
        return None

    # ---- the Bot API ---------------------------------------------------------------------

    def call(self, method: str, params: dict[str, Any]) -> Any:
        """Run one Bot API method with form-style parameters (JSON strings for objects)."""
        handler = getattr(self, f"api_{method.lower()}", None)
        if handler is None:
            from emulator.payments import api_method  # payments keep to their own module

            handler = api_method(self, method)
        if handler is None:
            raise TelegramError(404, "Not Found")
        return handler(params)

    def api_getme(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def api_deletewebhook(self, params: dict[str, Any]) -> bool:
        if _flag(params.get("drop_pending_updates")):
            self.updates.clear()
        return True

    def api_setmycommands(self, params: dict[str, Any]) -> bool:
        commands = _json(params.get("commands"), [])
        for command in commands:
            if not 1 <= len(command.get("command", "")) <= 32:
                raise bad_request("command is invalid")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise bad_request("command description is invalid")
        self.commands[params.get("language_code") or ""] = commands
        return True

    def api_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        if offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        return self.updates[:limit]

    def api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        person = self._recipient(params)
        text, entities = self._text(params)
        inline, reply = self._markup(params.get("reply_markup"))
        self._flood_check(person.id)
        message = ChatMessage(self._next_message_id(person.id), "bot", int(self.clock()), text)
        message.entities = entities
        message.inline_keyboard = inline
        message.reply_keyboard = reply
        self.chats[person.id].append(message)
        return self._bot_message_payload(person, message)

    def api_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any]:
        person = self._recipient(params)
        message = self._find_bot_message(person.id, params)
        text, entities = self._text(params)
        inline, _ = self._markup(params.get("reply_markup"))
        if (text, entities, inline) == (message.text, message.entities, message.inline_keyboard):
            raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        message.text, message.entities = text, entities
        message.inline_keyboard, message.edited = inline, True
        return self._bot_message_payload(person, message)

    def api_editmessagereplymarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        person = self._recipient(params)
        message = self._find_bot_message(person.id, params)
        inline, _ = self._markup(params.get("reply_markup"))
        if inline == message.inline_keyboard:
            raise bad_request(NOT_MODIFIED.removeprefix("Bad Request: "))
        message.inline_keyboard, message.edited = inline, True
        return self._bot_message_payload(person, message)

    def api_deletemessage(self, params: dict[str, Any]) -> bool:
        person = self._recipient(params)
        message = self._find(person.id, int(params.get("message_id") or 0))
        if message.deleted:
            raise bad_request("message to delete not found")
        message.deleted = True
        return True

    def api_answercallbackquery(self, params: dict[str, Any]) -> bool:
        record = self.callbacks.get(str(params.get("callback_query_id")))
        if record is None or record.answered:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = params.get("text") or ""
        if len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        record.answered = True
        record.answer = {"text": text, "show_alert": _flag(params.get("show_alert"))}
        return True

    def api_sendchataction(self, params: dict[str, Any]) -> bool:
        self._recipient(params)
        return True

    # ---- rules ---------------------------------------------------------------------------

    def _recipient(self, params: dict[str, Any]) -> Person:
        try:
            chat_id = int(params.get("chat_id") or 0)
        except ValueError:
            raise bad_request("chat not found") from None
        person = self.people.get(chat_id)
        if person is None:
            raise bad_request("chat not found")
        if person.blocked_bot:
            raise TelegramError(403, "Forbidden: bot was blocked by the user")
        return person

    def _text(self, params: dict[str, Any]) -> tuple[str, list[dict[str, Any]] | None]:
        """The visible text and its entities (None when the text is plain)."""
        raw = params.get("text")
        if raw is None or raw == "":
            raise bad_request("message text is empty")
        text = str(raw)
        entities = None
        if (params.get("parse_mode") or "").upper() == "HTML":
            try:
                text, entities = parse_html(text)
            except EntityParseError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None
        elif params.get("entities"):
            entities = _json(params["entities"], [])
            if not isinstance(entities, list) or not all(
                isinstance(e, dict) and {"type", "offset", "length"} <= e.keys() for e in entities
            ):
                raise bad_request("can't parse entities: wrong entities")
        if not text.strip():
            raise bad_request("message text is empty")
        if utf16_length(text) > MAX_TEXT:
            raise bad_request("message is too long")
        return text, entities or None

    def _markup(self, raw: Any) -> tuple[list[list[dict[str, str]]] | None, dict[str, Any] | None]:
        markup = _json(raw, None)
        if not markup:
            return None, None
        if "inline_keyboard" in markup:
            rows = []
            for row in markup["inline_keyboard"]:
                out_row = []
                for button in row:
                    data = button.get("callback_data")
                    if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
                        raise bad_request("BUTTON_DATA_INVALID")
                    if not button.get("text"):
                        raise bad_request("text buttons are unallowed in the inline keyboard")
                    out_row.append(
                        {k: v for k, v in button.items() if k in ("text", "callback_data", "url")}
                    )
                rows.append(out_row)
            return rows, None
        return None, markup

    def _flood_check(self, chat_id: int) -> None:
        if not self.flood_limit_per_chat:
            return
        now = self.clock()
        recent = [t for t in self._sent_times.get(chat_id, []) if now - t < 1.0]
        if len(recent) >= self.flood_limit_per_chat:
            raise TelegramError(429, "Too Many Requests: retry after 1", retry_after=1)
        recent.append(now)
        self._sent_times[chat_id] = recent

    def _find(self, chat_id: int, message_id: int) -> ChatMessage:
        for message in self.chats.get(chat_id, []):
            if message.message_id == message_id:
                return message
        raise LookupError(f"no message {message_id} in chat {chat_id}")

    def _find_bot_message(self, chat_id: int, params: dict[str, Any]) -> ChatMessage:
        try:
            message = self._find(chat_id, int(params.get("message_id") or 0))
        except LookupError:
            raise bad_request("message to edit not found") from None
        if message.deleted:
            raise bad_request("message to edit not found")
        if message.sender != "bot":
            raise bad_request("message can't be edited")
        return message

    def _next_message_id(self, chat_id: int) -> int:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        return next(counter)

    def _bot_message_payload(self, person: Person, message: ChatMessage) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": self._chat(person),
        }
        if message.sender == "bot":
            payload["from"] = {
                "id": self.bot_id, "is_bot": True, "first_name": self.bot_name,
                "username": self.bot_username,
            }  # fmt: skip
        else:
            payload["from"] = person.as_user()
        if message.text is not None:
            payload["text"] = message.text
        if message.entities:
            payload["entities"] = message.entities
        if message.edited:
            payload["edit_date"] = int(self.clock())
        if message.inline_keyboard:
            payload["reply_markup"] = {"inline_keyboard": message.inline_keyboard}
        return payload


def _json(raw: Any, default: Any) -> Any:
    if raw is None or raw == "":
        return default
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            raise bad_request("can't parse JSON") from None
    return raw


def _flag(raw: Any) -> bool:
    return str(raw).lower() in {"1", "true"}
