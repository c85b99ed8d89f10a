"""Every HTTP endpoint, fed generated parameters: never a 500, and nothing changes unsigned.

The bot's web app (ResultURL, Success/Fail pages, the Robokassa sandbox with its web service
and Refund API) and the emulator's driver API listen on 127.0.0.1 in a thread of their own,
with an order whose bill is paid but whose ResultURL was lost: the state a forged callback
would like to change. Hypothesis (derandomized: the same examples every run) sends requests;
after each, the money, orders, bills and operations are the same unless the request carried a
valid signature.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.engine import Engine
from emulator.server import build_emulator_app
from services.robokassa import digest, jwt_hs256
from tests.harness import Harness, running_harness
from tests.helpers import paid_operation

LOGIN = "demo-shop"
PASSWORD1, PASSWORD2 = "sandbox-password-1", "sandbox-password-2"
ORDER = "<order>"  # replaced by the real order's number
NASTY = [
    "",
    "0",
    "-1",
    "1",
    "9" * 20,
    str(2**63),
    str(2**31),
    "Infinity",
    "-Infinity",
    "NaN",
    "sNaN",
    "1e999999999",
    "1e-999999999",
    "1E+3",
    "１００１",
    "²",
    "٣",
    "1890.00",
    "1890.000000",
    "1890.001",
    "0.00",
    " 1",
    "1\n2024-01-01 INFO forged",
    "\x00",
    "\ud7ff",
    "a" * 3000,
    "<x>&amp;",
    "'; DROP TABLE orders; --",
    "sandbox-1",
    "sandbox-" + "9" * 20,
    "2026-13-45T99:00:00",
    LOGIN,
    ORDER,
    "flowers",
]
values = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=30),
    st.from_regex(r"-?[0-9]{1,22}(\.[0-9]{0,9})?", fullmatch=True),
)
ROBOKASSA_NAMES = [
    "MerchantLogin",
    "OutSum",
    "InvId",
    "InvoiceID",
    "SignatureValue",
    "Signature",
    "Shp_shop",
    "shp_x",
    "IsTest",
    "Receipt",
    "ExpirationDate",
    "Description",
    "IncCurrLabel",
    "Culture",
    "Language",
    "id",
]
params = st.dictionaries(st.sampled_from(ROBOKASSA_NAMES), values, max_size=8)
SANDBOX = "/robokassa-sandbox"
SERVICE = f"{SANDBOX}/Merchant/WebService/Service.asmx"
DRIVER_NAMES = ["id", "first_name", "text", "kind", "message_id", "callback_data", "update_id"]
json_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    values,
    st.lists(st.integers(), max_size=3),
)


@dataclass
class World:
    harness: Harness
    web: str
    emulator: str
    order: int
    database: Path
    client: httpx.Client | None = None  # the test thread's, once the apps listen


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The apps run in their own thread and loop; Hypothesis drives them from the test's."""
    folder = tmp_path_factory.mktemp("fuzz")
    ready: dict[str, Any] = {}
    started = threading.Event()
    loop = asyncio.new_event_loop()
    stop = loop.create_future()

    async def serve() -> None:
        async with apps(folder) as running:
            ready["world"] = running
            started.set()
            await stop

    def run() -> None:
        try:
            loop.run_until_complete(serve())
        except BaseException as error:  # the test must hear why the apps did not start
            ready["error"] = error
            started.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    started.wait(120)
    if "error" in ready:
        raise ready["error"]
    try:
        with httpx.Client(timeout=20) as client:
            ready["world"].client = client
            yield ready["world"]
    finally:
        loop.call_soon_threadsafe(stop.set_result, None)
        thread.join(60)
        loop.close()


