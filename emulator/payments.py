"""Telegram Payments in the emulator: sendInvoice, the buyer paying, pre_checkout_query,
answerPreCheckoutQuery within 10 seconds, then the successful_payment message.

Checked like Telegram checks them (core.telegram.org/bots/api#sendinvoice): title 1-32 and
description 1-255 characters, payload 1-128 bytes, a provider token for any currency but Telegram
Stars, a three-letter currency Telegram supports, prices with labels and whole amounts in the
currency's smallest units that add up to a positive total. `error_message` is required with
`ok=false`, and an answer after 10 seconds is refused: Telegram has given up by then.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from emulator.engine import ChatMessage, Engine, _flag, _json, bad_request

PRE_CHECKOUT_SECONDS = 10
# A few of the currencies Telegram accepts; enough to tell a typo from a real one.
CURRENCIES = {"RUB", "USD", "EUR", "KZT", "UAH", "BYN", "UZS", "GBP", "XTR"}
DECLINED_CARD = "4000000000000002"
GOOD_CARD = "4242424242424242"


@dataclass
class Invoice:
    chat_id: int
    message_id: int
    title: str
    currency: str
    total_amount: int
    payload: str
    provider_token: str
    provider_data: str | None
    paid: bool = False


@dataclass
class PreCheckout:
    id: str
    invoice: Invoice
    deadline: float
    card: str
    answered: bool = False


class Payments:
    """Payment state kept next to one Engine (the engine itself stays as it is)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.invoices: dict[tuple[int, int], Invoice] = {}
        self.queries: dict[str, PreCheckout] = {}
        self.refusals: list[tuple[int, str]] = []  # (chat, error_message) shown to the buyer
        self.delivered: list[dict[str, Any]] = []  # successful_payment messages, for replays
        self._ids = itertools.count(1)

    # ---- the Bot API -----------------------------------------------------------------

    def send_invoice(self, params: dict[str, Any]) -> dict[str, Any]:
        engine = self.engine
        person = engine._recipient(params)
        title = str(params.get("title") or "")
        description = str(params.get("description") or "")
        payload = str(params.get("payload") or "")
        currency = str(params.get("currency") or "")
        token = str(params.get("provider_token") or "")
        if not 1 <= len(title) <= 32:
            raise bad_request("INVOICE_TITLE_INVALID")
        if not 1 <= len(description) <= 255:
            raise bad_request("INVOICE_DESCRIPTION_INVALID")
        if not 1 <= len(payload.encode()) <= 128:
            raise bad_request("INVOICE_PAYLOAD_INVALID")
        if currency not in CURRENCIES:
            raise bad_request("CURRENCY_INVALID")
        if currency != "XTR" and not token:
            raise bad_request("PAYMENT_PROVIDER_INVALID")
        prices = _json(params.get("prices"), [])
        if not isinstance(prices, list) or not prices:
            raise bad_request("prices must be a non-empty list")
        total = 0
        for price in prices:
            amount = price.get("amount") if isinstance(price, dict) else None
            if not isinstance(price, dict) or not price.get("label") or type(amount) is not int:
                raise bad_request("PRICE_LABEL_INVALID or amount is not an integer")
            total += amount
        if total <= 0:
            raise bad_request("INVOICE_AMOUNT_INVALID")
        provider_data = params.get("provider_data")
        if provider_data is not None:
            _json(provider_data, None)  # must be JSON, as Telegram passes it on to the provider
        engine._flood_check(person.id)
        message = ChatMessage(
            engine._next_message_id(person.id),
            "bot",
            int(engine.clock()),
            f"{title}\n{description}",
            kind="invoice",
        )
        shown = f"{total // 100},{total % 100:02d} {currency}"
        message.inline_keyboard = [[{"text": f"Pay {shown}", "pay": "true"}]]
        engine.chats[person.id].append(message)
        self.invoices[(person.id, message.message_id)] = Invoice(
            person.id,
            message.message_id,
            title,
            currency,
            total,
            payload,
            token,
            None if provider_data is None else str(provider_data),
        )
        sent = engine._bot_message_payload(person, message)
        sent.pop("text", None)
        sent["invoice"] = {
            "title": title,
            "description": description,
            "start_parameter": str(params.get("start_parameter") or ""),
            "currency": currency,
            "total_amount": total,
        }
        return sent

    def answer_pre_checkout_query(self, params: dict[str, Any]) -> bool:
        query = self.queries.get(str(params.get("pre_checkout_query_id") or ""))
        if query is None or query.answered or self.engine.clock() > query.deadline:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        ok = _flag(params.get("ok"))
        error = str(params.get("error_message") or "")
        if not ok and not error:
            raise bad_request("error_message is required when ok is false")
        query.answered = True
        invoice = query.invoice
        if not ok:
            self.refusals.append((invoice.chat_id, error))
            return True
        if query.card == DECLINED_CARD:
            self.refusals.append((invoice.chat_id, "Card declined"))
            return True
        invoice.paid = True
        person = self.engine.person(invoice.chat_id)
        message = self.engine._user_message(person, "text", None)
        message.pop("text", None)
        number = next(self._ids)
        message["successful_payment"] = {
            "currency": invoice.currency,
            "total_amount": invoice.total_amount,
            "invoice_payload": invoice.payload,
            "telegram_payment_charge_id": f"tg-charge-{number}",
            "provider_payment_charge_id": f"robokassa-{number}",
        }
        stored = self.engine.chats[person.id][-1]
        stored.kind = "successful_payment"
        stored.text = f"Paid {invoice.total_amount // 100},{invoice.total_amount % 100:02d}"
        self.delivered.append(message)
        self.engine._push("message", message)
        return True

    # ---- the buyer's side ------------------------------------------------------------

    def pay(
        self,
        user_id: int,
        message_id: int,
        *,
        card: str = "4242424242424242",
        total: int | None = None,
    ) -> dict[str, Any]:
        """The buyer taps «Pay» and confirms: Telegram asks the bot (pre_checkout_query).

        `total` pretends the invoice said another sum (an invoice sent by hand, or by an older
        bot for the same payload): the bot must notice before the buyer is charged."""
        person = self.engine.person(user_id)
        invoice = self.invoices.get((person.id, message_id))
        if invoice is None:
            raise LookupError(f"no invoice {message_id} in chat {user_id}")
        if invoice.paid:
            raise ValueError("this invoice is paid already")
        query_id = f"pcq-{next(self._ids)}"
        deadline = self.engine.clock() + PRE_CHECKOUT_SECONDS
        self.queries[query_id] = PreCheckout(query_id, invoice, deadline, card)
        return self.engine._push(
            "pre_checkout_query",
            {
                "id": query_id,
                "from": person.as_user(),
                "currency": invoice.currency,
                "total_amount": invoice.total_amount if total is None else total,
                "invoice_payload": invoice.payload,
            },
        )

    def replay_successful_payment(self, user_id: int) -> dict[str, Any]:
        """Telegram sends the same update again (the bot had not confirmed it)."""
        for message in reversed(self.delivered):
            if message["chat"]["id"] == user_id:
                return self.engine._push("message", message)
        raise LookupError("no successful payment to replay")


def payments_of(engine: Engine) -> Payments:
    """The payments part of an engine, made on first use."""
    found = getattr(engine, "_payments", None)
    if found is None:
        found = Payments(engine)
        engine._payments = found  # type: ignore[attr-defined]
    return found


def api_method(engine: Engine, method: str) -> Any:
    """The payments part's Bot API methods, or None."""
    payments = payments_of(engine)
    return {
        "sendinvoice": payments.send_invoice,
        "answerprecheckoutquery": payments.answer_pre_checkout_query,
    }.get(method.lower())
