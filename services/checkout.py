"""The shop's side of Robokassa: the signed payment request, ResultURL, reconciliation, refunds.

Only ResultURL (signed with Password#2) or OpStateExt prove a payment. Either way the order is
settled by `settle_in`: the order is marked paid, the money moves from the aggregator's clearing
account to the shop, and the notifications are queued, all in one transaction and at most once.
Money for an order that can no longer be paid (cancelled, expired) is not a sale: it is sent back
to the payer through the Refund API, and the buyer is told.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from services import ledger
from services.accounts import Accounts, ShopAccount
from services.clock import Clock, to_ts
from services.db import Database
from services.errors import DomainError
from services.fiscal import Receipt, ReceiptError
from services.merchant import Merchant
from services.orders import Order, mark_paid_in, order_row
from services.outbox import Kind, OrderRefunded, PaymentReturned, RefundResult, enqueue
from services.robokassa import (
    QIWI_LABEL,
    Currency,
    InvalidSignature,
    Robokassa,
    RobokassaError,
    format_out_sum,
    parse_out_sum,
)

log = logging.getLogger(__name__)
# What a call to Robokassa may fail with that is worth trying again later.
UNREACHABLE = (httpx.HTTPError, ValueError, ET.ParseError)


class UnknownInvoice(DomainError):
    pass


class WrongAmount(DomainError):
    pass


class ShpMismatch(DomainError):
    pass


class UnknownShop(DomainError):
    """A notification names a shop the catalogue does not have (or one without an account)."""


class ShopNotConnected(DomainError):
    """The shop's Robokassa account is not complete in live mode: it takes no payments.

    `missing` names the settings its owner still has to provide (never their values)."""

    def __init__(self, shop_id: str, missing: tuple[str, ...]) -> None:
        super().__init__(f"shop {shop_id} is missing {', '.join(missing)}")
        self.shop_id = shop_id
        self.missing = missing


class ModeMismatch(DomainError):
    """A ResultURL's IsTest differs from the shop's mode: a test payment never pays a live
    order, and a live notification never reaches a shop that is still testing."""


class RefundNotPossible(DomainError):
    """Only a paid (or handed-over) order can be refunded."""


@dataclass(frozen=True)
class Refund:
    order_id: int
    amount: int
    state: str  # requested | processing | finished | canceled | failed
    message: str
    to_payer: bool = False  # money that reached a non-payable order: never the shop's

    @property
    def done(self) -> bool:
        return self.state == "finished"

    @property
    def open(self) -> bool:
        return self.state in ("requested", "processing")


def refund_of(conn: sqlite3.Connection, order_id: int) -> Refund | None:
    row = conn.execute(
        "SELECT order_id, amount, state, message, to_payer FROM refunds WHERE order_id = ?",
        (order_id,),
    ).fetchone()
    if row is None:
        return None
    return Refund(
        row["order_id"], row["amount"], row["state"], row["message"], bool(row["to_payer"])
    )


@dataclass(frozen=True)
class Settled:
    order: Order
    newly_paid: bool
    returning: bool = False  # not payable: the money is on its way back to the payer


def shop_account(shop_id: str) -> str:
    return f"shop:{shop_id}"


def settle_in(
    conn: sqlite3.Connection, order_id: int, amount: int, now: int, method: str | None = None
) -> Settled:
    """Order paid + clearing → shop + outbox, inside the caller's transaction; once.

    `method` is how the buyer paid, for the receipt; None: the sandbox's QIWI wallet."""
    order = order_row(conn, order_id)
    if order is None:
        raise UnknownInvoice()
    if amount != order.amount:
        raise WrongAmount()
    if order.status in ("cancelled", "expired"):
        # Paid after all (a race with the cancel, a late live payment): not a sale. Recorded
        # here, sent by the caller (or the refund job); once, however often it is reported.
        conn.execute(
            "INSERT OR IGNORE INTO refunds (order_id, amount, requested_by, to_payer, created_at)"
            " VALUES (?, ?, 0, 1, ?)",
            (order_id, amount, now),
        )
        return Settled(order, newly_paid=False, returning=True)
    already = order.status in ("paid", "fulfilled")
    paid = mark_paid_in(conn, order_id, now, method)
    ledger.open_clearing(conn, now)
    ledger.open_account(conn, shop_account(order.shop_id), "shop", now=now)
    ledger.post(
        conn,
        ledger.CLEARING_ACCOUNT,
        shop_account(order.shop_id),
        amount,
        f"order:{order_id}:settle",
        now=now,
        memo="robokassa",
        reference=str(order_id),
    )
    return Settled(paid, newly_paid=not already)


