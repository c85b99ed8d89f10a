"""Steps and switches shared by test modules; each test module imports them from here."""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import Any

import httpx
from aiogram.filters.callback_data import CallbackData

import handlers
from bot.app import build_dispatcher
from bot.settings import DEMO_CATALOGUE
from services.aggregator import Aggregator
from services.clock import to_ts
from services.merchant import Merchant
from services.orders import Order, mark_paid_in
from services.robokassa import Robokassa
from services.wallet import wallet_account
from tests.harness import Harness, Person
from tests.live import LiveHarness, LivePerson

World = Harness | LiveHarness
Someone = Person | LivePerson

PHONE = "+79123456789"

# The shop's ResultURL as the sandbox sees it when its calls get lost: no `OK{InvId}`, ever.
_LOST = httpx.MockTransport(lambda request: httpx.Response(503))


def drop_callbacks(aggregator: Aggregator, dropped: bool = True) -> None:
    """Pretend the sandbox's ResultURL calls get lost (or, with False, reach the shop again)."""
    if dropped:
        client = httpx.AsyncClient(transport=_LOST)
        aggregator.http = lambda: client  # type: ignore[method-assign]
    else:
        vars(aggregator).pop("http", None)


async def next_callback_due(aggregator: Aggregator) -> int | None:
    """When the sandbox will next try a ResultURL call, or None when it has given up."""
    row = await aggregator.db.fetchone(
        "SELECT MIN(callback_due_at) FROM rk_operations WHERE callback_done = 0"
        " AND callback_due_at IS NOT NULL"
    )
    return None if row is None or row[0] is None else int(row[0])


async def mark_paid(merchant: Merchant, order_id: int) -> Order:
    """The order paid, as a settled ResultURL marks it, without the money's way there."""
    now = to_ts(merchant.clock.now())
    return await merchant.db.transaction(lambda c: mark_paid_in(c, order_id, now))


async def fund(h: Harness, phone: str, kopecks: int) -> None:
    await h.services.ledger.open_account("external:cash", "external", allow_negative=True)
    key = f"fund:{phone}:{len(await h.services.ledger.history(wallet_account(phone), limit=99))}"
    await h.services.wallets.credit(phone, "external:cash", kopecks, key)


async def owner_of(h: Harness, shop: str) -> Person:
    olga = h.person("Ольга", phone="+79990000001")
    token = await h.services.merchant.create_invite(shop)
    seen = await olga.send(f"/start owner-{token}")
    assert seen.text.startswith("✅ Вы подключены как владелец магазина «Цветочная мастерская")
    return olga


async def order_roses(anna: Person, quantity: int = 2) -> int:
    await anna.send("/start")
    seen = await anna.press("🛍 Магазины")
    assert "🏪 Цветочная мастерская «Ромашка»" in seen.labels
    await anna.press("🏪 Цветочная мастерская «Ромашка»")
    seen = await anna.press("Букеты")
    assert "7 роз · 1 890,00 ₽" in seen.labels
    seen = await anna.press("7 роз · 1 890,00 ₽")
    assert "Цена: 1 890,00 ₽" in seen.text and "В наличии: 6" in seen.text
    for _ in range(quantity - 1):
        seen = await anna.press("+")
    assert f"Количество: {quantity}" in seen.text
    seen = await anna.press("🛒 Купить")
    found = re.search(r"Заказ № (\d+)", seen.text)
    assert found, seen.text
    assert f"{quantity} × 7 роз = {1890 * quantity:,}".replace(",", " ") in seen.text
    assert "Оплатите до 12:30" in seen.text
    return int(found.group(1))


async def to_invoice(anna: Person) -> str:
    seen = await anna.press("💳 Оплатить через Робокассу")
    assert seen.text.startswith("Робокасса: выберите способ оплаты")
    assert seen.labels[0] == "Visa QIWI Wallet"
    assert any("(недоступно)" in label for label in seen.labels)
    seen = await anna.press("Visa QIWI Wallet")
    assert seen.text.startswith("Номер мобильного для счёта")
    seen = await anna.press("📱 +7 912 345-67-89 (ваш кошелёк)")
    assert "выставлен на +7 912 *** ** 89" in seen.text
    assert "комиссия 0,00 ₽" in seen.text
    # The seed's three ways, after «👛 Оплатить с кошелька» when the wallet holds enough.
    ways = [label for label in seen.labels if not label.startswith("👛 Оплатить с кошелька")]
    assert ways[:3] == ["💻 На сайте QIWI", "🏧 В терминале QIWI", "📱 В приложении"]
    return seen.text


