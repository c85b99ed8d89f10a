"""QIWI wallet stand-in: registration by SMS code, secret key, sign-in, limits, balance, history.

Codes and secret keys are stored only as salted scrypt hashes. SMS go only to the Telegram
account that proved it has the number (services/operator.py), so a code can be asked for and
typed only there. Every guess of a code or a key is counted, in one transaction, before it is
checked, and a guess over a limit is refused unchecked, so parallel guesses cannot exceed the
limits: a few wrong ones lock that account out of that number for a cool-down, and a slower cap
per number bounds the guesses of all other accounts together.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from services import ledger
from services.clock import MOSCOW, Clock, from_ts, to_ts
from services.db import Database
from services.errors import DomainError
from services.ledger import Ledger, Movement, Transfer
from services.operator import (
    NotProved,
    Sms,
    ensure_phone,
    owner_of,
    require_active,
    sms_to_owner,
)
from services.secrets import (
    DEFAULT_N,
    check_async,
    hash_async,
    new_code,
    new_secret_key,
    normalize_secret_key,
)


@dataclass(frozen=True)
class Limits:
    max_balance: int  # kopecks
    monthly_payments: int  # kopecks


# Public QIWI identification levels.
LIMITS = {
    "minimal": Limits(max_balance=1_500_000, monthly_payments=4_000_000),
    "basic": Limits(max_balance=6_000_000, monthly_payments=20_000_000),
}


@dataclass(frozen=True)
class WalletRules:
    code_ttl: int = 300  # seconds an SMS code stays valid
    resend_cooldown: int = 60  # seconds before another code may be sent
    max_attempts: int = 5  # wrong codes or keys of one account before its cool-down
    lockout: int = 900  # seconds of cool-down
    number_cap: int = 20  # guesses per number by all accounts but its owner, per window
    number_window: int = 3600  # seconds
    hash_n: int = DEFAULT_N


class WalletExists(DomainError):
    def __init__(self, phone: str) -> None:
        super().__init__(f"{phone} already has a wallet")
        self.phone = phone


class WalletNotFound(DomainError):
    def __init__(self, phone: str) -> None:
        super().__init__(f"no wallet on {phone}")
        self.phone = phone


class WalletBlocked(DomainError):
    def __init__(self, phone: str) -> None:
        super().__init__(f"wallet {phone} is blocked")
        self.phone = phone


class ResendTooSoon(DomainError):
    def __init__(self, seconds: int) -> None:
        super().__init__(f"wait {seconds} s")
        self.seconds = seconds


class NoPendingCode(DomainError):
    pass


class AlreadyRegistered(DomainError):
    """This person's registration on this number is already complete."""


class CodeExpired(DomainError):
    pass


class WrongCode(DomainError):
    def __init__(self, attempts_left: int) -> None:
        super().__init__(f"{attempts_left} attempts left")
        self.attempts_left = attempts_left


class WrongSecret(DomainError):
    def __init__(self, attempts_left: int) -> None:
        super().__init__(f"{attempts_left} attempts left")
        self.attempts_left = attempts_left


class TooManyAttempts(DomainError):
    def __init__(self, until: datetime) -> None:
        super().__init__(f"locked until {until.isoformat()}")
        self.until = until


class MonthlyLimitExceeded(DomainError):
    def __init__(self, limit: int, spent: int, amount: int) -> None:
        super().__init__(f"monthly limit {limit}: spent {spent}, asked {amount}")
        self.limit = limit
        self.spent = spent
        self.amount = amount

    @property
    def room(self) -> int:
        return max(self.limit - self.spent, 0)


@dataclass(frozen=True)
class CodeSent:
    sms: Sms
    expires_at: datetime
    resend_at: datetime
    reregistration: bool


