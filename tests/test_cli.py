"""The command line a shop uses to demo the operator's rules."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from bot.settings import DEMO_CATALOGUE
from services.clock import ManualClock
from services.db import Database
from services.merchant import Merchant
from services.operator import Operator

ROOT = Path(__file__).resolve().parent.parent


def cli(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "ROBOKASSA"))}
    env.update(PYTHONPATH=str(ROOT), DATABASE_PATH=str(tmp_path / "cli.sqlite3"), **extra)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_operator_deactivates_and_reactivates_a_number(tmp_path: Path) -> None:
    result = cli(tmp_path, "operator", "deactivate", "8 (912) 345-67-89")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "+79123456789: deactivated"
    db = await Database.open(tmp_path / "cli.sqlite3")
    try:
        assert await Operator(db, ManualClock()).status("+79123456789") == "deactivated"
    finally:
        await db.close()
    result = cli(tmp_path, "operator", "reactivate", "+79123456789")
    assert result.stdout.strip() == "+79123456789: active"


def test_bad_number_on_the_command_line_is_one_clear_line(tmp_path: Path) -> None:
    result = cli(tmp_path, "operator", "deactivate", "12345")
    assert result.returncode == 2
    assert (
        result.stderr.strip() == "bot: not a Russian mobile number like +7 912 345-67-89 (format)"
    )


async def test_commands_leave_the_shops_and_their_stock_alone(tmp_path: Path) -> None:
    catalogue = tmp_path / "catalogue.toml"
    shutil.copy(DEMO_CATALOGUE, catalogue)
    db = await Database.open(tmp_path / "cli.sqlite3")
    try:
        merchant = Merchant(db, ManualClock())
        await merchant.sync_catalogue(catalogue)
        row = await db.fetchone("SELECT id FROM items WHERE sku = 'last-copy'")
        assert row is not None
        await merchant.create_order(7, row[0], 1, buyer_name="Анна", contact="")
    finally:
        await db.close()
    # Someone edits the file meanwhile; only the bot's next start reads it.
    text = catalogue.read_text(encoding="utf-8")
    catalogue.write_text(text.replace("stock = 1\n", "stock = 6\n", 1), encoding="utf-8")
    result = cli(tmp_path, "operator", "deactivate", "+79123456789", CATALOGUE_PATH=str(catalogue))
    assert result.stdout.strip() == "+79123456789: deactivated"
    result = cli(
        tmp_path, "wallet", "level", "+79123456789", "basic", CATALOGUE_PATH=str(catalogue)
    )
    assert result.stderr.strip() == "bot: no wallet on +79123456789"
    result = cli(tmp_path, "shop", "invite", "books", CATALOGUE_PATH=str(catalogue))
    assert "?start=owner-" in result.stdout
    db = await Database.open(tmp_path / "cli.sqlite3")
    try:
        row = await db.fetchone("SELECT stock FROM items WHERE sku = 'last-copy'")
        assert row is not None and row[0] == 0
    finally:
        await db.close()


def test_inviting_before_the_first_start_says_what_to_do(tmp_path: Path) -> None:
    result = cli(tmp_path, "shop", "invite", "books")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "bot: no shop 'books' in the database; the bot loads the shops from the catalogue"
        " when it starts"
    )
