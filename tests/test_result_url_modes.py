"""A test-mode notification never pays a live order, and a live one never reaches a test shop."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from bot.settings import RobokassaSettings
from services.aggregator import _operation
from services.checkout import shop_account
from tests.harness import Harness, running_harness
from tests.helpers import paid_operation, result_url


async def signed_result(harness: Harness, order: int) -> dict[str, str]:
    """What the aggregator would send for the order (IsTest=1 when the shop is in test mode)."""
    row = await harness.services.db.fetchone(
        "SELECT * FROM rk_operations WHERE inv_id = ?", (order,)
    )
    assert row is not None
    return harness.services.aggregator.result_params(_operation(row))


async def refused_and_nothing_changed(
    harness: Harness, order: int, params: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.web"):
        async with httpx.AsyncClient() as client:
            response = await client.post(result_url(harness), data=params)
    assert response.status_code == 400
    assert (await harness.services.merchant.order(order)).status == "awaiting"
    shop_paid = await harness.services.db.fetchone(
        "SELECT COUNT(*) FROM transfers WHERE to_account = ?", (shop_account("flowers"),)
    )
    assert shop_paid is not None and shop_paid[0] == 0
    assert any(
        f"InvId {order}" in r.getMessage() and "IsTest" in r.getMessage() for r in caplog.records
    )


async def test_a_shop_in_test_mode_refuses_a_live_notification(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    anna = harness.person()
    order = await paid_operation(harness, anna)
    good = await signed_result(harness, order)
    assert good["IsTest"] == "1"
    # IsTest is not part of the signature: dropping it keeps the notification "signed".
    live = {k: v for k, v in good.items() if k != "IsTest"}
    await refused_and_nothing_changed(harness, order, live, caplog)
    await refused_and_nothing_changed(harness, order, {**good, "IsTest": "0"}, caplog)
    async with httpx.AsyncClient() as client:
        accepted = await client.post(result_url(harness), data=good)
    assert accepted.text == f"OK{order}"
    assert await harness.services.ledger.balance(shop_account("flowers")) == 189_000


async def test_a_live_shop_refuses_a_test_notification(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with running_harness(tmp_path, robokassa=RobokassaSettings(is_test=False)) as harness:
        anna = harness.person()
        order = await paid_operation(harness, anna)
        good = await signed_result(harness, order)
        assert "IsTest" not in good
        await refused_and_nothing_changed(harness, order, {**good, "IsTest": "1"}, caplog)
        async with httpx.AsyncClient() as client:
            accepted = await client.post(result_url(harness), data=good)
        assert accepted.text == f"OK{order}"
        assert (await harness.services.merchant.order(order)).status == "paid"
        assert (await harness.services.ledger.check_invariants()).ok
        # OpStateExt in live mode: an invoice never sent is "not found", not "bad signature".
        robokassa = harness.services.robokassa
        assert robokassa is not None
        assert (await robokassa.op_state(order + 1000)).result_code == 3
