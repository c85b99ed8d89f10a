"""The top-up journey's own FSM data."""

from __future__ import annotations

from pydantic import BaseModel

from handlers.flow import Slot


class TopUpData(BaseModel):
    phone: str | None = None  # the wallet's number at the terminal or the mobile shop
    visit: int | None = None  # the terminal visit on screen
    registering: bool = False  # sharing one's number goes on to register it at the terminal


TOPUP = Slot("topup", TopUpData)
