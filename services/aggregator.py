"""The embedded Robokassa sandbox's domain: operations, ResultURL delivery, refunds, OpStateExt.

A stand-in for the aggregator; its QIWI bills are in services/bills.py. It validates the shop's
signed request exactly as the protocol says, issues a bill to the buyer's phone through the wallet
stand-in, takes the money when the bill is paid (wallet, app or cash terminal), records state 100
and calls the shop's ResultURL with the Password#2 signature until it answers `OK{InvId}`.
Refunds (Refund API, JWT signed with the shop's Password#3) return the money to the wallet the
bill was paid to (or that number's mobile balance) at once, and the operation's state becomes 60.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote

import httpx

from services import ledger
from services.bills import QiwiBills
from services.clock import Clock, from_ts, to_ts
from services.db import Database
from services.errors import DomainError
from services.ledger import BalanceCapExceeded, open_clearing
from services.numbers import MAX_INV_ID, parse_id
from services.operator import ensure_phone, mobile_account
from services.robokassa import (
    QIWI_LABEL,
    InvalidSignature,
    digest,
    format_out_sum,
    jwt_payload,
    jwt_verify,
    parse_out_sum,
    same_signature,
    shp_of,
)
from services.terminal import CashDesk
from services.wallet import WalletService, wallet_account

log = logging.getLogger(__name__)
CLEARING = ledger.CLEARING_ACCOUNT
# ResultURL is retried with backoff, but not forever: after this many tries, or this long after
# the payment, the shop is left to find the payment itself (OpStateExt), as with the real service.
CALLBACK_MAX_TRIES = 12
CALLBACK_GIVE_UP_AFTER = 86400
# A charge Robokassa made as the Telegram Payments provider: its operation's IncCurrLabel, and
# where its money goes back on a refund (the buyer's card, outside our world).
TELEGRAM_LABEL = "Telegram"
TELEGRAM_EXTERNAL = "external:telegram-payments"


@dataclass(frozen=True)
class MerchantAccount:
    """A shop as the aggregator knows it; test mode has its own pair of passwords."""

    login: str
    password1: str
    password2: str
    test_password1: str
    test_password2: str
    result_url: str
    algorithm: str = "md5"
    password3: str = ""  # the Refund API's key; empty: refunds are refused

    def passwords(self, is_test: bool) -> tuple[str, str]:
        if is_test:
            return self.test_password1, self.test_password2
        return self.password1, self.password2


class PaymentRequestError(DomainError):
    """Robokassa's error page: the request is refused and nothing is created."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"error {code}: {reason}")
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Operation:
    id: int
    merchant_login: str
    inv_id: int
    out_sum: str
    amount: int
    description: str
    is_test: bool
    shp: dict[str, str]
    state: int
    expires_at: datetime | None


def _operation(row: sqlite3.Row) -> Operation:
    return Operation(
        id=row["id"],
        merchant_login=row["merchant_login"],
        inv_id=row["inv_id"],
        out_sum=row["out_sum"],
        amount=row["amount"],
        description=row["description"],
        is_test=bool(row["is_test"]),
        shp=json.loads(row["shp"]),
        state=row["state"],
        expires_at=None if row["expires_at"] is None else from_ts(row["expires_at"]),
    )


