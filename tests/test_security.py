"""Security checks across a whole run: no secret in any log line; forged buttons refused."""

from __future__ import annotations

import logging
import re

import pytest

from tests.harness import TOKEN, Harness
from tests.helpers import fund, order_roses, register, to_invoice


async def test_logs_of_a_full_run_hold_no_token_password_code_or_secret(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    anna = harness.person()
    await anna.send("/start")
    await anna.press("👛 Завести кошелёк")
    await anna.share_contact()
    code = re.search(r"Код подтверждения: (\d{6})", anna.bot_messages()[-2].text)
    assert code
    await anna.send("000000" if code.group(1) != "000000" else "111111")  # a wrong try, too
    await anna.send(code.group(1))
    secret = re.search(r"секретный ключ: (\S+)\.", anna.bot_messages()[-2].text)
    assert secret
    await fund(harness, "+79123456789", 500_000)
    await order_roses(anna, quantity=1)
    await to_invoice(anna)
    await anna.press("💻 На сайте QIWI")
    await anna.send("WRNG-KEY9")
    await anna.send(secret.group(1))
    await harness.drain()
    assert anna.last.text.startswith("✅ Оплата поступила.")
    text = caplog.text
    assert len(caplog.records) > 10  # the run did log
    settings = harness.services.settings
    for forbidden in (
        TOKEN,
        settings.robokassa.password1.get_secret_value(),
        settings.robokassa.password2.get_secret_value(),
        settings.robokassa.password3.get_secret_value(),
        code.group(1),
        secret.group(1),
        secret.group(1).replace("-", ""),
    ):
        assert forbidden not in text


async def test_someone_elses_order_and_invoice_buttons_are_refused(harness: Harness) -> None:
    anna = harness.person()
    await register(anna)
    await fund(harness, "+79123456789", 500_000)
    order = await order_roses(anna, quantity=1)
    await to_invoice(anna)
    invoice = anna.last
    mallory = harness.person("Мэллори", phone="+79990001111")
    menu = await mallory.send("/start")
    for label in ("📱 В приложении", "💻 На сайте QIWI", "🏧 В терминале QIWI"):
        await mallory.press_data(menu.message_id, invoice.data_of(label))
        assert mallory.last_answer == {"text": "Это не ваш заказ.", "show_alert": True}
    for data in (f"s1:cancel:{order}::0:1", f"p1:start:{order}:0", f"p1:resume:{order}:0"):
        await mallory.press_data(menu.message_id, data)
        assert mallory.last_answer is not None and mallory.last_answer["show_alert"]
    assert (await harness.services.merchant.order(order)).status == "awaiting"
    # Someone else's receipt is only ever shown masked.
    await mallory.press("💵 Пополнить")
    await mallory.press("🧾 Проверить чек")
    balance_after = await harness.services.ledger.balance("wallet:+79123456789")
    assert balance_after == 500_000
