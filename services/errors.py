"""Errors a person can cause; handlers turn each into a short, clear message."""


class DomainError(Exception):
    """Base class for expected, user-facing failures."""


class InsufficientFunds(DomainError):
    def __init__(self, account: str, balance: int, needed: int) -> None:
        super().__init__(f"account {account} has {balance}, needs {needed}")
        self.account = account
        self.balance = balance
        self.needed = needed

    @property
    def shortfall(self) -> int:
        return self.needed - self.balance


class IdempotencyConflict(DomainError):
    """The same idempotency key was reused for a different movement."""
