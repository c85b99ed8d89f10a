"""A first-time payer at the terminal: a top-up started because the wallet was short leads back
to the invoice, the sum an unpaid order needs is offered with what banknotes make of it, and
sums are checked when they are given, not at the fourth banknote."""

from __future__ import annotations

import re
from dataclasses import replace

from services.wallet import wallet_account
from tests.harness import Harness, Person, Seen
from tests.helpers import PHONE, fund, order_roses, receipt_number, register, to_invoice

OWN = "📱 +7 912 345-67-89"


def message(anna: Person, seen: Seen) -> Seen:
    return next(m for m in anna.bot_messages() if m.message_id == seen.message_id)


async def short_of_money(harness: Harness, anna: Person) -> tuple[int, int, Seen]:
    """Anna has 500,50 ₽ and a 1 890 ₽ bouquet to pay in the app: (order, invoice, the answer)."""
    await register(anna)
    await fund(harness, PHONE, 50_050)
    order = await order_roses(anna, quantity=1)
    invoice = await to_invoice(anna)
    found = re.search(r"Счёт на оплату № (\d+)", invoice)
    assert found, invoice
    short = await anna.press("📱 В приложении")
    assert short.text == "В кошельке не хватает 1 389,50 ₽."
    assert short.labels == ["💵 Пополнить", "💳 Вернуться к счёту"]
    return order, int(found.group(1)), short


async def test_a_top_up_from_a_shortfall_leads_back_to_the_invoice_in_one_tap(
    harness: Harness,
) -> None:
    anna = harness.person()
    order, bill, short = await short_of_money(harness, anna)
    seen = await anna.press("💵 Пополнить")
    # The answer about the shortfall stays, with its way back to the invoice.
    assert seen.message_id > short.message_id
    assert message(anna, short).labels == short.labels
    assert seen.text.startswith(f"Для заказа № {order} на кошельке не хватает 1 389,50 ₽.\n\n")
    assert seen.labels[:2] == ["🏧 Терминал", "🏬 Салон связи"]
    await anna.press("🏧 Терминал")
    await anna.press(OWN)
    seen = await anna.press("Далее ➡️")
    assert seen.text.startswith(
        f"Для заказа № {order} на кошельке не хватает 1 389,50 ₽. Терминал не выдаёт сдачу: "
        "купюрами выйдет 1 390,00 ₽, а лишние 0,50 ₽ останутся на кошельке.\n\n"
    )
    assert seen.labels[:2] == [f"💵 1 390,00 ₽ для заказа № {order}", "Пропустить ➡️"]
    seen = await anna.press(f"💵 1 390,00 ₽ для заказа № {order}")
    assert "Сумма к зачислению: 1 390,00 ₽" in seen.text
    await anna.press("1000 ₽")
    await anna.press("500 ₽")
    receipt = await anna.press("✅ Зачислить")
    assert f"Для заказа № {order}: 1 389,50 ₽" in receipt.text
    assert (
        f"На заказ № {order} уйдёт 1 389,50 ₽, остальные 110,50 ₽ останутся на кошельке."
        in receipt.text
    )
    assert receipt.labels[0] == f"💳 Вернуться к счёту № {bill}"
    seen = await anna.press(f"💳 Вернуться к счёту № {bill}")
    assert seen.message_id > receipt.message_id  # the receipt stays
    assert seen.text.startswith(
        f"🧾 Счёт на оплату № {bill} на 1 890,00 ₽ выставлен на +7 912 *** ** 89"
    )
    await anna.press("📱 В приложении")
    await harness.jobs.run_once()
    assert anna.last.text.startswith(f"✅ Оплата поступила. Заказ № {order} оплачен.")
    assert await harness.services.ledger.balance(wallet_account(PHONE)) == 11_050


