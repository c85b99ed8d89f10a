"""The wallet journey's own FSM data."""

from __future__ import annotations

from pydantic import BaseModel

from handlers.flow import Slot


class WalletData(BaseModel):
    phone: str | None = None  # the number being registered or signed in to


WALLET = Slot("wallet", WalletData)
