"""The wallet journey in the chat: registration, sign-in, the wallet screen, and bad input."""

from __future__ import annotations

import pytest

from tests.harness import Harness, Person
from tests.helpers import PHONE, World, open_registration, register, sms_value


async def test_full_registration_with_the_contact_button(chat: World) -> None:
    anna = chat.person()
    await open_registration(anna)
    seen = await anna.share_contact()
    sms, prompt = anna.bot_messages()[-2:]
    assert sms.text.startswith("📩 SMS от QIWI на +7 912 *** ** 89")
    assert "Код подтверждения:" in sms.text
    assert prompt.text == "Введите код из SMS — 6 цифр. Код действует 5 минут."
    assert anna.reply_keyboard == []  # the contact keyboard is gone
    assert seen.labels == ["🔁 Отправить ещё раз", "📱 Изменить номер", "🏠 Меню"]
    await anna.send(sms_value(anna))
    secret_sms, ready = anna.bot_messages()[-2:]
    assert "Ваш секретный ключ:" in secret_sms.text and "Сохраните его" in secret_sms.text
    assert ready.text == "✅ Кошелёк +7 912 *** ** 89 готов. Баланс 0,00 ₽."
    seen = await anna.press("👛 Кошелёк")
    assert seen.text.startswith("👛 Кошелёк +7 912 345-67-89\nБаланс: 0,00 ₽")
    assert "баланс до 15 000,00 ₽, платежи до 40 000,00 ₽ в месяц" in seen.text
    seen = await anna.press("🏠 Меню")
    assert "👛 Кошелёк" in seen.labels  # the menu now knows about the wallet


async def test_typed_number_path_and_resend_cool_down(chat: World) -> None:
    anna = chat.person(phone="+79160001122")
    await open_registration(anna)
    seen = await anna.press("⌨️ Ввести другой номер")
    assert seen.text == "Напишите номер так: +7 912 345-67-89."
    seen = await anna.send("8 (916) 000-11-22")
    # The SMS comes only to the account that has the number: she shares it from here.
    assert seen.text.startswith("SMS на номер +7 916 000-11-22 приходят только в тот аккаунт")
    await anna.share_contact()
    assert anna.bot_messages()[-2].text.startswith("📩 SMS от QIWI на +7 916 *** ** 22")
    first = sms_value(anna)
    await anna.press("🔁 Отправить ещё раз")
    assert anna.last_answer == {"text": "Новый код можно отправить через 60 с.", "show_alert": True}
    chat.clock.advance(seconds=61)
    await anna.press("🔁 Отправить ещё раз")
    second = sms_value(anna)
    assert anna.last_answer == {"text": "Код отправлен ещё раз.", "show_alert": False}
    if first != second:
        seen = await anna.send(first)
        assert seen.text.startswith("Неверный код. Осталось 4 попытки.")
    await anna.send(second)
    assert anna.last.text.startswith("✅ Кошелёк +7 916 *** ** 22 готов")


async def test_expired_code_offers_a_new_one(chat: World) -> None:
    anna = chat.person()
    await open_registration(anna)
    await anna.share_contact()
    code = sms_value(anna)
    chat.clock.advance(minutes=6)
    seen = await anna.send(code)
    assert seen.text == "Срок действия кода истёк. Нажмите «Отправить ещё раз»."
    await anna.press("🔁 Отправить ещё раз")
    await anna.send(sms_value(anna))
    assert anna.last.text.startswith("✅ Кошелёк")


async def test_attempt_limit_with_cool_down(chat: World) -> None:
    anna = chat.person()
    await open_registration(anna)
    await anna.share_contact()
    code = sms_value(anna)
    wrong = "000000" if code != "000000" else "111111"
    answers = [(await anna.send(wrong)).text for _ in range(5)]
    assert answers[0] == "Неверный код. Осталось 4 попытки."
    assert answers[3] == "Неверный код. Осталась 1 попытка."
    assert answers[4] == "Слишком много неверных попыток. Попробуйте снова после 12:15."
    seen = await anna.send(code)  # the 6th try, even right, waits for the cool-down
    assert seen.text.startswith("Слишком много неверных попыток")
    chat.clock.advance(minutes=16)
    await anna.press("🔁 Отправить ещё раз")
    await anna.send(sms_value(anna))
    assert anna.last.text.startswith("✅ Кошелёк")


