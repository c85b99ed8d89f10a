"""What the payment journey needs from the assembly, typed, without importing `bot`:
`bot.app.Services` meets this protocol (the mode, and the client and checkout of that mode)."""

from __future__ import annotations

from typing import Protocol

from services.checkout import Checkout
from services.robokassa import Robokassa


class Payments(Protocol):
    @property
    def sandbox(self) -> bool: ...

    @property
    def robokassa(self) -> Robokassa: ...

    @property
    def checkout(self) -> Checkout: ...
