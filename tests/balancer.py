"""A round-robin load balancer for tests: each request goes to the next replica, as a proxy in
front of several bot replicas would send Telegram's webhook calls. A replica that is down gets
a 502 answered for it (Telegram then sends the update again).
"""

from __future__ import annotations

import itertools
import logging
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from aiohttp import web

from bot.runner import Runtime
from bot.settings import Settings
from emulator.server import DEFAULT_TOKEN
from services.clock import ManualClock
from tests.harness import ErrorLog
from tests.live import LiveHarness

FORWARDED = ("content-type", "x-telegram-bot-api-secret-token")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RoundRobin:
    backends: list[str] = field(default_factory=list)
    # (replica, status) per request, in order: what each replica answered.
    log: list[tuple[str, int]] = field(default_factory=list)
    url: str = ""
    _turn: itertools.count[int] = field(default_factory=itertools.count)
    _session: aiohttp.ClientSession | None = None

    async def handle(self, request: web.Request) -> web.Response:
        assert self._session is not None
        if not self.backends:
            return web.Response(status=502, text="no replica")
        backend = self.backends[next(self._turn) % len(self.backends)]
        headers = {k: v for k, v in request.headers.items() if k.lower() in FORWARDED}
        try:
            async with self._session.request(
                request.method,
                backend + request.path_qs,
                data=await request.read(),
                headers=headers,
            ) as answer:
                status, body = answer.status, await answer.read()
        except aiohttp.ClientError:
            status, body = 502, b"replica unreachable"
        self.log.append((backend, status))
        return web.Response(status=status, body=body)


@asynccontextmanager
async def round_robin(*backends: str) -> AsyncIterator[RoundRobin]:
    balancer = RoundRobin(list(backends))
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", balancer.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    balancer.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        balancer._session = session
        try:
            yield balancer
        finally:
            await runner.cleanup()


@asynccontextmanager
async def failing_replica(status: int = 500) -> AsyncIterator[tuple[str, list[int]]]:
    """A replica that answers every call with `status`; yields its address and the calls."""
    calls: list[int] = []

    async def handle(request: web.Request) -> web.Response:
        calls.append(status)
        return web.Response(status=status, text="Internal Server Error")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}", calls
    finally:
        await runner.cleanup()


SECRET = "webhook-secret_for-tests"
PATH = "/telegram/webhook"


@asynccontextmanager
async def webhook_bot(
    tmp_path: Path, *replicas_before: str, **settings: Any
) -> AsyncIterator[tuple[LiveHarness, RoundRobin]]:
    """The real bot in webhook mode behind a round-robin balancer (after `replicas_before`)."""
    async with round_robin(*replicas_before) as balancer:
        config = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_path=tmp_path / "live.sqlite3",
            web_port=0,
            emulator_port=0,
            webhook_url=balancer.url + PATH,
            webhook_secret=SECRET,
            **settings,
        )
        clock = ManualClock()
        runtime = Runtime(config, clock=clock)
        errors = ErrorLog()
        logging.getLogger().addHandler(errors)
        try:
            await runtime.start()
            balancer.backends.append(runtime.web_url)
            assert runtime.services is not None
            runtime.services.cash.delayed = lambda: False
            async with httpx.AsyncClient(base_url=runtime.emulator_url, timeout=30) as client:
                yield LiveHarness(runtime, client, clock, errors), balancer
        finally:
            logging.getLogger().removeHandler(errors)
            await runtime.stop()
    assert not errors.records, [r.getMessage() for r in errors.records]


async def bot_api(h: LiveHarness, method: str, **params: Any) -> httpx.Response:
    return await h.client.post(f"/bot{DEFAULT_TOKEN}/{method}", json=params)