_METHOD = re.compile(r"[^\w .\-]+")


def _method_name(params: Mapping[str, str]) -> str:
    """The method a ResultURL names (PaymentMethod, else IncCurrLabel), cut and plain: it
    came over the network and goes into the buyer's receipt."""
    raw = params.get("PaymentMethod") or params.get("IncCurrLabel") or ""
    return _METHOD.sub("", raw)[:40]


# A refund's reason when Robokassa does not know a Telegram payment: the owner is told to
# return it in Robokassa's cabinet (views word it).
TELEGRAM_NOT_FOUND = "telegram-payment-not-found"
TELEGRAM_METHOD = "Telegram"  # how receipts and refund notes name a payment made in Telegram

# GetCurrencies: how long an answer is reused, and how long the buyer may wait for one.
METHODS_TTL = 600
METHODS_TIMEOUT = 3.0


class Checkout:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        merchant: Merchant,
        robokassa: Robokassa,
        *,
        reconcile_after: int = 300,
        accounts: Accounts | None = None,
        sandbox: bool = True,
        methods_timeout: float = METHODS_TIMEOUT,
    ) -> None:
        self.db = db
        self.clock = clock
        self.merchant = merchant
        self.robokassa = robokassa  # the bot's own account: shops that name none use it
        self.reconcile_after = reconcile_after
        self.accounts = accounts or Accounts.single(robokassa)
        # The sandbox plays the seed's world (QIWI preselected); live mode never forces a method.
        self.sandbox = sandbox
        self.methods_timeout = methods_timeout
        self._methods: dict[tuple[str, str], tuple[float, list[Currency]]] = {}

    def _now(self) -> int:
        return to_ts(self.clock.now())

    # ---- accounts --------------------------------------------------------------------

    def account(self, shop_id: str) -> ShopAccount:
        """The shop's account; `UnknownShop` or `ShopNotConnected` when it cannot take money."""
        account = self.accounts.get(shop_id)
        if account is None:
            raise UnknownShop(shop_id)
        if account.client is None:
            raise ShopNotConnected(shop_id, account.missing)
        return account

    def missing_settings(self, shop_id: str) -> tuple[str, ...]:
        """Why a shop is not offered for payment (the settings still to provide), or ()."""
        account = self.accounts.get(shop_id)
        if account is None:
            return ()
        return account.missing

    def _client(self, shop_id: str) -> Robokassa:
        account = self.accounts.get(shop_id)
        if account is None or account.client is None:
            # An order of a shop since removed from the catalogue (or disconnected): its
            # status checks and refunds go where it was paid, which we no longer know better.
            return self.robokassa
        return account.client

    # ---- the payment request ---------------------------------------------------------

    def receipt(self, order: Order, item: str | None = None) -> Receipt:
        """The order's 54-FZ receipt, its lines adding up to the order's sum (ReceiptError
        otherwise). `item` is the catalogue id of the item; without it, its name as sold."""
        return self.account(order.shop_id).receipt(
            order.item_name, order.quantity, order.amount, item
        )

    def payment_url(
        self,
        order: Order,
        *,
        culture: str = "ru",
        method: str | None = None,
        qiwi: bool | None = None,
        item: str | None = None,
    ) -> str:
        """The signed request that sends the buyer to the shop's Robokassa account.

        `method` is an `IncCurrLabel` from `methods()`, or None: the buyer chooses on
        Robokassa's page. The sandbox preselects QIWI unless `qiwi=False` (the seed's world).
        Raises `ShopNotConnected` / `UnknownShop`, or `ReceiptError` for lines that do not add
        up: nothing is sent then.
        """
        account = self.account(order.shop_id)
        assert account.client is not None
        receipt = self.receipt(order, item)
        label = method
        if label is None and self.sandbox and qiwi is not False:
            label = QIWI_LABEL
        return account.client.payment_url(
            format_out_sum(order.amount),
            order.id,
            f"Заказ № {order.id}: {order.item_name}"[:100],
            receipt=receipt.to_json(),
            shp={"Shp_shop": order.shop_id},
            inc_curr_label=label,
            culture=culture,
            expiration=order.expires_at,
        )

    async def payment_link(
        self, order: Order, *, method: str | None = None, culture: str = "ru"
    ) -> str:
        """`payment_url` with the item's own fiscal settings found by its catalogue id, so a
        renamed item keeps its tax; and a `method` the shop does not list today is dropped."""
        row = await self.db.fetchone("SELECT sku FROM items WHERE id = ?", (order.item_id,))
        if method is not None:
            labels = {m.label for m in await self.methods(order.shop_id, culture)}
            method = method if method in labels else None
        return self.payment_url(
            order,
            culture=culture,
            method=method,
            qiwi=False if method is None and not self.sandbox else None,
            item=None if row is None else str(row["sku"]),
        )

    async def methods(self, shop_id: str, language: str = "ru") -> list[Currency]:
        """The payment methods the shop's account offers today (GetCurrencies), cached.

        An empty list when Robokassa does not answer in time or answers garbage: the buyer then
        chooses on Robokassa's own page, the link works all the same. A failure is not cached
        for long, so the next buyer asks again.
        """
        client = self.account(shop_id).client
        assert client is not None
        key = (client.login, language)
        cached = self._methods.get(key)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        try:
            async with asyncio.timeout(self.methods_timeout):
                found = await client.currencies(language=language)
            ttl = METHODS_TTL
        except (TimeoutError, RobokassaError, *UNREACHABLE) as error:
            log.warning("GetCurrencies for shop %s: %s", shop_id, type(error).__name__)
            found, ttl = [], 30
        self._methods[key] = (time.monotonic() + ttl, found)
        return found

    # ---- ResultURL -------------------------------------------------------------------

    async def accept_result(self, params: Mapping[str, str], shop_id: str | None = None) -> Settled:
        """A ResultURL call: signature, invoice, amount and Shp checked; then settled once.

        The shop comes from the per-shop path (`shop_id`) or else from `Shp_shop`; its own
        Password #2 checks the signature, so one shop's notification never pays another's
        order. Raises `UnknownShop`, `InvalidSignature`, `ModeMismatch`, `UnknownInvoice`,
        `WrongAmount` or `ShpMismatch`, and then nothing changes. For an order that can no
        longer be paid the money's return is recorded (and sent): handled as well, so the call
        is answered `OK` and not repeated.
        """
        named = params.get("Shp_shop")
        if shop_id is not None and named is not None and named != shop_id:
            raise ShpMismatch()
        shop = shop_id or named
        if shop is None:
            raise InvalidSignature("no shop named: Shp_shop is missing")
        account = self.accounts.get(shop)
        if account is None or account.client is None:
            raise UnknownShop(shop)
        client = account.client
        note = client.check_result(params)
        if note.is_test != client.is_test:
            raise ModeMismatch()
        now = self._now()
        # The receipt names the method Robokassa reports; the sandbox's is always QIWI.
        method = None if self.sandbox else _method_name(params)

        def settle(conn: sqlite3.Connection) -> Settled:
            order = order_row(conn, note.inv_id)
            if order is None:
                raise UnknownInvoice()
            if note.shp.get("Shp_shop") != order.shop_id:
                raise ShpMismatch()
            return settle_in(conn, note.inv_id, note.amount, now, method)

        settled = await self.db.transaction(settle)
        await self._return_to_payer(settled)
        return settled

    async def _settle(self, order_id: int, amount: int, now: int) -> Settled:
        def settle(conn: sqlite3.Connection) -> Settled:
            return settle_in(conn, order_id, amount, now)

        settled = await self.db.transaction(settle)
        await self._return_to_payer(settled)
        return settled

    async def _return_to_payer(self, settled: Settled) -> None:
        refund = await self.refund_of(settled.order.id) if settled.returning else None
        if refund is not None and refund.state == "requested":
            await self._send_refund(settled.order)

    async def reconcile(self) -> list[int]:
        """Ask OpStateExt about orders waiting too long; settle those the aggregator paid."""
        now = self._now()
        rows = await self.db.fetchall(
            "SELECT id, amount FROM orders WHERE status IN ('awaiting', 'expired', 'cancelled')"
            " AND created_at <= ? AND created_at >= ? AND COALESCE(checked_at, 0) <= ?"
            " AND id NOT IN (SELECT order_id FROM refunds)",
            (now - self.reconcile_after, now - 7 * 86400, now - self.reconcile_after),
        )
        settled = []
        for row in rows:
            order_id, amount = row["id"], row["amount"]
            await self._mark_checked("UPDATE orders SET checked_at = ? WHERE id = ?", order_id, now)
            shop = await self.db.fetchone("SELECT shop_id FROM orders WHERE id = ?", (order_id,))
            client = self.robokassa if shop is None else self._client(shop["shop_id"])
            state = await client.op_state(order_id)
            if not state.paid or state.out_sum is None:
                continue
            if parse_out_sum(state.out_sum) != amount:
                # The sum came over the network: quoted and cut, so it cannot forge log lines.
                log.error("OpStateExt for %s reports another sum: %.40r", order_id, state.out_sum)
                continue
            if (await self._settle(order_id, amount, now)).newly_paid:
                settled.append(order_id)
        return settled

    async def _mark_checked(self, sql: str, order_id: int, now: int) -> None:
        """When Robokassa was last asked about a row: the throttle is kept in the database."""
        await self.db.transaction(lambda c: c.execute(sql, (now, order_id)))

    # ---- refunds ---------------------------------------------------------------------

    async def refund_of(self, order_id: int) -> Refund | None:
        return await self.db.run(lambda c: refund_of(c, order_id))

    async def refund(self, order_id: int, owner_id: int) -> Refund:
        """The owner gives the buyer's money back, all of it; once, however often it is asked.

        The request is recorded first (one per order), then sent to Robokassa's Refund API. The
        money leaves the shop's account only when Robokassa reports the refund finished.
        """
        order = await self.merchant.owner_order(order_id, owner_id)  # NotAnOwner otherwise
        if order.status not in ("paid", "fulfilled"):
            raise RefundNotPossible(order.status)
        now = self._now()

        def record(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "INSERT OR IGNORE INTO refunds (order_id, amount, requested_by, created_at)"
                " VALUES (?, ?, ?, ?)",
                (order_id, order.amount, owner_id, now),
            )
            return cursor.rowcount == 1

        if await self.db.transaction(record):
            await self._send_refund(order)
        found = await self.refund_of(order_id)
        assert found is not None
        return found

    async def _send_refund(self, order: Order, *, tell_owner: bool = False) -> None:
        """Refund/Create for a recorded request, then its state; failures are recorded.

        `tell_owner`: the owner is not looking at the result (the background job got it), so
        the outcome is sent to them as a message.
        """
        client = self._client(order.shop_id)
        try:
            state = await client.op_state(order.id)
            if state.state_code == 60:
                # Refunded already: an earlier request got through but its answer was lost
                # (say, the bot was killed). Nothing to send again; finish it here.
                await self._finish_refund(order.id, "finished", tell_owner=tell_owner)
                return
            if not state.op_key:
                reason = f"OpStateExt result {state.result_code}"
                if state.result_code == 3 and await self._paid_in_telegram(order.id):
                    # Robokassa keeps a Telegram charge under provider_data's InvoiceId, our
                    # order number; if it does not, only its cabinet can return the money.
                    reason = TELEGRAM_NOT_FOUND
                await self._finish_refund(order.id, "failed", reason, tell_owner=tell_owner)
                return
            created = await client.create_refund(
                state.op_key, order.amount, self._refund_items(order)
            )
        except UNREACHABLE as error:  # network or a garbled answer: the job tries again later
            log.warning("refund for order %s not sent yet: %s", order.id, type(error).__name__)
            return
        if not created.success or created.request_id is None:
            reason = created.message or "refused"
            await self._finish_refund(order.id, "failed", reason, tell_owner=tell_owner)
            return
        await self.db.transaction(
            lambda c: c.execute(
                "UPDATE refunds SET state = 'processing', request_id = ?"
                " WHERE order_id = ? AND state = 'requested'",
                (created.request_id, order.id),
            )
        )
        await self._check_refund(order.id, created.request_id, tell_owner=tell_owner)

    async def _paid_in_telegram(self, order_id: int) -> bool:
        row = await self.db.fetchone(
            "SELECT 1 FROM tg_payments WHERE order_id = ? AND outcome = 'settled'", (order_id,)
        )
        return row is not None

    def _refund_items(self, order: Order) -> list[dict[str, object]] | None:
        """The receipt lines that go back: the same lines the payment's receipt had."""
        account = self.accounts.get(order.shop_id)
        if account is None:
            return None
        try:
            return account.receipt(order.item_name, order.quantity, order.amount).refund_items()
        except ReceiptError:
            return None  # the whole sum still goes back; the receipt is the shop's to correct

    async def _check_refund(
        self, order_id: int, request_id: str, *, tell_owner: bool = False
    ) -> None:
        shop = await self.db.fetchone("SELECT shop_id FROM orders WHERE id = ?", (order_id,))
        client = self.robokassa if shop is None else self._client(shop["shop_id"])
        state = await client.refund_state(request_id)
        if state.label == "finished":
            await self._finish_refund(order_id, "finished", tell_owner=tell_owner)
        elif state.label != "processing":
            reason = f"Robokassa: {state.label}"
            await self._finish_refund(order_id, "canceled", reason, tell_owner=tell_owner)

    async def _finish_refund(
        self, order_id: int, outcome: str, reason: str = "", *, tell_owner: bool = False
    ) -> None:
        """Robokassa's last word on a refund: `finished` moves the money and tells the buyer;
        `failed` (refused at once) or `canceled` (later) keep the reason."""
        now = self._now()

        def finish(conn: sqlite3.Connection) -> None:
            refund = refund_of(conn, order_id)
            order = order_row(conn, order_id)
            if refund is None or order is None or not refund.open:
                return  # already finished (or canceled) by another pass
            if tell_owner and not refund.to_payer:
                owner = conn.execute(
                    "SELECT requested_by FROM refunds WHERE order_id = ?", (order_id,)
                ).fetchone()[0]
                result: RefundResult = {
                    "order": order_id,
                    "amount": refund.amount,
                    "done": outcome == "finished",
                    "reason": reason,
                }
                enqueue(
                    conn,
                    owner,
                    Kind.REFUND_RESULT_OWNER,
                    result,
                    f"order:{order_id}:refund:owner",
                    now=now,
                )
            if outcome != "finished":
                conn.execute(
                    "UPDATE refunds SET state = ?, message = ?, finished_at = ? WHERE order_id = ?",
                    (outcome, reason[:200], now, order_id),
                )
                if refund.to_payer:  # no owner asked for it: someone has to look at it
                    log.error("money for order %s could not go back: %s", order_id, reason)
                return
            conn.execute(
                "UPDATE refunds SET state = 'finished', finished_at = ? WHERE order_id = ?",
                (now, order_id),
            )
            if refund.to_payer:  # the shop never had this money: only the payer hears of it
                returned: PaymentReturned = {
                    "order": order.id,
                    "item": order.item_name,
                    "shop": order.shop_name,
                    "amount": refund.amount,
                    "reason": order.status,
                }
                key = f"order:{order_id}:returned"
                enqueue(conn, order.user_id, Kind.PAYMENT_RETURNED, returned, key, now=now)
                return
            ledger.post(
                conn,
                shop_account(order.shop_id),
                ledger.CLEARING_ACCOUNT,
                refund.amount,
                f"order:{order_id}:refund",
                now=now,
                memo="refund",
                reference=str(order_id),
            )
            payload: OrderRefunded = {
                "order": order.id,
                "shop": order.shop_name,
                "item": order.item_name,
                "amount": refund.amount,
            }
            in_telegram = conn.execute(
                "SELECT 1 FROM tg_payments WHERE order_id = ? AND outcome = 'settled'",
                (order_id,),
            ).fetchone()
            if in_telegram or not self.sandbox:  # not the sandbox's QIWI wallet
                payload["method"] = TELEGRAM_METHOD if in_telegram else ""
            enqueue(
                conn,
                order.user_id,
                Kind.ORDER_REFUNDED_BUYER,
                payload,
                f"order:{order_id}:refund",
                now=now,
            )

        await self.db.transaction(finish)

    async def follow_refunds(self) -> int:
        """The background pass: send requests a crash left unsent, ask about those in progress."""
        now = self._now()
        rows = await self.db.fetchall(
            "SELECT order_id, state, request_id FROM refunds"
            " WHERE (state = 'processing' OR (state = 'requested' AND created_at <= ?))"
            " AND COALESCE(checked_at, 0) <= ?",
            (now - 60, now - 30),
        )
        for row in rows:
            await self._mark_checked(
                "UPDATE refunds SET checked_at = ? WHERE order_id = ?", row["order_id"], now
            )
            if row["state"] == "processing":
                try:
                    await self._check_refund(row["order_id"], row["request_id"], tell_owner=True)
                except UNREACHABLE as error:
                    log.warning("refund state for %s: %s", row["order_id"], type(error).__name__)
                continue
            order = await self.merchant.order(row["order_id"])
            await self._send_refund(order, tell_owner=True)
        return len(rows)
