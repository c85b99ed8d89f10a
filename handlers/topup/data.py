"""The top-up journey's own FSM data."""

from __future__ import annotations

from aiogram.fsm.context import FSMContext
from pydantic import BaseModel

from handlers.flow import Slot


class TopUpData(BaseModel):
    phone: str | None = None  # the wallet's number at the terminal or the mobile shop
    visit: int | None = None  # the terminal visit on screen
    registering: bool = False  # sharing one's number goes on to register it at the terminal
    # An unpaid order the top-up may be for: what it lacks in the wallet, its invoice (0: none
    # known), and whether the person came from that invoice («Top up» under "not enough").
    order: int | None = None
    bill: int = 0
    needed: int = 0
    carried: bool = False


TOPUP = Slot("topup", TopUpData)


async def finish(state: FSMContext) -> None:
    """Out of the top-up journey: its own data goes, other journeys' stays, so the invoice a
    top-up was for can be gone back to in one tap."""
    await state.set_state(None)
    await TOPUP.drop(state)