async def test_deactivated_number_refused_then_wallet_blocked_then_registered_again(
    chat: World,
) -> None:
    operator = chat.services.operator
    await operator.deactivate("+79160001122")
    anna = chat.person()
    await open_registration(anna)
    seen = await anna.send("+7 916 000-11-22")
    assert seen.text == (
        "Номер не обслуживается оператором — SMS не дойдёт. Укажите действующий номер."
    )
    await anna.share_contact()
    await anna.send(sms_value(anna))
    await operator.deactivate(PHONE)
    await anna.send("/start")
    seen = await anna.press("👛 Кошелёк")
    assert seen.text.startswith("Кошелёк +7 912 345-67-89 заблокирован")
    seen = await anna.press("🔁 Зарегистрироваться заново")
    seen = await anna.share_contact()
    assert seen.text.startswith("Номер не обслуживается оператором")
    await operator.reactivate(PHONE)
    await anna.share_contact()
    assert "был заблокирован: после ввода кода он снова заработает" in anna.last.text
    await anna.send(sms_value(anna))
    assert anna.last.text.startswith("✅ Кошелёк +7 912 *** ** 89 готов")


async def test_sign_in_from_a_second_telegram_account(chat: World) -> None:
    anna = chat.person()
    secret = await register(anna)
    boris = chat.person("Борис", phone="+79990000000")
    await open_registration(boris)
    seen = await boris.send(PHONE)
    assert seen.text == "На номер +7 912 345-67-89 уже есть кошелёк. Войти по секретному ключу?"
    seen = await boris.press("🔑 Войти по ключу")
    assert seen.text.startswith("Введите секретный ключ кошелька +7 912 *** ** 89")
    seen = await boris.send("WRNG-KEY2")
    assert seen.text == "Неверный секретный ключ. Осталось 4 попытки."
    await boris.send(secret)
    assert boris.last.text.startswith("✅ Вы вошли в кошелёк.\n\n👛 Кошелёк +7 912 345-67-89")
    # The message with the key was removed from the chat.
    assert secret not in [m.text for m in boris.messages() if m.sender == "user"]


async def test_wrong_secret_is_limited_in_the_chat(chat: World) -> None:
    anna = chat.person()
    await register(anna)
    boris = chat.person("Борис", phone="+79990000000")
    await open_registration(boris)
    await boris.send(PHONE)
    await boris.press("🔑 Войти по ключу")
    for _ in range(4):
        await boris.send("AAAA-BBBB")
    seen = await boris.send("AAAA-BBBB")
    assert seen.text.startswith("Слишком много неверных попыток. Попробуйте снова после")


async def test_history_shows_each_movement(chat: World) -> None:
    anna = chat.person()
    await register(anna)
    ledger = chat.services.ledger
    await ledger.open_account("external:cash", "external", allow_negative=True)
    await ledger.open_account("shop:books", "shop")
    await chat.services.wallets.credit(PHONE, "external:cash", 125050, "t1", reference="1001")
    chat.clock.advance(minutes=5)
    await chat.services.wallets.pay(PHONE, "shop:books", 35000, "p1", reference="42")
    await anna.send("/start")
    await anna.press("👛 Кошелёк")
    seen = await anna.press("📜 История")
    assert seen.text == (
        "📜 История кошелька +7 912 *** ** 89\n\n"
        "28.11.2026 12:05 · −350,00 ₽\nмагазин · № 42\n\n"
        "28.11.2026 12:00 · +1 250,50 ₽\nналичные · № 1001"
    )


async def test_history_pages(chat: World) -> None:
    anna = chat.person()
    await register(anna)
    await chat.services.ledger.open_account("external:cash", "external", allow_negative=True)
    for n in range(7):
        await chat.services.wallets.credit(PHONE, "external:cash", 100 * (n + 1), f"t{n}")
    await anna.send("/start")
    await anna.press("👛 Кошелёк")
    seen = await anna.press("📜 История")
    assert seen.text.count("₽") == 5 and "+7,00 ₽" in seen.text
    seen = await anna.press("⬅️ Раньше")
    assert seen.text.count("₽") == 2 and "+1,00 ₽" in seen.text
    assert "⬅️ Раньше" not in seen.labels


