"""The embedded Robokassa sandbox validates requests exactly like the protocol says."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import httpx

from bot.settings import RobokassaSettings
from services.robokassa import digest
from tests.harness import Harness, running_harness
from tests.helpers import operations, order_roses, sandbox_client


async def test_payment_url_round_trips_through_the_sandbox(harness: Harness) -> None:
    client = sandbox_client(harness)
    receipt = json.dumps({"sno": "usn_income", "items": []})
    async with httpx.AsyncClient() as http:
        page = await http.get(
            client.payment_url("350.00", 77, "Тест", receipt=receipt, shp={"Shp_shop": "books"})
        )
        assert page.status_code == 200
        assert "X-Robokassa-Operation" in page.headers
        assert "Счёт № 77" in page.text
        # The same request again is the same operation, not a second one.
        again = await http.get(
            client.payment_url("350.00", 77, "Тест", receipt=receipt, shp={"Shp_shop": "books"})
        )
        assert again.headers["X-Robokassa-Operation"] == page.headers["X-Robokassa-Operation"]
        # Receipt signed after one more URL-decoding is accepted too (sources disagree).
        raw = quote(receipt, safe="")
        signature = digest(f"{client.login}:10.00:78:{receipt}:sandbox-password-1")
        other = await http.get(
            f"{client.base_url}/Merchant/Index.aspx",
            params={
                "MerchantLogin": client.login,
                "OutSum": "10.00",
                "InvId": "78",
                "Receipt": raw,
                "SignatureValue": signature,
                "IsTest": "1",
            },
        )
        assert "X-Robokassa-Operation" in other.headers
    assert await operations(harness) == 2


async def test_bad_requests_get_the_error_page_and_create_nothing(harness: Harness) -> None:
    good = sandbox_client(harness)
    cases = {
        "wrong password": sandbox_client(harness, password1="nope").payment_url("10.00", 1, "x"),
        "live passwords in test mode": sandbox_client(harness, is_test=False).payment_url(
            "10.00", 2, "x"
        ),
        "tampered sum": good.payment_url("10.00", 3, "x").replace("OutSum=10.00", "OutSum=1.00"),
        "unknown shop": sandbox_client(harness, login="other").payment_url("10.00", 4, "x"),
        "a date that is none": good.payment_url("10.00", 5, "x") + "&ExpirationDate=tomorrow",
    }
    async with httpx.AsyncClient() as http:
        for name, url in cases.items():
            page = await http.get(url)
            assert "X-Robokassa-Operation" not in page.headers, name
            code = "26" if name == "unknown shop" else "29"
            assert page.headers["X-Robokassa-Error"] == code, name
            assert f"Ошибка {code}" in page.text, name
    assert await operations(harness) == 0


async def test_an_invoice_number_reused_with_another_sum_is_refused(harness: Harness) -> None:
    client = sandbox_client(harness)
    async with httpx.AsyncClient() as http:
        first = await http.get(client.payment_url("10.00", 9, "x"))
        assert "X-Robokassa-Operation" in first.headers
        other = await http.get(client.payment_url("20.00", 9, "x"))
    assert "X-Robokassa-Operation" not in other.headers
    assert other.headers["X-Robokassa-Error"] == "4"
    assert (await client.op_state(9)).out_sum == "10.00"
    assert await operations(harness) == 1


async def test_op_state_answers_with_result_codes(harness: Harness) -> None:
    client = sandbox_client(harness)
    missing = await client.op_state(4242)
    assert missing.result_code == 3
    wrong = await sandbox_client(harness, password2="nope").op_state(4242)
    assert wrong.result_code == 1
    stranger = await sandbox_client(harness, login="other").op_state(4242)
    assert stranger.result_code == 2
    async with httpx.AsyncClient() as http:
        await http.get(client.payment_url("10.00", 4242, "x", shp={"Shp_shop": "books"}))
    created = await client.op_state(4242)
    assert (created.result_code, created.state_code, created.out_sum) == (0, 5, "10.00")
    assert created.user_fields == {"Shp_shop": "books"}
    methods = await client.currencies()
    assert ("Qiwi40PS", "QIWI Кошелек") in [(m.label, m.name) for m in methods]


async def test_live_mode_shows_the_real_payment_page_button(tmp_path: Path) -> None:
    # A real service's address that answers nothing (no network in tests): the method list
    # does not come, and the buyer still gets the signed link to the payment page.
    live = RobokassaSettings(base_url="http://127.0.0.1:9", is_test=True)
    async with running_harness(tmp_path, robokassa=live) as h:
        anna = h.person()
        order = await order_roses(anna, quantity=1)
        seen = await anna.press("💳 Оплатить через Робокассу")
        assert seen.text.startswith(f"Робокасса: заказ № {order}, 1 890,00 ₽.")
        seen = await anna.press("🌐 Выбрать на странице Робокассы")
        button = seen.raw["inline_keyboard"][0][0]
        assert button["text"] == "💳 Открыть страницу оплаты"
        assert button["url"].startswith("http://127.0.0.1:9/Merchant/Index.aspx?")
        assert "IsTest=1" in button["url"] and f"InvId={order}" in button["url"]
        # QIWI is gone from the real service since 2024: the live link preselects no method,
        # the buyer chooses on Robokassa's page.
        assert "IncCurrLabel" not in button["url"]