async def test_a_delayed_top_up_for_an_invoice_leads_back_to_it_when_credited(
    harness: Harness,
) -> None:
    anna = harness.person()
    order, bill, _short = await short_of_money(harness, anna)
    cash = harness.services.cash
    cash.delayed = lambda: True
    # Credited within the order's half hour, so the invoice can still be paid.
    cash.rules = replace(cash.rules, delay_seconds=600)
    await anna.press("💵 Пополнить")
    await anna.press("🏧 Терминал")
    await anna.press(OWN)
    await anna.press("Далее ➡️")
    await anna.press("Пропустить ➡️")
    await anna.press("2000 ₽")
    receipt = await anna.press("✅ Зачислить")
    assert "Статус: В обработке" in receipt.text
    assert receipt.labels[0] == f"💳 Вернуться к счёту № {bill}"
    # Meanwhile Anna looks around: the menu forgets where she was.
    await anna.send("/start")
    harness.clock.advance(seconds=harness.services.cash.rules.delay_seconds)
    await harness.drain()
    credited = anna.last
    assert credited.text.startswith(f"💰 Деньги по чеку № {receipt_number(anna)} зачислены")
    assert credited.labels == [f"💳 Вернуться к счёту № {bill}", "👛 Кошелёк"]
    seen = await anna.press(f"💳 Вернуться к счёту № {bill}")
    assert seen.text.startswith(f"🧾 Счёт на оплату № {bill} на 1 890,00 ₽")
    assert f"Заказ № {order}" in seen.text


async def test_an_unpaid_order_is_offered_at_the_terminal_with_where_the_rest_goes(
    harness: Harness,
) -> None:
    anna = harness.person()
    await register(anna)
    order = await order_roses(anna, quantity=1)
    await anna.send("/start")
    seen = await anna.press("💵 Пополнить")
    # No word about change before anyone knows the sum.
    assert seen.text.splitlines()[1] == "🏧 Терминал — наличными, купюрами."
    await anna.press("🏧 Терминал")
    await anna.press(OWN)
    seen = await anna.press("Далее ➡️")
    assert seen.text.startswith(f"Для заказа № {order} на кошельке не хватает 1 890,00 ₽.\n\n")
    await anna.press(f"💵 1 890,00 ₽ для заказа № {order}")
    for note in ("1000 ₽", "500 ₽", "200 ₽", "200 ₽"):
        await anna.press(note)
    receipt = await anna.press("✅ Зачислить")
    assert (
        f"На заказ № {order} уйдёт 1 890,00 ₽, остальные 10,00 ₽ останутся на кошельке."
        in receipt.text
    )
    # No invoice yet: the way on is paying the order.
    assert receipt.labels[0] == f"💳 Оплатить заказ № {order}"
    seen = await anna.press(f"💳 Оплатить заказ № {order}")
    assert seen.text.startswith("Робокасса: выберите способ оплаты")


async def test_terminal_sums_are_checked_when_given_and_the_receipt_names_the_extra(
    harness: Harness,
) -> None:
    anna = harness.person()
    await register(anna)
    await anna.send("/start")
    await anna.press("💵 Пополнить")
    await anna.press("🏧 Терминал")
    await anna.press(OWN)
    await anna.press("Далее ➡️")
    seen = await anna.send("20 000")
    assert seen.text == (
        "Столько не поместится: на кошельке может быть не больше 15 000,00 ₽, сейчас можно "
        "зачислить ещё до 15 000,00 ₽. Напишите сумму поменьше или нажмите «Пропустить»."
    )
    seen = await anna.send("1 234,56")
    assert seen.text == (
        "Терминал принимает только купюры, поэтому копейки им не внести. Напишите сумму в "
        "целых рублях, например 1 235,00 ₽."
    )
    assert seen.labels[0] == "Пропустить ➡️"
    seen = await anna.send("1 234")
    assert "Сумма к зачислению: 1 234,00 ₽" in seen.text
    for note in ("1000 ₽", "200 ₽", "50 ₽"):
        await anna.press(note)
    receipt = await anna.press("✅ Зачислить")
    assert "Зачислено: 1 250,00 ₽\nСверх суммы 1 234,00 ₽: 16,00 ₽" in receipt.text
    assert (
        "Терминал не выдаёт сдачу: 16,00 ₽ сверх названной суммы тоже зачислены на кошелёк."
        in receipt.text
    )


