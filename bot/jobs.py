"""Background work that must survive restarts: delayed receipts, idle terminals, the outbox."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.outbox_worker import OutboxWorker
from services.terminal import CashDesk

log = logging.getLogger(__name__)


class BackgroundJobs:
    def __init__(self, cash: CashDesk, worker: OutboxWorker, *, tick: float = 1.0) -> None:
        self.cash = cash
        self.worker = worker
        self.tick = tick
        self.wake = asyncio.Event()

    async def run_once(self) -> None:
        """Everything that is due now; each step stands alone so one failure stops nothing."""
        for step in (self.cash.credit_due, self.cash.finish_idle, self.worker.deliver_due):
            try:
                await step()
            except Exception:
                log.exception("background step %s failed", step.__name__)

    async def run(self) -> None:
        while True:
            await self.run_once()
            self.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.tick)
