"""Attacks on wallets in the chat: lookalike numbers, squatting, takeovers, parallel guesses."""

from __future__ import annotations

from tests.harness import Harness
from tests.test_wallet_journey import register

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
