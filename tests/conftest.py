from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis

from services.clock import ManualClock
from services.db import Database
from services.ledger import Ledger
from tests.harness import Harness, running_harness
from tests.live import LiveHarness, running_live
from tests.servers import REDIS, private_server


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_harness(tmp_path) as h:
        yield h
        # No update may end in an exception: every failure a person can cause is handled.
        assert not h.errors.records, [r.getMessage() for r in h.errors.records]
        # And the books balance after every conversation.
        report = await h.services.ledger.check_invariants()
        assert report.ok, report


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "test.sqlite3")
    yield database
    await database.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def ledger(db: Database, clock: ManualClock) -> Ledger:
    return Ledger(db, clock)


@pytest.fixture(params=["harness", "emulator"])
async def chat(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Harness | LiveHarness]:
    """The same scenario against the in-process harness and the real bot over the emulator."""
    runner = running_harness if request.param == "harness" else running_live
    async with runner(tmp_path) as h:
        yield h
        assert not h.errors.records, [r.getMessage() for r in h.errors.records]
        report = await h.services.ledger.check_invariants()
        assert report.ok, report


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with private_server(REDIS, tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """An empty Redis database for each test (the same ids in two tests must not meet)."""
    client = redis.Redis.from_url(redis_server)
    try:
        client.flushdb()
    finally:
        client.close()
    return redis_server
