"""Top-up journeys in the chat: terminal (banknotes, receipt, delays) and mobile shop."""

from __future__ import annotations

import pytest

from services.ledger import Ledger
from services.wallet import wallet_account
from tests.harness import Harness, Person
from tests.helpers import receipt_number, register, to_cash_screen
from tests.live import LiveHarness

World = Harness | LiveHarness
PHONE = "+79123456789"


async def balance(chat: World) -> int:
    return await chat.services.ledger.balance(wallet_account(PHONE))


async def test_terminal_top_up_with_three_banknotes(chat: World) -> None:
    anna = chat.person()
    await register(anna)
    await to_cash_screen(anna, intended="1 150")
    for note in ("1000 ₽", "100 ₽", "50 ₽"):
        seen = await anna.press(note)
    assert "Сумма к зачислению: 1 150,00 ₽" in seen.text
    assert "Внесено: 1 150,00 ₽" in seen.text
    assert "Будет зачислено: 1 150,00 ₽" in seen.text
    assert anna.last_answer == {"text": "Принято: 50 ₽", "show_alert": False}
    seen = await anna.press("✅ Зачислить")
    assert "ЧЕК № 100001" in seen.text
    assert "Купюры: 1000 + 100 + 50" in seen.text
    assert "Зачислено: 1 150,00 ₽" in seen.text and "Статус: Зачислено" in seen.text
    assert "Сохраните чек" in seen.text
    assert await balance(chat) == 115000
    seen = await anna.press("👛 Кошелёк")
    assert "Баланс: 1 150,00 ₽" in seen.text
    assert (await chat.services.ledger.check_invariants()).ok


