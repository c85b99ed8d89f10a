"""Steps and switches shared by test modules; each test module imports them from here."""

from __future__ import annotations

import httpx

from services.aggregator import Aggregator
from services.clock import to_ts
from services.merchant import Merchant
from services.orders import Order, mark_paid_in

# The shop's ResultURL as the sandbox sees it when its calls get lost: no `OK{InvId}`, ever.
_LOST = httpx.MockTransport(lambda request: httpx.Response(503))


def drop_callbacks(aggregator: Aggregator, dropped: bool = True) -> None:
    """Pretend the sandbox's ResultURL calls get lost (or, with False, reach the shop again)."""
    if dropped:
        client = httpx.AsyncClient(transport=_LOST)
        aggregator.http = lambda: client  # type: ignore[method-assign]
    else:
        vars(aggregator).pop("http", None)


async def next_callback_due(aggregator: Aggregator) -> int | None:
    """When the sandbox will next try a ResultURL call, or None when it has given up."""
    row = await aggregator.db.fetchone(
        "SELECT MIN(callback_due_at) FROM rk_operations WHERE callback_done = 0"
        " AND callback_due_at IS NOT NULL"
    )
    return None if row is None or row[0] is None else int(row[0])


async def mark_paid(merchant: Merchant, order_id: int) -> Order:
    """The order paid, as a settled ResultURL marks it, without the money's way there."""
    now = to_ts(merchant.clock.now())
    return await merchant.db.transaction(lambda c: mark_paid_in(c, order_id, now))
