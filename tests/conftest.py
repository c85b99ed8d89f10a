from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.clock import ManualClock
from services.db import Database
from services.ledger import Ledger
from tests.harness import Harness, running_harness
from tests.live import LiveHarness, running_live


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
