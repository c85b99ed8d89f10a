"""A first-time payer: their own number is one tap away, a dead number has a way on, and a
wallet opened at the terminal says what it is before the terminal asks for money."""

from __future__ import annotations

from services.wallet import wallet_account
from tests.harness import Harness
from tests.helpers import PHONE, fund, order_roses, register, sms_value

OWN_LABEL = "📱 Мой номер +7 912 345-67-89"


async def test_own_number_offered_without_a_wallet_and_the_wallet_opened_without_asking_again(
    harness: Harness,
) -> None:
    anna = harness.person()
    await anna.send("/start")
    await anna.share_contact()  # Telegram now vouches that +7 912 345-67-89 is Anna's
    order = await order_roses(anna, quantity=1)
    await anna.press("💳 Оплатить через Робокассу")
    seen = await anna.press("Visa QIWI Wallet")
    assert seen.text == (
        "Номер мобильного для счёта на оплату: нажмите свой или напишите другой, "
        "например +7 912 345-67-89."
    )
    assert seen.labels == [OWN_LABEL, "🏠 Меню"]
    seen = await anna.press(OWN_LABEL)
    assert seen.text == (
        "Оплата не прошла: на номер +7 912 345-67-89 не зарегистрирован QIWI-кошелёк.\n"
        "Заведите кошелёк на этот номер или напишите другой номер, например +7 912 345-67-89."
    )
    assert seen.labels == ["👛 Завести кошелёк", "🏠 Меню"]
    await anna.press("👛 Завести кошелёк")
    # The number is known: the SMS with the code comes at once, nobody asks for it again.
    assert not any(m.text.startswith("Кошелька пока нет") for m in anna.bot_messages())
    assert anna.bot_messages()[-2].text.startswith("📩 SMS от QIWI на +7 912 *** ** 89")
    assert anna.last.text.startswith("Введите код из SMS")
    await anna.send(sms_value(anna))
    seen = anna.last
    assert seen.text.startswith("✅ Кошелёк +7 912 *** ** 89 готов")
    assert seen.labels[0] == "💳 Вернуться к счёту"
    await fund(harness, PHONE, 200_000)
    seen = await anna.press("💳 Вернуться к счёту")
    assert "выставлен на +7 912 *** ** 89" in seen.text
    assert f"Заказ № {order}" in seen.text


async def test_another_number_can_be_typed_after_a_number_without_a_wallet(
    harness: Harness,
) -> None:
    boris = harness.person("Борис", phone="+79990000000")
    await register(boris)
    anna = harness.person()
    order = await order_roses(anna, quantity=1)
    await anna.press("💳 Оплатить через Робокассу")
    seen = await anna.press("Visa QIWI Wallet")
    # Telegram has not told the bot Anna's number: nothing to tap, so the prompt does not say so.
    assert (
        seen.text
        == "Номер мобильного для счёта на оплату: напишите его, например +7 912 345-67-89."
    )
    assert seen.labels == ["🏠 Меню"]
    seen = await anna.send("+7 912 000-00-01")
    assert seen.text.endswith("или напишите другой номер, например +7 912 345-67-89.")
    seen = await anna.send("+7 999 000-00-00")
    assert seen.text.startswith("🧾 Счёт на оплату № ")
    assert "выставлен на +7 999 *** ** 00" in seen.text
    assert f"Заказ № {order}" in seen.text


async def test_a_number_without_a_wallet_that_is_not_proved_asks_to_share_it(
    harness: Harness,
) -> None:
    anna = harness.person()
    await order_roses(anna, quantity=1)
    await anna.press("💳 Оплатить через Робокассу")
    await anna.press("Visa QIWI Wallet")
    await anna.send("+7 912 345-67-89")
    await anna.press("👛 Завести кошелёк")
    assert anna.last.text.startswith("SMS на номер +7 912 345-67-89 приходят только")
    assert anna.reply_keyboard[0] == "📱 Поделиться номером"
    await anna.share_contact()
    assert anna.last.text.startswith("Введите код из SMS")
    await anna.send(sms_value(anna))
    assert anna.last.labels[0] == "💳 Вернуться к счёту"


