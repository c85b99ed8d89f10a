"""The emulator over HTTP: the Bot API for the bot, a driver API for scripts, and a web chat.

Bot API:    /bot<token>/<method>  (GET query, form or JSON body; long polling for getUpdates)
Driver API: /api/users, /api/users/{id}/send|contact|press|block|unblock|messages, /api/settle
Web chat:   /  (plain HTML/CSS/JS from emulator/static)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from emulator.engine import Engine, TelegramError
from emulator.payments import payments_of
from emulator.webhook import WEBHOOK_KEY, Webhook, webhook_call

STATIC = Path(__file__).resolve().parent / "static"
DEFAULT_TOKEN = "1234567890:LOCAL-EMULATOR-TOKEN"
QUIET_SECONDS = 0.05


@dataclass
class EmulatorState:
    engine: Engine
    token: str = DEFAULT_TOKEN
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    # Updates people sent that the bot has not yet reported handled.
    outstanding: set[int] = field(default_factory=set)
    # Updates the bot confirmed (by offset) but had not reported handled when it started anew:
    # Telegram will not send them again. A bot that stored them finishes them before it polls;
    # those still unhandled at its first getUpdates are lost (a bot killed mid-update).
    confirmed: set[int] = field(default_factory=set)
    orphaned: set[int] = field(default_factory=set)
    lost: list[int] = field(default_factory=list)
    last_api_call: float = 0.0
    version: int = 0
    closing: bool = False

    async def close(self) -> None:
        """Let every long poll return now, so the server can stop without waiting them out."""
        self.closing = True
        await self.touch()

    async def touch(self) -> None:
        """Something changed: wake long polls (bot's getUpdates, web chat, settle)."""
        self.version += 1
        async with self.changed:
            self.changed.notify_all()


STATE_KEY = web.AppKey("emulator", EmulatorState)


async def _params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            params.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()})
        else:
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