class WalletStatus(StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"  # the number was deactivated by the operator


@dataclass(frozen=True)
class WalletInfo:
    phone: str
    status: WalletStatus
    level: str
    balance: int
    spent_this_month: int

    @property
    def limits(self) -> Limits:
        return LIMITS[self.level]

    @property
    def active(self) -> bool:
        return self.status == WalletStatus.ACTIVE


@dataclass(frozen=True)
class Registered:
    wallet: WalletInfo
    sms: Sms  # the secret key, delivered by SMS


def wallet_account(phone: str) -> str:
    return f"wallet:{phone}"


def month_start(moment: datetime) -> int:
    local = moment.astimezone(MOSCOW)
    return to_ts(local.replace(day=1, hour=0, minute=0, second=0, microsecond=0))


def spent_since(conn: sqlite3.Connection, phone: str, since: int) -> int:
    row = conn.execute(
        "SELECT COALESCE(SUM(amount), 0) FROM transfers WHERE from_account = ? AND created_at >= ?",
        (wallet_account(phone), since),
    ).fetchone()
    return int(row[0])


def pay_from_wallet(
    conn: sqlite3.Connection,
    phone: str,
    to_account: str,
    amount: int,
    idempotency_key: str,
    *,
    now: datetime,
    memo: str = "",
    reference: str = "",
) -> Transfer:
    """A payment out of a wallet inside the caller's transaction, within the monthly limit."""
    row = conn.execute("SELECT status, level FROM wallets WHERE phone = ?", (phone,)).fetchone()
    if row is None:
        raise WalletNotFound(phone)
    replay = conn.execute(
        "SELECT 1 FROM transfers WHERE idempotency_key = ?", (idempotency_key,)
    ).fetchone()
    if replay is None:
        if row["status"] != "active":
            raise WalletBlocked(phone)
        limit = LIMITS[row["level"]].monthly_payments
        spent = spent_since(conn, phone, month_start(now))
        if spent + amount > limit:
            raise MonthlyLimitExceeded(limit, spent, amount)
    return ledger.post(
        conn,
        wallet_account(phone),
        to_account,
        amount,
        idempotency_key,
        now=to_ts(now),
        memo=memo,
        reference=reference,
    )


def _open_wallet(conn: sqlite3.Connection, phone: str, secret_hash: str, now: int) -> None:
    """Create the wallet, or re-open a blocked one with its money, under a new secret key."""
    conn.execute(
        "INSERT INTO wallets (phone, secret_hash, created_at) VALUES (?, ?, ?)"
        " ON CONFLICT(phone) DO UPDATE SET status = 'active', secret_hash = excluded.secret_hash",
        (phone, secret_hash, now),
    )
    level = conn.execute("SELECT level FROM wallets WHERE phone = ?", (phone,)).fetchone()
    cap = LIMITS[level[0]].max_balance
    ledger.open_account(conn, wallet_account(phone), "wallet", now=now, max_balance=cap)


def take_guess(
    conn: sqlite3.Connection, kind: str, number: str, user_id: int, now: int, rules: WalletRules
) -> tuple[int, int]:
    """Count one guess of a code or key before it is checked: (tries so far, locked until).

    Runs inside the transaction that reads the hash, so parallel guesses are counted one after
    another; a guess over a limit raises here and is never checked. The check itself (scrypt,
    tens of milliseconds) runs outside, so the database thread is not held by it: the count
    already bounds how many checks can happen.
    """
    row = conn.execute(
        "SELECT tries, locked_until FROM guesses WHERE kind = ? AND number = ? AND user_id = ?",
        (kind, number, user_id),
    ).fetchone()
    tries, locked = (row[0], row[1]) if row is not None else (0, 0)
    if locked > now:
        raise TooManyAttempts(from_ts(locked))
    if locked:
        tries = 0  # the cool-down is over
    if owner_of(conn, number) != user_id:
        # Strangers share one slower allowance per number; the owner never waits for them.
        window = conn.execute(
            "SELECT window_start, tries FROM guess_windows WHERE kind = ? AND number = ?",
            (kind, number),
        ).fetchone()
        start, used = (now, 0)
        if window is not None and window[0] + rules.number_window > now:
            start, used = window[0], window[1]
        if used >= rules.number_cap:
            raise TooManyAttempts(from_ts(start + rules.number_window))
        conn.execute(
            "INSERT OR REPLACE INTO guess_windows (kind, number, window_start, tries)"
            " VALUES (?, ?, ?, ?)",
            (kind, number, start, used + 1),
        )
    tries += 1
    # The last allowed guess locks at once: guesses arriving while it is checked are refused.
    locked = now + rules.lockout if tries >= rules.max_attempts else 0
    conn.execute(
        "INSERT OR REPLACE INTO guesses (kind, number, user_id, tries, locked_until)"
        " VALUES (?, ?, ?, ?, ?)",
        (kind, number, user_id, tries, locked),
    )
    return tries, locked


def forget_guesses(conn: sqlite3.Connection, kind: str, number: str, user_id: int) -> None:
    """A right guess: this account starts afresh (strangers' allowance is not given back)."""
    conn.execute(
        "DELETE FROM guesses WHERE kind = ? AND number = ? AND user_id = ?",
        (kind, number, user_id),
    )


def guess_lock(conn: sqlite3.Connection, kind: str, number: str, user_id: int, now: int) -> int:
    row = conn.execute(
        "SELECT locked_until FROM guesses WHERE kind = ? AND number = ? AND user_id = ?",
        (kind, number, user_id),
    ).fetchone()
    return row[0] if row is not None and row[0] > now else 0


class WalletService:
    def __init__(
        self, db: Database, clock: Clock, ledger_: Ledger, rules: WalletRules | None = None
    ) -> None:
        self.db = db
        self.clock = clock
        self.ledger = ledger_
        self.rules = rules or WalletRules()

    def _now(self) -> int:
        return to_ts(self.clock.now())

    # ---- registration ----------------------------------------------------------------

    async def start_registration(self, phone: str, user_id: int) -> CodeSent:
        """Send a one-time code by SMS to `phone`, whose owner `user_id` must be.

        Refused for a served number with a working wallet; a blocked one is re-opened this way.
        """
        code = new_code()
        code_hash = await hash_async(code, n=self.rules.hash_n)
        now = self._now()
        rules = self.rules

        def start(conn: sqlite3.Connection) -> CodeSent:
            require_active(conn, phone, now)
            wallet = conn.execute("SELECT status FROM wallets WHERE phone = ?", (phone,)).fetchone()
            if wallet is not None and wallet["status"] == "active":
                raise WalletExists(phone)
            if owner_of(conn, phone) != user_id:
                raise NotProved(phone)
            locked = guess_lock(conn, "code", phone, user_id, now)
            if locked:
                raise TooManyAttempts(from_ts(locked))
            pending = conn.execute(
                "SELECT sent_at FROM sms_codes WHERE phone = ? AND user_id = ?", (phone, user_id)
            ).fetchone()
            if pending is not None:
                wait = pending["sent_at"] + rules.resend_cooldown - now
                if wait > 0:
                    raise ResendTooSoon(wait)
            # A code someone else asked for (before the number changed hands) is replaced.
            conn.execute(
                "INSERT INTO sms_codes (phone, user_id, code_hash, sent_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT(phone) DO UPDATE SET"
                " user_id = excluded.user_id, code_hash = excluded.code_hash,"
                " sent_at = excluded.sent_at, expires_at = excluded.expires_at",
                (phone, user_id, code_hash, now, now + rules.code_ttl),
            )
            return CodeSent(
                sms=sms_to_owner(conn, phone, "code", code),
                expires_at=from_ts(now + rules.code_ttl),
                resend_at=from_ts(now + rules.resend_cooldown),
                reregistration=wallet is not None,
            )

        return await self.db.transaction(start)

    async def confirm_code(self, phone: str, code: str, user_id: int) -> Registered:
        """A right code creates (or re-opens) the wallet, issues a secret key, signs the user in.

        Only the account the code was sent to may type it.
        """
        now = self._now()
        rules = self.rules

        def take_attempt(conn: sqlite3.Connection) -> tuple[str, int, int]:
            pending = conn.execute(
                "SELECT * FROM sms_codes WHERE phone = ? AND user_id = ?", (phone, user_id)
            ).fetchone()
            if pending is None:
                done = conn.execute(
                    "SELECT 1 FROM wallet_users u JOIN wallets w ON w.phone = u.phone"
                    " WHERE u.user_id = ? AND u.phone = ? AND w.status = 'active'",
                    (user_id, phone),
                ).fetchone()
                # The same confirmation arriving twice (a retried update) finds it done.
                raise AlreadyRegistered() if done else NoPendingCode()
            locked = guess_lock(conn, "code", phone, user_id, now)
            if locked:
                raise TooManyAttempts(from_ts(locked))
            if pending["expires_at"] <= now:
                raise CodeExpired()
            tries, locked = take_guess(conn, "code", phone, user_id, now, rules)
            return pending["code_hash"], tries, locked

        code_hash, tries, locked = await self.db.transaction(take_attempt)
        if not await check_async(code, code_hash):
            self._after_wrong(tries, locked, WrongCode)
        secret = new_secret_key()
        secret_hash = await hash_async(secret, n=rules.hash_n)

        def create(conn: sqlite3.Connection) -> Sms:
            require_active(conn, phone, now)
            if owner_of(conn, phone) != user_id:
                raise NotProved(phone)  # the number changed hands meanwhile
            used = conn.execute(
                "DELETE FROM sms_codes WHERE phone = ? AND user_id = ? AND code_hash = ?",
                (phone, user_id, code_hash),
            )
            if used.rowcount == 0:
                raise NoPendingCode()  # a parallel confirmation or a newer code took its place
            forget_guesses(conn, "code", phone, user_id)
            _open_wallet(conn, phone, secret_hash, now)
            self._bind(conn, user_id, phone, now)
            return sms_to_owner(conn, phone, "secret", secret)

        sms = await self.db.transaction(create)
        wallet = await self.wallet_of(user_id)
        assert wallet is not None
        return Registered(wallet=wallet, sms=sms)

    async def register_at_terminal(self, phone: str, user_id: int) -> Registered:
        """Registration at a cash terminal: the secret key comes by SMS, no code to type.

        Only the number's owner can do it (the key comes to them), and only on a number without
        a wallet: a blocked one is re-opened with an SMS code, never here. The Telegram account
        is signed in to the new wallet unless it already uses another one.
        """
        now = self._now()
        secret = new_secret_key()
        secret_hash = await hash_async(secret, n=self.rules.hash_n)

        def create(conn: sqlite3.Connection) -> Sms:
            require_active(conn, phone, now)
            existing = conn.execute(
                "SELECT status FROM wallets WHERE phone = ?", (phone,)
            ).fetchone()
            if existing is not None:
                raise (
                    WalletExists(phone) if existing["status"] == "active" else WalletBlocked(phone)
                )
            if owner_of(conn, phone) != user_id:
                raise NotProved(phone)
            _open_wallet(conn, phone, secret_hash, now)
            signed = conn.execute(
                "SELECT 1 FROM wallet_users WHERE user_id = ?", (user_id,)
            ).fetchone()
            if signed is None:
                self._bind(conn, user_id, phone, now)
            return sms_to_owner(conn, phone, "secret", secret)

        sms = await self.db.transaction(create)
        row = await self.db.fetchone(
            "SELECT w.status, w.level, a.balance FROM wallets w"
            " JOIN accounts a ON a.id = 'wallet:' || w.phone WHERE w.phone = ?",
            (phone,),
        )
        assert row is not None
        info = WalletInfo(phone, WalletStatus(row["status"]), row["level"], row["balance"], 0)
        return Registered(wallet=info, sms=sms)

    def _after_wrong(self, tries: int, locked: int, error: Callable[[int], DomainError]) -> None:
        """The lock came with the last allowed try; raise the error that says what is left."""
        if locked:
            raise TooManyAttempts(from_ts(locked))
        raise error(self.rules.max_attempts - tries)

    # ---- sign-in and secrets ---------------------------------------------------------

    async def has_wallet(self, phone: str) -> WalletStatus | None:
        """The wallet's status on this number, or None when the number has none."""
        row = await self.db.fetchone("SELECT status FROM wallets WHERE phone = ?", (phone,))
        return None if row is None else WalletStatus(row[0])

    async def verify_secret(self, phone: str, secret: str, user_id: int) -> None:
        """Check the wallet's secret key under the attempt limits; raises on a wrong one."""
        now = self._now()
        rules = self.rules

        def take_attempt(conn: sqlite3.Connection) -> tuple[str, int, int]:
            row = conn.execute("SELECT * FROM wallets WHERE phone = ?", (phone,)).fetchone()
            if row is None:
                raise WalletNotFound(phone)
            if row["status"] != "active":
                raise WalletBlocked(phone)
            tries, locked = take_guess(conn, "secret", phone, user_id, now, rules)
            return row["secret_hash"], tries, locked

        secret_hash, tries, locked = await self.db.transaction(take_attempt)
        if not await check_async(normalize_secret_key(secret), secret_hash):
            self._after_wrong(tries, locked, WrongSecret)
        await self.db.transaction(lambda c: forget_guesses(c, "secret", phone, user_id))

    async def sign_in(self, phone: str, secret: str, user_id: int) -> WalletInfo:
        """Bind this Telegram account to an existing wallet, given its secret key."""
        await self.verify_secret(phone, secret, user_id)
        now = self._now()
        await self.db.transaction(lambda c: self._bind(c, user_id, phone, now))
        wallet = await self.wallet_of(user_id)
        assert wallet is not None
        return wallet

    async def change_secret(self, user_id: int, old_secret: str) -> Sms:
        """A new secret key after the current one is confirmed; the SMS goes to the number's
        owner, who may be another account than the one signed in here."""
        wallet = await self.wallet_of(user_id)
        if wallet is None:
            raise WalletNotFound("")
        if await self.db.run(lambda c: owner_of(c, wallet.phone)) is None:
            raise NotProved(wallet.phone)  # the new key could reach nobody
        await self.verify_secret(wallet.phone, old_secret, user_id)
        secret = new_secret_key()
        secret_hash = await hash_async(secret, n=self.rules.hash_n)
        now = self._now()

        def store(conn: sqlite3.Connection) -> Sms:
            require_active(conn, wallet.phone, now)
            sms = sms_to_owner(conn, wallet.phone, "secret", secret)
            conn.execute(
                "UPDATE wallets SET secret_hash = ? WHERE phone = ?", (secret_hash, wallet.phone)
            )
            return sms

        return await self.db.transaction(store)

    async def sign_out(self, user_id: int) -> None:
        await self.db.transaction(
            lambda c: c.execute("DELETE FROM wallet_users WHERE user_id = ?", (user_id,))
        )

    @staticmethod
    def _bind(conn: sqlite3.Connection, user_id: int, phone: str, now: int) -> None:
        conn.execute(
            "INSERT INTO wallet_users (user_id, phone, signed_at) VALUES (?, ?, ?)"
            " ON CONFLICT(user_id) DO UPDATE SET phone = excluded.phone,"
            " signed_at = excluded.signed_at",
            (user_id, phone, now),
        )

    # ---- reading ---------------------------------------------------------------------

    async def wallet_of(self, user_id: int) -> WalletInfo | None:
        """The wallet this Telegram account is signed in to, with balance and month's spending."""
        since = month_start(self.clock.now())
        now = self._now()

        def read(conn: sqlite3.Connection) -> WalletInfo | None:
            row = conn.execute(
                "SELECT w.phone, w.status, w.level, a.balance FROM wallet_users u"
                " JOIN wallets w ON w.phone = u.phone"
                " JOIN accounts a ON a.id = 'wallet:' || w.phone WHERE u.user_id = ?",
                (user_id,),
            ).fetchone()
            if row is None:
                return None
            status = WalletStatus(row["status"])
            if status == WalletStatus.ACTIVE and ensure_phone(conn, row["phone"], now) != "active":
                status = WalletStatus.BLOCKED
            return WalletInfo(
                phone=row["phone"],
                status=status,
                level=row["level"],
                balance=row["balance"],
                spent_this_month=spent_since(conn, row["phone"], since),
            )

        return await self.db.run(read)

    async def history(
        self, phone: str, *, limit: int = 5, before_id: int | None = None
    ) -> list[Movement]:
        return await self.ledger.history(wallet_account(phone), limit=limit, before_id=before_id)

    async def set_level(self, phone: str, level: str) -> None:
        """Identification changes the level and with it the balance cap."""
        if level not in LIMITS:
            raise ValueError(f"unknown level {level}")

        def change(conn: sqlite3.Connection) -> None:
            if (
                conn.execute(
                    "UPDATE wallets SET level = ? WHERE phone = ?", (level, phone)
                ).rowcount
                == 0
            ):
                raise WalletNotFound(phone)
            ledger.set_max_balance(conn, wallet_account(phone), LIMITS[level].max_balance)

        await self.db.transaction(change)

    # ---- money -----------------------------------------------------------------------

    async def pay(
        self,
        phone: str,
        to_account: str,
        amount: int,
        idempotency_key: str,
        *,
        memo: str = "",
        reference: str = "",
    ) -> Transfer:
        """Pay out of the wallet: refused if blocked, overdrawn or over the monthly limit."""
        now = self.clock.now()
        return await self.db.transaction(
            lambda c: pay_from_wallet(
                c,
                phone,
                to_account,
                amount,
                idempotency_key,
                now=now,
                memo=memo,
                reference=reference,
            )
        )

    async def credit(
        self,
        phone: str,
        from_account: str,
        amount: int,
        idempotency_key: str,
        *,
        memo: str = "",
        reference: str = "",
    ) -> Transfer:
        """Money into the wallet: refused past the level's balance cap (nothing moves)."""
        now = self._now()

        def credit(conn: sqlite3.Connection) -> Transfer:
            row = conn.execute("SELECT status FROM wallets WHERE phone = ?", (phone,)).fetchone()
            if row is None:
                raise WalletNotFound(phone)
            return ledger.post(
                conn,
                from_account,
                wallet_account(phone),
                amount,
                idempotency_key,
                now=now,
                memo=memo,
                reference=reference,
            )

        return await self.db.transaction(credit)