@asynccontextmanager
async def apps(folder: Path) -> AsyncIterator[World]:
    async with running_harness(folder) as h:
        order = await paid_operation(h, h.person())
        engine = Engine()
        engine.add_person(1, "Анна", phone="+79123456789", language_code="ru")
        runner = web.AppRunner(build_emulator_app(engine), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        robokassa = h.services.robokassa
        assert robokassa is not None
        web_url = robokassa.base_url.removesuffix(SANDBOX)
        emulator_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        try:
            yield World(h, web_url, emulator_url, order, h.services.db.path)
        finally:
            await runner.cleanup()


def snapshot(database: Path) -> list[list[tuple[Any, ...]]]:
    """Money, orders, bills, operations and refunds, read beside the bot (WAL allows it)."""
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        return [
            conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
            for table in ("transfers", "accounts", "orders", "bills", "rk_operations", "refunds")
        ]


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    params: dict[str, str]
    body: bytes | None = None
    json_body: Any = None
    signed: bool = False  # a valid signature: a state change is allowed


def _real(value: str, order: int) -> str:
    return value.replace(ORDER, str(order))


@st.composite
def robokassa_calls(draw: st.DrawFn) -> Call:
    method = draw(st.sampled_from(["GET", "POST"]))
    path = draw(
        st.sampled_from(
            [
                "/robokassa/result",
                "/robokassa/success",
                "/robokassa/fail",
                "/healthz",
                f"{SANDBOX}/Merchant/Index.aspx",
                f"{SERVICE}/GetCurrencies",
                f"{SERVICE}/OpStateExt",
                f"{SANDBOX}/RefundService/Refund/GetState",
            ]
        )
    )
    return Call(method, path, draw(params))


@st.composite
def signed_calls(draw: st.DrawFn) -> Call:
    """Signed with the real passwords: reaches the parsing behind the signature check."""
    chosen = draw(params)
    out_sum, inv_id = draw(values), draw(values)
    shp = {k: v for k, v in chosen.items() if k.lower().startswith("shp_")}
    tail = [f"{k}={v}" for k, v in sorted(shp.items())]
    if draw(st.booleans()):
        text = ":".join([out_sum, inv_id, PASSWORD2, *tail])
        path = "/robokassa/result"
    else:
        text = ":".join([LOGIN, out_sum, inv_id, PASSWORD1, *tail])
        path = f"{SANDBOX}/Merchant/Index.aspx"
        chosen |= {"MerchantLogin": LOGIN, "IsTest": "1"}
    chosen |= {"OutSum": out_sum, "InvId": inv_id, "SignatureValue": digest(text)}
    return Call(draw(st.sampled_from(["GET", "POST"])), path, chosen, signed=True)


@st.composite
def refund_calls(draw: st.DrawFn) -> Call:
    payload = draw(st.dictionaries(st.sampled_from(["OpKey", "RefundSum", "x"]), json_values))
    key = draw(st.sampled_from(["not-the-password", "", "sandbox-password-1"]))
    body = draw(
        st.one_of(
            st.binary(max_size=120),
            st.just(jwt_hs256(payload, key).encode()),
            st.just(b"e30." + b"[" * 50_000 + b".x"),  # deeply nested JSON
            st.just(b"\xff\xfe.\x80"),
        )
    )
    return Call("POST", f"{SANDBOX}/RefundService/Refund/Create", {}, body=body)


@st.composite
def driver_calls(draw: st.DrawFn) -> Call:
    user = draw(st.one_of(st.just("1"), st.sampled_from(NASTY[:18])))
    action = draw(st.sampled_from(["send", "contact", "press", "block", "unblock"]))
    path = draw(
        st.sampled_from(
            ["/api/users", f"/api/users/{user}/{action}", "/api/bot/processed", "/api/settle"]
        )
    )
    body = draw(
        st.one_of(
            st.dictionaries(st.sampled_from(DRIVER_NAMES), json_values, max_size=4),
            st.lists(st.integers(), max_size=2),
            values,
        )
    )
    if path == "/api/settle" and isinstance(body, dict):
        body["timeout"] = 0  # no bot handles what was sent: waiting would prove nothing
    raw = draw(st.sampled_from([None, b"{", b"\xff", b"[]"]))
    return Call("POST", path, {}, body=raw, json_body=None if raw is not None else body)


NO_WAIT = ["", "0", "-1", "nan", "inf", "-inf", "1e999", "x", "１", "0.001"]


@st.composite
def chat_calls(draw: st.DrawFn) -> Call:
    """The web chat's long poll: only values that must not make it wait (or that are bad)."""
    user = draw(st.one_of(st.just("1"), st.sampled_from(NASTY[:18])))
    names = st.sampled_from(["after", "wait", "version"])
    query = draw(
        st.dictionaries(names, st.one_of(st.sampled_from(NO_WAIT), st.text(max_size=5)), max_size=3)
    )
    if query.get("wait") not in NO_WAIT:
        query.pop("wait", None)
    return Call("GET", f"/api/users/{user}/messages", query)


def send(world: World, call: Call) -> httpx.Response:
    base = world.emulator if call.path.startswith("/api/") else world.web
    url = base + call.path
    query = {k: _real(v, world.order) for k, v in call.params.items()}
    client = world.client
    assert client is not None
    if call.method == "GET":
        return client.get(url, params=query)
    if call.body is not None:
        return client.post(url, content=call.body)
    if call.json_body is not None or call.path.startswith("/api/"):
        return client.post(url, content=json.dumps(call.json_body).encode())
    return client.post(url, data=query)


calls = st.one_of(robokassa_calls(), signed_calls(), refund_calls(), driver_calls(), chat_calls())


@settings(
    derandomize=True,
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(call=calls)
def test_no_endpoint_fails_and_nothing_changes_without_a_signature(
    world: World, call: Call
) -> None:
    world.harness.errors.records.clear()  # each example answers for itself
    before = snapshot(world.database)
    response = send(world, call)
    # 504 is settle's documented "the bot has not handled everything yet" (none runs here).
    settle = call.path == "/api/settle" and response.status_code == 504
    assert response.status_code < 500 or settle, (call, response.text[:300])
    errors = [r.getMessage() for r in world.harness.errors.records]
    assert not errors, (call, errors)
    if not call.signed:
        assert snapshot(world.database) == before, call