class Aggregator(QiwiBills):
    def __init__(
        self,
        db: Database,
        clock: Clock,
        wallets: WalletService,
        cash: CashDesk,
        *,
        bill_ttl: int = 1800,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.wallets = wallets
        self.cash = cash
        self.bill_ttl = bill_ttl
        self.merchants: dict[str, MerchantAccount] = {}
        self._http = http  # made on first use: building one costs start-up time
        cash.payment_hooks["bill"] = self._bill_paid_in_cash

    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=10)
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    def register(self, merchant: MerchantAccount) -> None:
        self.merchants[merchant.login] = merchant

    def _now(self) -> int:
        return to_ts(self.clock.now())

    # ---- Merchant/Index.aspx ---------------------------------------------------------

    def _check_payment_request(self, params: Mapping[str, str]) -> tuple[MerchantAccount, int, int]:
        login = params.get("MerchantLogin", "")
        merchant = self.merchants.get(login)
        if merchant is None:
            raise PaymentRequestError(26, "shop unknown or inactive")
        out_sum = params.get("OutSum", "")
        inv_raw = params.get("InvId", "")
        is_test = params.get("IsTest") == "1"
        password1, _ = merchant.passwords(is_test)
        shp = shp_of(params)
        tail = [f"{k}={v}" for k, v in sorted(shp.items())]
        receipt = params.get("Receipt")
        # Receipt: signed either as transmitted or after one more URL-decoding (sources
        # disagree on which; both are accepted here).
        receipts: list[str | None] = [None] if receipt is None else [receipt, unquote(receipt)]
        signature = params.get("SignatureValue", "")
        for candidate in receipts:
            parts = [login, out_sum, inv_raw]
            if candidate is not None:
                parts.append(candidate)
            expected = digest(":".join([*parts, password1, *tail]), merchant.algorithm)
            if same_signature(expected, signature):
                break
        else:
            raise PaymentRequestError(29, "SignatureValue is wrong")
        # The numbers are read only from a signed request, and strictly: what the shop signed
        # is still refused when it is no sum or no invoice number.
        try:
            amount = parse_out_sum(out_sum)
        except ValueError:
            raise PaymentRequestError(29, "bad OutSum") from None
        try:
            inv_id = parse_id(inv_raw, high=MAX_INV_ID)
        except ValueError:
            raise PaymentRequestError(29, "bad InvId") from None
        return merchant, inv_id, amount

    async def start_payment(self, params: Mapping[str, str]) -> Operation:
        """Validate a signed payment request; create the operation (or return the same one)."""
        merchant, inv_id, amount = self._check_payment_request(params)
        now = self._now()
        expires = None
        if params.get("ExpirationDate"):
            try:
                expires = to_ts(datetime.fromisoformat(params["ExpirationDate"]))
            except ValueError:
                raise PaymentRequestError(29, "bad ExpirationDate") from None

        def create(conn: sqlite3.Connection) -> Operation:
            row = conn.execute(
                "SELECT * FROM rk_operations WHERE merchant_login = ? AND inv_id = ?",
                (merchant.login, inv_id),
            ).fetchone()
            if row is not None:
                if row["amount"] != amount:
                    raise PaymentRequestError(4, "duplicate invoice with another sum")
                return _operation(row)
            cursor = conn.execute(
                "INSERT INTO rk_operations (merchant_login, inv_id, out_sum, amount, description,"
                " is_test, shp, inc_curr_label, expires_at, created_at, state_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    merchant.login,
                    inv_id,
                    params["OutSum"],
                    amount,
                    params.get("Description", "")[:100],
                    int(params.get("IsTest") == "1"),
                    json.dumps(shp_of(params), ensure_ascii=False),
                    params.get("IncCurrLabel"),
                    expires,
                    now,
                    now,
                ),
            )
            found = conn.execute(
                "SELECT * FROM rk_operations WHERE id = ?", (cursor.lastrowid,)
            ).fetchone()
            return _operation(found)

        return await self.db.transaction(create)

    # ---- QIWI bills ------------------------------------------------------------------

    # ---- ResultURL delivery ----------------------------------------------------------

    def result_params(self, op: Operation) -> dict[str, str]:
        merchant = self.merchants[op.merchant_login]
        _, password2 = merchant.passwords(op.is_test)
        tail = [f"{k}={v}" for k, v in sorted(op.shp.items())]
        signature = digest(
            ":".join([op.out_sum, str(op.inv_id), password2, *tail]), merchant.algorithm
        ).upper()
        params = {
            "OutSum": op.out_sum,
            "InvId": str(op.inv_id),
            "SignatureValue": signature,
            "Fee": "0.00",
            "EMail": "",
            "IncCurrLabel": QIWI_LABEL,
            "PaymentMethod": "EMoney",
            **op.shp,
        }
        if op.is_test:
            params["IsTest"] = "1"
        return params

    async def deliver_callbacks(self, *, inv_id: int | None = None) -> int:
        """POST ResultURL for paid operations; retry with backoff until `OK{InvId}`.

        With `inv_id`, only that invoice's callback (right after its bill was paid); the
        background job sends the rest.
        """
        now = self._now()
        rows = await self.db.fetchall(
            "SELECT * FROM rk_operations WHERE state = 100 AND callback_done = 0"
            " AND callback_due_at IS NOT NULL AND callback_due_at <= ?"
            " AND (? IS NULL OR inv_id = ?)",
            (now, inv_id, inv_id),
        )
        delivered = 0
        for row in rows:
            op = _operation(row)
            merchant = self.merchants.get(op.merchant_login)
            ok = False
            if merchant is not None:
                try:
                    response = await self.http().post(
                        merchant.result_url, data=self.result_params(op)
                    )
                    ok = response.status_code == 200 and response.text.strip() == f"OK{op.inv_id}"
                except httpx.HTTPError as error:
                    log.warning("ResultURL for InvId %s failed: %r", op.inv_id, error)
            await self._record_callback(op, ok, row["callback_tries"] + 1, row["state_at"], now)
            delivered += ok
        return delivered

    async def _record_callback(
        self, op: Operation, ok: bool, tries: int, paid_at: int, now: int
    ) -> None:
        """After a try: done, again later with backoff, or given up (reconciliation's turn)."""
        retry_at = None if ok else now + min(2**tries, 3600)
        if retry_at is not None and (
            tries >= CALLBACK_MAX_TRIES or retry_at - paid_at > CALLBACK_GIVE_UP_AFTER
        ):
            log.warning("ResultURL for InvId %s: giving up after %s tries", op.inv_id, tries)
            retry_at = None
        await self.db.transaction(
            lambda c: c.execute(
                "UPDATE rk_operations SET callback_done = ?, callback_tries = ?,"
                " callback_due_at = ? WHERE id = ? AND state = 100",
                (int(ok), tries, retry_at, op.id),
            )
        )

    # ---- Refund API ------------------------------------------------------------------

    async def refund_create(self, token: str) -> dict[str, object]:
        """Refund/Create. The JWT's OpKey names the operation, whose shop's Password#3 signs it.

        Answers as the service does: `{"success": true, "requestId": …}` or
        `{"success": false, "message": …}`; a refused request changes nothing.
        """
        try:
            payload = jwt_payload(token)
        except InvalidSignature:
            return {"success": False, "message": "InvalidToken"}
        op_key = str(payload.get("OpKey") or "").removeprefix("sandbox-")
        row = None
        try:
            operation_id = parse_id(op_key)
        except ValueError:
            pass  # no such operation
        else:
            row = await self.db.fetchone(
                "SELECT * FROM rk_operations WHERE id = ?", (operation_id,)
            )
        merchant = None if row is None else self.merchants.get(row["merchant_login"])
        if row is None or merchant is None:
            return {"success": False, "message": "OperationNotFound"}
        try:
            jwt_verify(token, merchant.password3)
            if not merchant.password3:
                raise InvalidSignature("no Password#3")
        except InvalidSignature:
            return {"success": False, "message": "InvalidSignature"}
        if row["state"] == 60:
            return {"success": False, "message": "AlreadyRefunded"}
        if row["state"] != 100:
            return {"success": False, "message": "OperationNotPaid"}
        amount = row["amount"]
        if payload.get("RefundSum") is not None:
            try:
                amount = parse_out_sum(str(payload["RefundSum"]))
            except ValueError:
                return {"success": False, "message": "InvalidRefundSum"}
            if amount > row["amount"]:
                return {"success": False, "message": "NotEnoughOperationFunds"}
        operation_id, full = row["id"], amount == row["amount"]
        request_id = str(uuid.uuid4())
        now = self._now()

        def refund(conn: sqlite3.Connection) -> str | None:
            return self._refund_in(conn, operation_id, amount, request_id, now, full=full)

        refused = await self.db.transaction(refund)
        if refused is not None:
            return {"success": False, "message": refused}
        return {"success": True, "message": None, "requestId": request_id}

    def _refund_in(
        self,
        conn: sqlite3.Connection,
        operation_id: int,
        amount: int,
        request_id: str,
        now: int,
        *,
        full: bool,
    ) -> str | None:
        """Clearing → the payer, inside the caller's transaction; once per operation.

        Returns Robokassa's reason when it cannot be done (then nothing is written).
        """
        if conn.execute(
            "SELECT 1 FROM rk_refunds WHERE operation_id = ?", (operation_id,)
        ).fetchone():
            return "AlreadyRefunded"
        bill = conn.execute(
            "SELECT phone FROM bills WHERE operation_id = ? AND status = 'PAID'",
            (operation_id,),
        ).fetchone()
        label = conn.execute(
            "SELECT inc_curr_label FROM rk_operations WHERE id = ?", (operation_id,)
        ).fetchone()[0]
        if bill is None and label != TELEGRAM_LABEL:
            return "OperationNotPaid"
        open_clearing(conn, now)
        key = f"rk-refund:{operation_id}"
        if bill is None:  # paid in Telegram: back to the card it was charged to
            ledger.open_account(conn, TELEGRAM_EXTERNAL, "external", now=now, allow_negative=True)
            target = TELEGRAM_EXTERNAL
        else:
            target = self._refund_target(conn, bill["phone"], now)
        try:
            ledger.post(conn, CLEARING, target, amount, key, now=now, memo="refund")
        except BalanceCapExceeded:  # the wallet is full: the number's mobile balance
            phone = target.removeprefix("wallet:")
            ensure_phone(conn, phone, now)
            ledger.post(conn, CLEARING, mobile_account(phone), amount, key, now=now, memo="refund")
        conn.execute(
            "INSERT INTO rk_refunds (request_id, operation_id, amount, label, created_at)"
            " VALUES (?, ?, ?, 'finished', ?)",
            (request_id, operation_id, amount, now),
        )
        if full:
            conn.execute(
                "UPDATE rk_operations SET state = 60, state_at = ?, callback_due_at = NULL"
                " WHERE id = ?",
                (now, operation_id),
            )
        return None

    def close_invoice(self, login: str, conn: sqlite3.Connection, inv_id: int, now: int) -> int:
        """The shop released order `inv_id` (cancelled or expired), in the caller's transaction.

        Its waiting bills are rejected and the operation cancelled (state 10), so a later attempt
        to pay is refused and debits nothing. If a bill was paid a moment before (its ResultURL
        not yet handled, so the shop never took the money), that money goes back to the payer
        now and the operation is refunded (state 60). Returns the kopecks given back.
        """
        op = conn.execute(
            "SELECT id, state, amount FROM rk_operations WHERE merchant_login = ? AND inv_id = ?",
            (login, inv_id),
        ).fetchone()
        if op is None:
            return 0
        conn.execute(
            "UPDATE bills SET status = 'REJECTED' WHERE operation_id = ? AND status = 'WAITING'",
            (op["id"],),
        )
        if op["state"] == 5:
            conn.execute(
                "UPDATE rk_operations SET state = 10, state_at = ? WHERE id = ?", (now, op["id"])
            )
            return 0
        if op["state"] != 100:
            return 0
        refused = self._refund_in(conn, op["id"], op["amount"], str(uuid.uuid4()), now, full=True)
        return 0 if refused else int(op["amount"])

    def provider_payment(
        self,
        login: str,
        is_test: bool,
        conn: sqlite3.Connection,
        inv_id: int,
        amount: int,
        now: int,
    ) -> None:
        """Robokassa, the Telegram Payments provider, charged the buyer's card for `inv_id`
        (provider_data's InvoiceId), in the caller's transaction: a paid operation of the shop's
        account, so OpStateExt and the Refund API know it. A payment page opened for the same
        order is taken over: its bills can no longer be paid. No ResultURL follows: the bot
        learnt of the payment from Telegram."""
        op = conn.execute(
            "SELECT id, state FROM rk_operations WHERE merchant_login = ? AND inv_id = ?",
            (login, inv_id),
        ).fetchone()
        out_sum = format_out_sum(amount)
        if op is None:
            conn.execute(
                "INSERT INTO rk_operations (merchant_login, inv_id, out_sum, amount, description,"
                " is_test, inc_curr_label, state, created_at, state_at)"
                " VALUES (?, ?, ?, ?, 'Telegram', ?, ?, 100, ?, ?)",
                (login, inv_id, out_sum, amount, int(is_test), TELEGRAM_LABEL, now, now),
            )
            return
        if op["state"] != 5:
            return  # paid (or closed) another way already: not this charge's operation
        conn.execute(
            "UPDATE bills SET status = 'REJECTED' WHERE operation_id = ? AND status = 'WAITING'",
            (op["id"],),
        )
        conn.execute(
            "UPDATE rk_operations SET state = 100, state_at = ?, inc_curr_label = ?, amount = ?,"
            " out_sum = ? WHERE id = ?",
            (now, TELEGRAM_LABEL, amount, out_sum, op["id"]),
        )

    def _refund_target(self, conn: sqlite3.Connection, phone: str, now: int) -> str:
        """Where a refund goes: the payer's active wallet, else that number's mobile balance."""
        wallet = conn.execute("SELECT status FROM wallets WHERE phone = ?", (phone,)).fetchone()
        if wallet is not None and wallet["status"] == "active":
            return wallet_account(phone)
        ensure_phone(conn, phone, now)
        return mobile_account(phone)

    async def refund_state(self, request_id: str) -> dict[str, object] | None:
        row = await self.db.fetchone(
            "SELECT request_id, amount, label FROM rk_refunds WHERE request_id = ?", (request_id,)
        )
        if row is None:
            return None
        return {
            "requestId": row["request_id"],
            "amount": format_out_sum(row["amount"]),
            "label": row["label"],
        }

    # ---- OpStateExt ------------------------------------------------------------------

    async def op_state(
        self, login: str, inv_raw: str, signature: str
    ) -> tuple[int, Operation | None]:
        """(result code, operation): 0 ok, 1 bad signature, 2 unknown shop, 3 not found."""
        merchant = self.merchants.get(login)
        if merchant is None:
            return 2, None
        inv_id = parse_id(inv_raw, high=MAX_INV_ID)  # ValueError: the caller's bad request
        row = await self.db.fetchone(
            "SELECT * FROM rk_operations WHERE merchant_login = ? AND inv_id = ?",
            (login, inv_id),
        )
        modes = [True, False] if row is None else [bool(row["is_test"])]
        valid = any(
            same_signature(
                digest(f"{login}:{inv_raw}:{merchant.passwords(mode)[1]}", merchant.algorithm),
                signature,
            )
            for mode in modes
        )
        if not valid:
            return 1, None
        if row is None:
            return 3, None
        return 0, _operation(row)
