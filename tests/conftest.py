from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.clock import ManualClock
from services.db import Database
from services.ledger import Ledger
from tests.harness import Harness, running_harness


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_harness(tmp_path) as h:
        yield h
        # No update may end in an exception: every failure a person can cause is handled.
        assert not h.errors.records, [r.getMessage() for r in h.errors.records]


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
