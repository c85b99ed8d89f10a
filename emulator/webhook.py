"""Webhooks as Telegram does them: setWebhook / deleteWebhook / getWebhookInfo, delivery by POST
with the secret header, in order, the same update again after a non-2xx answer, a refused
connection or a timeout (with growing pauses), and getUpdates refused while a webhook is set.

An update leaves the queue only when the bot answered 2xx; `pending_update_count` counts the
queue. Deliveries go only to this machine (loopback), whatever the address says.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import re
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from emulator.engine import TelegramError, bad_request

if TYPE_CHECKING:
    from emulator.server import EmulatorState

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)


@dataclass
class Webhook:
    url: str = ""
    secret: str | None = None
    allowed_updates: list[str] | None = None
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None
    # Telegram waits longer between tries the longer a webhook fails; here in seconds.
    retry_first: float = 0.05
    retry_most: float = 2.0
    timeout: float = 10.0
    deliveries: int = 0
    _retry: float = 0.05
    _task: asyncio.Task[None] | None = None
    _wake: asyncio.Event = field(default_factory=asyncio.Event)

    def info(self, pending: int) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": self.url,
            "has_custom_certificate": False,
            "pending_update_count": pending,
        }
        if self.url:
            info["max_connections"] = self.max_connections
            if self.allowed_updates:
                info["allowed_updates"] = self.allowed_updates
        if self.last_error_date is not None:
            info["last_error_date"] = self.last_error_date
            info["last_error_message"] = self.last_error_message
        return info

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


WEBHOOK_KEY = web.AppKey("webhook", Webhook)


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _list(raw: Any) -> list[str] | None:
    if raw in (None, ""):
        return None
    value = json.loads(raw) if isinstance(raw, str) else raw
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request("allowed_updates must be a list of update types")
    return value


async def webhook_call(
    app: web.Application, state: EmulatorState, method: str, params: dict[str, Any]
) -> Any:
    """The Bot API's webhook methods; None for every other method (the caller goes on)."""
    hook = app[WEBHOOK_KEY]
    name = method.lower()
    if name == "getupdates" and hook.url:
        raise TelegramError(409, CONFLICT)
    if name == "getwebhookinfo":
        return hook.info(len(state.engine.updates))
    if name == "deletewebhook":
        await hook.stop()
        hook.url, hook.secret = "", None
        return None  # the engine drops pending updates if asked; the server notes the restart
    if name != "setwebhook":
        return None
    url = str(params.get("url") or "")
    secret = params.get("secret_token") or None
    if secret is not None and not SECRET_TOKEN.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    if url and urlsplit(url).scheme not in ("http", "https"):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if url and not _loopback(url):
        raise bad_request("bad webhook: the emulator delivers only to this machine (loopback)")
    connections = int(params.get("max_connections") or 40)
    if not 1 <= connections <= 100:
        raise bad_request("bad webhook: max_connections must be 1-100")
    hook.allowed_updates = _list(params.get("allowed_updates"))
    if str(params.get("drop_pending_updates")).lower() in ("true", "1"):
        state.engine.updates.clear()
    hook.url, hook.secret, hook.max_connections = url, secret, connections
    # A (re)started bot: try the queue at once instead of waiting out the pause.
    hook._retry = hook.retry_first
    hook._wake.set()
    if not url:
        await hook.stop()
    elif hook._task is None or hook._task.done():
        hook._task = asyncio.create_task(_deliver(hook, state))
    return True


async def _deliver(hook: Webhook, state: EmulatorState) -> None:
    async with aiohttp.ClientSession() as session:
        while hook.url and not state.closing:
            update = await _next_update(hook, state)
            if update is None:
                continue
            headers = {SECRET_HEADER: hook.secret} if hook.secret else {}
            error = None
            try:
                async with session.post(
                    hook.url,
                    json=update,
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=hook.timeout),
                ) as response:
                    await response.read()
                    if not 200 <= response.status < 300:
                        error = f"Wrong response from the webhook: {response.status}"
            except TimeoutError:
                error = "Read timeout expired"
            except aiohttp.ClientError as failure:
                error = f"Connection failed: {type(failure).__name__}"
            hook.deliveries += 1
            if error is None:
                with contextlib.suppress(ValueError):
                    state.engine.updates.remove(update)
                hook._retry = hook.retry_first
                continue
            hook.last_error_date = int(time.time())
            hook.last_error_message = error
            hook._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(hook._wake.wait(), hook._retry)
            hook._retry = min(hook._retry * 2, hook.retry_most)


async def _next_update(hook: Webhook, state: EmulatorState) -> dict[str, Any] | None:
    """The oldest update the webhook takes; waits (briefly) for one."""
    engine = state.engine
    async with state.changed:
        while engine.updates:
            update = engine.updates[0]
            kind = next(k for k in update if k != "update_id")
            if hook.allowed_updates and kind not in hook.allowed_updates:
                engine.updates.pop(0)  # Telegram does not keep what the bot did not ask for
                continue
            return update
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(state.changed.wait(), 1.0)
    return None
