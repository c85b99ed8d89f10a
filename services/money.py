"""Amounts typed by people → int kopecks (Decimal only here, at the edge)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from services.errors import DomainError

MAX_TYPED = 100_000_000  # 1 000 000 ₽: nothing in this world costs more


class AmountNotUnderstood(DomainError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "format" | "not_positive" | "too_precise" | "too_big"


_CURRENCY = re.compile(r"(₽|руб(?:лей|ля|ль|\.)?|р\.?|rub)$", re.IGNORECASE)


def parse_rubles(text: str) -> int:
    """`1 250,50`, `1250.5 ₽`, `300 руб` → kopecks. Refuses signs, >2 decimals, huge sums."""
    cleaned = text.strip().replace("\u00a0", " ").replace("\u202f", " ")
    cleaned = _CURRENCY.sub("", cleaned).strip()
    cleaned = cleaned.replace(" ", "").replace(",", ".")
    if cleaned.startswith("-"):
        raise AmountNotUnderstood("not_positive")
    if not re.fullmatch(r"\d{1,12}(\.\d+)?", cleaned):
        raise AmountNotUnderstood("format")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise AmountNotUnderstood("format") from None
    kopecks = amount * 100
    if kopecks != kopecks.to_integral_value():
        raise AmountNotUnderstood("too_precise")
    if kopecks <= 0:
        raise AmountNotUnderstood("not_positive")
    if kopecks > MAX_TYPED:
        raise AmountNotUnderstood("too_big")
    return int(kopecks)
