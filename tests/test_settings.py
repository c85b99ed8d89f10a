"""Settings: invalid values stop start-up clearly; secrets never show in repr or logs."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.logs import RedactSecrets
from bot.settings import Settings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "123456789:AAF-very-secret-token-value"


def run_bot(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "ROBOKASSA"))}
    clean.update(env, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        env=clean,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_invalid_setting_stops_startup_with_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run_bot({"WEB_PORT": "seventy", "ROBOKASSA__PASSWORD1": "hunter2-secret"}, tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "bot: invalid setting WEB_PORT: Input should be a valid integer,"
        " unable to parse string as an integer"
    ]
    assert "Traceback" not in result.stderr


def test_invalid_nested_setting_names_it(tmp_path: Path) -> None:
    result = run_bot({"ROBOKASSA__ALGORITHM": "crc32"}, tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("bot: invalid setting ROBOKASSA__ALGORITHM:")


def test_secrets_are_not_in_repr_or_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("ROBOKASSA__PASSWORD1", "pass-one-secret")
    monkeypatch.setenv("ROBOKASSA__PASSWORD2", "pass-two-secret")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.bot_token is not None
    assert settings.bot_token.get_secret_value() == TOKEN
    for text in (repr(settings), str(settings), settings.model_dump_json()):
        assert TOKEN not in text
        assert "pass-one-secret" not in text and "pass-two-secret" not in text
    monkeypatch.setenv("ROBOKASSA__PASSWORD2", "")
    monkeypatch.setenv("WEB_PORT", "70000")
    with pytest.raises(SettingsError) as error:
        load_settings(_env_file=None)
    assert TOKEN not in str(error.value) and "pass-one-secret" not in str(error.value)


def test_logs_never_contain_secrets(caplog: pytest.LogCaptureFixture) -> None:
    redactor = RedactSecrets([TOKEN, "pass-one-secret"])
    caplog.handler.addFilter(redactor)
    log = logging.getLogger("test.secrets")
    log.error("request to https://api.telegram.org/bot%s/getMe failed", TOKEN)
    try:
        raise ValueError(f"bad signature with pass-one-secret for {TOKEN}")
    except ValueError:
        log.exception("callback failed")
    text = caplog.text
    assert TOKEN not in text and "pass-one-secret" not in text
    assert "bot***/getMe" in text
    assert "bad signature with *** for ***" in text


def test_env_example_lists_every_setting() -> None:
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    names = []
    for name, field in Settings.model_fields.items():
        nested = getattr(field.annotation, "model_fields", None)
        if name == "shops":  # keyed by shop id: documented by an example, SHOPS__<ID>__…
            names.append("# SHOPS__BOOKS__PASSWORD1")
        elif nested:
            names += [f"{name}__{sub}".upper() for sub in nested]
        else:
            names.append(name.upper())
    missing = [n for n in names if f"\n{n}=" not in text]
    assert missing == []
