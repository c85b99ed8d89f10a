"""54-FZ fiscal receipts in Robokassa's `Receipt` format: built from order lines, checked, encoded.

Facts followed (Robokassa, https://docs.robokassa.ru/ru/fiscalization, and the value lists of
Robokassa's own CMS modules, e.g. the OpenCart 4 module's admin settings, read in November 2026):
- `Receipt` is JSON `{"sno": ..., "items": [{"name", "quantity", "sum", "tax",
  "payment_method", "payment_object"}]}`; `sum` is the line's full price in roubles after
  discounts, `name` at most 128 characters.
- The value is URL-encoded before it goes into the signature string
  (`MerchantLogin:OutSum:InvId:Receipt:Password#1`) and is sent in that encoded form.
- VAT: from 1 January 2026 the main rate is 22 % (`vat22`, calculated `vat122`); the 5 % and 7 %
  rates of the simplified system are `vat5`/`vat7` (calculated `vat105`/`vat107`). `vat20` and
  `vat120` only describe 2025 prepayments, so a catalogue naming them today is refused with
  the rate that replaced them.
- Robokassa checks that the lines add up to OutSum; we refuse such a receipt before sending it.
Money stays in kopecks here; only `to_json` writes roubles, as exact decimals.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

TAX_SYSTEMS = ("osn", "usn_income", "usn_income_outcome", "esn", "patent")
VAT_RATES = (
    "none",
    "vat0",
    "vat5",
    "vat7",
    "vat10",
    "vat22",
    "vat105",
    "vat107",
    "vat110",
    "vat122",
)
# Rates that ended: what replaced them (the 2025 20 % rate; 18 % ended in 2019).
ENDED_VAT_RATES = {"vat20": "vat22", "vat120": "vat122", "vat18": "vat22", "vat118": "vat122"}
PAYMENT_METHODS = (
    "full_prepayment",
    "prepayment",
    "advance",
    "full_payment",
    "partial_payment",
    "credit",
    "credit_payment",
)
PAYMENT_OBJECTS = (
    "commodity",
    "excise",
    "job",
    "service",
    "gambling_bet",
    "gambling_prize",
    "lottery",
    "lottery_prize",
    "intellectual_activity",
    "payment",
    "agent_commission",
    "composite",
    "another",
)
MAX_NAME = 128


class ReceiptError(ValueError):
    """A receipt (or the fiscal settings it is built from) that Robokassa would refuse."""


def _one_of(value: object, allowed: tuple[str, ...], what: str) -> str:
    if what == "tax" and value in ENDED_VAT_RATES:
        replaced = ENDED_VAT_RATES[str(value)]
        raise ReceiptError(f"tax {value!r} is no longer in force: use {replaced!r}")
    if not isinstance(value, str) or value not in allowed:
        raise ReceiptError(f"{what} {value!r} is not one of {', '.join(allowed)}")
    return value


@dataclass(frozen=True)
class ItemFiscal:
    """Per-item overrides from the catalogue; None means "the shop's default"."""

    tax: str | None = None
    payment_method: str | None = None
    payment_object: str | None = None

    def __post_init__(self) -> None:
        if self.tax is not None:
            _one_of(self.tax, VAT_RATES, "tax")
        if self.payment_method is not None:
            _one_of(self.payment_method, PAYMENT_METHODS, "payment_method")
        if self.payment_object is not None:
            _one_of(self.payment_object, PAYMENT_OBJECTS, "payment_object")

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> ItemFiscal:
        return cls(table.get("tax"), table.get("payment_method"), table.get("payment_object"))


@dataclass(frozen=True)
class FiscalSettings:
    """A shop's tax system and its defaults for every line."""

    sno: str = "usn_income"
    tax: str = "none"
    payment_method: str = "full_payment"
    payment_object: str = "commodity"

    def __post_init__(self) -> None:
        _one_of(self.sno, TAX_SYSTEMS, "sno")
        _one_of(self.tax, VAT_RATES, "tax")
        _one_of(self.payment_method, PAYMENT_METHODS, "payment_method")
        _one_of(self.payment_object, PAYMENT_OBJECTS, "payment_object")

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> FiscalSettings:
        default = cls()
        return cls(
            sno=table.get("sno", default.sno),
            tax=table.get("tax", default.tax),
            payment_method=table.get("payment_method", default.payment_method),
            payment_object=table.get("payment_object", default.payment_object),
        )


