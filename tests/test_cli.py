"""The command line a shop uses to demo the operator's rules."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from services.clock import ManualClock
from services.db import Database
from services.operator import Operator

ROOT = Path(__file__).resolve().parent.parent


def cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "ROBOKASSA"))}
    env.update(PYTHONPATH=str(ROOT), DATABASE_PATH=str(tmp_path / "cli.sqlite3"))
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
