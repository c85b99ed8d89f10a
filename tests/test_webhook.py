"""Webhook mode: Telegram (the emulator) pushes updates through a balancer to the bot's web app;
an update is answered 200 only once it is in the inbox, and one sent again is handled once.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
from aiogram.types import Update

from tests.balancer import PATH, SECRET, bot_api, failing_replica, free_port, webhook_bot
from tests.helpers import register


async def test_a_conversation_over_the_webhook(tmp_path: Path) -> None:
    async with webhook_bot(tmp_path) as (h, balancer):
        anna = h.person()
        seen = await anna.send("/start")
        assert "помогаю платить в магазинах Робокассы через QIWI-кошелёк" in seen.text
        await register(anna)
        seen = await anna.press("👛 Кошелёк")
        assert seen.text.startswith("👛 Кошелёк +7 912 345-67-89\nБаланс: 0,00 ₽")
        # Telegram's view: the webhook is ours, with the updates the bot handles, nothing queued.
        info = (await bot_api(h, "getWebhookInfo")).json()["result"]
        assert info["url"] == balancer.url + PATH
        assert info["pending_update_count"] == 0
        assert set(info["allowed_updates"]) >= {"message", "callback_query"}
        assert "last_error_message" not in info
        assert {status for _, status in balancer.log} == {200}
        # As on Telegram, polling is refused while a webhook is set.
        refused = await bot_api(h, "getUpdates")
        assert refused.status_code == 409
        assert "webhook is active" in refused.json()["description"]


async def test_a_call_without_the_right_secret_is_refused_and_nothing_happens(
    tmp_path: Path,
) -> None:
    async with webhook_bot(tmp_path) as (h, _):
        anna = h.person()
        await anna.send("/start")
        before = anna.bot_messages()
        update = {
            "update_id": 90001,
            "message": {
                "message_id": 999,
                "date": 1,
                "chat": {"id": anna.id, "type": "private"},
                "from": {"id": anna.id, "is_bot": False, "first_name": "Анна"},
                "text": "/help",
            },
        }
        url = h.runtime.web_url + PATH
        async with httpx.AsyncClient(timeout=10) as web:
            missing = await web.post(url, json=update)
            wrong = await web.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET + "x"}
            )
            right = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            not_json = await web.post(url, content=b"{not json", headers=right)
            not_update = await web.post(url, json={"hello": "world"}, headers=right)
            not_object = await web.post(url, content=json.dumps([1, 2]).encode(), headers=right)
        assert (missing.status_code, wrong.status_code) == (401, 401)
        assert (not_json.status_code, not_update.status_code, not_object.status_code) == (
            400,
            400,
            400,
        )
        await anna.send("/cancel")  # something real after the forged ones
        texts = [m.text for m in anna.bot_messages()[len(before) :]]
        assert not any("Как это работает" in t for t in texts)  # the forged /help did nothing
        assert await h.services.inbox.is_handled("90001") is False


async def test_the_same_update_sent_twice_is_handled_once(tmp_path: Path) -> None:
    """Telegram sends an update again when the answer did not reach it (a timeout, a replica
    that died after storing it): the second copy is acknowledged and not handled again."""
    async with webhook_bot(tmp_path) as (h, _):
        anna = h.person()
        await anna.send("/start")
        count = len(anna.bot_messages())
        update = {
            "update_id": 90002,
            "message": {
                "message_id": 1000,
                "date": 1,
                "chat": {"id": anna.id, "type": "private"},
                "from": {"id": anna.id, "is_bot": False, "first_name": "Анна"},
                "text": "/help",
            },
        }
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        async with httpx.AsyncClient(timeout=10) as web:
            # At once, too: the copies meet while the first is still being handled.
            answers = await asyncio.gather(
                *(
                    web.post(h.runtime.web_url + PATH, json=update, headers=headers)
                    for _ in range(3)
                )
            )
            assert [a.status_code for a in answers] == [200, 200, 200]
            again = await web.post(h.runtime.web_url + PATH, json=update, headers=headers)
            assert again.status_code == 200
        await anna.send("/cancel")
        texts = [m.text for m in anna.bot_messages()[count:]]
        assert sum("Как это работает" in t for t in texts) == 1, texts


async def test_a_replica_answering_500_or_down_gets_the_update_to_another_once(
    tmp_path: Path,
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    async with (
        failing_replica(500) as (broken, calls),
        webhook_bot(tmp_path, broken, dead) as (h, balancer),
    ):
        anna = h.person()
        await anna.send("/start")
        await register(anna)
        seen = await anna.press("👛 Кошелёк")
        assert seen.text.startswith("👛 Кошелёк +7 912 345-67-89\nБаланс: 0,00 ₽")
        statuses = [status for _, status in balancer.log]
        assert calls and 502 in statuses  # the broken and the dead replica had their turns
        # Each update was answered 200 exactly once, by the live replica.
        ok = [backend for backend, status in balancer.log if status == 200]
        assert set(ok) == {h.runtime.web_url}
        starts = [m for m in anna.messages() if m.sender == "user" and m.text == "/start"]
        greetings = [m for m in anna.bot_messages() if "помогаю платить" in m.text]
        assert len(greetings) == len(starts) == 2  # one each, though some went round twice
        info = (await bot_api(h, "getWebhookInfo")).json()["result"]
        assert info["pending_update_count"] == 0
        assert info["last_error_message"] in (
            "Wrong response from the webhook: 500",
            "Wrong response from the webhook: 502",
        )


async def test_an_update_another_replica_stored_and_died_with_is_handled_when_sent_again(
    tmp_path: Path,
) -> None:
    """Replica A stored the update, then died before answering: Telegram sends it again, here to
    replica B, which finds it stored but never handled and handles it."""
    async with webhook_bot(tmp_path) as (h, _):
        anna = h.person()
        await anna.send("/start")
        count = len(anna.bot_messages())
        update = {
            "update_id": 90003,
            "message": {
                "message_id": 1001,
                "date": 1,
                "chat": {"id": anna.id, "type": "private"},
                "from": {"id": anna.id, "is_bot": False, "first_name": "Анна"},
                "text": "/help",
            },
        }
        stored = Update.model_validate(update).model_dump_json(exclude_none=True)
        assert await h.services.inbox.store([(90003, stored)])  # what replica A managed to do
        headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
        async with httpx.AsyncClient(timeout=10) as web:
            answer = await web.post(h.runtime.web_url + PATH, json=update, headers=headers)
        assert answer.status_code == 200
        await anna.send("/cancel")
        texts = [m.text for m in anna.bot_messages()[count:]]
        assert sum("Как это работает" in t for t in texts) == 1, texts


async def test_an_update_that_cannot_be_stored_is_not_acknowledged_and_comes_again(
    tmp_path: Path,
) -> None:
    """The disk refuses twice: Telegram gets 503 and sends the update again; the third try is
    stored, answered 200 and handled once."""
    async with webhook_bot(tmp_path) as (h, balancer):
        inbox = h.services.inbox
        real_store = inbox.store
        refusals = 2

        async def flaky_store(updates: Any) -> Any:
            nonlocal refusals
            if refusals:
                refusals -= 1
                raise OSError("disk I/O error")
            return await real_store(updates)

        inbox.store = flaky_store  # type: ignore[method-assign]
        anna = h.person()
        seen = await anna.send("/start")
        assert "помогаю платить" in seen.text
        assert len(anna.bot_messages()) == 1
        assert [status for _, status in balancer.log] == [503, 503, 200]
        assert [r.getMessage() for r in h.errors.records] == [
            "cannot store update 1: OSError",
            "cannot store update 1: OSError",
        ]
        h.errors.records.clear()