async def pay_roses_in_app(harness: Harness, anna: Person) -> int:
    """Anna registers, has 5 000 ₽, orders one bouquet and pays it in the app: the order."""
    await register(anna)
    await fund(harness, PHONE, 500_000)
    order = await order_roses(anna, quantity=1)
    await to_invoice(anna)
    await anna.press("📱 В приложении")
    await harness.jobs.run_once()
    assert anna.last.text.startswith(f"✅ Оплата поступила. Заказ № {order} оплачен.")
    return order


async def paid_operation(harness: Harness, anna: Person) -> int:
    """An order whose bill is paid but whose ResultURL was dropped on the way."""
    await register(anna)
    await fund(harness, PHONE, 1_000_000)
    drop_callbacks(harness.services.aggregator)
    order = await order_roses(anna, quantity=1)
    await to_invoice(anna)
    await anna.press("📱 В приложении")
    await harness.jobs.run_once()
    assert (await harness.services.merchant.order(order)).status == "awaiting"
    return order


def result_url(harness: Harness) -> str:
    merchant = next(iter(harness.services.aggregator.merchants.values()))
    return merchant.result_url


def sms_value(person: Someone) -> str:
    for message in reversed(person.bot_messages()):
        if message.text.startswith("📩 SMS от QIWI"):
            found = re.search(r"(?:Код подтверждения|секретный ключ): (\S+?)\.", message.text)
            assert found, message.text
            return found.group(1)
    raise AssertionError("no SMS in the chat")


async def open_registration(person: Someone) -> None:
    await person.send("/start")
    seen = await person.press("👛 Завести кошелёк")
    assert seen.text.startswith("Кошелька пока нет. Нужен номер мобильного")
    assert person.reply_keyboard == ["📱 Поделиться номером", "⌨️ Ввести другой номер", "⬅️ Назад"]


async def register(person: Someone) -> str:
    await open_registration(person)
    await person.share_contact()
    code = sms_value(person)
    await person.send(code)
    return sms_value(person)


async def to_cash_screen(anna: Someone, *, intended: str | None = None) -> None:
    await anna.send("/start")
    seen = await anna.press("💵 Пополнить")
    assert seen.labels[:3] == ["🏧 Терминал", "🏬 Салон связи", "🧾 Проверить чек"]
    seen = await anna.press("🏧 Терминал")
    assert seen.text.startswith("🏧 Терминал QIWI · «Пополнить кошелёк»")
    seen = await anna.press("📱 +7 912 345-67-89")
    assert seen.text == "Номер: +7 912 345-67-89"
    await anna.press("Далее ➡️")
    if intended is None:
        seen = await anna.press("Пропустить ➡️")
    else:
        seen = await anna.send(intended)
    assert "Комиссия: 0 %" in seen.text
    assert "Терминал не выдаёт сдачу." in seen.text


def receipt_number(anna: Someone) -> int:
    for message in reversed(anna.bot_messages()):
        found = re.search(r"ЧЕК № (\d{6})", message.text)
        if found:
            return int(found.group(1))
    raise AssertionError("no receipt in the chat")


async def open_item(anna: Person, shop: str, section: str, item: str) -> None:
    await anna.send("/start")
    await anna.press("🛍 Магазины")
    await anna.press(shop)
    await anna.press(section)
    await anna.press(item)


async def buy_last_copy(anna: Person) -> int:
    await open_item(
        anna,
        "🏪 Книжная лавка «Переплёт»",
        "Художественная литература",
        "А. Грин. Алые паруса (последний экземпляр) · 1 250,00 ₽",
    )
    seen = await anna.press("🛒 Купить")
    found = re.search(r"Заказ № (\d+)", seen.text)
    assert found, seen.text
    return int(found.group(1))


# What an internal id looks like: `bill:4`, `cash:T-0417`, `wallet:+79…`.
INTERNAL_ID = re.compile(r"\b[a-z_]+:[\w+-]+")


