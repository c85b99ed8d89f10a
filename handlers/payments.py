"""What handlers need from the assembly's payment side, typed, without importing `bot`.

The Robokassa client and the shop's checkout exist once the web app listens (their addresses
depend on its port); handlers reach them through this protocol, which `bot.app.Services` meets.
"""

from __future__ import annotations

from typing import Protocol

from services.checkout import Checkout
from services.robokassa import Robokassa


class Payments(Protocol):
    @property
    def sandbox(self) -> bool: ...

    @property
    def robokassa(self) -> Robokassa | None: ...

    def checkout(self) -> Checkout: ...