async def test_commission_is_shown_and_deducted(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from decimal import Decimal

    from bot.settings import CashSettings
    from tests.harness import running_harness

    async with running_harness(tmp_path, cash=CashSettings(commission_percent=Decimal("2.5"))) as h:
        anna = h.person()
        await register(anna)
        await anna.send("/start")
        await anna.press("💵 Пополнить")
        await anna.press("🏧 Терминал")
        await anna.press("📱 +7 912 345-67-89")
        await anna.press("Далее ➡️")
        seen = await anna.press("Пропустить ➡️")
        assert "Комиссия: 2,5 %" in seen.text
        seen = await anna.press("1000 ₽")
        assert "Будет зачислено: 975,00 ₽" in seen.text
        seen = await anna.press("✅ Зачислить")
        assert "Комиссия: 25,00 ₽" in seen.text and "Зачислено: 975,00 ₽" in seen.text


async def test_double_pay_credits_once(chat: World) -> None:
    anna = chat.person()
    await register(anna)
    await to_cash_screen(anna)
    cash_screen = await anna.press("500 ₽")
    await anna.press("✅ Зачислить", message_id=cash_screen.message_id)
    number = receipt_number(anna)
    # The same button again (a double tap reaching the bot twice).
    await anna.press_data(
        cash_screen.message_id, cash_screen.raw["inline_keyboard"][3][0]["callback_data"]
    )
    assert receipt_number(anna) == number
    assert await balance(chat) == 50000
    rows = await chat.services.db.fetchall("SELECT * FROM receipts")
    assert len(rows) == 1


async def test_pay_with_nothing_inserted(chat: World) -> None:
    anna = chat.person()
    await register(anna)
    await to_cash_screen(anna)
    await anna.press("✅ Зачислить")
    assert anna.last_answer == {"text": "Сначала вставьте купюры.", "show_alert": True}
    assert "Внесено: 0,00 ₽" in anna.last.text


async def test_banknote_past_the_cap_is_refused(chat: World) -> None:
    anna = chat.person()
    await register(anna)
    await to_cash_screen(anna)
    for _ in range(2):
        await anna.press("5000 ₽")
    await anna.press("2000 ₽")
    seen = await anna.press("5000 ₽")
    assert anna.last_answer == {
        "text": "Купюра не принята: на кошельке может быть не больше 15 000,00 ₽. "
        "Можно внести ещё до 3 000,00 ₽.",
        "show_alert": True,
    }
    assert "Внесено: 12 000,00 ₽" in seen.text


async def test_typed_banknotes_and_coins(chat: World) -> None:
    anna = chat.person()
    await register(anna)
    await to_cash_screen(anna)
    seen = await anna.send("100")
    assert "Внесено: 100,00 ₽" in seen.text
    for junk in ("5", "25", "сто рублей", "-100"):
        seen = await anna.send(junk)
        assert seen.text.startswith("Терминал принимает только купюры: 10, 50, 100")
    seen = await anna.send_media("sticker")
    assert seen.text == "Терминал принимает купюры: нажмите кнопку с купюрой."


async def test_cancel_with_cash_inside_credits_it_with_a_receipt(chat: World) -> None:
    anna = chat.person()
    await register(anna)
    await to_cash_screen(anna)
    await anna.press("200 ₽")
    await anna.send("/cancel")
    texts = [m.text for m in anna.bot_messages()[-3:]]
    assert texts[0].startswith("Терминал не выдаёт деньги обратно, поэтому внесённое зачислено.")
    assert "Зачислено: 200,00 ₽" in texts[0]
    assert texts[1] == "Отменено."
    assert await balance(chat) == 20000


async def test_leave_button_without_cash(chat: World) -> None:
    anna = chat.person()
    await register(anna)
    await to_cash_screen(anna)
    seen = await anna.press("✖️ Отойти от терминала")
    assert seen.text == "Вы отошли от терминала. Денег внесено не было."


async def test_old_banknote_button_from_a_finished_visit(chat: World) -> None:
    anna = chat.person()
    await register(anna)
    await to_cash_screen(anna)
    screen = await anna.press("100 ₽")
    await anna.press("✅ Зачислить")
    data = screen.raw["inline_keyboard"][0][0]["callback_data"]
    await anna.press_data(screen.message_id, data)
    assert anna.last_answer == {
        "text": "Этот визит к терминалу уже завершён: чек № 100001, зачислено 100,00 ₽.",
        "show_alert": True,
    }
    assert await balance(chat) == 10000


async def test_delayed_receipt_pending_then_credited_and_notified_once(harness: Harness) -> None:
    anna = harness.person()
    await register(anna)
    harness.services.cash.delayed = lambda: True
    await to_cash_screen(anna)
    await anna.press("1000 ₽")
    seen = await anna.press("✅ Зачислить")
    assert "Статус: В обработке" in seen.text and "Я напишу, когда деньги поступят." in seen.text
    number = receipt_number(anna)
    await anna.press("🧾 Проверить чек")
    seen = await anna.send(str(number))
    assert "к зачислению 1 000,00 ₽ на +7 912 *** ** 89, ожидаем до 28.11.2026 13:00" in seen.text
    assert await harness.services.ledger.balance(wallet_account(PHONE)) == 0
    await harness.jobs.run_once()
    assert anna.last.text == seen.text  # nothing due yet
    harness.clock.advance(hours=1)
    await harness.jobs.run_once()
    await harness.jobs.run_once()
    note = anna.last
    assert note.text == (
        f"💰 Деньги по чеку № {number} зачислены: 1 000,00 ₽ на кошелёк +7 912 345-67-89."
    )
    assert sum(1 for m in anna.bot_messages() if m.text.startswith("💰")) == 1
    assert await harness.services.ledger.balance(wallet_account(PHONE)) == 100000
    await anna.press("🧾 Проверить чек")
    seen = await anna.send(str(number))
    assert "— зачислено 28.11.2026 13:00" in seen.text


async def test_restart_between_insert_and_credit(harness: Harness, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from tests.harness import running_harness

    anna = harness.person()
    await register(anna)
    await to_cash_screen(anna)
    screen = await anna.press("500 ₽")
    async with running_harness(tmp_path) as restarted:
        restarted.engine = harness.engine
        restarted.session.engine = harness.engine
        restarted.clock.advance(seconds=0)
        restarted.services.cash.delayed = lambda: True
        again = Person(restarted, anna.id)
        await again.press("✅ Зачислить", message_id=screen.message_id)
        assert "Статус: В обработке" in again.last.text
        restarted.clock.advance(hours=2)
        await restarted.jobs.run_once()
        assert again.last.text.startswith("💰 Деньги по чеку № 100001 зачислены: 500,00 ₽")
        assert await restarted.services.ledger.balance(wallet_account(PHONE)) == 50000


async def test_mobile_shop_instant(chat: World) -> None:
    anna = chat.person()
    await register(anna)
    await anna.send("/start")
    await anna.press("💵 Пополнить")
    seen = await anna.press("🏬 Салон связи")
    assert seen.text.startswith("🏬 Салон связи. Назовите консультанту номер")
    seen = await anna.send("+7 912 345 67 89")
    assert seen.text.startswith("Какую сумму консультанту зачислить на +7 912 345-67-89?")
    for junk, answer in (
        ("0", "Сумма должна быть больше нуля. Например: 1 000 или 250,50."),
        ("-5", "Сумма должна быть больше нуля. Например: 1 000 или 250,50."),
        ("10,555", "Копейки — не больше двух цифр после запятой. Например: 250,50."),
        ("много", "Напишите сумму в рублях цифрами, например 1 000 или 250,50."),
        ("99999999999", "Слишком много для одной операции. Напишите сумму поменьше."),
        ("0,50", "Консультант принимает от 1,00 ₽ до 15 000,00 ₽ за раз."),
    ):
        seen = await anna.send(junk)
        assert seen.text == answer
    seen = await anna.send("1 250,50")
    assert seen.text.startswith("Консультант зачислил 1 250,50 ₽ на +7 912 *** ** 89.")
    assert "Салон связи S-0102" in seen.text
    assert await balance(chat) == 125050


async def test_mobile_shop_delayed(harness: Harness) -> None:
    anna = harness.person()
    await register(anna)
    harness.services.cash.delayed = lambda: True
    await anna.send("/start")
    await anna.press("💵 Пополнить")
    await anna.press("🏬 Салон связи")
    await anna.press("📱 +7 912 345-67-89")
    seen = await anna.send("300")
    assert seen.text.startswith("Консультант принял 300,00 ₽. Зачисление в обработке.")
    harness.clock.advance(hours=1)
    await harness.jobs.run_once()
    assert anna.last.text.startswith("💰 Деньги по чеку № 100001 зачислены: 300,00 ₽")


async def test_number_without_a_wallet_is_offered_registration_at_the_terminal(
    chat: World,
) -> None:
    boris = chat.person("Борис", phone="+79160001122")
    await boris.send("/start")
    await boris.press("💵 Пополнить")
    await boris.press("🏧 Терминал")
    seen = await boris.send("8 916 000 11 22")
    assert seen.text.startswith("На номере +7 916 000-11-22 нет QIWI-кошелька.")
    assert seen.labels[:2] == ["📝 Зарегистрировать здесь", "👛 Зарегистрировать в боте"]
    await boris.press("📝 Зарегистрировать здесь")
    await boris.share_contact()  # the key comes by SMS to the account that has the number
    sms = boris.bot_messages()[-2]
    assert "Ваш секретный ключ:" in sms.text
    seen = await boris.press("Пропустить ➡️")
    seen = await boris.press("100 ₽")
    await boris.press("✅ Зачислить")
    info = await chat.services.wallets.wallet_of(boris.id)
    assert info is not None and info.balance == 10000


async def test_deactivated_number_at_the_terminal(chat: World) -> None:
    anna = chat.person()
    await register(anna)
    await chat.services.operator.deactivate(PHONE)
    await anna.send("/start")
    await anna.press("💵 Пополнить")
    await anna.press("🏧 Терминал")
    seen = await anna.send("+79123456789")
    assert seen.text.startswith("Кошелёк на номере +7 912 345-67-89 заблокирован.")


async def test_wrong_receipt_numbers(chat: World) -> None:
    anna = chat.person()
    await anna.send("/start")
    await anna.press("💵 Пополнить")
    await anna.press("🧾 Проверить чек")
    for junk in ("12", "abcdef", "1000000", "🙂"):
        seen = await anna.send(junk)
        assert seen.text == "Номер чека — 6 цифр, например 100123."
    seen = await anna.send("123456")
    assert seen.text == "Чек № 123456 не найден. Проверьте номер вверху чека."
    seen = await anna.send_media("photo")
    assert seen.text == "Жду номер чека — 6 цифр."


@pytest.mark.parametrize("kind", ["sticker", "photo", "voice"])
async def test_junk_in_top_up_steps_keeps_the_step(harness: Harness, kind: str) -> None:
    anna = harness.person()
    await register(anna)
    await anna.send("/start")
    await anna.press("💵 Пополнить")
    await anna.press("🏧 Терминал")
    seen = await anna.send_media(kind)
    assert seen.text == "Жду номер телефона, например +7 912 345-67-89."
    seen = await anna.send("not a phone")
    assert seen.text.startswith("Не похоже на номер телефона.")
    await anna.press("📱 +7 912 345-67-89")
    await anna.press("Далее ➡️")
    seen = await anna.send_media(kind)
    assert seen.text == "Жду сумму, например 1 000, или нажмите «Пропустить»."
    seen = await anna.send("сто")
    assert seen.text == "Напишите сумму в рублях цифрами, например 1 000 или 250,50."
    seen = await anna.send("100")
    assert "Сумма к зачислению: 100,00 ₽" in seen.text


async def test_ledger_invariants_after_a_mixed_day(harness: Harness) -> None:
    ledger: Ledger = harness.services.ledger
    anna = harness.person()
    await register(anna)
    await to_cash_screen(anna)
    await anna.press("5000 ₽")
    await anna.press("✅ Зачислить")
    await anna.send("/start")
    await anna.press("💵 Пополнить")
    await anna.press("🏬 Салон связи")
    await anna.press("📱 +7 912 345-67-89")
    await anna.send("99,99")
    report = await ledger.check_invariants()
    assert report.ok, report
    assert await ledger.balance(wallet_account(PHONE)) == 509999


async def test_the_same_press_delivered_twice_inserts_one_banknote(harness: Harness) -> None:
    anna = harness.person()
    await register(anna)
    await to_cash_screen(anna)
    screen = anna.last
    update = harness.engine.press(anna.id, screen.message_id, data=screen.data_of("500 ₽"))
    await harness.feed(update)
    # After a crash the same update can arrive again: it must not insert a second banknote.
    harness.engine.callbacks[update["callback_query"]["id"]].answered = False
    await harness.feed(update)
    assert "Внесено: 500,00 ₽" in anna.bot_messages()[-1].text
    await anna.press("✅ Зачислить")
    assert await balance(harness) == 50000
