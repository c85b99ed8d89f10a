"""Connecting every catalogue shop to its own Robokassa account (and, in the sandbox, the
sandbox to the same accounts), from the catalogue and the per-shop password settings."""

from __future__ import annotations

import secrets
import sqlite3

from bot.settings import Settings
from services.accounts import Accounts, ShopPasswords, build_accounts, release_hook
from services.aggregator import Aggregator, MerchantAccount
from services.catalogue import load_catalogue
from services.checkout import Checkout
from services.clock import Clock
from services.db import Database
from services.merchant import Merchant
from services.robokassa import Robokassa
from services.tgpay import EMULATOR_PROVIDER_TOKEN, TelegramPayments


def connect_shops(
    settings: Settings,
    default: Robokassa,
    web_url: str,
    aggregator: Aggregator,
    merchant: Merchant,
    *,
    sandbox: bool,
) -> Accounts:
    """Each shop's client; in the sandbox each own MerchantLogin is registered there too, with
    its ResultURL at `/robokassa/result/<shop id>`."""
    passwords = {
        shop_id.lower(): ShopPasswords(
            secret.password1.get_secret_value(),
            secret.password2.get_secret_value(),
            secret.password3.get_secret_value(),
        )
        for shop_id, secret in settings.shops.items()
    }
    shop_of_login: dict[str, str] = {}

    def make_client(login: str, given: ShopPasswords, algorithm: str, is_test: bool) -> Robokassa:
        client = Robokassa(
            login,
            given.password1,
            given.password2,
            algorithm=algorithm,
            is_test=is_test,
            base_url=default.base_url,
            password3=given.password3,
            refund_url=default.refund_url,
        )
        if sandbox:
            shop_id = shop_of_login[login]
            # Test mode has its own passwords: the mode not in use gets ones nobody knows.
            unknown = (secrets.token_hex(16), secrets.token_hex(16))
            mine = (given.password1, given.password2)
            aggregator.register(
                MerchantAccount(
                    login=login,
                    password1=unknown[0] if is_test else mine[0],
                    password2=unknown[1] if is_test else mine[1],
                    test_password1=mine[0] if is_test else unknown[0],
                    test_password2=mine[1] if is_test else unknown[1],
                    result_url=f"{web_url}/robokassa/result/{shop_id}",
                    algorithm=algorithm,
                    password3=given.password3,
                )
            )
        return client

    shops = load_catalogue(settings.catalogue_path)
    for shop in shops:
        table = shop.get("robokassa") or {}
        if isinstance(table, dict) and isinstance(table.get("login"), str):
            shop_of_login[table["login"]] = str(shop["id"])
    accounts = build_accounts(shops, passwords, default, make_client, sandbox=sandbox)
    if sandbox:
        merchant.release_hooks["sandbox"] = release_hook(accounts, aggregator.close_invoice)
    return accounts


def telegram_payments(
    settings: Settings,
    db: Database,
    clock: Clock,
    checkout: Checkout,
    aggregator: Aggregator,
    sandbox: bool,
) -> TelegramPayments:
    """Paying inside Telegram: each shop's provider token (its own account's, or the bot's for
    shops on the bot's account; under the emulator any token will do). In the sandbox the
    provider's side, Robokassa recording the charge, is the sandbox's."""
    default = settings.telegram_provider_token.get_secret_value()
    if not default and settings.bot_token is None:
        default = EMULATOR_PROVIDER_TOKEN
    tokens = {
        shop_id: secret.telegram_provider_token.get_secret_value()
        for shop_id, secret in settings.shops.items()
    }
    payments = TelegramPayments(db, clock, checkout, tokens=tokens, default_token=default)
    if sandbox:
        accounts = checkout.accounts

        def charged(
            conn: sqlite3.Connection, shop_id: str, inv_id: int, amount: int, now: int
        ) -> None:
            account = accounts.get(shop_id)
            client = (
                accounts.default if account is None or account.client is None else account.client
            )
            aggregator.provider_payment(client.login, client.is_test, conn, inv_id, amount, now)

        payments.provider_hooks["sandbox"] = charged
    return payments
