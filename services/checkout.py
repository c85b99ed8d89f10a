"""The shop's side of Robokassa: the signed payment request, ResultURL, reconciliation.

Only ResultURL (signed with Password#2) or OpStateExt prove a payment. Either way the order is
settled by `settle_in`: the order is marked paid, the money moves from the aggregator's clearing
account to the shop, and the notifications are queued, all in one transaction and at most once.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass

from services import ledger
from services.aggregator import CLEARING, open_clearing
from services.clock import Clock, to_ts
from services.db import Database
from services.errors import DomainError
from services.merchant import Merchant, Order, mark_paid_in, order_row
from services.robokassa import QIWI_LABEL, Robokassa, format_out_sum, parse_out_sum

log = logging.getLogger(__name__)


class UnknownInvoice(DomainError):
    pass


class WrongAmount(DomainError):
    pass


class ShpMismatch(DomainError):
    pass


@dataclass(frozen=True)
class Settled:
    order: Order
    newly_paid: bool


def shop_account(shop_id: str) -> str:
    return f"shop:{shop_id}"


def settle_in(conn: sqlite3.Connection, order_id: int, amount: int, now: int) -> Settled:
    """Order paid + clearing → shop + outbox, inside the caller's transaction; once."""
    order = order_row(conn, order_id)
    if order is None:
        raise UnknownInvoice()
    if amount != order.amount:
        raise WrongAmount()
    already = order.status in ("paid", "fulfilled")
    paid = mark_paid_in(conn, order_id, now)
    open_clearing(conn, now)
    ledger.open_account(conn, shop_account(order.shop_id), "shop", now=now)
    ledger.post(
        conn,
        CLEARING,
        shop_account(order.shop_id),
        amount,
        f"order:{order_id}:settle",
        now=now,
        memo="robokassa",
        reference=str(order_id),
    )
    return Settled(paid, newly_paid=not already)


def receipt_json(receipt: Mapping[str, object], amount: int) -> str:
    """54-FZ receipt JSON with the sum as an exact decimal number (`350.00`), never a float."""
    text = json.dumps(receipt, ensure_ascii=False, separators=(",", ":"))
    return text.replace('"__SUM__"', format_out_sum(amount))


class Checkout:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        merchant: Merchant,
        robokassa: Robokassa,
        *,
        reconcile_after: int = 300,
    ) -> None:
        self.db = db
        self.clock = clock
        self.merchant = merchant
        self.robokassa = robokassa
        self.reconcile_after = reconcile_after
        self._checked: dict[int, int] = {}

    def _now(self) -> int:
        return to_ts(self.clock.now())

    def payment_url(self, order: Order, *, culture: str = "ru", qiwi: bool = True) -> str:
        """The signed request that sends the buyer to the aggregator for this order."""
        receipt = {
            "sno": "usn_income",
            "items": [
                {
                    "name": order.item_name[:128],
                    "quantity": order.quantity,
                    "sum": "__SUM__",
                    "tax": "none",
                    "payment_method": "full_payment",
                    "payment_object": "commodity",
                }
            ],
        }
        return self.robokassa.payment_url(
            format_out_sum(order.amount),
            order.id,
            f"Заказ № {order.id}: {order.item_name}"[:100],
            receipt=receipt_json(receipt, order.amount),
            shp={"Shp_shop": order.shop_id},
            inc_curr_label=QIWI_LABEL if qiwi else None,
            culture=culture,
            expiration=order.expires_at,
        )

    async def accept_result(self, params: Mapping[str, str]) -> Settled:
        """A ResultURL call: signature, invoice, amount and Shp checked; then settled once.

        Raises `InvalidSignature`, `UnknownInvoice`, `WrongAmount` or `ShpMismatch`, and then
        nothing changes.
        """
        note = self.robokassa.check_result(params)
        now = self._now()

        def settle(conn: sqlite3.Connection) -> Settled:
            order = order_row(conn, note.inv_id)
            if order is None:
                raise UnknownInvoice()
            if note.shp.get("Shp_shop") != order.shop_id:
                raise ShpMismatch()
            return settle_in(conn, note.inv_id, note.amount, now)

        return await self.db.transaction(settle)

    async def _settle(self, order_id: int, amount: int, now: int) -> Settled:
        def settle(conn: sqlite3.Connection) -> Settled:
            return settle_in(conn, order_id, amount, now)

        return await self.db.transaction(settle)

    async def reconcile(self) -> list[int]:
        """Ask OpStateExt about orders waiting too long; settle those the aggregator paid."""
        now = self._now()
        rows = await self.db.fetchall(
            "SELECT id, amount FROM orders WHERE status IN ('awaiting', 'expired')"
            " AND created_at <= ? AND created_at >= ?",
            (now - self.reconcile_after, now - 7 * 86400),
        )
        settled = []
        for row in rows:
            order_id, amount = row["id"], row["amount"]
            if now - self._checked.get(order_id, 0) < self.reconcile_after:
                continue
            self._checked[order_id] = now
            state = await self.robokassa.op_state(order_id)
            if not state.paid or state.out_sum is None:
                continue
            if parse_out_sum(state.out_sum) != amount:
                log.error("OpStateExt for %s reports another sum: %s", order_id, state.out_sum)
                continue
            if (await self._settle(order_id, amount, now)).newly_paid:
                settled.append(order_id)
        return settled
