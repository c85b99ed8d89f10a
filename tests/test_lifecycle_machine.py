"""Orders, bills and operations in any order of steps: the books, the stock and the messages hold.

A hypothesis state machine drives the services (merchant, aggregator, checkout, wallet, cash
terminal, ledger) on a real SQLite file, with the bot's web app on loopback for ResultURL,
OpStateExt and the Refund API, and the controllable clock. After every step: the ledger's
invariants (including "no money rests in clearing for an order that cannot be paid"), stock =
initial - paid - reserved, each paid order's receipt queued once and no other order's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import tempfile
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import httpx
from aiohttp import web
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    multiple,
    rule,
)

from bot.app import build_services, close_services
from bot.settings import Settings
from bot.web import build_web_app
from services.aggregator import _operation
from services.bills import BillClosed
from services.checkout import RefundNotPossible
from services.clock import ManualClock
from services.errors import InsufficientFunds
from services.orders import SoldOut
from services.terminal import BANKNOTES, SessionNotFound
from tests.harness import ErrorLog

T = TypeVar("T")
PHONE = "+79123456789"
BUYER = 7001
OWNER = 7002
SKUS = ("roses-7", "twelve-chairs", "last-copy")  # round and non-round sums, scarce stock
HOLDING = ("created", "awaiting", "paid", "fulfilled")  # orders that keep their stock


class Lifecycle(RuleBasedStateMachine):
    orders = Bundle("orders")
    bills = Bundle("bills")
    visits = Bundle("visits")

    def __init__(self) -> None:
        super().__init__()
        self.runner = asyncio.Runner()
        self.tmp = tempfile.TemporaryDirectory()
        self.clock = ManualClock()
        self.errors = ErrorLog()
        logging.getLogger().addHandler(self.errors)
        self.run(self.prepare(Path(self.tmp.name)))

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.runner.run(coro)

    async def prepare(self, folder: Path) -> None:
        """The services and the bot's web app, as the bot runs them (no Telegram side)."""
        config = Settings(_env_file=None, database_path=folder / "bot.sqlite3")  # type: ignore[call-arg]
        self.services = services = await build_services(config, clock=self.clock)
        services.cash.delayed = lambda: False
        self.web = web.AppRunner(build_web_app(services), access_log=None)
        await self.web.setup()
        site = web.TCPSite(self.web, "127.0.0.1", 0)
        await site.start()
        services.configure_payments(f"http://127.0.0.1:{self.web.addresses[0][1]}")
        await services.operator.prove(PHONE, BUYER)  # the buyer shared their own number
        await services.wallets.register_at_terminal(PHONE, BUYER)
        await services.ledger.open_account("external:cash", "external", allow_negative=True)
        await services.wallets.credit(PHONE, "external:cash", 800_000, "fund")
        # Refunds of cash payments land in the wallet: room enough for all of them.
        await services.wallets.set_level(PHONE, "basic")
        for shop in ("books", "flowers"):
            await services.merchant.add_owner(shop, OWNER)
        marks = ",".join("?" * len(SKUS))
        rows = await services.db.fetchall(
            f"SELECT id, sku, stock FROM items WHERE sku IN ({marks})", SKUS
        )
        self.items = {r["sku"]: r["id"] for r in rows}
        self.initial = {r["id"]: r["stock"] for r in rows}

    def teardown(self) -> None:
        try:
            self.run(self.settle_everything())
        finally:
            logging.getLogger().removeHandler(self.errors)
            self.run(self.close())
            self.runner.close()
            self.tmp.cleanup()

    async def close(self) -> None:
        await self.web.cleanup()
        await close_services(self.services)

    async def settle_everything(self) -> None:
        """In the end every paid operation is the shop's sale or back with the payer."""
        self.services.aggregator.drop_callbacks = False
        for _ in range(2):
            self.clock.advance(hours=1)
            await self.background()
        rows = await self.services.db.fetchall(
            "SELECT op.inv_id, op.state, o.status FROM rk_operations op"
            " JOIN orders o ON o.id = op.inv_id WHERE op.state IN (100, 60)"
        )
        for row in rows:
            if row["state"] == 100:
                assert row["status"] in ("paid", "fulfilled"), dict(row)
        await self.check_books()

    async def background(self) -> None:
        """The background job's steps that matter here (no Telegram delivery)."""
        services = self.services
        await services.cash.credit_due()
        await services.cash.finish_idle()
        await services.aggregator.expire_bills()
        await services.merchant.expire_due()
        await services.aggregator.deliver_callbacks()
        await services.checkout().reconcile()
        await services.checkout().follow_refunds()

    # ---- steps -----------------------------------------------------------------------

    @rule(target=orders, sku=st.sampled_from(SKUS), quantity=st.integers(1, 3))
    def create(self, sku: str, quantity: int) -> Any:
        merchant = self.services.merchant
        try:
            order = self.run(
                merchant.create_order(
                    BUYER, self.items[sku], quantity, buyer_name="Анна", contact=PHONE
                )
            )
        except SoldOut:
            return multiple()
        return order.id

    @rule(target=bills, order=orders)
    def invoice(self, order: int) -> Any:
        return self.run(self._invoice(order))

    async def _invoice(self, order_id: int) -> Any:
        services = self.services
        order = await services.merchant.order(order_id)
        if not order.payable:
            return multiple()  # the payment screens refuse it before Robokassa is asked
        assert services.robokassa is not None
        page = await services.robokassa.open_payment_page(services.checkout().payment_url(order))
        operation = int(page.headers["X-Robokassa-Operation"])
        await services.merchant.mark_awaiting(order.id)
        try:
            bill = await services.aggregator.issue_bill(operation, PHONE)
        except BillClosed:
            return multiple()
        return bill.id

    @rule(bill=bills, method=st.sampled_from(["site", "app"]), lost=st.booleans())
    def pay_from_wallet(self, bill: int, method: str, lost: bool) -> None:
        self.run(self._pay_from_wallet(bill, method, lost))

    async def _pay_from_wallet(self, bill_id: int, method: str, lost: bool) -> None:
        aggregator = self.services.aggregator
        before = await self.wallet()
        try:
            bill = await aggregator.pay_bill_from_wallet(bill_id, method=method)
        except (BillClosed, InsufficientFunds):
            assert await self.wallet() == before  # refused: nothing debited
            return
        aggregator.drop_callbacks = lost
        await aggregator.deliver_callbacks(inv_id=bill.inv_id)  # right away, as the bot does
        aggregator.drop_callbacks = False

    @rule(target=visits, bill=bills)
    def open_terminal(self, bill: int) -> Any:
        return self.run(self._open_terminal(bill))

    async def _open_terminal(self, bill_id: int) -> Any:
        aggregator = self.services.aggregator
        if await aggregator.cash.open_visit(BUYER) is not None:
            return multiple()  # one visit at a time, as at a real terminal
        try:
            visit = await aggregator.open_terminal_payment(bill_id, BUYER)
        except BillClosed:
            return multiple()
        bill = await aggregator.bill(bill_id)
        inserted = 0
        while inserted < bill.amount:  # big notes first; no change is given
            note = next(
                (n for n in reversed(BANKNOTES) if inserted + n * 100 <= bill.amount),
                BANKNOTES[0],
            )
            await aggregator.cash.insert(visit, BUYER, note)
            inserted += note * 100
        return visit

    @rule(visit=consumes(visits))
    def pay_at_terminal(self, visit: int) -> None:
        self.run(self._pay_at_terminal(visit))

    async def _pay_at_terminal(self, visit: int) -> None:
        aggregator = self.services.aggregator
        try:
            receipt = await aggregator.cash.pay(visit, BUYER, remainder_to="phone")
        except SessionNotFound:
            return  # the idle visit was finished by the background job
        except BillClosed:
            await aggregator.cash.cancel(visit, BUYER)  # leaves: the cash goes to the wallet
            return
        inv_id = (await aggregator.bill(int(receipt.reference.split(":")[1]))).inv_id
        await aggregator.deliver_callbacks(inv_id=inv_id)

    @rule(order=orders)
    def cancel(self, order: int) -> None:
        self.run(self.services.merchant.cancel_order(order, BUYER))

    @rule(bill=bills)
    def cancel_while_paying(self, bill: int) -> None:
        """The buyer cancels the order whose invoice is open on another screen."""
        inv_id = self.run(self.services.aggregator.bill(bill)).inv_id
        self.run(self.services.merchant.cancel_order(inv_id, BUYER))

    @rule(minutes=st.sampled_from([1, 6, 31]))
    def time_passes(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)
        self.run(self.background())

    @rule(lost=st.booleans())
    def callbacks_get_lost(self, lost: bool) -> None:
        self.services.aggregator.drop_callbacks = lost

    @rule()
    def result_url_retries(self) -> None:
        self.clock.advance(minutes=2)
        self.run(self.services.aggregator.deliver_callbacks())

    @rule(order=orders)
    def result_url_replayed(self, order: int) -> None:
        self.run(self._replay(order))

    async def _replay(self, order_id: int) -> None:
        """A (late, repeated) signed ResultURL for a paid or refunded operation: always OK."""
        services = self.services
        row = await services.db.fetchone(
            "SELECT * FROM rk_operations WHERE inv_id = ? AND state IN (100, 60)", (order_id,)
        )
        if row is None:
            return
        params = services.aggregator.result_params(_operation(row))
        url = next(iter(services.aggregator.merchants.values())).result_url
        async with httpx.AsyncClient() as client:
            answer = await client.post(url, data=params)
        assert (answer.status_code, answer.text) == (200, f"OK{order_id}")

    @rule()
    def reconcile(self) -> None:
        self.clock.advance(minutes=6)
        self.run(self.services.checkout().reconcile())

    @rule(order=orders)
    def owner_refunds(self, order: int) -> None:
        with contextlib.suppress(RefundNotPossible):
            self.run(self.services.checkout().refund(order, OWNER))

    # ---- what must hold after every step ---------------------------------------------

    @invariant()
    def books_stock_and_messages(self) -> None:
        self.run(self.check_books())

    async def wallet(self) -> int:
        return await self.services.ledger.balance(f"wallet:{PHONE}")

    async def check_books(self) -> None:
        services = self.services
        assert not self.errors.records, [r.getMessage() for r in self.errors.records]
        report = await services.ledger.check_invariants()
        assert report.ok, report
        marks = ",".join("?" * len(HOLDING))
        for item_id, initial in self.initial.items():
            row = await services.db.fetchone(
                "SELECT i.stock, (SELECT COALESCE(SUM(quantity), 0) FROM orders"
                f" WHERE item_id = i.id AND status IN ({marks})) FROM items i WHERE i.id = ?",
                (*HOLDING, item_id),
            )
            assert row is not None
            assert row[0] == initial - row[1], (item_id, initial, row[0], row[1])
        receipts: dict[int, int] = {}
        for message in await services.db.fetchall(
            "SELECT payload FROM outbox WHERE kind = 'order_paid_buyer'"
        ):
            order_id = json.loads(message["payload"])["order"]
            receipts[order_id] = receipts.get(order_id, 0) + 1
        for order in await services.db.fetchall("SELECT id, status FROM orders"):
            paid = order["status"] in ("paid", "fulfilled")
            assert receipts.get(order["id"], 0) == int(paid), dict(order)


Lifecycle.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=30,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
TestLifecycle = Lifecycle.TestCase
