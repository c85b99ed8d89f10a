"""Each shop's own Robokassa account, so each shop's money goes to that shop.

The catalogue names a shop's account (no secrets there):

    [shops.robokassa]
    login = "books-shop"        # MerchantLogin from that shop's Robokassa cabinet
    algorithm = "sha256"        # as chosen in the cabinet; md5 when absent
    test = true                 # IsTest=1 (the cabinet's test passwords)
    sno = "usn_income"          # fiscal: tax system and defaults for every line
    tax = "none"
    payment_method = "full_payment"
    payment_object = "commodity"

and an item may override `tax`, `payment_method`, `payment_object` (a `kind = "service"` item
is a `service` unless it says otherwise). Passwords #1/#2/#3 come from the environment or
`.env` only: `SHOPS__<SHOP ID>__PASSWORD1`, `..._PASSWORD2`, `..._PASSWORD3`.

A shop that names no login is paid to the bot's own account (`ROBOKASSA__*`): the single-shop
set-up and the demo. In live mode a shop with a login but without all three passwords is not
offered for payment; `missing` says which settings its owner still has to provide.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from services.fiscal import (
    FiscalSettings,
    ItemFiscal,
    Receipt,
    ReceiptError,
    build_receipt,
    line,
)
from services.robokassa import ALGORITHMS, Robokassa

FISCAL_KEYS = ("sno", "tax", "payment_method", "payment_object")
_LOGIN = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


class AccountError(ValueError):
    """The catalogue describes a shop's account wrongly; the message names the shop."""


@dataclass(frozen=True)
class ShopPasswords:
    password1: str = ""
    password2: str = ""
    password3: str = ""


def env_name(shop_id: str, number: int) -> str:
    """The setting that holds a shop's password; documented in .env.example and README."""
    return f"SHOPS__{shop_id.upper()}__PASSWORD{number}"


@dataclass(frozen=True)
class ShopAccount:
    shop_id: str
    client: Robokassa | None  # None: not connected, see `missing`
    fiscal: FiscalSettings
    items: Mapping[str, ItemFiscal] = field(default_factory=dict)  # by item id (sku) and name
    missing: tuple[str, ...] = ()
    own: bool = False  # its own MerchantLogin; else the bot's account

    @property
    def connected(self) -> bool:
        return self.client is not None

    def item_fiscal(self, key: str) -> ItemFiscal | None:
        return self.items.get(key)

    def receipt(self, name: str, quantity: int, amount: int, item: str | None = None) -> Receipt:
        """The receipt of one order line; `item` is its catalogue id or its name as sold."""
        override = self.items.get(item or name)
        return build_receipt(
            self.fiscal.sno, [line(name, quantity, amount, self.fiscal, override)], amount
        )


@dataclass(frozen=True)
class ShopPlan:
    """What the catalogue says about one shop's account."""

    shop_id: str
    login: str | None
    algorithm: str
    is_test: bool | None
    fiscal: FiscalSettings
    items: dict[str, ItemFiscal]


def plan_of(shop: Mapping[str, Any]) -> ShopPlan:
    """Read and check one catalogue shop's `robokassa` table and its items' fiscal keys."""
    shop_id = str(shop["id"])
    table = shop.get("robokassa") or {}
    where = f"shop {shop_id}"
    if not isinstance(table, Mapping):
        raise AccountError(f"{where}: robokassa must be a table")
    login = table.get("login")
    if login is not None and (not isinstance(login, str) or not _LOGIN.fullmatch(login)):
        raise AccountError(f"{where}: robokassa.login must be the shop's MerchantLogin")
    algorithm = table.get("algorithm", "md5")
    if algorithm not in ALGORITHMS:
        raise AccountError(f"{where}: robokassa.algorithm must be one of {', '.join(ALGORITHMS)}")
    is_test = table.get("test")
    if is_test is not None and not isinstance(is_test, bool):
        raise AccountError(f"{where}: robokassa.test must be true or false")
    try:
        fiscal = FiscalSettings.from_table(table)
        items: dict[str, ItemFiscal] = {}
        for category in shop.get("categories", []):
            for item in category.get("items", []):
                keys = {k: item[k] for k in FISCAL_KEYS[1:] if k in item}
                if item.get("kind") == "service":
                    keys.setdefault("payment_object", "service")
                if keys:
                    override = ItemFiscal.from_table(keys)
                    items[str(item["id"])] = override
                    items[str(item["name"])] = override
    except ReceiptError as error:
        raise AccountError(f"{where}: {error}") from None
    return ShopPlan(shop_id, login, str(algorithm), is_test, fiscal, items)


