"""Application settings, read from the environment and `.env`."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.operator import normalize_phone

DEMO_CATALOGUE = Path(__file__).resolve().parent.parent / "catalogue" / "demo.toml"
# Telegram's rule for setWebhook's secret_token.
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
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
    # Password #3 signs Refund API requests (JWT). Its address: empty means the sandbox's, or
    # the real service's when base_url is set.
    password3: SecretStr = SecretStr("sandbox-password-3")
    refund_url: str = ""


class ShopSecrets(BaseModel):
    """A shop's own Robokassa passwords: `SHOPS__<SHOP ID>__PASSWORD1` (…2, …3). The rest of
    its account (MerchantLogin, algorithm, test mode, fiscal settings) is in the catalogue."""

    password1: SecretStr = SecretStr("")
    password2: SecretStr = SecretStr("")
    password3: SecretStr = SecretStr("")
    # Telegram Payments for this shop: the token Robokassa's bot gives for this shop's own
    # account (`SHOPS__<SHOP ID>__TELEGRAM_PROVIDER_TOKEN`); empty: not offered.
    telegram_provider_token: SecretStr = SecretStr("")


class WalletSettings(BaseModel):
    """Rules of the wallet stand-in (seconds and counts)."""

    code_ttl_seconds: int = Field(default=300, ge=30)
    resend_cooldown_seconds: int = Field(default=60, ge=0)
    max_attempts: int = Field(default=5, ge=1)
    lockout_seconds: int = Field(default=900, ge=0)


class CashSettings(BaseModel):
    """Cash terminal and mobile shop stand-ins."""

    terminal_id: str = "T-0417"
    salon_id: str = "S-0102"
    # Terminal top-up commission in percent, shown before cash goes in (e.g. 2.5).
    commission_percent: Decimal = Field(default=Decimal("0"), ge=0, le=20, decimal_places=2)
    # Share of top-ups (percent) whose crediting is delayed, and by how long.
    delayed_percent: int = Field(default=10, ge=0, le=100)
    delay_seconds: int = Field(default=3600, ge=0)
    # A visit left with cash inside is finished (and receipted) after this many seconds.
    idle_seconds: int = Field(default=600, ge=60)

    @property
    def commission_bp(self) -> int:
        return int(self.commission_percent * 100)


class ThrottleSettings(BaseModel):
    """Anti-flood per person: updates per second and at once; 0 turns it off."""

    rate: float = Field(default=5.0, ge=0)
    burst: int = Field(default=60, ge=1)
    # Registration, sign-in and payment steps cost the most (hashes, money): a stricter bucket.
    strict_rate: float = Field(default=1.0, gt=0)
    strict_burst: int = Field(default=30, ge=1)


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
    web_port: int = Field(default=8080, ge=0, le=65535)
    # The local Telegram emulator and its web chat, used when BOT_TOKEN is empty.
    emulator_host: str = "127.0.0.1"
    emulator_port: int = Field(default=8081, ge=0, le=65535)
    # An emulator already running elsewhere (`python -m emulator`); empty = start one inside.
    emulator_url: str = ""
    # Emulated flood control: bot messages per chat per second before 429 (0 = off).
    emulator_flood_limit: int = Field(default=0, ge=0)
    robokassa: RobokassaSettings = RobokassaSettings()
    # Telegram Payments: the provider token Robokassa's bot gives via @BotFather (test and
    # live tokens differ). Empty: paying inside Telegram is off (the emulator takes any token).
    telegram_provider_token: SecretStr = SecretStr("")
    # Per-shop Robokassa passwords, keyed by the catalogue's shop id (see ShopSecrets).
    shops: dict[str, ShopSecrets] = Field(default_factory=dict)
    wallet: WalletSettings = WalletSettings()
    cash: CashSettings = CashSettings()
    throttle: ThrottleSettings = ThrottleSettings()
    # Shops and goods (TOML); synced into the database at every start.
    catalogue_path: Path = DEMO_CATALOGUE
    # An unpaid order expires (and gives its stock back) after this many seconds.
    order_ttl_seconds: int = Field(default=1800, ge=60)
    # Unpaid orders one person may have open at once; one more is refused until one is paid or
    # cancelled (each open order holds stock).
    max_open_orders: int = Field(default=3, ge=1)
    # A QIWI bill lives this long (never past the order's own expiry).
    bill_ttl_seconds: int = Field(default=1800, ge=60)
    # Orders awaiting payment this long are checked with OpStateExt (a lost ResultURL).
    reconcile_after_seconds: int = Field(default=300, ge=10)
    # Address Robokassa reaches the web app at (ResultURL); empty = http://WEB_HOST:WEB_PORT.
    public_url: str = ""
    # The bot's @username for invite links; empty = ask Telegram (or the emulator's name).
    bot_username: str = ""
    # Numbers the phone operator does not serve, comma-separated (for demos of the seed's rule).
    deactivated_phones: str = ""
    # Server key for SMS code hashes (HMAC-SHA256), hex, at least 16 bytes. Empty: read from
    # (or made on first start in) a 0600 file next to the database, `<DATABASE_PATH>.code-key`,
    # so a copy of the database alone reveals no code.
    code_key: SecretStr | None = None
    # Webhook mode: the public address Telegram POSTs updates to (its path is served by the web
    # app); empty = long polling. WEBHOOK_SECRET is Telegram's X-Telegram-Bot-Api-Secret-Token.
    webhook_url: str = ""
    webhook_secret: SecretStr | None = None
    # Redis for conversation state and per-person locks shared by replicas; empty = the database.
    redis_url: SecretStr | None = None

    @field_validator("catalogue_path", mode="before")
    @classmethod
    def _empty_means_demo(cls, value: object) -> object:
        return DEMO_CATALOGUE if value in ("", None) else value

    @field_validator("code_key")
    @classmethod
    def _key_is_hex(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        try:
            key = bytes.fromhex(value.get_secret_value())
        except ValueError:
            raise ValueError("must be hexadecimal") from None
        if len(key) < 16:
            raise ValueError("must be at least 16 bytes (32 hex digits)")
        return value

    def code_key_path(self) -> Path:
        return self.database_path.with_name(self.database_path.name + ".code-key")

    @field_validator("deactivated_phones")
    @classmethod
    def _phones_are_numbers(cls, value: str) -> str:
        for item in value.split(","):
            if item.strip():
                normalize_phone(item)
        return value

    @field_validator("webhook_secret", "redis_url", mode="before")
    @classmethod
    def _empty_means_none(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_as_telegram_takes_it(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("must be 1-256 characters A-Z, a-z, 0-9, _ or -")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url_is_an_address(cls, value: str) -> str:
        if value:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError("must be an http(s) address like https://bot.example.com/telegram")
        return value

    @model_validator(mode="after")
    def _webhook_is_complete(self) -> Settings:
        if not self.webhook_url:
            return self
        if self.webhook_secret is None:
            # Anyone who finds the address could post updates as any person: never without it.
            raise ValueError("WEBHOOK_SECRET is required with WEBHOOK_URL")
        if self.bot_token is not None and not self.webhook_url.startswith("https://"):
            raise ValueError("WEBHOOK_URL must be https: Telegram delivers only over TLS")
        return self

    @property
    def webhook_path(self) -> str:
        """Where the web app serves the webhook: the path of WEBHOOK_URL (a proxy keeps it)."""
        return urlsplit(self.webhook_url).path or "/"

    def deactivated_phone_list(self) -> list[str]:
        return [normalize_phone(p) for p in self.deactivated_phones.split(",") if p.strip()]


class SettingsError(Exception):
    """A setting has an invalid value; the message names it and never echoes secrets."""


def load_settings(**overrides: object) -> Settings:
    """Read settings; turn a validation failure into one readable line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "__".join(str(part) for part in first["loc"]).upper()
        if not name:  # a rule between settings names them in its message
            raise SettingsError(f"invalid settings: {first['msg']}") from None
        raise SettingsError(f"invalid setting {name}: {first['msg']}") from None
