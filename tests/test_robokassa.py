"""The Robokassa client against the published vectors, every algorithm, Shp and Receipt."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import parse_qs, quote, urlparse

import httpx
import pytest
from aiohttp import web

from services.robokassa import (
    ALGORITHMS,
    InvalidSignature,
    Robokassa,
    RobokassaError,
    digest,
    format_out_sum,
    jwt_hs256,
    jwt_verify,
    parse_currencies,
    parse_op_state,
    parse_out_sum,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("test_login:100.0:58:test_password", "59506e1e5bbe937b31386dd981788c9b"),
        ("test_login::5:test_password", "dcedd9c5f84c1e6cb73ab52ca9faa8b3"),
        ("100:58:test_password2", "6e75b4f55befe22c8db12778d8ef32c3"),
        ("myMerchantLogin:1000:0:my_first_secret_password", "abd49d48d09a4ad6e373d3bfabc0051e"),
        ("200.00:84:my_password2:shp_interface=link", "95286fdc8024655ceb9034539bac1180"),
    ],
)
def test_published_vectors(text: str, expected: str) -> None:
    assert digest(text, "md5") == expected


def test_payment_signature_matches_the_vectors() -> None:
    client = Robokassa("test_login", "test_password", "test_password2")
    assert client.payment_signature("100.0", 58) == "59506e1e5bbe937b31386dd981788c9b"
    mine = Robokassa("myMerchantLogin", "my_first_secret_password", "x")
    assert mine.payment_signature("1000", 0) == "abd49d48d09a4ad6e373d3bfabc0051e"


def test_absent_inv_id_leaves_its_slot_empty() -> None:
    client = Robokassa("test_login", "test_password", "p2")
    assert client.payment_signature("", None) == digest("test_login:::test_password")
    assert client.payment_signature("100.00", None) == digest("test_login:100.00::test_password")


def test_result_signature_matches_the_vectors_with_and_without_shp() -> None:
    client = Robokassa("any", "p1", "test_password2")
    note = client.check_result(
        {"OutSum": "100", "InvId": "58", "SignatureValue": "6E75B4F55BEFE22C8DB12778D8EF32C3"}
    )
    assert (note.inv_id, note.amount) == (58, 10000)
    shp_client = Robokassa("any", "p1", "my_password2")
    note = shp_client.check_result(
        {
            "OutSum": "200.00",
            "InvId": "84",
            "SignatureValue": "95286fdc8024655ceb9034539bac1180",
            "shp_interface": "link",
        }
    )
    assert note.shp == {"shp_interface": "link"}


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_every_algorithm(algorithm: str) -> None:
    client = Robokassa("shop", "pass1", "pass2", algorithm=algorithm)
    text = "shop:350.00:7:pass1:Shp_a=1:Shp_b=2"
    assert client.payment_signature("350.00", 7, shp={"Shp_b": "2", "Shp_a": "1"}) == (
        hashlib.new(algorithm, text.encode()).hexdigest()
    )
    signature = client.result_signature("350.000000", 7, {"Shp_a": "1"})
    assert signature == hashlib.new(algorithm, b"350.000000:7:pass2:Shp_a=1").hexdigest()
    note = client.check_result(
        {"OutSum": "350.000000", "InvId": "7", "SignatureValue": signature.upper(), "Shp_a": "1"}
    )
    assert note.amount == 35000


def test_shp_pairs_come_after_the_password_sorted_by_name() -> None:
    client = Robokassa("shop", "pass1", "pass2")
    expected = digest("shop:10.00:1:pass1:Shp_alpha=x:Shp_beta=y:Shp_zeta=ё")
    assert (
        client.payment_signature(
            "10.00", 1, shp={"Shp_zeta": "ё", "Shp_beta": "y", "Shp_alpha": "x"}
        )
        == expected
    )


def test_receipt_sits_between_inv_id_and_password() -> None:
    client = Robokassa("shop", "pass1", "pass2")
    receipt = quote('{"sno":"usn_income","items":[]}', safe="")
    assert client.payment_signature("10.00", 1, receipt=receipt) == digest(
        f"shop:10.00:1:{receipt}:pass1"
    )


def test_payment_url_carries_everything_and_hashes_the_sent_out_sum() -> None:
    client = Robokassa("shop", "pass1", "pass2", is_test=True, base_url="https://auth.robokassa.ru")
    url = client.payment_url(
        "350.00", 42, "Заказ № 42", shp={"Shp_shop": "books"}, inc_curr_label="Qiwi40PS"
    )
    parsed = urlparse(url)
    assert parsed.path == "/Merchant/Index.aspx"
    query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
    assert query["OutSum"] == "350.00" and query["InvId"] == "42"
    assert query["Description"] == "Заказ № 42" and query["Encoding"] == "utf-8"
    assert query["IsTest"] == "1" and query["IncCurrLabel"] == "Qiwi40PS"
    assert query["Shp_shop"] == "books"
    assert query["SignatureValue"] == digest("shop:350.00:42:pass1:Shp_shop=books")
    assert "Email" not in query
    with_email = client.payment_url("350.00", 42, "Заказ № 42", email="anna@example.ru")
    assert parse_qs(urlparse(with_email).query)["Email"] == ["anna@example.ru"]


def test_forged_or_tampered_results_are_refused() -> None:
    client = Robokassa("shop", "pass1", "pass2")
    good = {"OutSum": "10.00", "InvId": "5", "SignatureValue": client.result_signature("10.00", 5)}
    client.check_result(good)
    for changed in (
        {**good, "OutSum": "1.00"},
        {**good, "InvId": "6"},
        {**good, "SignatureValue": "0" * 32},
        {**good, "Shp_extra": "1"},
        {k: v for k, v in good.items() if k != "SignatureValue"},
        {**good, "SignatureValue": client.success_signature("10.00", 5)},  # Password#1
    ):
        with pytest.raises(InvalidSignature):
            client.check_result(changed)
    assert (
        client.check_success(
            {
                "OutSum": "10.00",
                "InvId": "5",
                "SignatureValue": client.success_signature("10.00", 5),
            }
        ).inv_id
        == 5
    )


def test_out_sum_edges() -> None:
    assert format_out_sum(35000) == "350.00"
    assert format_out_sum(5) == "0.05"
    assert format_out_sum(1) == "0.01"
    assert parse_out_sum("0.01") == 1
    assert parse_out_sum("100.000000") == 10000
    for bad in ("abc", "0", "-1", "1.001"):
        with pytest.raises(ValueError):
            parse_out_sum(bad)


def test_secrets_stay_out_of_repr() -> None:
    client = Robokassa("shop", "very-secret-1", "very-secret-2")
    assert "very-secret" not in repr(client)


def test_parsing_op_state_and_currencies() -> None:
    ns = 'xmlns="http://merchant.roboxchange.com/WebService/"'
    state = parse_op_state(
        f"<OperationStateResponse {ns}><Result><Code>0</Code></Result><State><Code>100</Code>"
        "<RequestDate>2026-11-28T12:00:00+03:00</RequestDate></State><Info>"
        "<IncCurrLabel>Qiwi40PS</IncCurrLabel><PaymentMethod><Code>EMoney</Code></PaymentMethod>"
        "<OutSum>350.00</OutSum><OpKey>k1</OpKey></Info><UserField><Field><Name>Shp_shop</Name>"
        "<Value>books</Value></Field></UserField></OperationStateResponse>"
    )
    assert state.paid and state.out_sum == "350.00" and state.op_key == "k1"
    assert state.user_fields == {"Shp_shop": "books"}
    missing = parse_op_state(
        f"<OperationStateResponse {ns}><Result><Code>3</Code><Description>not found"
        "</Description></Result></OperationStateResponse>"
    )
    assert missing.result_code == 3 and not missing.paid
    assert missing.result_description == "not found"
    half_field = parse_op_state(
        f"<OperationStateResponse {ns}><Result><Code>0</Code></Result><UserField><Field>"
        "<Name>Shp_shop</Name></Field></UserField></OperationStateResponse>"
    )
    assert half_field.user_fields == {}
    with pytest.raises(RobokassaError) as error:
        parse_currencies(
            f"<CurrenciesList {ns}><Result><Code>5</Code><Description>unknown shop</Description>"
            "</Result></CurrenciesList>"
        )
    assert (error.value.code, error.value.description) == (5, "unknown shop")
    assert parse_currencies(f"<CurrenciesList {ns}><Groups/></CurrenciesList>") == []
    currencies = parse_currencies(
        f'<CurrenciesList {ns}><Result><Code>0</Code></Result><Groups><Group Code="EMoney" '
        'Description="Электронными деньгами"><Items><Currency Label="Qiwi40PS" Alias="QiwiWallet"'
        ' Name="QIWI Кошелек" MinValue="1" MaxValue="15000"/></Items></Group></Groups>'
        "</CurrenciesList>"
    )
    assert [(c.label, c.alias, c.name) for c in currencies] == [
        ("Qiwi40PS", "QiwiWallet", "QIWI Кошелек")
    ]


def test_refund_token_is_a_standard_hs256_jwt() -> None:
    """The widely published HS256 example token (secret `your-256-bit-secret`), byte for byte."""
    token = jwt_hs256(
        {"sub": "1234567890", "name": "John Doe", "iat": 1516239022}, "your-256-bit-secret"
    )
    assert token == (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
        "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
        "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
    )
    assert jwt_verify(token, "your-256-bit-secret")["name"] == "John Doe"
    with pytest.raises(InvalidSignature):
        jwt_verify(token, "another-secret")
    header, _body, signature = token.split(".")
    forged_body = jwt_hs256({"sub": "1234567890", "name": "Mallory", "iat": 1}, "x").split(".")[1]
    with pytest.raises(InvalidSignature):
        jwt_verify(f"{header}.{forged_body}.{signature}", "your-256-bit-secret")
    with pytest.raises(InvalidSignature):
        jwt_verify("not-a-token", "your-256-bit-secret")


@asynccontextmanager
async def robokassa_answering(
    status: int, seen: list[dict[str, object]] | None = None
) -> AsyncIterator[Robokassa]:
    """A stand-in Robokassa on 127.0.0.1 whose every answer has `status` and a well-formed body
    that says "paid", "success", "finished": an error status must win over what the body says."""
    ns = 'xmlns="http://merchant.roboxchange.com/WebService/"'

    async def op_state(request: web.Request) -> web.Response:
        body = (
            f"<OperationStateResponse {ns}><Result><Code>0</Code></Result><State><Code>100"
            "</Code></State><Info><OutSum>10.00</OutSum><OpKey>k1</OpKey></Info>"
            "</OperationStateResponse>"
        )
        return web.Response(status=status, text=body, content_type="text/xml")

    async def currencies(request: web.Request) -> web.Response:
        body = (
            f'<CurrenciesList {ns}><Result><Code>0</Code></Result><Groups><Group Code="EMoney">'
            '<Items><Currency Label="Qiwi40PS" Name="QIWI"/></Items></Group></Groups>'
            "</CurrenciesList>"
        )
        return web.Response(status=status, text=body, content_type="text/xml")

    async def create(request: web.Request) -> web.Response:
        token = await request.text()
        if seen is not None:
            seen.append(jwt_verify(token, "pass3"))
        return web.json_response({"success": True, "requestId": "r1"}, status=status)

    async def get_state(request: web.Request) -> web.Response:
        answer = {"requestId": request.query["id"], "amount": "10.00", "label": "finished"}
        return web.json_response(answer, status=status)

    app = web.Application()
    app.router.add_get("/Merchant/WebService/Service.asmx/OpStateExt", op_state)
    app.router.add_get("/Merchant/WebService/Service.asmx/GetCurrencies", currencies)
    app.router.add_post("/RefundService/Refund/Create", create)
    app.router.add_get("/RefundService/Refund/GetState", get_state)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    base = f"http://127.0.0.1:{port}"
    client = Robokassa(
        "shop",
        "pass1",
        "pass2",
        base_url=base,
        password3="pass3",
        refund_url=f"{base}/RefundService",
    )
    try:
        yield client
    finally:
        await client.aclose()
        await runner.cleanup()


async def test_an_error_status_from_robokassa_is_never_read_as_an_answer() -> None:
    async with robokassa_answering(500) as client:
        with pytest.raises(httpx.HTTPStatusError):
            await client.op_state(7)
        with pytest.raises(httpx.HTTPStatusError):
            await client.currencies()
        with pytest.raises(httpx.HTTPStatusError):
            await client.create_refund("k1", 1000)
        with pytest.raises(httpx.HTTPStatusError):
            await client.refund_state("r1")


async def test_the_refund_token_carries_the_sum_only_when_one_is_given() -> None:
    seen: list[dict[str, object]] = []
    async with robokassa_answering(200, seen) as client:
        whole = await client.create_refund("k1")
        part = await client.create_refund("k1", 1)
        state = await client.refund_state("r1")
        paid = await client.op_state(7)
    assert seen == [{"OpKey": "k1"}, {"OpKey": "k1", "RefundSum": "0.01"}]
    assert whole.success and part.request_id == "r1"
    assert (state.label, state.amount) == ("finished", "10.00")
    assert paid.paid and paid.op_key == "k1"