async def open_card(olga: Person, order: int) -> None:
    seen = await olga.send("/orders")
    label = next(label for label in seen.labels if label.startswith(f"№ {order} "))
    seen = await olga.press(label)
    assert "↩️ Вернуть деньги" in seen.labels


async def prepared_person(h: Harness, n: int, language_code: str = "ru") -> Person:
    """A person with a wallet and money, so that deep screens are reachable."""
    phone = f"+7912{n:07d}"
    name = f"Краулер {n}" if language_code == "ru" else f"Crawler {n}"
    person = h.person(name, phone=phone, user_id=50_000 + n, language_code=language_code)
    await h.services.operator.prove(phone, person.id)
    sent = await h.services.wallets.start_registration(phone, person.id)
    await h.services.wallets.confirm_code(phone, sent.sms.value, person.id)
    # Topped up at the terminal, so the wallet history has a terminal receipt to name.
    visit = await h.services.cash.open_session(person.id, phone)
    await h.services.cash.insert(visit.id, person.id, 5000)
    await h.services.cash.pay(visit.id, person.id)
    return person


def callback_classes() -> list[type[CallbackData]]:
    """Every kind of button data the bot defines, found by walking CallbackData's subclasses
    (after the routers are built, so every handler module is imported): a new one is crawled
    without anyone listing it here."""
    assert handlers.__name__
    found: list[type[CallbackData]] = []
    pending = list(CallbackData.__subclasses__())
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.__module__.startswith("handlers."):
            found.append(cls)
    return sorted(found, key=lambda c: c.__prefix__)


# Numbers no button carries: above SQLite's int64, negative, non-ASCII digits, not numbers.
BAD_NUMBERS = ["9" * 20, str(2**63), "-1", "１００１", "²", "1e3", "", " 7"]
BAD_TEXTS = ["x" * 40, "<b>", "%s%n", "../"]


async def others_ids(h: Harness, person: Person) -> list[str]:
    """Ids of things that belong to other people: their orders, bills and terminal visits."""
    rows = await h.services.db.fetchall(
        "SELECT id FROM orders WHERE user_id <> ?"
        " UNION SELECT b.id FROM bills b JOIN rk_operations o ON o.id = b.operation_id"
        " JOIN orders r ON r.id = o.inv_id WHERE r.user_id <> ?"
        " UNION SELECT id FROM cash_sessions WHERE user_id <> ?",
        (person.id, person.id, person.id),
    )
    return [str(row[0]) for row in rows]


def forgeries(cls: type[CallbackData], ids: list[str]) -> list[str]:
    """Data with the right prefix: every action, each field in turn set to something bad."""
    fields = cls.model_fields
    actions: list[Any] = [None]
    if "action" in fields and isinstance(fields["action"].annotation, type):
        kind = fields["action"].annotation
        if issubclass(kind, Enum):
            actions = [member.value for member in kind]
    found = []
    for action in actions:
        base = {name: "" if f.default is None else str(f.default) for name, f in fields.items()}
        if action is not None:
            base["action"] = str(action)
        for name, info in fields.items():
            if name == "action":
                continue
            values = [*BAD_NUMBERS, *ids] if info.annotation in (int, "int") else BAD_TEXTS
            for value in values:
                data = cls.__separator__.join([cls.__prefix__, *{**base, name: value}.values()])
                found.append(data)
        # A field too many and one too few.
        found.append(cls.__separator__.join([cls.__prefix__, *base.values(), "1"]))
        found.append(cls.__separator__.join([cls.__prefix__, *list(base.values())[:-1]]))
    return [data for data in found if len(data.encode()) <= 64]


async def others_state(h: Harness, person: Person) -> list[Any]:
    """What a stranger must not be able to change: money, and other people's orders, bills,
    terminal visits, refunds and wallets."""
    db = h.services.db
    queries = [
        ("SELECT * FROM transfers ORDER BY id", ()),
        ("SELECT * FROM accounts ORDER BY id", ()),
        ("SELECT * FROM orders WHERE user_id <> ? ORDER BY id", (person.id,)),
        ("SELECT * FROM cash_sessions WHERE user_id <> ? ORDER BY id", (person.id,)),
        ("SELECT * FROM bills ORDER BY id", ()),
        ("SELECT * FROM refunds ORDER BY order_id", ()),
        ("SELECT * FROM wallets ORDER BY phone", ()),
        ("SELECT * FROM shop_owners ORDER BY user_id", ()),
    ]
    return [[tuple(row) for row in await db.fetchall(sql, args)] for sql, args in queries]


