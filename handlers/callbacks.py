"""Typed callback data. Prefixes carry a version so old buttons fail soft after a change."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from aiogram.filters.callback_data import CallbackData
from pydantic import ValidationInfo, field_validator

from services.numbers import MAX_ID, parse_id


class Callback(CallbackData, prefix="cb"):
    """The base of every button's data. Its numbers are what `parse_id` takes (ASCII digits,
    within SQLite's range): pydantic alone takes `+5`, `1_000` and ids past int64, which then
    fail deep in a handler. Data that does not parse matches no handler, so the person hears
    "this button is out of date" from the fallback router."""

    @field_validator("*", mode="before", check_fields=False)
    @classmethod
    def _strict_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if field is None or field.annotation is not int:
            return value
        if isinstance(value, str):
            return parse_id(value, low=0)
        if isinstance(value, int) and not 0 <= value <= MAX_ID:
            raise ValueError("number out of range")
        return value


class MenuAction(StrEnum):
    home = "home"
    help = "help"
    about = "about"
    wallet = "wallet"
    topup = "topup"
    shops = "shops"
    orders = "orders"
    my_orders = "mine"


class MenuCb(Callback, prefix="m1"):
    action: MenuAction
