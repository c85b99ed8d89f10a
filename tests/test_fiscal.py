"""54-FZ receipts: lines, taxes, encoding and signature against values written out by hand.

The value lists follow Robokassa's fiscalisation docs (docs.robokassa.ru/ru/fiscalization) and
the lists in Robokassa's own CMS modules: since 1 January 2026 VAT is 22 % (`vat22`, `vat122`),
with 5 % / 7 % (`vat5`, `vat7`, `vat105`, `vat107`) for the simplified system.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urlparse

import pytest

from services.accounts import AccountError, ShopPasswords, build_accounts, plan_of
from services.fiscal import (
    FiscalSettings,
    ItemFiscal,
    ReceiptError,
    build_receipt,
    dumps,
    encode,
    line,
    telegram_provider_data,
)
from services.robokassa import Robokassa

TEA = (
    '{"sno":"osn","items":[{"name":"Чай","quantity":2,"sum":1.50,"tax":"vat22",'
    '"payment_method":"full_payment","payment_object":"commodity"}]}'
)
# The same, URL-encoded by hand: Ч = D0 A7, а = D0 B0, й = D0 B9; `_` and `.` stay as they are.
TEA_ENCODED = (
    "%7B%22sno%22%3A%22osn%22%2C%22items%22%3A%5B%7B%22name%22%3A%22%D0%A7%D0%B0%D0%B9%22%2C"
    "%22quantity%22%3A2%2C%22sum%22%3A1.50%2C%22tax%22%3A%22vat22%22%2C"
    "%22payment_method%22%3A%22full_payment%22%2C%22payment_object%22%3A%22commodity%22%7D%5D%7D"
)


def test_a_receipt_is_compact_json_with_exact_sums_and_encodes_as_the_docs_say() -> None:
    shop = FiscalSettings(sno="osn", tax="vat22")
    receipt = build_receipt("osn", [line("Чай", 2, 150, shop)], out_sum=150)
    assert receipt.to_json() == TEA
    assert encode(receipt.to_json()) == TEA_ENCODED


def test_the_payment_link_signs_the_encoded_receipt_with_password_1() -> None:
    client = Robokassa("tea-shop", "secret-1", "secret-2", is_test=True)
    url = client.payment_url("1.50", 7, "Заказ № 7", receipt=TEA, shp={"Shp_shop": "tea"})
    query = parse_qs(urlparse(url).query)
    # The encoded receipt travels encoded once more: one decoding of the query gives it back.
    assert query["Receipt"] == [TEA_ENCODED]
    by_hand = f"tea-shop:1.50:7:{TEA_ENCODED}:secret-1:Shp_shop=tea"
    assert query["SignatureValue"] == [hashlib.md5(by_hand.encode()).hexdigest()]
    sha = Robokassa("tea-shop", "secret-1", "secret-2", algorithm="sha256")
    query = parse_qs(urlparse(sha.payment_url("1.50", 7, "x", receipt=TEA)).query)
    assert query["SignatureValue"] == [
        hashlib.sha256(f"tea-shop:1.50:7:{TEA_ENCODED}:secret-1".encode()).hexdigest()
    ]


def test_each_line_carries_its_own_tax_and_the_lines_must_add_up_to_out_sum() -> None:
    shop = FiscalSettings(sno="usn_income", tax="none")
    books = line("Книга", 3, 45_000, shop, ItemFiscal(tax="vat10"))
    delivery = line("Доставка", 1, 10_000, shop, ItemFiscal(payment_object="service"))
    receipt = build_receipt("usn_income", [books, delivery], out_sum=55_000)
    assert receipt.to_json() == (
        '{"sno":"usn_income","items":['
        '{"name":"Книга","quantity":3,"sum":450.00,"tax":"vat10",'
        '"payment_method":"full_payment","payment_object":"commodity"},'
        '{"name":"Доставка","quantity":1,"sum":100.00,"tax":"none",'
        '"payment_method":"full_payment","payment_object":"service"}]}'
    )
    with pytest.raises(ReceiptError, match="55000 kopecks, OutSum is 54999"):
        build_receipt("usn_income", [books, delivery], out_sum=54_999)


def test_a_refund_sends_the_same_lines_with_the_price_per_unit() -> None:
    shop = FiscalSettings(sno="osn", tax="vat22", payment_method="full_prepayment")
    receipt = build_receipt("osn", [line("Роза", 7, 189_000, shop)], out_sum=189_000)
    assert dumps(receipt.refund_items()) == (
        '[{"Name":"Роза","Quantity":7,"Cost":270.00,"Tax":"vat22",'
        '"PaymentMethod":"full_prepayment","PaymentObject":"commodity"}]'
    )


@pytest.mark.parametrize(
    ("table", "complaint"),
    [
        ({"tax": "vat20"}, "use 'vat22'"),
        ({"tax": "vat120"}, "use 'vat122'"),
        ({"tax": "vat18"}, "no longer in force"),
        ({"sno": "envd"}, "sno 'envd' is not one of"),
        ({"payment_method": "full"}, "payment_method 'full'"),
        ({"payment_object": "goods"}, "payment_object 'goods'"),
    ],
)
def test_values_outside_todays_lists_are_refused(table: dict[str, str], complaint: str) -> None:
    with pytest.raises(ReceiptError, match=complaint):
        FiscalSettings.from_table(table)


@pytest.mark.parametrize(
    "tax",
    ["none", "vat0", "vat5", "vat7", "vat10", "vat22", "vat105", "vat107", "vat110", "vat122"],
)
def test_todays_vat_rates_are_accepted(tax: str) -> None:
    assert FiscalSettings(tax=tax).tax == tax


def test_bad_lines_are_refused_before_anything_is_sent() -> None:
    shop = FiscalSettings()
    for name, quantity, amount in [("", 1, 100), ("x", 0, 100), ("x", 1, 0), ("a\x00b", 1, 1)]:
        with pytest.raises(ReceiptError):
            line(name, quantity, amount, shop)
    with pytest.raises(ReceiptError, match="at least one line"):
        build_receipt("osn", [])
    assert len(line("Я" * 200, 1, 100, shop).name) == 128


def test_telegram_provider_data_carries_the_invoice_and_the_same_receipt() -> None:
    receipt = build_receipt("osn", [line("Чай", 2, 150, FiscalSettings(sno="osn", tax="vat22"))])
    assert telegram_provider_data(7, receipt) == '{"InvoiceId":7,"Receipt":' + TEA + "}"


def catalogue_shop(**robokassa: object) -> dict[str, object]:
    return {
        "id": "tea",
        "name": "Чайная",
        "robokassa": robokassa,
        "categories": [
            {
                "id": "c",
                "items": [
                    {"id": "green", "name": "Зелёный чай", "tax": "vat10"},
                    {"id": "brew", "name": "Заварка в чайнике", "kind": "service"},
                    {"id": "cup", "name": "Чашка"},
                ],
            }
        ],
    }


def test_the_catalogue_gives_shop_defaults_and_item_overrides() -> None:
    plan = plan_of(catalogue_shop(login="tea-shop", sno="osn", tax="vat22"))
    assert plan.fiscal == FiscalSettings(sno="osn", tax="vat22")
    assert plan.items["green"] == ItemFiscal(tax="vat10")
    assert plan.items["Заварка в чайнике"] == ItemFiscal(payment_object="service")
    assert "cup" not in plan.items


@pytest.mark.parametrize(
    ("table", "complaint"),
    [
        ({"login": "tea shop!"}, "MerchantLogin"),
        ({"algorithm": "crc32"}, "algorithm must be one of"),
        ({"test": "yes"}, "true or false"),
        ({"tax": "vat20"}, "shop tea: tax 'vat20'"),
    ],
)
def test_a_wrong_account_table_names_the_shop(table: dict[str, object], complaint: str) -> None:
    with pytest.raises(AccountError, match=complaint):
        plan_of(catalogue_shop(**table))


def test_a_live_shop_without_all_three_passwords_is_not_connected() -> None:
    default = Robokassa("operator", "p1", "p2")
    made: list[tuple[str, str]] = []

    def make(login: str, given: ShopPasswords, algorithm: str, is_test: bool) -> Robokassa:
        made.append((login, algorithm))
        return Robokassa(login, given.password1, given.password2, algorithm=algorithm)

    shop = catalogue_shop(login="tea-shop", algorithm="sha512")
    half = {"tea": ShopPasswords("one", "two", "")}
    account = build_accounts([shop], half, default, make, sandbox=False).get("tea")
    assert account is not None and not account.connected
    assert account.missing == ("SHOPS__TEA__PASSWORD3",)
    full = {"tea": ShopPasswords("one", "two", "three")}
    account = build_accounts([shop], full, default, make, sandbox=False).get("tea")
    assert account is not None and account.connected and account.missing == ()
    assert made == [("tea-shop", "sha512")]
    # The sandbox makes up what is missing: both of its sides live in this process.
    account = build_accounts([shop], {}, default, make, sandbox=True).get("tea")
    assert account is not None and account.connected


def test_two_shops_cannot_share_one_merchant_login() -> None:
    default = Robokassa("operator", "p1", "p2")
    twins = [catalogue_shop(login="tea-shop"), {**catalogue_shop(login="tea-shop"), "id": "cafe"}]
    with pytest.raises(AccountError, match="shops tea and cafe name one login"):
        build_accounts(twins, {}, default, lambda *a: default, sandbox=True)
