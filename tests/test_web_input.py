"""Bad numbers at the web edge get a 4xx and change nothing; logs keep only checked values."""

from __future__ import annotations

import logging

import httpx
import pytest

from services.robokassa import Robokassa, digest
from tests.harness import Harness
from tests.helpers import (
    PHONE,
    fund,
    operations,
    order_roses,
    prepared_person,
    press_forged_buttons,
    register,
    result_url,
    sandbox_client,
    to_cash_screen,
    to_invoice,
)

ROSES = "1890.00"
HUGE = "9" * 20


def shop_client(h: Harness) -> Robokassa:
    client = h.services.robokassa
    assert client is not None
    return client


def signed_result(h: Harness, out_sum: str, inv_id: str, shop: str = "flowers") -> dict[str, str]:
    """ResultURL parameters as Robokassa would sign them, whatever their values."""
    shp = {"Shp_shop": shop}
    client = shop_client(h)
    signature = client.result_signature(out_sum, inv_id, shp)
    mode = {"IsTest": "1"} if client.is_test else {}
    return {"OutSum": out_sum, "InvId": inv_id, "SignatureValue": signature, **mode, **shp}


async def order_statuses(h: Harness) -> list[tuple[int, str]]:
    rows = await h.services.db.fetchall("SELECT id, status FROM orders ORDER BY id")
    return [(row["id"], row["status"]) for row in rows]


async def test_signed_result_url_with_impossible_numbers_is_refused(harness: Harness) -> None:
    anna = harness.person()
    order = await order_roses(anna, quantity=1)
    fullwidth = str(order).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    before = await order_statuses(harness)
    cases = {
        "OutSum Infinity": signed_result(harness, "Infinity", str(order)),
        "OutSum 1e999999999": signed_result(harness, "1e999999999", str(order)),
        "OutSum sNaN": signed_result(harness, "sNaN", str(order)),
        "OutSum negative": signed_result(harness, "-1890.00", str(order)),
        "OutSum with a part of a kopeck": signed_result(harness, "1890.001", str(order)),
        "InvId of 20 digits": signed_result(harness, ROSES, HUGE),
        "InvId zero": signed_result(harness, ROSES, "0"),
        "InvId in full-width digits": signed_result(harness, ROSES, fullwidth),
        "InvId ²": signed_result(harness, ROSES, "²"),
    }
    async with httpx.AsyncClient() as client:
        for name, params in cases.items():
            response = await client.post(result_url(harness), data=params)
            assert response.status_code == 400, (name, response.text)
        assert await order_statuses(harness) == before
        # What Robokassa really sends still works: six decimals.
        paid = await client.post(
            result_url(harness), data=signed_result(harness, "1890.000000", str(order))
        )
    assert paid.text == f"OK{order}"
    assert await order_statuses(harness) == [(order, "paid")]


async def test_op_state_with_a_bad_invoice_id_is_a_bad_request(harness: Harness) -> None:
    client = shop_client(harness)
    url = f"{client.base_url}/Merchant/WebService/Service.asmx/OpStateExt"
    async with httpx.AsyncClient() as http:
        for invoice in ("²", HUGE, "１００１", "-5", ""):
            signature = digest(f"{client.login}:{invoice}:sandbox-password-2")
            answer = await http.get(
                url,
                params={
                    "MerchantLogin": client.login,
                    "InvoiceID": invoice,
                    "Signature": signature,
                },
            )
            assert answer.status_code == 400, (invoice, answer.text)
            assert "<Code>3</Code>" in answer.text, invoice


