"""Redis (REDIS_URL): conversations live in aiogram's RedisStorage and one person's updates are
taken one at a time across replicas by RedisEventIsolation; two replicas behind a balancer carry
one conversation between them."""

from __future__ import annotations

from pathlib import Path

import redis.asyncio as aioredis

from tests.balancer import PATH, SECRET, bot_api, webhook_bot
from tests.helpers import open_registration, sms_value
from tests.live import running_live


async def fsm_keys(url: str) -> list[str]:
    client = aioredis.Redis.from_url(url, decode_responses=True)
    try:
        return sorted(await client.keys("fsm:*"))
    finally:
        await client.aclose()


async def test_a_half_finished_registration_waits_in_redis_across_a_restart(
    tmp_path: Path, redis_url: str
) -> None:
    async with running_live(tmp_path, redis_url=redis_url) as h:
        anna = h.person()
        await open_registration(anna)
        await anna.share_contact()
        code = sms_value(anna)
        keys = await fsm_keys(redis_url)
        assert any(k.endswith(":state") for k in keys), keys
        # The database's own storage stays empty: Redis serves.
        assert await h.services.db.fetchall("SELECT key FROM fsm") == []
    # A new process with the same Redis continues the same step.
    async with running_live(tmp_path, redis_url=redis_url) as h:
        anna = h.person(user_id=anna.id)
        seen = await anna.send(code)
        assert "Ваш секретный ключ:" in anna.bot_messages()[-2].text
        assert seen.text == "✅ Кошелёк +7 912 *** ** 89 готов. Баланс 0,00 ₽."


async def test_two_replicas_behind_a_balancer_carry_one_conversation(
    tmp_path: Path, redis_url: str
) -> None:
    """Replica one and two share the database file and Redis; updates alternate between them.
    (Both replicas on one SQLite file is a test shape; production shares PostgreSQL, later.)"""
    async with (
        webhook_bot(tmp_path, redis_url=redis_url) as (h, balancer),
        running_live(
            tmp_path,
            redis_url=redis_url,
            emulator_url=h.runtime.emulator_url,
            webhook_url=balancer.url + PATH,
            webhook_secret=SECRET,
        ) as second,
    ):
        balancer.backends.append(second.runtime.web_url)
        anna = h.person()
        await open_registration(anna)
        await anna.share_contact()
        await anna.send(sms_value(anna))
        assert anna.last.text == "✅ Кошелёк +7 912 *** ** 89 готов. Баланс 0,00 ₽."
        seen = await anna.press("👛 Кошелёк")
        assert seen.text.startswith("👛 Кошелёк +7 912 345-67-89\nБаланс: 0,00 ₽")
        replicas = {backend for backend, status in balancer.log if status == 200}
        assert replicas == {h.runtime.web_url, second.runtime.web_url}
        info = (await bot_api(h, "getWebhookInfo")).json()["result"]
        assert info["pending_update_count"] == 0