ClientFactory = Callable[[str, ShopPasswords, str, bool], Robokassa]


class Accounts:
    """Shop id → its account. Shops the catalogue does not know have none."""

    def __init__(self, accounts: Iterable[ShopAccount], default: Robokassa) -> None:
        self._accounts = {account.shop_id: account for account in accounts}
        self.default = default

    @classmethod
    def single(cls, client: Robokassa) -> Accounts:
        """Every shop on one account (tests and tools that build a Checkout by hand)."""
        return _SingleAccount(client)

    def get(self, shop_id: str) -> ShopAccount | None:
        return self._accounts.get(shop_id)

    def clients(self) -> list[Robokassa]:
        found = {id(self.default): self.default}
        for account in self._accounts.values():
            if account.client is not None:
                found[id(account.client)] = account.client
        return list(found.values())

    def __iter__(self) -> Any:
        return iter(self._accounts.values())


class _SingleAccount(Accounts):
    def __init__(self, client: Robokassa) -> None:
        super().__init__((), client)

    def get(self, shop_id: str) -> ShopAccount | None:
        return ShopAccount(shop_id, self.default, FiscalSettings())


def build_accounts(
    shops: Iterable[Mapping[str, Any]],
    passwords: Mapping[str, ShopPasswords],
    default: Robokassa,
    make_client: ClientFactory,
    *,
    sandbox: bool,
) -> Accounts:
    """One account per catalogue shop. `passwords` is keyed by shop id in lower case (as the
    settings read `SHOPS__<ID>__...`). In the sandbox a missing password is made up: both
    sides live in this process and the sandbox is told the same one."""
    accounts = []
    logins: dict[str, str] = {}
    for shop in shops:
        plan = plan_of(shop)
        if plan.login is not None and logins.setdefault(plan.login, plan.shop_id) != plan.shop_id:
            # One merchant has one ResultURL and one InvId space: two shops cannot share it.
            raise AccountError(f"shops {logins[plan.login]} and {plan.shop_id} name one login")
        if plan.login is None:
            accounts.append(ShopAccount(plan.shop_id, default, plan.fiscal, plan.items))
            continue
        given = passwords.get(plan.shop_id.lower(), ShopPasswords())
        values = [given.password1, given.password2, given.password3]
        missing = tuple(env_name(plan.shop_id, n + 1) for n, v in enumerate(values) if not v)
        if sandbox:
            values = [v or secrets.token_hex(16) for v in values]
            missing = ()
        is_test = default.is_test if plan.is_test is None else plan.is_test
        client = None
        if not missing:
            client = make_client(plan.login, ShopPasswords(*values), plan.algorithm, is_test)
        accounts.append(
            ShopAccount(plan.shop_id, client, plan.fiscal, plan.items, missing, own=True)
        )
    return Accounts(accounts, default)


def release_hook(
    accounts: Accounts, close: Callable[[str, sqlite3.Connection, int, int], int]
) -> Callable[[sqlite3.Connection, int, int], int]:
    """The sandbox closes a released order's invoice at the merchant that issued it."""

    def hook(conn: sqlite3.Connection, inv_id: int, now: int) -> int:
        row = conn.execute("SELECT shop_id FROM orders WHERE id = ?", (inv_id,)).fetchone()
        account = None if row is None else accounts.get(row[0])
        client = accounts.default if account is None or account.client is None else account.client
        return close(client.login, conn, inv_id, now)

    return hook
