"""`python -m bot` without a token: the emulator, the bot and its web app start; Ctrl-C stops all."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


async def test_without_a_token_it_runs_against_the_emulator_and_stops_cleanly(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "ROBOKASSA"))}
    env.update(PYTHONPATH=str(ROOT), WEB_PORT="0", EMULATOR_PORT="0", LOG_LEVEL="WARNING")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode().strip()
        assert line.startswith("Web chat: http://127.0.0.1:"), line
        url = line.removeprefix("Web chat: ").rstrip("/")
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            page = await client.get("/")
            assert "Telegram-эмулятор" in page.text
            await client.post("/api/users", json={"id": 5, "first_name": "Анна"})
            await client.post("/api/users/5/send", json={"text": "/start"})
            settled = (await client.post("/api/settle", json={"timeout": 20})).json()
            assert settled == {"settled": True, "lost": []}
            chat = (await client.get("/api/users/5/messages")).json()
            assert chat["messages"][-1]["text"].startswith("Здравствуйте!")
            labels = [b["text"] for row in chat["messages"][-1]["inline_keyboard"] for b in row]
            assert "👛 Завести кошелёк" in labels
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 30) == 0
        assert (tmp_path / "data" / "bot.sqlite3").exists()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    stderr = (await process.stderr.read()).decode() if process.stderr else ""
    assert "Traceback" not in stderr
