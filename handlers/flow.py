"""Typed conversation data and sub-flows: "go and do X, then come back".

Each journey keeps its FSM data in its own `Slot` (a pydantic model under one key), written
only by that journey. When one journey needs another to do something and come back — the cash
terminal paying bill N, registration started from a failed payment — it starts a `SubFlow` with
a typed argument; the sub-flow finishes with a typed result, and the caller's registered
continuation runs with aiogram's dependency injection, like a handler. Neither imports the
other: both import this module and the sub-flow object.

Why not aiogram's Scenes: a scene owns its handlers and state through the scene registry, and
ours are ordinary routers with router-level filters; two sub-flows did not justify moving every
journey onto scenes. aiogram_dialog would bring its own rendering and break the tests' texts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aiogram import BaseMiddleware
from aiogram.dispatcher.event.handler import CallableObject
from aiogram.fsm.context import FSMContext
from aiogram.types import TelegramObject
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)
A = TypeVar("A")
R = TypeVar("R")

Step = Callable[..., Awaitable[None]]


class Slot(Generic[M]):
    """One journey's FSM data: a pydantic model stored as JSON under `key`.

    Data that no longer validates (an older version, a stale step) reads as the model's
    defaults, so the journey says "let's start again" instead of failing.
    """

    def __init__(self, key: str, model: type[M]) -> None:
        self.key = key
        self.model = model

    async def get(self, state: FSMContext) -> M:
        raw = (await state.get_data()).get(self.key)
        try:
            return self.model.model_validate(raw or {})
        except ValidationError:
            return self.model()

    async def set(self, state: FSMContext, value: M) -> None:
        await state.update_data({self.key: value.model_dump(mode="json")})

    async def update(self, state: FSMContext, **changes: object) -> M:
        value = (await self.get(state)).model_copy(update=changes)
        await self.set(state, value)
        return value

    async def drop(self, state: FSMContext) -> None:
        data = await state.get_data()
        if self.key in data:
            del data[self.key]
            await state.set_data(data)


class SubFlow(Generic[A, R]):
    """A journey another journey can call with an `A` and get an `R` back.

    The sub-flow's journey registers its `entry` (called with `arg`); callers register a
    continuation per caller name with `returns_to` (called with `result`). Both are called with
    the handler's injected data, so they declare the services they need like any handler.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._entry: CallableObject | None = None
        self._returns: dict[str, CallableObject] = {}

    @property
    def return_key(self) -> str:
        return f"return:{self.name}"

    def entry(self, step: Step) -> Step:
        self._entry = CallableObject(step)
        return step

    def returns_to(self, caller: str) -> Callable[[Step], Step]:
        def register(step: Step) -> Step:
            self._returns[caller] = CallableObject(step)
            return step

        return register


@dataclass
class Flows:
    """Given to handlers as `flows`: starts sub-flows and finishes them, for this update."""

    event: TelegramObject
    data: dict[str, Any]

    @property
    def state(self) -> FSMContext:
        state = self.data["state"]
        assert isinstance(state, FSMContext)
        return state

    async def start(
        self, flow: SubFlow[A, R], arg: A, *, caller: str, event: TelegramObject | None = None
    ) -> None:
        """Run `flow` for `arg`; its result goes to the continuation `caller` registered."""
        assert flow._entry is not None, f"sub-flow {flow.name} has no entry"
        await self.state.update_data({flow.return_key: caller})
        await flow._entry.call(event or self.event, **{**self.data, "arg": arg})

    async def caller(self, flow: SubFlow[A, R]) -> str | None:
        """Who started this run of `flow` (None: the person came on their own)."""
        caller = (await self.state.get_data()).get(flow.return_key)
        return caller if isinstance(caller, str) and caller in flow._returns else None

    async def done(
        self, flow: SubFlow[A, R], result: R, *, event: TelegramObject | None = None
    ) -> bool:
        """Hand `result` back to whoever started `flow`; False when nobody did."""
        caller = await self.caller(flow)
        await self.forget(flow)
        if caller is None:
            return False
        await flow._returns[caller].call(event or self.event, **{**self.data, "result": result})
        return True

    async def forget(self, flow: SubFlow[A, R]) -> None:
        data = await self.state.get_data()
        if flow.return_key in data:
            del data[flow.return_key]
            await self.state.set_data(data)


class FlowsMiddleware(BaseMiddleware):
    """Puts `flows` into every message and button handler's data."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        data["flows"] = Flows(event, data)
        return await handler(event, data)


# ---- the sub-flows ----------------------------------------------------------------------


@dataclass(frozen=True)
class PayBill:
    """The terminal's purpose when a journey sends the person to pay an invoice in cash."""

    bill: int
    note: str = ""  # the caller's word above the first cash screen (already translated)


@dataclass(frozen=True)
class TerminalPaid:
    """The terminal's result: the receipt of a paid invoice."""

    receipt_number: int


@dataclass(frozen=True)
class TerminalLeft:
    """The terminal's result when the person left it without paying the invoice; whatever
    cash went in has its receipt on screen already."""

    receipt_number: int | None = None


@dataclass(frozen=True)
class ForInvoice:
    """Registration's argument when it is started from a payment: the order to return to."""

    order: int
    phone: str | None = None  # the number the payment found no wallet on: register that one


@dataclass(frozen=True)
class WalletOpened:
    """Registration's result: the new wallet's number and balance."""

    phone: str
    balance: int


TERMINAL: SubFlow[PayBill, TerminalPaid | TerminalLeft] = SubFlow("terminal")
REGISTRATION: SubFlow[ForInvoice, WalletOpened] = SubFlow("registration")
