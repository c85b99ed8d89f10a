"""Live mode in the chat, against the stand-in of the real Robokassa on 127.0.0.1: the buyer
sees the methods the shop's account lists today, picks one, and gets a link that carries it
(or none), signed with the shop's Password #1 over its receipt. No word of QIWI anywhere."""

from __future__ import annotations

from urllib.parse import unquote

from services.checkout import shop_account
from services.robokassa import Robokassa
from tests.harness import Harness, Person, Seen
from tests.helpers import open_card, open_item, order_book, owner
from tests.test_live_methods import StandIn, live, query_of, signed_by_books
from tests.test_telegram_payments import pay

__all__ = ["live"]  # the stand-in and the harness in live mode

RECEIPT = (
    '{"sno":"osn","items":[{"name":"М. Булгаков. Мастер и Маргарита","quantity":1,'
    '"sum":650.00,"tax":"vat10","payment_method":"full_payment","payment_object":"commodity"}]}'
)


def link_of(seen: Seen) -> str:
    for row in seen.raw.get("inline_keyboard") or []:
        for button in row:
            if button["text"] == "💳 Открыть страницу оплаты":
                return str(button["url"])
    raise AssertionError(f"no payment page button on {seen.labels}")


def no_qiwi(anna: Person) -> None:
    for message in anna.messages():
        shown = " ".join([message.text, *message.labels]).lower()
        assert "qiwi" not in shown and "киви" not in shown, message.text


async def test_the_buyer_pays_with_a_method_the_shop_lists_today(
    live: tuple[Harness, StandIn],
) -> None:
    h, stand_in = live
    anna = h.person()
    number = await order_book(anna)
    order = await h.services.merchant.order(number)
    # The books shop has its own account and no Telegram token: only Robokassa is offered.
    assert anna.last.labels == ["💳 Оплатить через Робокассу", "✖️ Отменить заказ", "🏠 Меню"]
    seen = await anna.press("💳 Оплатить через Робокассу")
    assert seen.text == f"Робокасса: заказ № {number}, 650,00 ₽.\nВыберите способ оплаты:"
    assert seen.labels == [
        "Банковская карта",
        "СБП",
        "Yandex Pay",
        "Рассрочка",
        "🌐 Выбрать на странице Робокассы",
        "⬅️ К заказу",
        "🏠 Меню",
    ]
    assert stand_in.asked == ["books-shop"]
    seen = await anna.press("СБП")
    assert seen.text == (
        f"Робокасса: заказ № {number}, 650,00 ₽.\n"
        "Способ оплаты: СБП. Откройте страницу оплаты, чтобы заплатить.\n"
        "Я пришлю чек, как только Робокасса подтвердит платёж."
    )
    query = query_of(link_of(seen))
    assert query["IncCurrLabel"] == "SBPPSR" and query["MerchantLogin"] == "books-shop"
    assert signed_by_books(order, query) and unquote(query["Receipt"]) == RECEIPT
    assert (await h.services.merchant.order(number)).status == "awaiting"
    # Another method: Robokassa's own page, no method in the link.
    seen = await anna.press("⬅️ Другой способ")
    assert seen.labels[0] == "Банковская карта"
    seen = await anna.press("🌐 Выбрать на странице Робокассы")
    assert "Откройте страницу оплаты и выберите способ там." in seen.text
    query = query_of(link_of(seen))
    assert "IncCurrLabel" not in query and signed_by_books(order, query)
    assert unquote(query["Receipt"]) == RECEIPT
    # Robokassa confirms (ResultURL signed with the shop's Password #2): the receipt names the
    # method Robokassa reports.
    books = Robokassa("books-shop", "books-one", "books-two", algorithm="sha256")
    params = {
        "OutSum": "650.000000",
        "InvId": str(number),
        "Shp_shop": "books",
        "IsTest": "1",
        "PaymentMethod": "SBP",
        "IncCurrLabel": "SBPPSR",
        "SignatureValue": books.result_signature("650.000000", number, {"Shp_shop": "books"}),
    }
    assert (await h.services.checkout.accept_result(params, "books")).newly_paid
    await h.drain()
    assert anna.last.text.startswith(f"✅ Оплата поступила. Заказ № {number} оплачен.")
    assert "Способ: Робокасса · SBP" in anna.last.text
    no_qiwi(anna)
    assert h.errors.records == []


