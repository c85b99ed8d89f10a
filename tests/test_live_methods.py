"""Live mode against a stand-in of the real Robokassa on 127.0.0.1: today's methods (no QIWI)
from the shop's own GetCurrencies, a link that carries the chosen IncCurrLabel (or none), signed
with the shop's Password #1 over its Receipt; a slow or broken GetCurrencies still gives the
buyer a working link."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import pytest
from aiohttp import web
from pydantic import SecretStr

from bot.settings import RobokassaSettings, ShopSecrets
from services.checkout import ShopNotConnected
from services.orders import Order
from tests.harness import Harness, Person, running_harness
from tests.helpers import order_book, two_account_catalogue

XMLNS = "http://merchant.roboxchange.com/WebService/"
# The kinds of methods Robokassa lists today (cards, SBP, wallets of banks, instalments).
TODAY = [
    ("BankCard", "Банковской картой", [("BankCardPSR", "BankCard", "Банковская карта")]),
    ("SBP", "Система быстрых платежей", [("SBPPSR", "SBP", "СБП")]),
    ("EMoney", "Электронными кошельками", [("YandexPayPSR", "YandexPay", "Yandex Pay")]),
    ("Credit", "В кредит или рассрочку", [("InstallmentPSR", "Installment", "Рассрочка")]),
]


def currencies_xml() -> str:
    groups = "".join(
        f'<Group Code="{code}" Description="{description}"><Items>'
        + "".join(
            f'<Currency Label="{label}" Alias="{alias}" Name="{name}" MinValue="1" '
            'MaxValue="1000000"/>'
            for label, alias, name in items
        )
        + "</Items></Group>"
        for code, description, items in TODAY
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><CurrenciesList xmlns="{XMLNS}">'
        f"<Result><Code>0</Code></Result><Groups>{groups}</Groups></CurrenciesList>"
    )


@dataclass
class StandIn:
    """Robokassa's web service as a test server: `mode` is ok, slow or garbage."""

    url: str = ""
    mode: str = "ok"
    asked: list[str] = field(default_factory=list)
    never: asyncio.Event = field(default_factory=asyncio.Event)

    async def currencies(self, request: web.Request) -> web.Response:
        self.asked.append(request.query.get("MerchantLogin", ""))
        if self.mode == "slow":
            await self.never.wait()  # answers only when the test ends: the client must give up
        if self.mode == "garbage":
            return web.Response(text="<html>Service Unavailable", content_type="text/html")
        return web.Response(text=currencies_xml(), content_type="text/xml")

    async def op_state(self, request: web.Request) -> web.Response:
        """OpStateExt of an operation this account does not have (code 3)."""
        self.asked.append(f"OpStateExt {request.query.get('InvoiceID', '')}")
        return web.Response(
            text=f'<?xml version="1.0" encoding="utf-8"?><OperationStateResponse xmlns="{XMLNS}">'
            "<Result><Code>3</Code><Description>Operation not found</Description></Result>"
            "</OperationStateResponse>",
            content_type="text/xml",
        )


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[tuple[Harness, StandIn]]:
    stand_in = StandIn()
    app = web.Application()
    app.router.add_get("/Merchant/WebService/Service.asmx/GetCurrencies", stand_in.currencies)
    app.router.add_get("/Merchant/WebService/Service.asmx/OpStateExt", stand_in.op_state)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    stand_in.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    # Only the books shop has all three passwords; the flowers shop names a login, no passwords.
    books = ShopSecrets(
        password1=SecretStr("books-one"),
        password2=SecretStr("books-two"),
        password3=SecretStr("books-three"),
    )
    try:
        async with running_harness(
            tmp_path,
            robokassa=RobokassaSettings(base_url=stand_in.url, is_test=True),
            catalogue_path=two_account_catalogue(tmp_path),
            shops={"books": books},
        ) as h:
            h.services.checkout.methods_timeout = 5
            yield h, stand_in
    finally:
        stand_in.never.set()
        await runner.cleanup()


async def a_book(h: Harness, anna: Person) -> Order:
    return await h.services.merchant.order(await order_book(anna))


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def signed_by_books(order: Order, query: dict[str, str]) -> bool:
    """The real service's check, written out: sha256 over the fields with Password #1."""
    text = f"books-shop:650.00:{order.id}:{query['Receipt']}:books-one:Shp_shop=books"
    return query["SignatureValue"] == hashlib.sha256(text.encode()).hexdigest()


async def test_the_shop_offers_todays_methods_and_the_link_carries_the_chosen_one(
    live: tuple[Harness, StandIn],
) -> None:
    h, stand_in = live
    checkout = h.services.checkout
    methods = await checkout.methods("books")
    assert [m.label for m in methods] == [
        "BankCardPSR",
        "SBPPSR",
        "YandexPayPSR",
        "InstallmentPSR",
    ]
    assert not [m for m in methods if "qiwi" in (m.label + m.name + m.alias).lower()]
    assert stand_in.asked == ["books-shop"]  # the shop's own account is asked
    await checkout.methods("books")
    assert stand_in.asked == ["books-shop"]  # and the answer is reused
    order = await a_book(h, h.person())
    query = query_of(await checkout.payment_link(order, method="SBPPSR"))
    assert query["IncCurrLabel"] == "SBPPSR" and query["MerchantLogin"] == "books-shop"
    assert query["IsTest"] == "1" and signed_by_books(order, query)
    assert unquote(query["Receipt"]) == (
        '{"sno":"osn","items":[{"name":"М. Булгаков. Мастер и Маргарита","quantity":1,'
        '"sum":650.00,"tax":"vat10","payment_method":"full_payment","payment_object":"commodity"}]}'
    )
    # No method chosen, or one the shop does not list (QIWI is gone): Robokassa's page asks.
    for method in (None, "Qiwi40PS"):
        query = query_of(await checkout.payment_link(order, method=method))
        assert "IncCurrLabel" not in query and signed_by_books(order, query)
    assert "IncCurrLabel" not in query_of(checkout.payment_url(order))


@pytest.mark.parametrize("mode", ["slow", "garbage"])
async def test_a_slow_or_broken_method_list_still_gives_a_working_link(
    live: tuple[Harness, StandIn], mode: str
) -> None:
    h, stand_in = live
    stand_in.mode = mode
    checkout = h.services.checkout
    checkout.methods_timeout = 0.5  # the buyer is not kept waiting for the list
    assert await checkout.methods("books") == []
    order = await a_book(h, h.person())
    query = query_of(await checkout.payment_link(order, method="SBPPSR"))
    assert "IncCurrLabel" not in query and signed_by_books(order, query)
    assert h.errors.records == []


async def test_a_shop_without_its_passwords_is_not_offered_and_says_why(
    live: tuple[Harness, StandIn],
) -> None:
    h, _ = live
    checkout = h.services.checkout
    assert checkout.missing_settings("flowers") == (
        "SHOPS__FLOWERS__PASSWORD1",
        "SHOPS__FLOWERS__PASSWORD2",
        "SHOPS__FLOWERS__PASSWORD3",
    )
    assert checkout.missing_settings("books") == ()
    assert checkout.missing_settings("mobile") == ()  # on the bot's own account
    items = await h.services.merchant.items(await first_category(h, "flowers"))
    roses = await h.services.merchant.create_order(
        101, items[0].id, 1, buyer_name="Анна", contact="+79123456789"
    )
    with pytest.raises(ShopNotConnected) as refused:
        checkout.payment_url(roses)
    assert refused.value.missing == checkout.missing_settings("flowers")


async def first_category(h: Harness, shop: str) -> int:
    return (await h.services.merchant.categories(shop))[0].id
