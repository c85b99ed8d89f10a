"""First contact, as a person lives it: greeting, menu, help, FAQ, cancel, junk input."""

from __future__ import annotations

from tests.harness import Harness
from tests.live import LiveHarness

World = Harness | LiveHarness


async def test_start_greets_in_russian_and_shows_the_menu(chat: World) -> None:
    anna = chat.person()
    seen = await anna.send("/start")
    assert "помогаю платить в магазинах Робокассы через QIWI-кошелёк" in seen.text
    assert "❓ Помощь" in seen.labels
    assert "ℹ️ О Робокассе" in seen.labels


async def test_help_explains_the_steps_and_leads_back_to_the_menu(chat: World) -> None:
    anna = chat.person()
    await anna.send("/start")
    seen = await anna.press("❓ Помощь")
    assert "Заведите кошелёк" in seen.text and "/cancel" in seen.text
    assert anna.last_answer is not None  # the press was answered
    seen = await anna.press("🏠 Меню")
    assert seen.text.startswith("Главное меню")
    assert "❓ Помощь" in seen.labels


async def test_help_command(chat: World) -> None:
    anna = chat.person()
    seen = await anna.send("/help")
    assert "Как это работает" in seen.text


async def test_about_robokassa_tells_the_facts(chat: World) -> None:
    anna = chat.person()
    await anna.send("/start")
    seen = await anna.press("ℹ️ О Робокассе")
    assert "2003" in seen.text
    assert "30 000" in seen.text
    assert "без комиссии" in seen.text
    assert "🏠 Меню" in seen.labels


async def test_cancel_without_a_journey_says_there_is_nothing_to_cancel(chat: World) -> None:
    anna = chat.person()
    await anna.send("/cancel")
    texts = [m.text for m in anna.bot_messages()]
    assert texts[0] == "Отменять нечего."
    assert anna.last.text.startswith("Главное меню")


async def test_junk_in_the_menu_gets_a_short_russian_answer(chat: World) -> None:
    anna = chat.person()
    await anna.send("/start")
    seen = await anna.send("привет")
    assert seen.text == "Я понимаю кнопки меню и команды. Выберите, что нужно:"
    assert "❓ Помощь" in seen.labels
    seen = await anna.send("привет, где мои деньги?")  # a question gets the help itself
    assert seen.text.startswith("Как это работает")
    assert "❓ Помощь" in seen.labels
    for kind in ("sticker", "photo", "voice"):
        seen = await anna.send_media(kind)
        assert seen.text.startswith("Стикеры, фото и голосовые я не читаю")
    seen = await anna.send("/pay_everything")
    assert seen.text == "Такой команды нет. Попробуйте /start, /help или /cancel."


async def test_stale_or_forged_button_is_answered_not_crashed(chat: World) -> None:
    anna = chat.person()
    seen = await anna.send("/start")
    await anna.press_data(seen.message_id, "m0:nonsense")
    assert anna.last_answer == {
        "text": "Эта кнопка устарела. Откройте меню командой /start.",
        "show_alert": True,
    }


async def test_english_speaker_gets_english(chat: World) -> None:
    john = chat.person("John", language_code="en")
    seen = await john.send("/start")
    assert seen.text.startswith("Hello! I help you pay in Robokassa shops")
    assert "❓ Help" in seen.labels


async def test_commands_are_registered_in_both_languages(harness: Harness) -> None:
    from bot.app import register_commands
    from bot.i18n import make_i18n

    await register_commands(harness.bot, make_i18n())
    ru = {c["command"]: c["description"] for c in harness.engine.commands[""]}
    en = {c["command"]: c["description"] for c in harness.engine.commands["en"]}
    assert ru == {
        "start": "Главное меню",
        "help": "Как это работает",
        "cancel": "Отменить текущий шаг",
        "orders": "Заказы магазина (для владельцев)",
    }
    assert en["cancel"] == "Stop the current step"


async def test_a_failing_handler_tells_the_user_and_the_bot_keeps_running(harness: Harness) -> None:
    from aiogram import Router
    from aiogram.filters import Command

    boom = Router(name="boom")

    @boom.message(Command("boom"))
    async def explode(message: object) -> None:
        raise RuntimeError("kaboom")

    harness.dp.sub_routers.insert(1, boom)
    boom._parent_router = harness.dp  # ahead of the fallback router, like a journey router
    anna = harness.person()
    seen = await anna.send("/boom")
    assert seen.text == "У нас что-то пошло не так. Попробуйте ещё раз или отправьте /cancel."
    assert "Traceback" not in seen.text
    assert [r.getMessage() for r in harness.errors.records] == ["update 1 failed: RuntimeError"]
    harness.errors.records.clear()
    seen = await anna.send("/start")
    assert "Здравствуйте" in seen.text
