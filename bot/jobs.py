"""Background work that must survive restarts: delayed receipts, idle terminals, the outbox."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from bot.outbox_worker import OutboxWorker

if TYPE_CHECKING:
    from bot.app import Services

log = logging.getLogger(__name__)


class BackgroundJobs:
    def __init__(self, services: Services, worker: OutboxWorker, *, tick: float = 1.0) -> None:
        self.services = services
        self.worker = worker
        self.tick = tick
        self.wake = services.jobs_wake

    async def run_once(self) -> None:
        """Everything that is due now; each step stands alone so one failure stops nothing."""
        services = self.services
        steps = (
            services.cash.credit_due,
            services.cash.finish_idle,
            services.aggregator.expire_bills,
            services.merchant.expire_due,
            services.aggregator.deliver_callbacks,
            services.checkout.reconcile,
            services.checkout.follow_refunds,
            services.merchant.warn_expiring,
            self.worker.deliver_due,
        )
        for step in steps:
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