async def test_change_secret_and_sign_out(chat: World) -> None:
    anna = chat.person()
    old = await register(anna)
    await anna.press("👛 Кошелёк")
    await anna.press("🔑 Сменить ключ")
    await anna.send(old)
    new = sms_value(anna)
    assert new != old
    assert anna.last.text == "🔑 Секретный ключ изменён. Старый больше не действует."
    await anna.press("👛 Кошелёк")
    await anna.press("🚪 Выйти из кошелька")
    seen = await anna.press("🚪 Да, выйти")
    assert seen.text == "Вы вышли из кошелька."
    assert "👛 Завести кошелёк" in seen.labels


BAD_PHONES = [
    ("12345", "Не похоже на номер телефона. Напишите его так: +7 912 345-67-89."),
    (
        "+380 67 123 45 67",
        "Подходят только российские номера (+7). Напишите номер так: +7 912 345-67-89.",
    ),
    (
        "+7 495 123-45-67",
        "Нужен номер мобильного: он начинается с +7 9. Например: +7 912 345-67-89.",
    ),
    ("😀" * 3, "Не похоже на номер телефона. Напишите его так: +7 912 345-67-89."),
    ("x" * 3000, "Не похоже на номер телефона. Напишите его так: +7 912 345-67-89."),
]


@pytest.mark.parametrize(("text", "answer"), BAD_PHONES)
async def test_bad_numbers_get_an_example_and_keep_the_step(
    chat: World, text: str, answer: str
) -> None:
    anna = chat.person()
    await open_registration(anna)
    seen = await anna.send(text)
    assert seen.text == answer
    await anna.share_contact()
    assert anna.bot_messages()[-2].text.startswith("📩 SMS от QIWI")


async def test_someone_elses_contact_is_refused(harness: Harness) -> None:
    anna = harness.person()
    await open_registration(anna)
    seen = await anna.share_contact(phone="+79001112233", owner_id=999)
    assert seen.text.startswith("Это чужой контакт.")
    await anna.share_contact()
    assert sms_value(anna)


@pytest.mark.parametrize("kind", ["sticker", "photo", "voice"])
async def test_media_in_every_step_keeps_the_step(chat: World, kind: str) -> None:
    anna = chat.person()
    await open_registration(anna)
    seen = await anna.send_media(kind)
    assert seen.text.startswith("Жду номер телефона")
    await anna.share_contact()
    seen = await anna.send_media(kind)
    assert seen.text == "Жду код из SMS — 6 цифр."
    for junk in ("abc", "12 34", "🙂", "1234567", "-123456"):
        seen = await anna.send(junk)
        assert seen.text == "Код — это 6 цифр из SMS, например 123456."
    await anna.send(sms_value(anna))
    assert anna.last.text.startswith("✅ Кошелёк")


async def test_cancel_in_every_step(chat: World) -> None:
    anna = chat.person()
    await open_registration(anna)
    await anna.send("/cancel")
    assert anna.bot_messages()[-2].text == "Отменено."
    assert anna.reply_keyboard == []
    await anna.press("👛 Завести кошелёк")
    await anna.share_contact()
    await anna.send("/cancel")
    assert anna.bot_messages()[-2].text == "Отменено."
    seen = await anna.send("123456")  # no longer in the code step
    assert seen.text == "Я понимаю кнопки меню и команды. Выберите, что нужно:"


async def test_back_button_leaves_the_number_step(chat: World) -> None:
    anna = chat.person()
    await open_registration(anna)
    seen = await anna.press("⬅️ Назад")
    assert seen.text == "Главное меню. Что сделаем?"
    assert anna.reply_keyboard == []


async def test_old_button_from_a_finished_registration_fails_soft(chat: World) -> None:
    anna = chat.person()
    await open_registration(anna)
    await anna.share_contact()
    code_prompt = anna.last
    await anna.send(sms_value(anna))
    await anna.press("🔁 Отправить ещё раз", message_id=code_prompt.message_id)
    assert anna.last_answer == {
        "text": "Эта кнопка устарела. Откройте меню командой /start.",
        "show_alert": True,
    }


async def test_conversation_survives_a_restart(harness: Harness, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.harness import running_harness

    anna = harness.person()
    await open_registration(anna)
    await anna.share_contact()
    code = sms_value(anna)
    async with running_harness(tmp_path) as restarted:
        # Same database, new dispatcher: the person is still in the code step.
        restarted.engine = harness.engine
        restarted.session.engine = harness.engine
        again = Person(restarted, anna.id)
        await again.send(code)
        assert again.last.text.startswith("✅ Кошелёк +7 912 *** ** 89 готов")