async def bot_api(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    if request.match_info["token"] != state.token:
        return web.json_response(
            {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
        )
    method = request.match_info["method"]
    params = await _params(request)
    try:
        answer = await webhook_call(request.app, state, method, params)
    except TelegramError as error:
        return web.json_response(error.payload(), status=error.code)
    if answer is not None:
        return web.json_response({"ok": True, "result": answer})
    if method.lower() == "getupdates":
        return await _get_updates(state, params)
    if method.lower() == "deletewebhook":
        # A bot (re)starting: what it confirmed but never finished will not come back.
        state.orphaned |= state.outstanding & state.confirmed
    state.last_api_call = time.monotonic()
    try:
        result = state.engine.call(method, params)
    except TelegramError as error:
        return web.json_response(error.payload(), status=error.code)
    await state.touch()
    return web.json_response({"ok": True, "result": result})


async def _get_updates(state: EmulatorState, params: dict[str, Any]) -> web.Response:
    if state.orphaned:
        gone = state.orphaned & state.outstanding
        state.lost.extend(sorted(gone))
        state.outstanding -= gone
        state.orphaned.clear()
    offset = int(params.get("offset") or 0)
    confirming = {u["update_id"] for u in state.engine.updates if u["update_id"] < offset}
    if confirming:
        state.confirmed |= confirming
        # Wake whoever waits for Telegram to forget an update; no new version: the chats did
        # not change (the web chat redraws on every version).
        async with state.changed:
            state.changed.notify_all()
    timeout = min(float(params.get("timeout") or 0), 50.0)
    deadline = time.monotonic() + timeout
    while True:
        result = state.engine.call("getUpdates", params)
        remaining = deadline - time.monotonic()
        if result or remaining <= 0 or state.closing:
            break
        async with state.changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(state.changed.wait(), remaining)
    return web.json_response({"ok": True, "result": result})


# ---- driver API ------------------------------------------------------------------------


# Telegram's ids fit in 64 bits; anything else a script sends is its mistake: a 400.
MAX_ID = 2**63 - 1


def _whole(text: str, name: str, *, signed: bool = False) -> int:
    """A query or path number: ASCII digits (a leading minus if `signed`), within 64 bits."""
    digits = text[1:] if signed and text.startswith("-") else text
    if not (digits.isascii() and digits.isdigit() and len(digits) <= 19):
        raise web.HTTPBadRequest(text=f"{name} must be a whole number")
    value = int(text)
    if abs(value) > MAX_ID:
        raise web.HTTPBadRequest(text=f"{name} is out of range")
    return value


def _seconds(text: str, name: str, high: float) -> float:
    """A wait in seconds from a script: a finite number, not negative; longer ones are cut to
    `high`."""
    try:
        value = float(text)
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name} must be a number of seconds") from None
    if not 0 <= value < float("inf"):  # also refuses nan
        raise web.HTTPBadRequest(text=f"{name} must be a finite number of seconds, not negative")
    return min(value, high)


def _field_int(body: dict[str, Any], name: str) -> int:
    """A number in a JSON body: an integer (not a bool, float or text), within 64 bits."""
    value = body.get(name)
    if isinstance(value, str):
        return _whole(value, name, signed=True)
    if type(value) is not int or abs(value) > MAX_ID:
        raise web.HTTPBadRequest(text=f"{name} must be a whole number")
    return value


def _field_text(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise web.HTTPBadRequest(text=f"{name} must be text")
    return value


def _user_id(request: web.Request) -> int:
    return _whole(request.match_info["user_id"], "user id")


async def _json_body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError:  # not JSON, or not UTF-8
        raise web.HTTPBadRequest(text="body must be JSON") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="body must be a JSON object")
    return body


def _person_view(engine: Engine, user_id: int) -> dict[str, Any]:
    person = engine.person(user_id)
    return {
        "id": person.id,
        "first_name": person.first_name,
        "phone": person.phone,
        "language_code": person.language_code,
        "blocked": person.blocked_bot,
    }


async def create_user(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    body = await _json_body(request)
    first_name = _field_text(body, "first_name")
    if "id" not in body or not first_name:
        raise web.HTTPBadRequest(text='need {"id": int, "first_name": str}')
    user_id = _field_int(body, "id")
    language = _field_text(body, "language_code") if "language_code" in body else "ru"
    state.engine.add_person(
        user_id, first_name, phone=_field_text(body, "phone"), language_code=language
    )
    await state.touch()
    return web.json_response(_person_view(state.engine, user_id))


async def list_users(request: web.Request) -> web.Response:
    engine = request.app[STATE_KEY].engine
    return web.json_response([_person_view(engine, uid) for uid in engine.people])


async def _driven(request: web.Request, action: Any) -> web.Response:
    state = request.app[STATE_KEY]
    try:
        update = action()
    except LookupError as error:
        raise web.HTTPNotFound(text=str(error)) from None
    except ValueError as error:
        raise web.HTTPBadRequest(text=str(error)) from None
    state.outstanding.add(update["update_id"])
    await state.touch()
    return web.json_response({"update_id": update["update_id"]})


async def user_send(request: web.Request) -> web.Response:
    engine = request.app[STATE_KEY].engine
    user_id = _user_id(request)
    body = await _json_body(request)
    if "text" in body:
        text = _field_text(body, "text")
        if not text:
            raise web.HTTPBadRequest(text="text must not be empty")
        return await _driven(request, lambda: engine.send_text(user_id, text))
    kind = _field_text(body, "kind") or ""
    return await _driven(request, lambda: engine.send_media(user_id, kind))


async def user_contact(request: web.Request) -> web.Response:
    engine = request.app[STATE_KEY].engine
    user_id = _user_id(request)
    return await _driven(request, lambda: engine.share_contact(user_id))


async def user_press(request: web.Request) -> web.Response:
    engine = request.app[STATE_KEY].engine
    user_id = _user_id(request)
    body = await _json_body(request)
    if "message_id" not in body:
        raise web.HTTPBadRequest(text='need {"message_id": int, "text"|"callback_data"}')
    message_id = _field_int(body, "message_id")
    text, data = _field_text(body, "text"), _field_text(body, "callback_data")
    return await _driven(request, lambda: engine.press(user_id, message_id, text=text, data=data))


async def user_pay(request: web.Request) -> web.Response:
    """The buyer taps «Pay» under an invoice and confirms (optionally with a declined card)."""
    engine = request.app[STATE_KEY].engine
    user_id = _user_id(request)
    body = await _json_body(request)
    message_id = _field_int(body, "message_id")
    card = _field_text(body, "card") or "4242424242424242"
    return await _driven(request, lambda: payments_of(engine).pay(user_id, message_id, card=card))


async def user_block(request: web.Request) -> web.Response:
    state = request.app[STATE_KEY]
    try:
        state.engine.block(_user_id(request), request.match_info["action"] == "block")
    except LookupError as error:
        raise web.HTTPNotFound(text=str(error)) from None
    await state.touch()
    return web.json_response(_person_view(state.engine, _user_id(request)))


def _chat_view(state: EmulatorState, user_id: int, after: int) -> dict[str, Any]:
    engine = state.engine
    messages = engine.messages(user_id, after)
    answers = [
        {"message_id": c.message_id, "data": c.data, **c.answer}
        for c in engine.callbacks.values()
        if c.user_id == user_id and c.answer is not None
    ]
    return {
        "version": state.version,
        "messages": messages,
        "reply_keyboard": engine.current_reply_keyboard(user_id),
        "callback_answers": answers,
    }


async def user_messages(request: web.Request) -> web.Response:
    """The chat; with `wait=<s>` and `version=<v>` it waits until something changes."""
    state = request.app[STATE_KEY]
    user_id = _user_id(request)
    if user_id not in state.engine.people:
        raise web.HTTPNotFound(text=f"no person {user_id}")
    after = _whole(request.query.get("after") or "0", "after")
    wait = _seconds(request.query.get("wait") or "0", "wait", 30.0)
    seen_version = _whole(request.query.get("version") or "-1", "version", signed=True)
    if wait and seen_version >= state.version and not state.closing:
        async with state.changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    state.changed.wait_for(lambda: state.version > seen_version or state.closing),
                    wait,
                )
    return web.json_response(_chat_view(state, user_id, after))


async def settle(request: web.Request) -> web.Response:
    """Return when the bot has fetched and handled every update and then been quiet a moment."""
    state = request.app[STATE_KEY]
    body = await _json_body(request)
    timeout = _seconds(str(body.get("timeout", 10)), "timeout", 60.0)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        quiet_for = time.monotonic() - state.last_api_call
        if not state.outstanding and quiet_for >= QUIET_SECONDS:
            return web.json_response({"settled": True, "lost": state.lost})
        wait = max(QUIET_SECONDS - quiet_for, 0.005)
        async with state.changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(state.changed.wait(), min(wait, deadline - time.monotonic()))
    return web.json_response(
        {"settled": False, "outstanding": sorted(state.outstanding)}, status=504
    )


async def processed(request: web.Request) -> web.Response:
    """The bot reports an update handled (emulator mode only), so `settle` can be exact."""
    state = request.app[STATE_KEY]
    body = await _json_body(request)
    state.outstanding.discard(_field_int(body, "update_id"))
    await state.touch()
    return web.json_response({"ok": True})


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


def build_emulator_app(engine: Engine | None = None, token: str = DEFAULT_TOKEN) -> web.Application:
    app = web.Application()
    state = EmulatorState(engine or Engine(), token)
    app[STATE_KEY] = state
    app.router.add_route("*", "/bot{token}/{method}", bot_api)
    app.router.add_post("/api/users", create_user)
    app.router.add_get("/api/users", list_users)
    app.router.add_post("/api/users/{user_id}/send", user_send)
    app.router.add_post("/api/users/{user_id}/contact", user_contact)
    app.router.add_post("/api/users/{user_id}/press", user_press)
    app.router.add_post("/api/users/{user_id}/pay", user_pay)
    app.router.add_post("/api/users/{user_id}/{action:block|unblock}", user_block)
    app.router.add_get("/api/users/{user_id}/messages", user_messages)
    app.router.add_post("/api/settle", settle)
    app.router.add_post("/api/bot/processed", processed)
    app.router.add_get("/", index)

    async def wake_long_polls(app: web.Application) -> None:
        await app[STATE_KEY].close()

    app.on_shutdown.append(wake_long_polls)
    app[WEBHOOK_KEY] = Webhook()

    async def stop_webhook(app: web.Application) -> None:
        await app[WEBHOOK_KEY].stop()

    app.on_shutdown.append(stop_webhook)
    app.router.add_static("/static", STATIC)
    return app
