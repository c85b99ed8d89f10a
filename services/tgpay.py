"""Paying an order inside Telegram, Robokassa being the Telegram Payments provider.

The invoice carries the order's number in its payload and Robokassa's `provider_data`
(`{"InvoiceId": …, "Receipt": …}`, the same receipt as the payment page, see services/fiscal.py).
Before the buyer is charged Telegram asks (`pre_checkout_query`, answered within 10 s): the
order must still be payable, its stock held, and amount and currency the order's. The
`successful_payment` that follows settles the order once, keyed by its
`telegram_payment_charge_id`: a replayed update finds its row and changes nothing. A payment
that does not match its order is recorded and never settles it.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from services import ledger
from services.aggregator import TELEGRAM_EXTERNAL
from services.checkout import TELEGRAM_METHOD, Checkout, settle_in
from services.clock import Clock, to_ts
from services.db import Database
from services.fiscal import telegram_provider_data
from services.orders import Order, order_row
from services.owners import alert_owners_kept_aside

log = logging.getLogger(__name__)
CURRENCY = "RUB"
EXTERNAL = TELEGRAM_EXTERNAL  # where a Telegram payment's money comes from (the card)
_PAYLOAD = re.compile(r"order:([0-9]{1,10})")
# The emulator takes any provider token; Telegram needs the one Robokassa's bot gave via
# @BotFather.
EMULATOR_PROVIDER_TOKEN = "381764678:TEST:robokassa-emulator"
# Robokassa as the provider records the charge as an operation of the shop's account, its InvId
# the InvoiceId of provider_data. In the sandbox that side lives in this process: a hook per
# name, called in the payment's transaction with (conn, shop id, order id, amount, now).
ProviderHook = Callable[[sqlite3.Connection, str, int, int, int], None]


class Refusal(StrEnum):
    """Why a pre-checkout is refused (the chat words it for the buyer)."""

    unknown = "unknown"
    not_payable = "not_payable"  # paid, cancelled or expired
    wrong_amount = "wrong_amount"  # amount or currency differs from the order


class Outcome(StrEnum):
    settled = "settled"
    wrong_amount = "wrong_amount"
    not_payable = "not_payable"


@dataclass(frozen=True)
class InvoiceRequest:
    payload: str
    currency: str
    amount: int  # kopecks; Telegram's prices are in the smallest units too
    provider_data: str


@dataclass(frozen=True)
class Payment:
    order: Order
    outcome: Outcome
    new: bool  # False: a replay of a payment already recorded


def order_of_payload(payload: str) -> int | None:
    found = _PAYLOAD.fullmatch(payload)
    return None if found is None else int(found.group(1))


class TelegramPayments:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        checkout: Checkout,
        *,
        tokens: Mapping[str, str] | None = None,
        default_token: str = "",
    ) -> None:
        self.db = db
        self.clock = clock
        self.checkout = checkout
        # Shop id (lower case) → the provider token tied to that shop's own Robokassa account.
        self.tokens = {shop.lower(): token for shop, token in (tokens or {}).items() if token}
        self.default_token = default_token  # shops paid to the bot's own account
        self.provider_hooks: dict[str, ProviderHook] = {}

    def token(self, shop_id: str) -> str:
        """The provider token that pays this shop, or "" when it takes no payments in Telegram.

        A token is tied to one Robokassa account: a shop with its own MerchantLogin is offered
        this way only with its own token (the bot's would pay the bot's operator), and only
        while its account is complete."""
        account = self.checkout.accounts.get(shop_id)
        if account is None or not account.connected:
            return ""
        if account.own:
            return self.tokens.get(shop_id.lower(), "")
        return self.default_token

    def offered(self, shop_id: str) -> bool:
        return bool(self.token(shop_id))

    def invoice(self, order: Order) -> InvoiceRequest:
        """What sendInvoice needs besides the texts; ReceiptError when the lines do not add up."""
        receipt = self.checkout.receipt(order)
        return InvoiceRequest(
            f"order:{order.id}", CURRENCY, order.amount, telegram_provider_data(order.id, receipt)
        )

    async def pre_checkout(self, payload: str, currency: str, total: int) -> Refusal | None:
        """None when the buyer may be charged; else why not."""
        order_id = order_of_payload(payload)
        order = None if order_id is None else await self.db.run(lambda c: order_row(c, order_id))
        if order is None:
            return Refusal.unknown
        # Stock is held by the order itself until it expires or is cancelled.
        if not order.payable or order.expires_at <= self.clock.now():
            return Refusal.not_payable
        if currency != CURRENCY or total != order.amount:
            return Refusal.wrong_amount
        return None

    async def settle(
        self, charge_id: str, provider_charge_id: str, payload: str, currency: str, total: int
    ) -> Payment:
        """Record the payment and settle its order, once per `charge_id`."""
        order_id = order_of_payload(payload)
        if order_id is None or not charge_id:
            raise ValueError("not a payment of ours")
        now = to_ts(self.clock.now())

        def record(conn: sqlite3.Connection) -> Payment:
            order = order_row(conn, order_id)
            if order is None:
                raise ValueError("not a payment of ours")
            seen = conn.execute(
                "SELECT outcome FROM tg_payments WHERE charge_id = ?", (charge_id,)
            ).fetchone()
            if seen is not None:
                return Payment(order, Outcome(seen[0]), new=False)
            if currency != CURRENCY or total != order.amount:
                outcome = Outcome.wrong_amount
            elif order.status in ("cancelled", "expired", "paid", "fulfilled"):
                outcome = Outcome.not_payable
            else:
                outcome = Outcome.settled
            conn.execute(
                "INSERT INTO tg_payments (charge_id, provider_charge_id, order_id, currency,"
                " amount, outcome, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (charge_id, provider_charge_id, order_id, currency, total, outcome, now),
            )
            if outcome is not Outcome.settled:  # the owners have money to give back
                alert_owners_kept_aside(
                    conn, order, charge_id, provider_charge_id, total, currency, outcome, now
                )
            if outcome is not Outcome.settled:
                return Payment(order, outcome, new=True)
            for hook in self.provider_hooks.values():
                hook(conn, order.shop_id, order_id, total, now)
            # Robokassa holds the buyer's money as it does for a payment page; the order is
            # then settled exactly as a ResultURL settles it.
            ledger.open_clearing(conn, now)
            ledger.open_account(conn, EXTERNAL, "external", now=now, allow_negative=True)
            ledger.post(
                conn,
                EXTERNAL,
                ledger.CLEARING_ACCOUNT,
                total,
                f"tg:{charge_id}",
                now=now,
                memo="telegram payment",
                reference=str(order_id),
            )
            settled = settle_in(conn, order_id, total, now, TELEGRAM_METHOD)
            return Payment(settled.order, outcome, new=True)

        payment = await self.db.transaction(record)
        if payment.new and payment.outcome is not Outcome.settled:
            # Quoted and cut: the ids came from an update.
            log.error(
                "Telegram payment %.64r for order %s kept aside: %s (%s %s)",
                charge_id,
                order_id,
                payment.outcome,
                total,
                currency[:3],
            )
        return payment

    async def kept_aside(self, order_id: int) -> list[tuple[str, int, str]]:
        """Payments of an order that did not settle it: (outcome, amount, currency)."""
        rows = await self.db.fetchall(
            "SELECT outcome, amount, currency FROM tg_payments"
            " WHERE order_id = ? AND outcome != 'settled' ORDER BY created_at",
            (order_id,),
        )
        return [(r["outcome"], r["amount"], r["currency"]) for r in rows]