@dataclass(frozen=True)
class ReceiptLine:
    name: str
    quantity: int
    amount: int  # kopecks, the whole line
    tax: str
    payment_method: str
    payment_object: str

    def __post_init__(self) -> None:
        if not self.name.strip() or len(self.name) > MAX_NAME:
            raise ReceiptError(f"a line's name must be 1..{MAX_NAME} characters")
        if any(ord(char) < 32 for char in self.name):
            raise ReceiptError("a line's name has control characters")
        if type(self.quantity) is not int or self.quantity < 1:
            raise ReceiptError("a line's quantity must be a whole number ≥ 1")
        if type(self.amount) is not int or self.amount <= 0:
            raise ReceiptError("a line's sum must be positive kopecks")
        _one_of(self.tax, VAT_RATES, "tax")
        _one_of(self.payment_method, PAYMENT_METHODS, "payment_method")
        _one_of(self.payment_object, PAYMENT_OBJECTS, "payment_object")


def line(
    name: str,
    quantity: int,
    amount: int,
    shop: FiscalSettings,
    item: ItemFiscal | None = None,
) -> ReceiptLine:
    """One line: the item's own tax, method and object where it names them, else the shop's.
    A name too long for the receipt is cut, as the buyer's order still names it in full."""
    item = item or ItemFiscal()
    return ReceiptLine(
        name=name.strip()[:MAX_NAME],
        quantity=quantity,
        amount=amount,
        tax=item.tax or shop.tax,
        payment_method=item.payment_method or shop.payment_method,
        payment_object=item.payment_object or shop.payment_object,
    )


def _roubles(kopecks: int) -> Decimal:
    return (Decimal(kopecks) / 100).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class Receipt:
    sno: str
    lines: tuple[ReceiptLine, ...]

    def __post_init__(self) -> None:
        _one_of(self.sno, TAX_SYSTEMS, "sno")
        if not self.lines:
            raise ReceiptError("a receipt needs at least one line")

    @property
    def total(self) -> int:
        return sum(item.amount for item in self.lines)

    def check_total(self, out_sum: int) -> None:
        """Robokassa refuses a receipt whose lines do not add up to OutSum: so do we, first."""
        if self.total != out_sum:
            raise ReceiptError(f"lines add up to {self.total} kopecks, OutSum is {out_sum}")

    def as_dict(self) -> dict[str, Any]:
        """The receipt with sums as Decimal (json cannot write those: see `to_json`)."""
        return {
            "sno": self.sno,
            "items": [
                {
                    "name": item.name,
                    "quantity": item.quantity,
                    "sum": _roubles(item.amount),
                    "tax": item.tax,
                    "payment_method": item.payment_method,
                    "payment_object": item.payment_object,
                }
                for item in self.lines
            ],
        }

    def to_json(self) -> str:
        """Compact JSON, Cyrillic as is (UTF-8), sums as exact numbers with two decimals."""
        return dumps(self.as_dict())

    def refund_items(self) -> list[dict[str, Any]]:
        """The same lines in the Refund API's `InvoiceItems` shape (Cost is per unit)."""
        items = []
        for item in self.lines:
            if item.amount % item.quantity:
                raise ReceiptError("a line's sum does not divide into its quantity")
            items.append(
                {
                    "Name": item.name,
                    "Quantity": item.quantity,
                    "Cost": _roubles(item.amount // item.quantity),
                    "Tax": item.tax,
                    "PaymentMethod": item.payment_method,
                    "PaymentObject": item.payment_object,
                }
            )
        return items


def dumps(value: object) -> str:
    """JSON where Decimal values are written as plain numbers (`350.00`), never as floats."""
    marks: dict[str, str] = {}

    def mark(number: object) -> str:
        if not isinstance(number, Decimal):
            raise TypeError(f"{type(number).__name__} is not JSON serialisable")
        key = f"\x00{len(marks)}\x00"
        marks[key] = format(number, "f")
        return key

    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=mark)
    for key, number in marks.items():
        text = text.replace(json.dumps(key), number)
    return text


def build_receipt(sno: str, lines: Iterable[ReceiptLine], out_sum: int | None = None) -> Receipt:
    """A checked receipt; with `out_sum`, one whose lines add up to it to the kopeck."""
    receipt = Receipt(sno, tuple(lines))
    if out_sum is not None:
        receipt.check_total(out_sum)
    return receipt


def encode(receipt_json: str) -> str:
    """URL-encoding as the signature and the form take it (every reserved character encoded)."""
    return quote(receipt_json, safe="")


def telegram_provider_data(inv_id: int, receipt: Receipt) -> str:
    """`provider_data` for Telegram's sendInvoice with Robokassa as the provider: the invoice
    number and the same Receipt as the payment page (Robokassa's telegram-pay example)."""
    return dumps({"InvoiceId": inv_id, "Receipt": receipt.as_dict()})
