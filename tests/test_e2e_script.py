"""A scripted run through the driver API over HTTP: every journey, as a person would go."""

from __future__ import annotations

import re
from pathlib import Path

from services.checkout import shop_account
from services.wallet import wallet_account
from tests.live import running_live


async def test_register_top_up_order_pay_and_the_owner_is_told(tmp_path: Path) -> None:
    async with running_live(tmp_path) as live:
        users = (await live.client.get("/api/users")).json()
        owner_id = next(u["id"] for u in users if u["first_name"] == "Ольга (владелец)")
        anna = live.person()
        await anna.send("/start")
        await anna.press("👛 Завести кошелёк")
        await anna.share_contact()
        code = re.search(r"Код подтверждения: (\d{6})", anna.bot_messages()[-2].text)
        assert code
        await anna.send(code.group(1))
        assert anna.last.text.startswith("✅ Кошелёк +7 912 *** ** 89 готов")
        secret = re.search(r"секретный ключ: (\S+)\.", anna.bot_messages()[-2].text)
        assert secret
        # Top up at the terminal.
        await anna.press("💵 Пополнить")
        await anna.press("🏧 Терминал")
        await anna.press("📱 +7 912 345-67-89")
        await anna.press("Далее ➡️")
        await anna.press("Пропустить ➡️")
        await anna.press("5000 ₽")
        seen = await anna.press("✅ Зачислить")
        assert "Зачислено: 5 000,00 ₽" in seen.text
        # Order.
        await anna.send("/start")
        await anna.press("🛍 Магазины")
        await anna.press("🏪 Цветочная мастерская «Ромашка»")
        await anna.press("Букеты")
        await anna.press("15 тюльпанов · 2 500,00 ₽")
        seen = await anna.press("🛒 Купить")
        order = int(re.search(r"Заказ № (\d+)", seen.text).group(1))  # type: ignore[union-attr]
        # Pay via Robokassa → Visa QIWI Wallet → on the QIWI site with the secret key.
        await anna.press("💳 Оплатить через Робокассу")
        await anna.press("Visa QIWI Wallet")
        await anna.press("📱 +7 912 345-67-89 (ваш кошелёк)")
        await anna.press("💻 На сайте QIWI")
        await anna.send(secret.group(1))
        receipt = await anna.wait_for("✅ Оплата поступила.")
        assert f"Заказ № {order} оплачен" in receipt.text
        olga = live.person("Ольга (владелец)", user_id=owner_id)
        olga.created = True
        note = await olga.wait_for("🛒 Новый оплаченный заказ")
        assert f"№ {order}" in note.text and "2 500,00 ₽" in note.text
        ledger = live.services.ledger
        assert await ledger.balance(wallet_account("+79123456789")) == 250_000
        assert await ledger.balance(shop_account("flowers")) == 250_000
        assert (await ledger.check_invariants()).ok
