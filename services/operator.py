"""Phone operator stand-in: number formats, which numbers are served, SMS, mobile balance."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass

from services import ledger
from services.clock import Clock, to_ts
from services.db import Database
from services.errors import DomainError

EXAMPLE = "+7 912 345-67-89"


class InvalidPhone(DomainError, ValueError):
    """Not something we can read as a Russian mobile number."""

    def __init__(self, text: str, reason: str) -> None:
        super().__init__(f"not a Russian mobile number like {EXAMPLE} ({reason})")
        self.reason = reason  # "format" | "digits" | "foreign" | "not_mobile"


class NotProved(DomainError):
    """The SMS would go to the account that has the number, and that is not this one."""

    def __init__(self, number: str) -> None:
        super().__init__(f"{number} is not proved by this account")
        self.number = number


class PhoneDeactivated(DomainError):
    def __init__(self, number: str) -> None:
        super().__init__(f"{number} is deactivated")
        self.number = number


_SEPARATORS = re.compile(r"[\s\-().]")


def normalize_phone(text: str) -> str:
    """`8 (912) 345-67-89`, `+7 912 345 67 89`, `9123456789` → `+79123456789`.

    The one reading of a phone number: every number a person types or shares goes through here,
    and every number a service is given is checked against it (`require_normal`). Anything
    that is not a Russian mobile number (+7 9xx) is refused with the reason.

    Only ASCII digits count: `+7 916 111-01-0١` (an Arabic-Indic one) is refused, not mapped
    to `1`. Refusing keeps the accepted set small and easy to check (Unicode has dozens of
    digit sets, plus "digits" like `²` that are not decimal), matches the terminal's 0–9
    keypad, and a number in mixed scripts is pasted or crafted rather than typed, so the person
    is better told plainly what to type than have it silently reinterpreted.
    """
    raw = _SEPARATORS.sub("", text.strip())
    if len(raw) > 20:
        raise InvalidPhone(text, "format")
    if not re.fullmatch(r"\+?[0-9]+", raw):
        other_digits = raw.lstrip("+").isdecimal()
        raise InvalidPhone(text, "digits" if other_digits else "format")
    digits = raw.lstrip("+")
    if raw.startswith("+") and not digits.startswith("7"):
        raise InvalidPhone(text, "foreign")
    if len(digits) == 11 and digits[0] in "78":
        national = digits[1:]
    elif len(digits) == 10 and not raw.startswith("+") and digits[0] not in "78":
        national = digits
    else:
        raise InvalidPhone(text, "format")
    if national[0] != "9":
        raise InvalidPhone(text, "not_mobile")
    return "+7" + national


def mobile_account(number: str) -> str:
    return f"phone:{number}"


def require_normal(number: str) -> str:
    """A number a service is given must already be in the normal form (`+79123456789`)."""
    if normalize_phone(number) != number:
        raise InvalidPhone(number, "format")
    return number


def ensure_phone(conn: sqlite3.Connection, number: str, now: int) -> str:
    """The operator knows every well-formed number; returns its status."""
    require_normal(number)
    conn.execute(
        "INSERT OR IGNORE INTO phones (number, status, changed_at) VALUES (?, 'active', ?)",
        (number, now),
    )
    ledger.open_account(conn, mobile_account(number), "phone", now=now)
    row = conn.execute("SELECT status FROM phones WHERE number = ?", (number,)).fetchone()
    return str(row[0])


def require_active(conn: sqlite3.Connection, number: str, now: int) -> None:
    if ensure_phone(conn, number, now) != "active":
        raise PhoneDeactivated(number)


def owner_of(conn: sqlite3.Connection, number: str) -> int | None:
    """The Telegram account that last proved it has the number, if any."""
    row = conn.execute("SELECT user_id FROM phone_owners WHERE number = ?", (number,)).fetchone()
    return None if row is None else int(row[0])


def number_of(conn: sqlite3.Connection, user_id: int) -> str | None:
    """The number the account last proved it has (Telegram vouched for it), if any."""
    row = conn.execute(
        "SELECT number FROM phone_owners WHERE user_id = ? ORDER BY proved_at DESC, rowid DESC"
        " LIMIT 1",
        (user_id,),
    ).fetchone()
    return None if row is None else str(row[0])


def prove(conn: sqlite3.Connection, number: str, user_id: int, now: int) -> None:
    """The account shared its own contact (Telegram vouches for it): the number is its now.

    The latest proof wins: the operator may have given the number to someone else since.
    """
    ensure_phone(conn, number, now)
    conn.execute(
        "INSERT INTO phone_owners (number, user_id, proved_at) VALUES (?, ?, ?)"
        " ON CONFLICT(number) DO UPDATE SET user_id = excluded.user_id,"
        " proved_at = excluded.proved_at",
        (number, user_id, now),
    )


@dataclass(frozen=True)
class Sms:
    """An SMS the operator delivered; its text is shown to the person, never stored."""

    number: str
    kind: str  # "code" | "secret"
    value: str
    to_user: int  # the Telegram account that has the number: the SMS arrives only there


def sms_to_owner(conn: sqlite3.Connection, number: str, kind: str, value: str) -> Sms:
    """An SMS reaches only the account that proved the number; nobody's number gets none."""
    owner = owner_of(conn, number)
    if owner is None:
        raise NotProved(number)
    return Sms(number, kind, value, owner)


class Operator:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def status(self, number: str) -> str:
        now = to_ts(self.clock.now())
        return await self.db.transaction(lambda c: ensure_phone(c, number, now))

    async def prove(self, number: str, user_id: int) -> None:
        now = to_ts(self.clock.now())
        await self.db.transaction(lambda c: prove(c, number, user_id, now))

    async def owner(self, number: str) -> int | None:
        return await self.db.run(lambda c: owner_of(c, number))

    async def number_of(self, user_id: int) -> str | None:
        return await self.db.run(lambda c: number_of(c, user_id))

    async def deactivate(self, number: str) -> None:
        """The operator stops serving the number; a wallet on it is blocked."""
        await self._set_status(number, "deactivated")

    async def reactivate(self, number: str) -> None:
        await self._set_status(number, "active")

    async def _set_status(self, number: str, status: str) -> None:
        now = to_ts(self.clock.now())

        def change(conn: sqlite3.Connection) -> None:
            ensure_phone(conn, number, now)
            conn.execute(
                "UPDATE phones SET status = ?, changed_at = ? WHERE number = ?",
                (status, now, number),
            )
            if status == "deactivated":
                # Seed rule: a deactivated number means registering the wallet again.
                conn.execute("UPDATE wallets SET status = 'blocked' WHERE phone = ?", (number,))

        await self.db.transaction(change)

    async def apply_deactivated_list(self, numbers: list[str]) -> None:
        for number in numbers:
            await self.deactivate(number)

    async def mobile_balance(self, number: str) -> int:
        now = to_ts(self.clock.now())

        def read(conn: sqlite3.Connection) -> int:
            ensure_phone(conn, number, now)
            return ledger.balance_of(conn, mobile_account(number))

        return await self.db.transaction(read)
