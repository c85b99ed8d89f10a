"""What the payment journey needs from the assembly, typed, without importing `bot`:
`bot.app.Services` meets this protocol (the mode, and the client and checkout of that mode)."""

from __future__ import annotations

from typing import Protocol

from services.checkout import Checkout
from services.robokassa import Robokassa
from services.wallet import WalletService


class Payments(Protocol):
    @property
    def sandbox(self) -> bool: ...

    @property
    def robokassa(self) -> Robokassa: ...

    @property
    def checkout(self) -> Checkout: ...


async def one_tap_balance(user_id: int, wallets: WalletService, services: Payments) -> int | None:
    """The balance of the person's own working wallet when the sandbox can pay an order from it
    in one tap (the simulated wallet exists only there); None otherwise."""
    if not services.sandbox:
        return None
    wallet = await wallets.wallet_of(user_id)
    return wallet.balance if wallet is not None and wallet.active else None
