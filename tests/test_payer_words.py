"""Words a first-time payer reads right: the key is the wallet's password and only this bot may
have it, «счёт» is a bill to pay, the terminal credits a wallet, Visa QIWI Wallet is no card,
the identification level is nothing to worry about, and stock is counted in bouquets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.settings import DEMO_CATALOGUE
from services.catalogue import CatalogueError, load_catalogue
from tests.harness import Harness
from tests.helpers import (
    PHONE,
    fund,
    open_item,
    open_registration,
    order_roses,
    register,
    sms_value,
    to_cash_screen,
    to_invoice,
)

DELETED = "Сообщение с ключом я сразу удалю — для безопасности."
CYRILLIC = re.compile(r"[А-Яа-яЁё]")


async def test_the_secret_key_is_the_wallets_password_and_only_this_bot_may_have_it(
    harness: Harness,
) -> None:
    anna = harness.person()
    await open_registration(anna)
    await anna.share_contact()
    code_sms = anna.bot_messages()[-2].text
    assert "Введите его только в этом боте и больше никому не сообщайте." in code_sms
    await anna.send(sms_value(anna))
    key_sms = anna.bot_messages()[-2].text
    assert key_sms.startswith("📩 SMS от QIWI")
    assert "Ваш секретный ключ:" in key_sms
    assert "Это пароль от кошелька: с ним входят в кошелёк и оплачивают счета на сайте QIWI." in (
        key_sms
    )
    assert "никому, кроме этого бота, не сообщайте" in key_sms
    assert "он нужен для оплаты" not in key_sms


async def test_every_key_prompt_says_the_message_is_deleted_and_it_is(harness: Harness) -> None:
    anna = harness.person()
    secret = await register(anna)
    await fund(harness, PHONE, 500_000)
    await order_roses(anna, quantity=1)
    await to_invoice(anna)
    seen = await anna.press("💻 На сайте QIWI")
    assert DELETED in seen.text
    seen = await anna.send(secret)
    assert seen.text.startswith("💸 QIWI принял платёж")
    assert secret not in [m.text for m in anna.messages()]  # the key's message is gone

    await anna.send("/start")
    await anna.press("👛 Кошелёк")
    seen = await anna.press("🔑 Сменить ключ")
    assert seen.text == "Введите текущий секретный ключ. " + DELETED
    await anna.send(secret)
    assert secret not in [m.text for m in anna.messages()]

    boris = harness.person("Борис", phone="+79990000000")
    await open_registration(boris)
    await boris.send(PHONE)
    seen = await boris.press("🔑 Войти по ключу")
    assert seen.text == (
        "Введите секретный ключ кошелька +7 912 *** ** 89 — это пароль от кошелька, он пришёл "
        "в SMS при регистрации. " + DELETED
    )


async def test_a_bill_is_a_bill_for_payment_and_the_terminal_tops_up_a_wallet(
    harness: Harness,
) -> None:
    anna = harness.person()
    await register(anna)
    await fund(harness, PHONE, 500_000)
    await order_roses(anna, quantity=1)
    await anna.press("💳 Оплатить через Робокассу")
    seen = await anna.press("Visa QIWI Wallet")
    assert seen.text.startswith("Номер мобильного для счёта на оплату:")
    seen = await anna.press("📱 +7 912 345-67-89 (ваш кошелёк)")
    assert seen.text.startswith("🧾 Счёт на оплату № ")
    seen = await anna.press("🏧 В терминале QIWI")
    assert "«Оплатить счёт»" in seen.text and "Счёт на оплату для +7 912 *** ** 89" in seen.text
    await anna.send("/start")
    await anna.press("💵 Пополнить")
    seen = await anna.press("🏧 Терминал")
    assert seen.text.startswith("🏧 Терминал QIWI · «Пополнить кошелёк»")
    seen = await anna.send("/help")
    assert "счёт на оплату выставят на ваш номер" in seen.text
    said = "\n".join(m.text for m in anna.bot_messages())
    assert "Пополнить счёт" not in said


async def test_visa_qiwi_wallet_is_said_to_be_the_qiwi_wallet_not_a_card(
    harness: Harness,
) -> None:
    anna = harness.person()
    order = await order_roses(anna, quantity=1)
    seen = await anna.press("💳 Оплатить через Робокассу")
    assert seen.text == (
        f"Робокасса: выберите способ оплаты 1 890,00 ₽ за заказ № {order}.\n"
        "«Visa QIWI Wallet» — так в списке Робокассы называется QIWI-кошелёк; "
        "банковская карта не нужна."
    )


async def test_the_identification_level_says_what_it_means(harness: Harness) -> None:
    anna = harness.person()
    await register(anna)
    await anna.send("/start")
    seen = await anna.press("👛 Кошелёк")
    assert (
        "Идентификация: минимальная — такая у каждого нового кошелька; для покупок здесь её "
        "хватает, паспорт нужен только для больших лимитов. Лимиты: баланс до 15 000,00 ₽"
    ) in seen.text


async def test_the_top_up_terminal_credits_and_the_bill_terminal_pays(harness: Harness) -> None:
    anna = harness.person()
    await register(anna)
    await to_cash_screen(anna)
    seen = await anna.press("100 ₽")
    assert "✅ Зачислить" in seen.labels and "✅ Оплатить" not in seen.labels
    await anna.press("✅ Зачислить")
    assert any("ЧЕК № " in m.text for m in anna.bot_messages()[-3:])
    await order_roses(anna, quantity=1)
    await to_invoice(anna)
    seen = await anna.press("🏧 В терминале QIWI")
    assert "✅ Оплатить" in seen.labels and "✅ Зачислить" not in seen.labels


async def test_stock_is_counted_in_the_items_own_units(harness: Harness) -> None:
    anna = harness.person()
    await open_item(anna, "🏪 Цветочная мастерская «Ромашка»", "Букеты", "7 роз · 1 890,00 ₽")
    assert "В наличии: 6 букетов" in anna.last.text
    books = "🏪 Книжная лавка «Переплёт»"
    await open_item(
        anna, books, "Художественная литература", "М. Булгаков. Мастер и Маргарита · 650,00 ₽"
    )
    assert "В наличии: 5 книг" in anna.last.text
    last_copy = "А. Грин. Алые паруса (последний экземпляр) · 1 250,00 ₽"
    await open_item(anna, books, "Художественная литература", last_copy)
    assert "В наличии: 1 книга" in anna.last.text
    await open_item(
        anna,
        books,
        "Художественная литература",
        "И. Ильф, Е. Петров. Двенадцать стульев · 549,50 ₽",
    )
    assert "В наличии: 3 книги" in anna.last.text
    # An item whose catalogue entry names no unit is counted in pieces.
    await open_item(anna, "🏪 Салон «Связной плюс»", "Аксессуары", "Чехол-книжка · 749,99 ₽")
    assert "В наличии: 8 шт." in anna.last.text


async def test_the_same_words_in_english(harness: Harness) -> None:
    john = harness.person("John", language_code="en")
    await john.send("/start")
    seen = await john.press("🛍 Shops")
    assert seen.labels[:3] == [
        "🏪 «Pereplyot» bookshop",
        "🏪 «Romashka» flower studio",
        "🏪 «Svyaznoy plus» phone shop",
    ]
    seen = await john.press("🏪 «Romashka» flower studio")
    assert seen.text.startswith("🏪 «Romashka» flower studio\nBouquets for a holiday")
    await john.press("Bouquets")
    seen = await john.press("7 roses · 1,890.00 ₽")
    assert "In stock: 6 bouquets" in seen.text and "Red roses, 50 cm." in seen.text
    seen = await john.press("🛒 Buy")
    seen = await john.press("💳 Pay via Robokassa")
    assert seen.text.endswith(
        "«Visa QIWI Wallet» is what Robokassa's list calls the QIWI wallet: no bank card is needed."
    )
    await john.send("/start")
    await john.press("👛 Open a wallet")
    await john.share_contact()
    assert "Type it only in this bot" in john.bot_messages()[-2].text
    await john.send(john.bot_messages()[-2].text.split(": ")[1].split(".")[0])
    assert "It is the wallet's password" in john.bot_messages()[-2].text
    await john.send("/start")
    seen = await john.press("👛 Wallet")
    assert "Identification: minimal, as every new wallet has" in seen.text
    await john.send("/start")
    await john.press("💵 Top up")
    await john.press("🏧 Terminal")
    await john.press("📱 +7 912 345-67-89")
    await john.press("Next ➡️")
    await john.press("Skip ➡️")
    seen = await john.press("100 ₽")
    assert "✅ Credit" in seen.labels
    # Nothing on these screens is left in Russian (orders keep the names they were sold under).
    sold = {"7 роз", "Цветочная мастерская «Ромашка»"}
    for message in john.bot_messages():
        text = message.text
        for name in sold:
            text = text.replace(name, "")
        assert not CYRILLIC.search(text + "".join(message.labels)), message.text


def test_a_unit_without_its_three_russian_forms_stops_the_start_naming_the_item(
    tmp_path: Path,
) -> None:
    catalogue = tmp_path / "catalogue.toml"
    text = DEMO_CATALOGUE.read_text(encoding="utf-8")
    catalogue.write_text(
        text.replace('unit = ["букет", "букета", "букетов"]', 'unit = ["букет", "букетов"]', 1),
        encoding="utf-8",
    )
    with pytest.raises(CatalogueError, match="shop flowers item tulips-15 unit: needs a list of 3"):
        load_catalogue(catalogue)
