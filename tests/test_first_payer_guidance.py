"""A first-time payer: text that cannot be a key costs no attempt; old terminal screens tell the truth."""

from __future__ import annotations

from services.wallet import wallet_account
from tests.harness import Harness
from tests.helpers import (
    PHONE,
    fund,
    open_registration,
    order_roses,
    register,
    to_cash_screen,
    to_invoice,
)

NOT_KEYS = ["я" * 5000, "<b>x</b>", "12345", "что-то непонятное", "где взять ключ?"]
# A question in words gets the key step's help instead; it costs no attempt either.
KEY_HELP = "Жду секретный ключ — это пароль от кошелька"


def key_hint_or_help(text: str) -> str:
    return KEY_HELP if text in ("что-то непонятное", "где взять ключ?") else KEY_HINT


KEY_HINT = (
    "Это не секретный ключ: он состоит из 8 латинских букв и цифр, например ABCD-2345. "
    "Ключ пришёл в SMS при регистрации кошелька — найдите в чате «📩 SMS от QIWI». "
    "Попытка не потрачена."
)


async def test_text_that_cannot_be_a_key_costs_no_attempt_on_the_qiwi_site(
    harness: Harness,
) -> None:
    anna = harness.person()
    secret = await register(anna)
    await fund(harness, PHONE, 500_000)
    order = await order_roses(anna, quantity=1)
    await to_invoice(anna)
    await anna.press("💻 На сайте QIWI")
    for text in NOT_KEYS:
        seen = await anna.send(text)
        assert seen.text.startswith(key_hint_or_help(text)), seen.text
        if key_hint_or_help(text) == KEY_HINT:
            assert "В приложении" in seen.text  # signed in here: the app pays without the key
    # Lower case, without the dash: the same key.
    seen = await anna.send(secret.lower().replace("-", " "))
    assert seen.text.startswith(f"💸 QIWI принял платёж за заказ № {order}")
    assert await harness.services.ledger.balance(wallet_account(PHONE)) == 500_000 - 189_000


async def test_text_that_cannot_be_a_key_costs_no_attempt_when_signing_in(
    harness: Harness,
) -> None:
    anna = harness.person()
    secret = await register(anna)
    boris = harness.person("Борис", phone="+79990000000")
    await open_registration(boris)
    await boris.send(PHONE)
    await boris.press("🔑 Войти по ключу")
    for text in NOT_KEYS:
        seen = await boris.send(text)
        assert seen.text.startswith(key_hint_or_help(text)), seen.text
    seen = await boris.send("AAAA-BBBB")
    assert seen.text == "Неверный секретный ключ. Осталось 4 попытки."
    await boris.send(secret)
    assert boris.last.text.startswith("✅ Вы вошли в кошелёк.")


async def test_buttons_of_a_finished_terminal_visit_name_its_receipt(harness: Harness) -> None:
    anna = harness.person()
    await register(anna)
    await to_cash_screen(anna)
    screen = await anna.press("100 ₽")
    await anna.send("/start")  # leaving this way credits the 100 ₽ with a receipt
    assert await harness.services.ledger.balance(wallet_account(PHONE)) == 10_000
    over = {
        "text": "Этот визит к терминалу уже завершён: чек № 100001, зачислено 100,00 ₽.",
        "show_alert": True,
    }
    for label in ("✖️ Отойти от терминала", "500 ₽", "✅ Зачислить"):
        await anna.press(label, message_id=screen.message_id)
        assert anna.last_answer == over, label
    assert not any("Денег внесено не было" in m.text for m in anna.bot_messages())
    assert await harness.services.ledger.balance(wallet_account(PHONE)) == 10_000


async def test_text_that_cannot_be_a_key_costs_no_attempt_when_changing_the_key(
    harness: Harness,
) -> None:
    anna = harness.person()
    old = await register(anna)
    await anna.press("👛 Кошелёк")
    await anna.press("🔑 Сменить ключ")
    for text in NOT_KEYS:
        seen = await anna.send(text)
        assert seen.text.startswith(key_hint_or_help(text)), seen.text
    seen = await anna.send("AAAA-BBBB")
    assert seen.text == "Неверный секретный ключ. Осталось 4 попытки."
    await anna.send(old)
    assert anna.last.text == "🔑 Секретный ключ изменён. Старый больше не действует."
