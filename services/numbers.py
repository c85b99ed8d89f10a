"""Whole numbers from outside (web parameters, callback data, deep links), parsed strictly.

`str.isdigit()` and `int()` accept far more than a person or Robokassa ever sends: `１００１`
(full-width) is 1001, `²` passes `isdigit()` and then breaks `int()`, and an id of 20 digits
overflows SQLite's INTEGER. Everything that names a row goes through `parse_id`.
"""

from __future__ import annotations

MAX_ID = 2**63 - 1  # SQLite's INTEGER
MAX_INV_ID = 2_147_483_647  # Robokassa's InvId is a 32-bit int


def parse_id(text: str, *, low: int = 1, high: int = MAX_ID) -> int:
    """ASCII digits only, no sign or spaces, within low..high; ValueError otherwise."""
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(high))):
        raise ValueError("not a whole number in ASCII digits")
    value = int(text)
    if not low <= value <= high:
        raise ValueError("number out of range")
    return value


def fits_id(value: int) -> bool:
    """An int that can be an id: not negative and storable in SQLite."""
    return 0 <= value <= MAX_ID
