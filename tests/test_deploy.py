"""deploy/: Docker is not on these machines, so the image is not built here. What compose and the
Dockerfile say is checked instead: the settings compose passes are valid webhook settings, the
proxy forwards the webhook's path, and the image's entrypoint and health check, run as a process
with those settings, start the bot in webhook mode and answer a person through the webhook.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shlex
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from aiohttp import web

from bot.settings import Settings, SettingsError, load_settings
from emulator.server import DEFAULT_TOKEN, build_emulator_app
from tests.balancer import free_port

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
FILLED = {
    "BOT_TOKEN": "123456:AAE-compose-token",
    "DOMAIN": "bot.example.com",
    "WEBHOOK_SECRET": "compose-secret_1",
    "POSTGRES_PASSWORD": "pg-password",
}


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def bot_environment(service: str = "bot1") -> dict[str, str]:
    """The bot's environment as compose fills it from .env (`${NAME:?message}` → the value)."""
    raw = compose()["services"][service]["environment"]
    return {
        name: re.sub(r"\$\{(\w+)(?::?[?-][^}]*)?\}", lambda m: FILLED[m.group(1)], str(value))
        for name, value in raw.items()
    }


def dockerfile_instruction(name: str) -> list[str]:
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    line = next(line for line in text.splitlines() if line.startswith(name + " "))
    return list(json.loads(line[line.index("[") :]))


def test_compose_passes_both_replicas_valid_webhook_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = bot_environment()
    assert env == bot_environment("bot2")  # two identical replicas
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.webhook_url == "https://bot.example.com/telegram/webhook"
    assert settings.webhook_path == "/telegram/webhook"
    assert settings.webhook_secret is not None and settings.redis_url is not None
    assert settings.public_url == "https://bot.example.com"
    assert (settings.web_host, settings.web_port) == ("0.0.0.0", 8080)
    # The proxy sends the webhook's path (and Robokassa's) to the replicas, round robin.
    caddy = (DEPLOY / "Caddyfile").read_text()
    assert settings.webhook_path in caddy and "/robokassa/result" in caddy
    assert "reverse_proxy bot1:8080 bot2:8080" in caddy
    services = compose()["services"]
    assert {"bot1", "bot2", "redis", "postgres", "proxy"} <= set(services)
    assert "443:443" in services["proxy"]["ports"]


def test_the_image_runs_as_a_user_and_checks_its_health() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^USER (?!root)\w+", text, re.MULTILINE)
    assert text.startswith("#") and "FROM python:3.11-slim" in text
    assert dockerfile_instruction("ENTRYPOINT") == ["python", "-m", "bot"]
    assert dockerfile_instruction("HEALTHCHECK") == ["python", "-m", "bot.healthcheck"]


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"WEBHOOK_URL": "https://bot.example.com/hook"}, "WEBHOOK_SECRET is required"),
        (
            {"WEBHOOK_URL": "http://bot.example.com/hook", "WEBHOOK_SECRET": "abc"},
            "WEBHOOK_URL must be https",
        ),
        ({"WEBHOOK_URL": "bot.example.com/hook", "WEBHOOK_SECRET": "abc"}, "WEBHOOK_URL"),
        ({"WEBHOOK_SECRET": "not allowed!"}, "WEBHOOK_SECRET"),
    ],
)
def test_webhook_settings_are_checked_at_start(env: dict[str, str], says: str) -> None:
    values = {"bot_token": "123456:AAE-token", **{k.lower(): v for k, v in env.items()}}
    with pytest.raises(SettingsError, match=says) as error:
        load_settings(_env_file=None, **values)
    assert "not allowed!" not in str(error.value)  # a secret is never echoed


async def emulator_site() -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(build_emulator_app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


async def first_line(process: asyncio.subprocess.Process) -> bytes:
    assert process.stdout is not None
    return await asyncio.wait_for(process.stdout.readline(), 120)


async def checked(env: dict[str, str]) -> int:
    program = dockerfile_instruction("HEALTHCHECK")  # the CMD after its options
    assert program[0] == "python"
    check = await asyncio.create_subprocess_exec(sys.executable, *program[1:], env=env)
    return await check.wait()


@pytest.fixture
async def entrypoint_env(
    tmp_path: Path, redis_url: str
) -> AsyncIterator[tuple[dict[str, str], str]]:
    runner, emulator = await emulator_site()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "ROBOKASSA"))}
    env.update(bot_environment())
    # Telegram's side is the emulator; the proxy's job (TLS, the public name) is skipped: the
    # emulator posts to the replica's own address, with the same path.
    del env["BOT_TOKEN"]
    env.update(
        PYTHONPATH=str(ROOT),
        EMULATOR_URL=emulator,
        WEB_HOST="127.0.0.1",
        WEB_PORT=str(port),
        WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram/webhook",
        REDIS_URL=redis_url,
        DATABASE_PATH=str(tmp_path / "data" / "bot.sqlite3"),
        CASH__DELAYED_PERCENT="0",
    )
    try:
        yield env, emulator
    finally:
        await runner.cleanup()


async def test_the_entrypoint_starts_the_bot_in_webhook_mode(
    tmp_path: Path, entrypoint_env: tuple[dict[str, str], str]
) -> None:
    env, emulator = entrypoint_env
    entrypoint = dockerfile_instruction("ENTRYPOINT")
    assert shlex.join(entrypoint) == "python -m bot"
    process = await asyncio.create_subprocess_exec(
        sys.executable, *entrypoint[1:], env=env, cwd=tmp_path, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert (await first_line(process)).startswith(b"Web chat:")
        assert await checked(env) == 0
        async with httpx.AsyncClient(base_url=emulator, timeout=30) as client:
            await client.post("/api/users", json={"id": 7, "first_name": "Анна"})
            await client.post("/api/users/7/send", json={"text": "/start"})
            settled = await client.post("/api/settle", json={"timeout": 60})
            assert settled.status_code == 200, settled.text
            chat = (await client.get("/api/users/7/messages")).json()["messages"]
            assert "помогаю платить" in chat[-1]["text"]
            info = (await client.post(f"/bot{DEFAULT_TOKEN}/getWebhookInfo")).json()["result"]
            assert info["url"] == env["WEBHOOK_URL"]
            assert info["pending_update_count"] == 0
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), 60) == 0
    assert await checked(env) == 1  # stopped: the health check says so
