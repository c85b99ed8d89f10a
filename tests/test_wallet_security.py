"""Attacks on wallets in the chat: lookalike numbers, squatting, takeovers, parallel guesses."""

from __future__ import annotations

import asyncio

from services.wallet import wallet_account
from tests.harness import Harness
from tests.helpers import PHONE, Someone, World, fund, open_registration, register, sms_value

LOOKALIKE = "+7 916 111-01-0\u0661"  # the last digit is ARABIC-INDIC DIGIT ONE


async def test_a_number_with_a_lookalike_digit_is_not_a_new_number(harness: Harness) -> None:
    anna = harness.person(phone="+79161110101")
    await register(anna)
    boris = harness.person("Борис", phone="+79990000000")
    await boris.send("/start")
    await boris.press("💵 Пополнить")
    await boris.press("🏧 Терминал")
    seen = await boris.send(LOOKALIKE)
    assert seen.text == "Напишите номер обычными цифрами 0–9, например: +7 912 345-67-89."
    assert seen.labels == []
    seen = await boris.send("+7 916 111-01-01")  # the step is kept
    assert seen.text == "Номер: +7 916 111-01-01"
    assert await harness.services.wallets.has_wallet("+7916111010\u0661") is None


# ---- someone else's number: squatting and takeovers (SMS reach only the number's owner) ----

NOT_PROVED = (
    "SMS на номер +7 912 345-67-89 приходят только в тот аккаунт Telegram, у которого этот номер. "
    "Если номер ваш, нажмите «📱 Поделиться номером» в том аккаунте: SMS придёт туда."
)


def sms_in(person: Someone) -> list[str]:
    return [m.text for m in person.bot_messages() if m.text.startswith("📩 SMS")]


async def test_typing_someone_elses_number_sends_no_sms_and_cannot_squat_it(chat: World) -> None:
    anna = chat.person()  # her Telegram account has +7 912 345-67-89
    mallory = chat.person("Мэллори", phone="+79990001111")
    await open_registration(mallory)
    seen = await mallory.send("+7 912 345-67-89")
    assert seen.text == NOT_PROVED
    assert "📱 Поделиться номером" in mallory.reply_keyboard  # the step is kept
    assert sms_in(mallory) == [] and sms_in(anna) == []
    # Anna's number is still free for Anna.
    await register(anna)
    assert (await chat.services.wallets.wallet_of(anna.id)) is not None
    assert (await chat.services.wallets.wallet_of(mallory.id)) is None


async def test_the_sms_follows_the_latest_proof_of_the_number(harness: Harness) -> None:
    anna = harness.person()
    await open_registration(anna)
    await anna.share_contact()
    assert len(sms_in(anna)) == 1
    # The operator gave the number to Boris: his Telegram account has it now.
    boris = harness.person("Борис", phone=PHONE)
    await open_registration(boris)
    await boris.share_contact()
    assert len(sms_in(boris)) == 1
    seen = await anna.send(sms_value(anna))  # Anna's old code no longer opens anything
    assert seen.text.startswith("Этот код больше не действует.")
    await anna.press("📱 Изменить номер")
    seen = await anna.send("+7 912 345-67-89")
    assert seen.text == NOT_PROVED
    await boris.send(sms_value(boris))
    assert boris.last.text.startswith("✅ Кошелёк +7 912 *** ** 89 готов")


async def test_a_blocked_wallet_is_not_reopened_by_someone_who_typed_its_number(
    harness: Harness,
) -> None:
    anna = harness.person()
    await register(anna)
    await fund(harness, PHONE, 500_000)
    await harness.services.operator.deactivate(PHONE)
    await harness.services.operator.reactivate(PHONE)  # the wallet stays blocked
    mallory = harness.person("Мэллори", phone="+79990001111")
    await open_registration(mallory)
    seen = await mallory.send("+7 912 345-67-89")
    assert seen.text == NOT_PROVED
    assert sms_in(mallory) == []
    assert await harness.services.wallets.wallet_of(mallory.id) is None
    # Anna reopens it with the code that comes to her, money and all.
    await anna.send("/start")
    await anna.press("👛 Кошелёк")
    await anna.press("🔁 Зарегистрироваться заново")
    await anna.share_contact()
    await anna.send(sms_value(anna))
    assert anna.last.text == "✅ Кошелёк +7 912 *** ** 89 готов. Баланс 5 000,00 ₽."


