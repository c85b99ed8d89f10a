"""Application settings, read from the environment and `.env`."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

HashAlgorithm = Literal["md5", "ripemd160", "sha1", "sha256", "sha384", "sha512"]


class RobokassaSettings(BaseModel):
    """One shop's credentials at the aggregator. The defaults talk to the embedded sandbox."""

    login: str = "demo-shop"
    password1: SecretStr = SecretStr("sandbox-password-1")
    password2: SecretStr = SecretStr("sandbox-password-2")
    algorithm: HashAlgorithm = "md5"
    is_test: bool = True
    # Empty means "the embedded sandbox served by our own web app".
    base_url: str = ""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="__",
        extra="ignore",
    )

    bot_token: SecretStr | None = None
    database_path: Path = Path("data/bot.sqlite3")
    default_locale: Literal["ru", "en"] = "ru"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=1, le=65535)
    robokassa: RobokassaSettings = RobokassaSettings()


class SettingsError(Exception):
    """A setting has an invalid value; the message names it and never echoes secrets."""


def load_settings(**overrides: object) -> Settings:
    """Read settings; turn a validation failure into one readable line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "__".join(str(part) for part in first["loc"]).upper()
        raise SettingsError(f"invalid setting {name}: {first['msg']}") from None
