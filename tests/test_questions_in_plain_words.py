"""A question in plain words gets the help for the step the person is at, with that step's
buttons; what the step waits for (a number, a code, a key, a sum) works as before."""

from __future__ import annotations

import re

from services.wallet import wallet_account
from tests.harness import Harness
from tests.helpers import (
    PHONE,
    fund,
    open_registration,
    order_roses,
    receipt_number,
    register,
    sms_value,
    to_invoice,
)

CYRILLIC = re.compile(r"[А-Яа-яЁё]")


async def test_only_cash_on_an_unpaid_order_gets_how_to_pay_it(harness: Harness) -> None:
    anna = harness.person()
    order = await order_roses(anna, quantity=1)
    seen = await anna.send("а как платить? у меня только наличные")
    assert seen.text.startswith(
        f"Заказ № {order} (7 роз, 1 890,00 ₽) ждёт оплаты до 12:30.\n"
        "Как оплатить: «💳 Оплатить через Робокассу» → «Visa QIWI Wallet» → номер мобильного"
    )
    assert "🏧 в терминале QIWI наличными — купюрами, без сдачи" in seen.text
    assert seen.labels == ["💳 Оплатить через Робокассу", "🧾 Мои заказы", "🏠 Меню"]
    seen = await anna.press("💳 Оплатить через Робокассу")
    assert seen.text.startswith(f"Робокасса: выберите способ оплаты 1 890,00 ₽ за заказ № {order}")


async def test_a_question_in_the_menu_gets_the_help_and_other_text_the_short_answer(
    harness: Harness,
) -> None:
    anna = harness.person()
    await anna.send("/start")
    seen = await anna.send("помогите")
    assert seen.text.startswith("Как это работает\n1. Заведите кошелёк")
    assert seen.text.endswith(
        "Только наличные? Это подходит: внесите их на кошелёк в терминале QIWI или в салоне "
        "связи либо оплатите счёт прямо в терминале QIWI."
    )
    assert seen.labels[0] == "👛 Завести кошелёк" and "❓ Помощь" in seen.labels
    seen = await anna.send("добрый вечер")
    assert seen.text == "Я понимаю кнопки меню и команды. Выберите, что нужно:"


async def test_questions_while_opening_a_wallet_and_the_number_and_code_still_work(
    harness: Harness,
) -> None:
    anna = harness.person()
    await open_registration(anna)
    seen = await anna.send("зачем вам мой номер?")
    assert seen.text.startswith("Открываем ваш QIWI-кошелёк. Он бесплатный")
    assert anna.reply_keyboard == ["📱 Поделиться номером", "⌨️ Ввести другой номер", "⬅️ Назад"]
    # A number with words around it is still the number the step waits for.
    seen = await anna.send("+7 912 345-67-89 — это мой номер для кошелька")
    assert not seen.text.startswith("Открываем ваш QIWI-кошелёк")
    await anna.share_contact()
    assert anna.last.text.startswith("Введите код из SMS")
    seen = await anna.send("где код?")
    assert seen.text.startswith("Жду код из SMS — 6 цифр из сообщения «📩 SMS от QIWI» выше.")
    assert "этому боту код сообщить можно, больше никому" in seen.text
    assert seen.labels == ["🔁 Отправить ещё раз", "📱 Изменить номер", "🏠 Меню"]
    await anna.send(sms_value(anna))
    assert anna.last.text.startswith("✅ Кошелёк")


async def test_a_question_at_the_key_step_is_deleted_and_costs_no_attempt(
    harness: Harness,
) -> None:
    anna = harness.person()
    secret = await register(anna)
    await fund(harness, PHONE, 500_000)
    order = await order_roses(anna, quantity=1)
    await to_invoice(anna)
    await anna.press("💻 На сайте QIWI")
    seen = await anna.send("где взять ключ?")
    assert seen.text.startswith("Жду секретный ключ — это пароль от кошелька")
    assert seen.labels == ["💳 Вернуться к счёту", "🏠 Меню"]
    assert "где взять ключ?" not in [m.text for m in anna.messages()]
    await anna.send("AAAA-BBBB")
    assert anna.last.text.startswith("Неверный секретный ключ. Осталось 4 попытки.")
    seen = await anna.send(secret)
    assert seen.text.startswith(f"💸 QIWI принял платёж за заказ № {order}")