async def test_a_full_wallet_refuses_banknotes_without_saying_up_to_nothing(
    harness: Harness,
) -> None:
    anna = harness.person()
    await register(anna)
    await fund(harness, PHONE, 1_500_000)
    await anna.send("/start")
    await anna.press("💵 Пополнить")
    await anna.press("🏧 Терминал")
    await anna.press(OWN)
    await anna.press("Далее ➡️")
    seen = await anna.send("100")
    assert seen.text == (
        "На кошельке может быть не больше 15 000,00 ₽, и он уже полон: сейчас не поместится "
        "ни одна купюра."
    )
    await anna.press("Пропустить ➡️")
    await anna.press("10 ₽")
    assert anna.last_answer == {
        "text": "Купюра не принята: на кошельке может быть не больше 15 000,00 ₽, больше купюр "
        "не поместится.",
        "show_alert": True,
    }


async def test_the_same_screens_in_english(harness: Harness) -> None:
    john = harness.person("John", language_code="en")
    await register_in_english(harness, john)
    await fund(harness, PHONE, 50_050)
    await john.send("/start")
    await john.press("🛍 Shops")
    await john.press("🏪 «Romashka» flower studio")
    await john.press("Bouquets")
    await john.press("7 roses · 1,890.00 ₽")
    seen = await john.press("🛒 Buy")
    order = re.search(r"No\. (\d+)", seen.text)
    assert order, seen.text
    number = order.group(1)
    await john.press("💳 Pay via Robokassa")
    await john.press("Visa QIWI Wallet")
    invoice = await john.press("📱 +7 912 345-67-89 (your wallet)")
    bill = re.search(r"Invoice No\. (\d+)", invoice.text)
    assert bill, invoice.text
    await john.press("📱 In the app")
    seen = await john.press("💵 Top up")
    assert seen.text.startswith(f"Order No. {number} needs 1,389.50 ₽ more in the wallet.")
    assert "🏧 Terminal — cash in banknotes." in seen.text
    await john.press("🏧 Terminal")
    await john.press(OWN)
    seen = await john.press("Next ➡️")
    assert seen.text.startswith(
        f"Order No. {number} needs 1,389.50 ₽ more in the wallet. The terminal gives no change: "
        "banknotes make 1,390.00 ₽, and the 0.50 ₽ above it stays in the wallet."
    )
    seen = await john.send("1 234,56")
    assert seen.text.startswith("The terminal takes banknotes only, so it cannot put in kopecks.")
    await john.press(f"💵 1,390.00 ₽ for order No. {number}")
    await john.press("1000 ₽")
    await john.press("500 ₽")
    receipt = await john.press("✅ Credit")
    assert "Above the intended 1,390.00 ₽: 110.00 ₽" in receipt.text
    assert f"For order No. {number}: 1,389.50 ₽" in receipt.text
    assert (
        f"Order No. {number} takes 1,389.50 ₽; the remaining 110.50 ₽ stays in the wallet."
        in receipt.text
    )
    seen = await john.press(f"💳 Back to invoice No. {bill.group(1)}")
    assert seen.text.startswith(f"🧾 Invoice No. {bill.group(1)}")


async def register_in_english(harness: Harness, john: Person) -> None:
    await harness.services.operator.prove(PHONE, john.id)
    sent = await harness.services.wallets.start_registration(PHONE, john.id)
    await harness.services.wallets.confirm_code(PHONE, sent.sms.value, john.id)


async def test_money_that_arrived_meanwhile_leads_straight_back_to_the_invoice(
    harness: Harness,
) -> None:
    anna = harness.person()
    order, bill, _short = await short_of_money(harness, anna)
    await fund(harness, PHONE, 200_000)
    seen = await anna.press("💵 Пополнить")
    assert seen.text == f"На кошельке уже хватает денег для заказа № {order}."
    assert seen.labels == [f"💳 Вернуться к счёту № {bill}", "🏠 Меню"]
    seen = await anna.press(f"💳 Вернуться к счёту № {bill}")
    assert seen.text.startswith(f"🧾 Счёт на оплату № {bill} на 1 890,00 ₽")