async def press_forged_buttons(h: Harness, stranger: Person, message_id: int) -> int:
    """Forged data for every button prefix: each press is answered, nothing fails, and
    nothing of anyone else (or any money) changes."""
    build_dispatcher(h.services)  # every handler module imported, as in the running bot
    ids = await others_ids(h, stranger)
    assert ids, "the crawl left other people's orders to forge"
    before = await others_state(h, stranger)
    pressed = 0
    for cls in callback_classes():
        for data in forgeries(cls, ids[:6]):
            await stranger.press_data(message_id, data)
            pressed += 1
            assert stranger.last_answer is not None, data
            assert not h.errors.records, (data, [r.getMessage() for r in h.errors.records])
            assert "Traceback" not in stranger.last.text
    assert await others_state(h, stranger) == before
    assert {cls.__prefix__ for cls in callback_classes()} >= {"m1", "o1", "p1", "s1", "t1", "w1"}
    return pressed


def sandbox_client(h: Harness, **changes: object) -> Robokassa:
    client = h.services.robokassa
    assert client is not None
    params = {
        "login": client.login,
        "password1": "sandbox-password-1",
        "password2": "sandbox-password-2",
        "is_test": True,
        "base_url": client.base_url,
        **changes,
    }
    return Robokassa(
        str(params["login"]),
        str(params["password1"]),
        str(params["password2"]),
        is_test=bool(params["is_test"]),
        base_url=str(params["base_url"]),
    )


async def operations(h: Harness) -> int:
    row = await h.services.db.fetchone("SELECT COUNT(*) FROM rk_operations")
    assert row is not None
    return int(row[0])


async def bill_of(harness: Harness, order: int) -> int:
    row = await harness.services.db.fetchone(
        "SELECT b.id FROM bills b JOIN rk_operations o ON o.id = b.operation_id"
        " WHERE o.inv_id = ? ORDER BY b.id DESC",
        (order,),
    )
    assert row is not None
    return int(row[0])


async def paid_roses(harness: Harness) -> tuple[Person, Person, int]:
    olga = await owner_of(harness, "flowers")
    anna = harness.person()
    order = await pay_roses_in_app(harness, anna)
    return olga, anna, order


async def owner(h: Harness, shop: str = "books") -> Person:
    olga = h.person("Ольга", phone="+79990000001")
    token = await h.services.merchant.create_invite(shop)
    await olga.send(f"/start owner-{token}")
    return olga


# Two shops with their own Robokassa accounts (per-shop settings in the catalogue).
BOOKS = {"login": "books-shop", "algorithm": "sha256", "sno": "osn", "tax": "vat10"}
FLOWERS = {"login": "flowers-shop", "algorithm": "sha512", "sno": "usn_income"}
SECRETS = {
    "books": ("books-one", "books-two", "books-three"),
    "flowers": ("flowers-one", "flowers-two", "flowers-three"),
}


def table(values: dict[str, str]) -> str:
    lines = "\n".join(f'{key} = "{value}"' for key, value in values.items())
    return f"\n[shops.robokassa]\n{lines}\ntest = true\n"


def two_account_catalogue(tmp_path: Path) -> Path:
    text = DEMO_CATALOGUE.read_text(encoding="utf-8")
    for description, values in [
        ('description = "Новые и редкие книги с доставкой по городу."\n', BOOKS),
        ('description = "Букеты к празднику и просто так."\n', FLOWERS),
    ]:
        assert description in text
        text = text.replace(description, description + table(values))
    path = tmp_path / "shops.toml"
    path.write_text(text, encoding="utf-8")
    return path


async def order_book(anna: Person) -> int:
    await anna.send("/start")
    await anna.press("🛍 Магазины")
    await anna.press("🏪 Книжная лавка «Переплёт»")
    await anna.press("Художественная литература")
    await anna.press("М. Булгаков. Мастер и Маргарита · 650,00 ₽")
    seen = await anna.press("🛒 Купить")
    found = re.search(r"Заказ № (\d+)", seen.text)
    assert found, seen.text
    return int(found.group(1))
