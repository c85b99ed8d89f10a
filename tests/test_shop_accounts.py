"""Two shops, two Robokassa accounts: each pays with its own passwords and algorithm, each
shop's money lands in its own account, and one shop's password never pays another's order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import httpx
import pytest
from pydantic import SecretStr

from bot.settings import ShopSecrets
from services.aggregator import _operation
from services.checkout import shop_account
from services.robokassa import Robokassa
from tests.harness import Harness, Person, running_harness
from tests.helpers import (
    PHONE,
    SECRETS,
    drop_callbacks,
    fund,
    order_book,
    order_roses,
    register,
    to_invoice,
    two_account_catalogue,
)


@pytest.fixture
async def shops(tmp_path: Path) -> AsyncIterator[Harness]:
    secrets = {
        shop: ShopSecrets(
            password1=SecretStr(one), password2=SecretStr(two), password3=SecretStr(three)
        )
        for shop, (one, two, three) in SECRETS.items()
    }
    async with running_harness(
        tmp_path, catalogue_path=two_account_catalogue(tmp_path), shops=secrets
    ) as h:
        yield h


async def pay_in_app(h: Harness, anna: Person, order: int) -> None:
    await to_invoice(anna)
    await anna.press("📱 В приложении")
    await h.drain()
    assert anna.last.text.startswith(f"✅ Оплата поступила. Заказ № {order} оплачен.")


async def test_two_shops_pay_into_their_own_accounts(shops: Harness) -> None:
    anna = shops.person()
    await register(anna)
    await fund(shops, PHONE, 1_000_000)
    roses = await order_roses(anna, quantity=1)
    await pay_in_app(shops, anna, roses)
    book = await order_book(anna)
    await pay_in_app(shops, anna, book)
    ledger = shops.services.ledger
    assert await ledger.balance(shop_account("flowers")) == 189_000
    assert await ledger.balance(shop_account("books")) == 65_000
    assert (await ledger.check_invariants()).ok
    # At the aggregator each payment went to that shop's own merchant.
    rows = await shops.services.db.fetchall(
        "SELECT inv_id, merchant_login FROM rk_operations ORDER BY inv_id"
    )
    assert [(r["inv_id"], r["merchant_login"]) for r in rows] == [
        (roses, "flowers-shop"),
        (book, "books-shop"),
    ]


async def test_a_notification_signed_with_another_shops_password_is_refused(
    shops: Harness,
) -> None:
    anna = shops.person()
    await register(anna)
    await fund(shops, PHONE, 1_000_000)
    drop_callbacks(shops.services.aggregator)
    book = await order_book(anna)
    await to_invoice(anna)
    await anna.press("📱 В приложении")
    row = await shops.services.db.fetchone("SELECT * FROM rk_operations WHERE inv_id = ?", (book,))
    assert row is not None
    good = shops.services.aggregator.result_params(_operation(row))
    books_url = shops.services.aggregator.merchants["books-shop"].result_url
    assert books_url.endswith("/robokassa/result/books")
    base = books_url.removesuffix("/books")
    # The flowers shop's Password #2 and algorithm, over the very same fields.
    flowers = Robokassa("flowers-shop", "flowers-one", "flowers-two", algorithm="sha512")
    forged = {
        **good,
        "SignatureValue": flowers.result_signature(good["OutSum"], book, {"Shp_shop": "books"}),
    }
    async with httpx.AsyncClient() as client:
        for url in (books_url, base):
            refused = await client.post(url, data=forged)
            assert refused.status_code == 400, url
        no_shop = {k: v for k, v in good.items() if k != "Shp_shop"}
        unknown = {**good, "Shp_shop": "nosuchshop"}
        for url, data in ((f"{base}/nosuchshop", no_shop), (base, unknown)):
            response = await client.post(url, data=data)
            assert (response.status_code, response.text) == (400, "unknown shop")
        assert (await client.post(f"{base}/nosuchshop", data=good)).status_code == 400
        assert (await client.post(f"{base}/flowers", data=good)).status_code == 400
        assert (await client.post(base, data=no_shop)).status_code == 400
        assert (await shops.services.merchant.order(book)).status == "awaiting"
        moved = await shops.services.db.fetchone(
            "SELECT COUNT(*) FROM transfers WHERE to_account LIKE 'shop:%'"
        )
        assert moved is not None and moved[0] == 0
        accepted = await client.post(books_url, data=good)
    assert accepted.text == f"OK{book}"
    assert await shops.services.ledger.balance(shop_account("books")) == 65_000


async def test_each_shop_signs_its_link_and_receipt_with_its_own_account(shops: Harness) -> None:
    checkout = shops.services.checkout
    anna = shops.person()
    book = await shops.services.merchant.order(await order_book(anna))
    url = await checkout.payment_link(book)
    books = Robokassa("books-shop", "books-one", "books-two", algorithm="sha256")
    query = {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}
    assert query["MerchantLogin"] == "books-shop"
    assert query["SignatureValue"] == books.payment_signature(
        "650.00", book.id, receipt=query["Receipt"], shp={"Shp_shop": "books"}
    )
    assert unquote(query["Receipt"]) == (
        '{"sno":"osn","items":[{"name":"М. Булгаков. Мастер и Маргарита","quantity":1,'
        '"sum":650.00,"tax":"vat10","payment_method":"full_payment","payment_object":"commodity"}]}'
    )
