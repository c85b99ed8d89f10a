"""Fills a database through the services: 10 000 users (wallets) and 100 000 orders."""

from __future__ import annotations

from pathlib import Path

from bot.app import build_services, close_services
from bot.settings import Settings
from services.clock import ManualClock, to_ts
from services.secrets import hash_value


async def fill(folder: Path, users: int, orders: int) -> None:
    clock = ManualClock()
    settings = Settings(_env_file=None, database_path=folder / "memory.sqlite3")  # type: ignore[call-arg]
    services = await build_services(settings, web_url="http://127.0.0.1:0", clock=clock)
    try:
        secret_hash = hash_value("BENC-HKEY", n=2**10)  # registration's cost is not the point here
        now = to_ts(clock.now())

        def create_people(conn):  # type: ignore[no-untyped-def]
            for n in range(users):
                phone = f"+7916{n:07d}"
                conn.execute(
                    "INSERT INTO phones (number, status, changed_at) VALUES (?, 'active', ?)",
                    (phone, now),
                )
                conn.execute(
                    "INSERT INTO wallets (phone, secret_hash, created_at) VALUES (?, ?, ?)",
                    (phone, secret_hash, now),
                )
                conn.execute(
                    "INSERT INTO wallet_users (user_id, phone, signed_at) VALUES (?, ?, ?)",
                    (n + 1, phone, now),
                )
                conn.execute(
                    "INSERT INTO people (user_id, locale, first_name, updated_at) VALUES (?, 'ru', ?, ?)",
                    (n + 1, f"u{n}", now),
                )

        await services.db.transaction(create_people)
        row = await services.db.fetchone("SELECT id FROM items WHERE sku = 'delivery'")
        assert row is not None
        for n in range(orders):
            await services.merchant.create_order(
                n % users + 1, row[0], 1, buyer_name="u", contact=""
            )
    finally:
        await close_services(services)