async def test_questions_at_the_terminal_and_the_sums_and_banknotes_still_work(
    harness: Harness,
) -> None:
    anna = harness.person()
    await register(anna)
    await anna.send("/start")
    await anna.press("💵 Пополнить")
    await anna.press("🏧 Терминал")
    seen = await anna.send("какой номер вводить?")
    assert seen.text.startswith("Вы у терминала QIWI: он зачисляет наличные на QIWI-кошелёк.")
    assert seen.labels == ["📱 +7 912 345-67-89", "⬅️ Назад", "🏠 Меню"]
    await anna.press("📱 +7 912 345-67-89")
    await anna.press("Далее ➡️")
    seen = await anna.send("а сколько можно?")
    assert seen.text.startswith("Сколько собираетесь внести?")
    assert seen.labels == ["Пропустить ➡️", "⬅️ Назад", "🏠 Меню"]
    seen = await anna.send("1000")
    assert "Сумма к зачислению: 1 000,00 ₽" in seen.text
    seen = await anna.send("а сдачу дадут?")
    assert seen.text.startswith(
        "Вставляйте наличные кнопками с купюрами, затем нажмите «✅ Зачислить»"
    )
    assert "500 ₽" in seen.labels and "✅ Зачислить" in seen.labels
    await anna.press("500 ₽", message_id=seen.message_id)
    await anna.press("✅ Зачислить", message_id=seen.message_id)
    assert await harness.services.ledger.balance(wallet_account(PHONE)) == 50_000
    number = receipt_number(anna)
    await anna.send("/start")
    await anna.press("💵 Пополнить")
    await anna.press("🧾 Проверить чек")
    seen = await anna.send("а где номер чека?")
    assert seen.text.startswith("Напишите номер чека — 6 цифр вверху чека")
    seen = await anna.send(str(number))
    assert seen.text.startswith(f"🧾 Чек № {number}")


async def test_questions_when_choosing_a_quantity_and_a_number_to_pay_from(
    harness: Harness,
) -> None:
    anna = harness.person()
    await anna.send("/start")
    await anna.press("🛍 Магазины")
    await anna.press("🏪 Цветочная мастерская «Ромашка»")
    await anna.press("Букеты")
    await anna.press("7 роз · 1 890,00 ₽")
    seen = await anna.send("как купить?")
    assert seen.text.startswith("Вы на карточке товара: выберите количество")
    seen = await anna.send("2")
    assert "Количество: 2" in seen.text
    await anna.press("🛒 Купить", message_id=seen.message_id)
    await anna.press("💳 Оплатить через Робокассу")
    await anna.press("Visa QIWI Wallet")
    seen = await anna.send("какой номер писать?")
    assert seen.text.startswith("Жду номер мобильного, на который выставить счёт на оплату")
    assert seen.labels == ["🏠 Меню"]  # no wallet yet: no number of her own to tap
    boris = harness.person("Борис", phone="+79990000000")
    await register(boris)
    seen = await anna.send("+7 999 000-00-00")
    assert seen.text.startswith("🧾 Счёт на оплату № ")


async def test_a_question_in_english_gets_the_help_in_english(harness: Harness) -> None:
    john = harness.person("John", language_code="en")
    await john.send("/start")
    await john.press("🛍 Shops")
    await john.press("🏪 «Romashka» flower studio")
    await john.press("Bouquets")
    await john.press("7 roses · 1,890.00 ₽")
    seen = await john.press("🛒 Buy")
    order = int(re.search(r"Order No\. (\d+)", seen.text).group(1))  # type: ignore[union-attr]
    seen = await john.send("how do I pay? I only have cash")
    assert seen.text.startswith(f"Order No. {order} (7 роз, 1,890.00 ₽) is waiting for payment")
    assert "🏧 at a QIWI terminal in cash" in seen.text
    assert seen.labels == ["💳 Pay via Robokassa", "🧾 My orders", "🏠 Menu"]
    # The order keeps the name it was sold under; nothing else is left in Russian.
    assert not CYRILLIC.search(seen.text.replace("7 роз", ""))