async def test_the_terminal_does_not_register_over_a_blocked_wallet(harness: Harness) -> None:
    anna = harness.person()
    await register(anna)
    await fund(harness, PHONE, 700_000)
    await harness.services.operator.deactivate(PHONE)
    await harness.services.operator.reactivate(PHONE)
    mallory = harness.person("Мэллори", phone="+79990001111")
    await mallory.send("/start")
    await mallory.press("💵 Пополнить")
    await mallory.press("🏧 Терминал")
    seen = await mallory.send("+7 912 345-67-89")
    assert seen.text.startswith("Кошелёк на номере +7 912 345-67-89 заблокирован.")
    # A forged «Register here» button, pressed anyway.
    await mallory.press_data(seen.message_id, "t1:reg:0:0")
    assert mallory.last_answer == {
        "text": "Кошелёк на номере +7 912 345-67-89 заблокирован. "
        "Зарегистрируйте его заново в разделе «Кошелёк».",
        "show_alert": True,
    }
    assert sms_in(mallory) == [] and len(sms_in(anna)) == 2  # her code and key, nothing more
    assert await harness.services.wallets.wallet_of(mallory.id) is None
    assert await harness.services.wallets.has_wallet(PHONE) == "blocked"
    assert await harness.services.ledger.balance(wallet_account(PHONE)) == 700_000


async def test_the_terminal_registers_only_the_number_of_who_is_there(harness: Harness) -> None:
    mallory = harness.person("Мэллори", phone="+79990001111")
    await mallory.send("/start")
    await mallory.press("💵 Пополнить")
    await mallory.press("🏧 Терминал")
    await mallory.send("+7 912 345-67-89")  # Anna's number, no wallet yet
    await mallory.press("📝 Зарегистрировать здесь")
    assert mallory.last.text == "Секретный ключ придёт по SMS. " + NOT_PROVED
    assert mallory.reply_keyboard == ["📱 Поделиться номером"]
    assert await harness.services.wallets.has_wallet(PHONE) is None
    # Her own number: sharing it from her account goes straight on with the registration.
    await mallory.send("+7 999 000-11-11")
    await mallory.press("📝 Зарегистрировать здесь")
    await mallory.share_contact()
    assert "Ваш секретный ключ:" in sms_in(mallory)[-1]
    assert mallory.last.text.startswith("✅ Кошелёк +7 999 000-11-11 открыт, вы в нём.")
    assert "Сколько хотите зачислить?" in mallory.last.text
    assert mallory.reply_keyboard == []
    assert await harness.services.wallets.has_wallet("+79990001111") == "active"


async def test_a_new_key_goes_by_sms_to_the_numbers_owner_only(harness: Harness) -> None:
    anna = harness.person()
    secret = await register(anna)
    boris = harness.person("Борис", phone="+79990000000")
    await open_registration(boris)
    await boris.send(PHONE)
    await boris.press("🔑 Войти по ключу")
    await boris.send(secret)
    await boris.press("🔑 Сменить ключ")
    seen = await boris.send(secret)
    assert seen.text == (
        "🔑 Секретный ключ изменён: новый пришёл по SMS на +7 912 *** ** 89. "
        "Старый больше не действует."
    )
    assert sms_in(boris) == []
    new = sms_value(anna)
    assert new != secret
    await harness.services.wallets.verify_secret(PHONE, new, anna.id)


# ---- parallel guesses through the chat ------------------------------------------------------


async def test_parallel_key_guesses_from_many_accounts_stop_at_the_cap(harness: Harness) -> None:
    anna = harness.person()
    secret = await register(anna)
    strangers = [harness.person(f"Гость {n}", phone=f"+7999100{n:04d}") for n in range(25)]
    for stranger in strangers:
        await open_registration(stranger)
        await stranger.send(PHONE)
        await stranger.press("🔑 Войти по ключу")
    guesses = [f"AAAA-AA{a}{b}" for a in "BCDEF" for b in "BCDEF"][:25]
    guesses[21] = secret  # the 22nd guess is right
    await asyncio.gather(
        *(
            harness.feed(harness.engine.send_text(stranger.id, guess))
            for stranger, guess in zip(strangers, guesses, strict=True)
        )
    )
    lucky = strangers[21]
    assert lucky.last.text.startswith("Слишком много неверных попыток. Попробуйте снова после")
    for stranger in strangers:
        assert await harness.services.wallets.wallet_of(stranger.id) is None
    answers = [s.last.text for s in strangers]
    assert sum(a.startswith("Неверный секретный ключ.") for a in answers) == 20


async def test_a_wallet_nobody_has_proved_gets_its_new_key_after_the_number_is_shared(
    harness: Harness,
) -> None:
    anna = harness.person()
    secret = await register(anna)
    # A wallet opened before numbers were proved: no account is known to have it.
    await harness.services.db.transaction(lambda c: c.execute("DELETE FROM phone_owners"))
    await anna.press("👛 Кошелёк")
    await anna.press("🔑 Сменить ключ")
    seen = await anna.send(secret)
    assert seen.text == "Новый ключ придёт по SMS. " + NOT_PROVED
    assert anna.reply_keyboard == ["📱 Поделиться номером"]
    await anna.share_contact()
    assert anna.bot_messages()[-2].text == (
        "✅ Номер +7 912 345-67-89 подтверждён: SMS на него будут приходить в этот чат."
    )
    assert anna.reply_keyboard == []
    await anna.press("👛 Кошелёк")
    await anna.press("🔑 Сменить ключ")
    await anna.send(secret)
    assert anna.last.text == "🔑 Секретный ключ изменён. Старый больше не действует."
    assert sms_value(anna) != secret