async def test_deactivated_number_at_payment_offers_registering_again_and_the_way_back(
    harness: Harness,
) -> None:
    anna = harness.person()
    await register(anna)
    await fund(harness, PHONE, 500_000)
    operator = harness.services.operator
    await operator.deactivate(PHONE)
    order = await order_roses(anna, quantity=1)
    await anna.press("💳 Оплатить через Робокассу")
    seen = await anna.press("Visa QIWI Wallet")
    assert seen.labels == ["🏠 Меню"]  # a number the operator no longer serves is not offered
    seen = await anna.send("+7 912 345-67-89")
    assert seen.text == (
        "Номер +7 912 345-67-89 не обслуживается оператором, кошелёк на нём заблокирован. "
        "Напишите другой номер или зарегистрируйте кошелёк заново на действующем номере."
    )
    assert seen.labels == ["🔁 Зарегистрироваться заново", "⬅️ Другой номер", "🏠 Меню"]
    seen = await anna.press("⬅️ Другой номер")
    assert seen.text.startswith("Номер мобильного для счёта")
    seen = await anna.send("+7 912 345-67-89")
    await anna.press("🔁 Зарегистрироваться заново")
    assert anna.last.text.startswith("Кошелька пока нет. Нужен номер мобильного")
    await operator.reactivate(PHONE)
    await anna.share_contact()
    assert "был заблокирован: после ввода кода он снова заработает" in anna.last.text
    await anna.send(sms_value(anna))
    seen = anna.last
    assert seen.text.startswith("✅ Кошелёк +7 912 *** ** 89 готов. Баланс 5 000,00 ₽.")
    seen = await anna.press("💳 Вернуться к счёту")
    assert "выставлен на +7 912 *** ** 89" in seen.text and f"Заказ № {order}" in seen.text
    await anna.press("📱 В приложении")
    await harness.jobs.run_once()
    assert anna.last.text.startswith(f"✅ Оплата поступила. Заказ № {order} оплачен.")
    assert await harness.services.ledger.balance(wallet_account(PHONE)) == 500_000 - 189_000


async def test_registration_at_the_terminal_says_the_wallet_is_ready_before_the_sum(
    harness: Harness,
) -> None:
    anna = harness.person()
    await anna.send("/start")
    await anna.press("💵 Пополнить")
    await anna.press("🏧 Терминал")
    seen = await anna.send("+7 912 345-67-89")
    assert seen.text.startswith("На номере +7 912 345-67-89 нет QIWI-кошелька.")
    await anna.press("📝 Зарегистрировать здесь")
    seen = await anna.share_contact()
    assert anna.bot_messages()[-2].text.startswith("📩 SMS от QIWI")
    assert seen.text == (
        "✅ Кошелёк +7 912 345-67-89 открыт, вы в нём. Баланс 0,00 ₽.\n"
        "Идентификация: минимальная — такая у каждого нового кошелька; для покупок здесь её "
        "хватает, паспорт нужен только для больших лимитов. Лимиты: баланс до 15 000,00 ₽, "
        "платежи до 40 000,00 ₽ в месяц.\n\n"
        "Сколько хотите зачислить? Напишите сумму или нажмите «Пропустить» и "
        "просто вставляйте купюры."
    )
    assert seen.labels[0] == "Пропустить ➡️"


async def test_the_same_screens_in_english(harness: Harness) -> None:
    john = harness.person("John", language_code="en")
    await john.send("/start")
    await john.share_contact()
    await harness.services.operator.deactivate("+79160001122")
    await john.send("/start")
    await john.press("🛍 Shops")
    await john.press("🏪 «Romashka» flower studio")
    await john.press("Bouquets")
    await john.press("7 roses · 1,890.00 ₽")
    await john.press("🛒 Buy")
    await john.press("💳 Pay via Robokassa")
    seen = await john.press("Visa QIWI Wallet")
    assert seen.labels == ["📱 My number +7 912 345-67-89", "🏠 Menu"]
    seen = await john.press("📱 My number +7 912 345-67-89")
    assert seen.text.endswith(
        "Open a wallet on this number or type another number, like +7 912 345-67-89."
    )
    seen = await john.send("+7 916 000-11-22")
    assert seen.text == (
        "The operator does not serve +7 916 000-11-22. Type a working number, like +7 912 345-67-89."
    )
    assert seen.labels == ["👛 Open a wallet", "⬅️ Another number", "🏠 Menu"]