async def test_a_label_the_shop_no_longer_lists_gives_robokassas_own_page(
    live: tuple[Harness, StandIn],
) -> None:
    h, _ = live
    anna = h.person()
    number = await order_book(anna)
    order = await h.services.merchant.order(number)
    await anna.press("💳 Оплатить через Робокассу")
    # A button drawn before the shop dropped a method (or a forged one naming QIWI).
    seen = await anna.press_data(anna.last.message_id, f"lv1:{number}:Qiwi40PS")
    assert "Откройте страницу оплаты и выберите способ там." in seen.text
    query = query_of(link_of(seen))
    assert "IncCurrLabel" not in query and signed_by_books(order, query)
    no_qiwi(anna)


async def test_when_the_list_does_not_come_the_buyer_still_gets_a_working_link(
    live: tuple[Harness, StandIn],
) -> None:
    h, stand_in = live
    stand_in.mode = "garbage"
    anna = h.person()
    number = await order_book(anna)
    order = await h.services.merchant.order(number)
    seen = await anna.press("💳 Оплатить через Робокассу")
    assert seen.text == (
        f"Робокасса: заказ № {number}, 650,00 ₽.\nРобокасса сейчас не прислала список способов "
        "оплаты: откройте её страницу оплаты и выберите способ там."
    )
    assert seen.labels == ["🌐 Выбрать на странице Робокассы", "⬅️ К заказу", "🏠 Меню"]
    seen = await anna.press("⬅️ К заказу")  # changed her mind: the order is as it was
    assert seen.text.startswith(f"🧾 Заказ № {number} · Книжная лавка «Переплёт»")
    seen = await anna.press("💳 Оплатить через Робокассу")
    seen = await anna.press("🌐 Выбрать на странице Робокассы")
    query = query_of(link_of(seen))
    assert "IncCurrLabel" not in query and signed_by_books(order, query)
    no_qiwi(anna)
    assert h.errors.records == []


async def test_a_shop_without_its_passwords_tells_the_buyer_it_takes_no_payments_yet(
    live: tuple[Harness, StandIn],
) -> None:
    h, stand_in = live
    anna = h.person()
    await anna.send("/start")
    await anna.press("🛍 Магазины")
    await anna.press("🏪 Цветочная мастерская «Ромашка»")
    await anna.press("Букеты")
    await anna.press("7 роз · 1 890,00 ₽")
    seen = await anna.press("🛒 Купить")
    seen = await anna.press("💳 Оплатить через Робокассу")
    assert seen.text.startswith(
        "Цветочная мастерская «Ромашка» пока не принимает оплату: магазин ещё не подключён "
        "к Робокассе. Заказ забронирован до 12:30"
    )
    assert seen.labels == ["🏠 Меню"]
    assert stand_in.asked == []  # nothing was asked of Robokassa for it
    no_qiwi(anna)


async def test_a_telegram_payment_robokassa_does_not_know_is_not_refunded_silently(
    live: tuple[Harness, StandIn],
) -> None:
    """The mobile shop is on the bot's own account, whose token takes payments in Telegram. If
    Robokassa cannot find the charge by the order number, the owner is told where to refund."""
    h, stand_in = live
    olga = await owner(h, "mobile")
    anna = h.person()
    await open_item(anna, "🏪 Салон «Связной плюс»", "Аксессуары", "Чехол-книжка · 749,99 ₽")
    seen = await anna.press("🛒 Купить")
    number = int(seen.text.split("№ ")[1].split(" ")[0])
    seen = await anna.press("💳 Оплатить через Робокассу")
    assert seen.labels[-4:] == [
        "🌐 Выбрать на странице Робокассы",
        "📲 Оплатить в Telegram",
        "⬅️ К заказу",
        "🏠 Меню",
    ]
    await anna.press("📲 Оплатить в Telegram")
    await pay(h, anna, anna.last)
    await h.drain()
    assert anna.last.text.startswith(f"✅ Оплата поступила. Заказ № {number} оплачен.")
    no_qiwi(anna)
    await open_card(olga, number)
    await olga.press("↩️ Вернуть деньги")
    seen = await olga.press("✅ Да, вернуть 749,99 ₽")
    assert olga.last_answer is not None and olga.last_answer["text"] == (
        "Робокасса отклонила возврат."
    )
    assert (
        "↩️ Возврат 749,99 ₽: Робокасса отказала (Робокасса не находит этот платёж из Telegram "
        "по номеру заказа: верните деньги в личном кабинете Робокассы)."
    ) in seen.text
    assert stand_in.asked[-1] == f"OpStateExt {number}"
    assert await h.services.ledger.balance(shop_account("mobile")) == 74_999  # still the shop's
