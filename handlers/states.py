"""Conversation states of every journey. Only a journey's own handlers set its states; others
reach a journey through a sub-flow (`handlers.flow`) or a button."""

from __future__ import annotations

from aiogram.fsm.state import State, StatesGroup


class Registration(StatesGroup):
    phone = State()
    code = State()


class SignIn(StatesGroup):
    secret = State()


class ChangeSecret(StatesGroup):
    current = State()


class TopUp(StatesGroup):
    terminal_phone = State()
    intended = State()
    cash = State()
    salon_phone = State()
    salon_amount = State()
    check = State()


class Shopping(StatesGroup):
    quantity = State()  # the item card is open; a typed number sets the quantity


class Paying(StatesGroup):
    phone = State()
    secret = State()