async def test_payment_page_with_impossible_sums_is_an_error_page(harness: Harness) -> None:
    client = sandbox_client(harness)
    async with httpx.AsyncClient() as http:
        for out_sum in ("Infinity", "1e999999999", "NaN", "sNaN", "0.00", "1.001", "１０.00"):
            page = await http.get(client.payment_url(out_sum, 5, "x"))
            assert page.status_code == 400, (out_sum, page.text)
            assert page.headers["X-Robokassa-Error"] == "29", out_sum
        for inv_id in ("²", HUGE, "１００１"):
            signature = digest(f"{client.login}:10.00:{inv_id}:sandbox-password-1")
            page = await http.get(
                f"{client.base_url}/Merchant/Index.aspx",
                params={
                    "MerchantLogin": client.login,
                    "OutSum": "10.00",
                    "InvId": inv_id,
                    "SignatureValue": signature,
                    "IsTest": "1",
                },
            )
            assert page.status_code == 400, (inv_id, page.text)
            assert page.headers["X-Robokassa-Error"] == "29", inv_id
        # Robokassa takes sums with more decimals, as long as they are whole kopecks.
        fine = await http.get(client.payment_url("10.000000", 6, "x"))
        assert "X-Robokassa-Operation" in fine.headers
    assert await operations(harness) == 1


@pytest.mark.parametrize("payload", [f"item-{HUGE}", "item-１", "item-²", "item--1", "item-"])
async def test_a_deep_link_to_an_impossible_item_says_it_is_not_sold(
    harness: Harness, payload: str
) -> None:
    anna = harness.person()
    seen = await anna.send(f"/start {payload}")
    assert seen.text.startswith("Этот товар больше не продаётся.")
    assert not harness.errors.records


async def test_result_url_logs_no_forged_lines_and_no_huge_values(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    forged = "1\n2024-01-01 00:00:00 INFO bot: payment accepted for order 1"
    async with httpx.AsyncClient() as client:
        for inv_id in (forged, "7" * 1_000_000):
            data = {"OutSum": "1.00", "InvId": inv_id, "SignatureValue": "0" * 32}
            response = await client.post(result_url(harness), data=data)
            assert response.status_code == 400
        shop = {"OutSum": "1.00", "InvId": "1", "SignatureValue": "0", "Shp_shop": "x\ny" * 9999}
        assert (await client.post(result_url(harness), data=shop)).status_code == 400
    lines = [line for record in caplog.records for line in record.getMessage().splitlines()]
    assert lines, "the refusals were logged"
    assert not [line for line in lines if "payment accepted" in line]
    assert max(len(line) for line in lines) <= 300
    assert all(len(record.getMessage().splitlines()) == 1 for record in caplog.records)


async def test_forged_buttons_of_every_kind_are_answered_and_change_nothing(
    harness: Harness,
) -> None:
    anna = harness.person()
    await register(anna)
    await fund(harness, PHONE, 500_000)
    await order_roses(anna, quantity=1)
    await to_invoice(anna)
    stranger = await prepared_person(harness, 1)
    menu = await stranger.send("/start")
    pressed = await press_forged_buttons(harness, stranger, menu.message_id)
    assert pressed > 300


async def test_typed_numbers_in_other_scripts_get_the_usual_hint(harness: Harness) -> None:
    anna = harness.person()
    await register(anna)
    await to_cash_screen(anna)
    for junk in ("²", "１００", "1" * 30):
        seen = await anna.send(junk)
        assert seen.text.startswith("Терминал принимает только купюры: 10, 50, 100"), junk
    await anna.send("/cancel")
    await anna.send("/start")
    await anna.press("💵 Пополнить")
    await anna.press("🧾 Проверить чек")
    for junk in ("²²²²²²", "１００１２３"):
        seen = await anna.send(junk)
        assert seen.text == "Номер чека — 6 цифр, например 100123.", junk
    await anna.send("/start")
    await anna.press("🛍 Магазины")
    await anna.press("🏪 Цветочная мастерская «Ромашка»")
    await anna.press("Букеты")
    await anna.press("7 роз · 1 890,00 ₽")
    for junk in ("²", "２", "9" * 30):
        seen = await anna.send(junk)
        assert seen.text.startswith("Напишите количество от 1 до"), junk
    assert not harness.errors.records
