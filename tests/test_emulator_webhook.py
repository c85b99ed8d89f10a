"""The emulator plays Telegram's side of webhooks: the rules of setWebhook, the secret header,
the same update again until the bot answers 2xx, and the queue getWebhookInfo counts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiohttp import web

from emulator.server import DEFAULT_TOKEN, build_emulator_app
from emulator.webhook import WEBHOOK_KEY


@dataclass
class Receiver:
    """A bot's endpoint: records each call; answers `status` (set it to make it fail)."""

    status: int = 200
    calls: list[tuple[int, str | None, dict[str, Any]]] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls.append(
            (self.status, request.headers.get("X-Telegram-Bot-Api-Secret-Token"), body)
        )
        self.arrived.set()
        return web.Response(status=self.status)

    async def next_call(self) -> tuple[int, str | None, dict[str, Any]]:
        self.arrived.clear()
        async with asyncio.timeout(10):
            await self.arrived.wait()
        return self.calls[-1]


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


@asynccontextmanager
async def telegram_and_bot() -> AsyncIterator[tuple[httpx.AsyncClient, Receiver, web.Application]]:
    receiver = Receiver()
    bot_app = web.Application()
    bot_app.router.add_post("/hook", receiver.handle)
    emulator = build_emulator_app()
    emulator[WEBHOOK_KEY].retry_most = 0.2  # keep the test short; the schedule still doubles
    bot_runner, bot_url = await _serve(bot_app)
    receiver.url = bot_url + "/hook"
    tg_runner, tg_url = await _serve(emulator)
    try:
        async with httpx.AsyncClient(base_url=tg_url, timeout=10) as client:
            yield client, receiver, emulator
    finally:
        await tg_runner.cleanup()
        await bot_runner.cleanup()


async def call(client: httpx.AsyncClient, method: str, **params: Any) -> httpx.Response:
    return await client.post(f"/bot{DEFAULT_TOKEN}/{method}", json=params)


async def test_set_webhook_follows_telegrams_rules() -> None:
    async with telegram_and_bot() as (client, receiver, _):
        bad_secret = await call(client, "setWebhook", url=receiver.url, secret_token="no spaces!")
        assert bad_secret.status_code == 400
        assert "secret token contains unallowed characters" in bad_secret.json()["description"]
        elsewhere = await call(client, "setWebhook", url="https://bot.example.com/hook")
        assert elsewhere.status_code == 400  # the emulator never sends anything off this machine
        not_web = await call(client, "setWebhook", url="ftp://127.0.0.1/hook")
        assert not_web.status_code == 400
        info = (await call(client, "getWebhookInfo")).json()["result"]
        assert info["url"] == "" and info["pending_update_count"] == 0
        assert (await call(client, "getUpdates")).status_code == 200  # no webhook: polling works


async def test_delivery_with_the_secret_retried_until_2xx_and_counted_while_pending() -> None:
    async with telegram_and_bot() as (client, receiver, _):
        await client.post("/api/users", json={"id": 5, "first_name": "Анна"})
        receiver.status = 500
        ok = await call(
            client,
            "setWebhook",
            url=receiver.url,
            secret_token="s3cret",
            allowed_updates=["message"],
        )
        assert ok.json() == {"ok": True, "result": True}
        await client.post("/api/users/5/send", json={"text": "/start"})
        status, secret, update = await receiver.next_call()
        assert (status, secret, update["message"]["text"]) == (500, "s3cret", "/start")
        await receiver.next_call()  # the same update again after a pause
        assert receiver.calls[0][2] == receiver.calls[1][2]
        info = (await call(client, "getWebhookInfo")).json()["result"]
        assert info["pending_update_count"] == 1
        assert info["last_error_message"] == "Wrong response from the webhook: 500"
        assert info["allowed_updates"] == ["message"]
        refused = await call(client, "getUpdates")
        assert refused.status_code == 409
        receiver.status = 200
        while receiver.calls[-1][0] != 200:
            await receiver.next_call()
        await client.post("/api/users/5/send", json={"text": "ещё"})
        _, _, second = await receiver.next_call()
        assert second["message"]["text"] == "ещё"  # in order, after the first got its 200
        info = (await call(client, "getWebhookInfo")).json()["result"]
        assert info["pending_update_count"] == 0
        assert [c[2]["update_id"] for c in receiver.calls if c[0] == 200] == [1, 2]
        # Deleting the webhook stops delivery; updates wait for getUpdates again.
        assert (await call(client, "deleteWebhook")).json()["result"] is True
        await client.post("/api/users/5/send", json={"text": "опрос"})
        polled = (await call(client, "getUpdates")).json()["result"]
        assert [u["message"]["text"] for u in polled] == ["опрос"]


async def test_an_update_type_the_bot_did_not_ask_for_is_not_delivered() -> None:
    async with telegram_and_bot() as (client, receiver, _):
        await client.post("/api/users", json={"id": 5, "first_name": "Анна"})
        await call(client, "setWebhook", url=receiver.url, allowed_updates=["callback_query"])
        await client.post("/api/users/5/send", json={"text": "/start"})
        async with asyncio.timeout(10):  # each look is a round trip to the emulator
            while (await call(client, "getWebhookInfo")).json()["result"]["pending_update_count"]:
                pass
        await call(client, "setWebhook", url=receiver.url, allowed_updates=["message"])
        await client.post("/api/users/5/send", json={"text": "второе"})
        _, secret, update = await receiver.next_call()
        assert secret is None  # no secret_token set: no header
        assert update["message"]["text"] == "второе"
        assert [c[2]["update_id"] for c in receiver.calls] == [2]
