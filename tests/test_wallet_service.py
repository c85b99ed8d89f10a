"""Wallet and operator stand-ins at the service level: rules of the world, limits, hashes."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from services.clock import ManualClock
from services.db import Database
from services.ledger import BalanceCapExceeded, Ledger
from services.operator import InvalidPhone, Operator, PhoneDeactivated, normalize_phone, prove
from services.wallet import (
    CodeExpired,
    MonthlyLimitExceeded,
    NoPendingCode,
    ResendTooSoon,
    TooManyAttempts,
    WalletBlocked,
    WalletExists,
    WalletRules,
    WalletService,
    WrongCode,
    WrongSecret,
    wallet_account,
)

PHONE = "+79123456789"
CASH = "external:cash"


@pytest.mark.parametrize(
    "text",
    [
        "8 (912) 345-67-89",
        "+7 912 345 67 89",
        "9123456789",
        "+79123456789",
        "79123456789",
        " 8-912-345-67-89 ",
    ],
)
def test_phone_numbers_are_read_as_people_type_them(text: str) -> None:
    assert normalize_phone(text) == PHONE


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("12345", "format"),
        ("привет", "format"),
        ("+380 67 123 4567", "foreign"),
        ("+1 212 555 0100", "foreign"),
        ("+7 495 123-45-67", "not_mobile"),
        ("8 (912) 345-67-8", "format"),
        ("9" * 40, "format"),
        ("", "format"),
    ],
)
def test_anything_else_is_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidPhone) as error:
        normalize_phone(text)
    assert error.value.reason == reason


@pytest.mark.parametrize(
    "text",
    [
        "+7 916 111-01-0\u0661",  # Arabic-Indic
        "+7 916 111-01-0\u06f1",  # Extended Arabic-Indic (Persian)
        "+7 916 111-01-0\uff11",  # fullwidth
        "+7 916 111-01-0\u0967",  # Devanagari
        "+\uff17\uff19\uff11\uff16\uff11\uff11\uff11\uff10\uff11\uff10\uff11",  # all fullwidth
    ],
)
def test_digits_of_other_scripts_are_refused_not_read_as_another_number(text: str) -> None:
    with pytest.raises(InvalidPhone) as error:
        normalize_phone(text)
    assert error.value.reason == "digits"


@pytest.mark.parametrize("text", ["+7916111010\u0661", "+7916111010²", "+7 916 111-01-01"])
async def test_the_services_and_the_database_take_only_the_normal_form(
    text: str, db: Database, clock: ManualClock
) -> None:
    with pytest.raises(InvalidPhone):
        await Operator(db, clock).status(text)
    with pytest.raises(sqlite3.IntegrityError, match="normal form"):
        await db.transaction(
            lambda c: c.execute(
                "INSERT INTO phones (number, status, changed_at) VALUES (?, 'active', 0)", (text,)
            )
        )


@pytest.fixture
async def wallets(db: Database, clock: ManualClock, ledger: Ledger) -> WalletService:
    # Account 1 has shared its own contact: SMS to PHONE come to it.
    await Operator(db, clock).prove(PHONE, 1)
    return WalletService(db, clock, ledger, WalletRules())


@pytest.fixture
def operator(db: Database, clock: ManualClock) -> Operator:
    return Operator(db, clock)


async def register(wallets: WalletService, phone: str = PHONE, user: int = 1) -> str:
    sent = await wallets.start_registration(phone, user)
    registered = await wallets.confirm_code(phone, sent.sms.value, user)
    return registered.sms.value


async def test_registration_creates_a_wallet_and_issues_a_secret(wallets: WalletService) -> None:
    sent = await wallets.start_registration(PHONE, 1)
    assert len(sent.sms.value) == 6 and sent.sms.value.isdigit()
    registered = await wallets.confirm_code(PHONE, sent.sms.value, user_id=1)
    assert registered.sms.kind == "secret"
    assert registered.wallet.phone == PHONE and registered.wallet.balance == 0
    info = await wallets.wallet_of(1)
    assert info is not None and info.active and info.level == "minimal"
    with pytest.raises(WalletExists):
        await wallets.start_registration(PHONE, 1)


async def test_codes_and_secrets_are_stored_only_as_salted_hashes(
    wallets: WalletService, db: Database, tmp_path: Path
) -> None:
    sent = await wallets.start_registration(PHONE, 1)
    code = sent.sms.value
    dump_before = "\n".join([line async for line in db._conn.iterdump()])
    assert code not in dump_before
    secret = (await wallets.confirm_code(PHONE, code, 1)).sms.value
    await wallets.db.transaction(lambda c: prove(c, "+79990001122", 1, 0))
    await wallets.start_registration("+79990001122", 1)
    dump = "\n".join([line async for line in db._conn.iterdump()])
    assert secret not in dump and secret.replace("-", "") not in dump
    row = await db.fetchone("SELECT secret_hash FROM wallets WHERE phone = ?", (PHONE,))
    assert row is not None and row[0].startswith("scrypt$")
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("test.sqlite3*"))
    assert secret.encode() not in raw


async def test_resend_waits_for_the_cool_down(wallets: WalletService, clock: ManualClock) -> None:
    first = await wallets.start_registration(PHONE, 1)
    with pytest.raises(ResendTooSoon) as error:
        await wallets.start_registration(PHONE, 1)
    assert error.value.seconds == 60
    clock.advance(seconds=61)
    second = await wallets.start_registration(PHONE, 1)
    # Only the newest code works.
    with pytest.raises(WrongCode):
        await wallets.confirm_code(PHONE, first.sms.value, 1)
    await wallets.confirm_code(PHONE, second.sms.value, 1)


async def test_code_expires_after_five_minutes(wallets: WalletService, clock: ManualClock) -> None:
    sent = await wallets.start_registration(PHONE, 1)
    clock.advance(minutes=5, seconds=1)
    with pytest.raises(CodeExpired):
        await wallets.confirm_code(PHONE, sent.sms.value, 1)


async def test_sixth_wrong_code_is_locked_out(wallets: WalletService, clock: ManualClock) -> None:
    sent = await wallets.start_registration(PHONE, 1)
    wrong = "000000" if sent.sms.value != "000000" else "111111"
    lefts = []
    for _ in range(4):
        with pytest.raises(WrongCode) as error:
            await wallets.confirm_code(PHONE, wrong, 1)
        lefts.append(error.value.attempts_left)
    assert lefts == [4, 3, 2, 1]
    with pytest.raises(TooManyAttempts):
        await wallets.confirm_code(PHONE, wrong, 1)
    # Locked: even the right code is not checked now.
    with pytest.raises(TooManyAttempts):
        await wallets.confirm_code(PHONE, sent.sms.value, 1)
    clock.advance(minutes=16)
    again = await wallets.start_registration(PHONE, 1)
    await wallets.confirm_code(PHONE, again.sms.value, 1)


async def test_parallel_guesses_cannot_exceed_the_limit(wallets: WalletService) -> None:
    sent = await wallets.start_registration(PHONE, 1)
    guesses = [f"{n:06d}" for n in range(20) if f"{n:06d}" != sent.sms.value][:20]
    results = await asyncio.gather(
        *(wallets.confirm_code(PHONE, g, 1) for g in guesses), return_exceptions=True
    )
    wrong = [r for r in results if isinstance(r, WrongCode)]
    assert len(wrong) <= 4
    assert all(isinstance(r, WrongCode | TooManyAttempts) for r in results)


async def test_deactivated_number_refuses_registration_and_blocks_the_wallet(
    wallets: WalletService, operator: Operator, ledger: Ledger, clock: ManualClock
) -> None:
    await operator.deactivate("+79990000000")
    with pytest.raises(PhoneDeactivated):
        await wallets.start_registration("+79990000000", 1)
    secret = await register(wallets)
    await ledger.open_account(CASH, "external", allow_negative=True)
    await wallets.credit(PHONE, CASH, 50_000, "topup-1")
    await operator.deactivate(PHONE)
    info = await wallets.wallet_of(1)
    assert info is not None and info.status == "blocked"
    with pytest.raises(WalletBlocked):
        await wallets.sign_in(PHONE, secret, 2)
    with pytest.raises(WalletBlocked):
        await wallets.pay(PHONE, CASH, 100, "pay-1")
    with pytest.raises(PhoneDeactivated):
        await wallets.start_registration(PHONE, 1)
    await operator.reactivate(PHONE)
    sent = await wallets.start_registration(PHONE, 1)
    assert sent.reregistration
    registered = await wallets.confirm_code(PHONE, sent.sms.value, 1)
    assert registered.wallet.active and registered.wallet.balance == 50_000
    with pytest.raises(WrongSecret):
        await wallets.verify_secret(PHONE, secret, 1)  # the old key died with the old wallet


async def test_sign_in_from_another_account_with_the_secret(wallets: WalletService) -> None:
    secret = await register(wallets)
    info = await wallets.sign_in(PHONE, secret.lower().replace("-", " "), user_id=2)
    assert info.phone == PHONE
    assert (await wallets.wallet_of(2)) == (await wallets.wallet_of(1))


async def test_wrong_secret_is_limited(wallets: WalletService, clock: ManualClock) -> None:
    secret = await register(wallets)
    for left in (4, 3, 2, 1):
        with pytest.raises(WrongSecret) as error:
            await wallets.sign_in(PHONE, "AAAA-AAAA", 2)
        assert error.value.attempts_left == left
    with pytest.raises(TooManyAttempts):
        await wallets.sign_in(PHONE, "AAAA-AAAA", 2)
    with pytest.raises(TooManyAttempts):
        await wallets.sign_in(PHONE, secret, 2)
    clock.advance(minutes=15, seconds=1)
    await wallets.sign_in(PHONE, secret, 2)


async def test_balance_cap_refuses_a_top_up_before_any_entry(
    wallets: WalletService, ledger: Ledger, db: Database
) -> None:
    await register(wallets)
    await ledger.open_account(CASH, "external", allow_negative=True)
    await wallets.credit(PHONE, CASH, 1_400_000, "t1")
    with pytest.raises(BalanceCapExceeded) as error:
        await wallets.credit(PHONE, CASH, 200_000, "t2")
    assert error.value.room == 100_000
    assert await ledger.balance(wallet_account(PHONE)) == 1_400_000
    count = await db.fetchone("SELECT COUNT(*) FROM entries")
    assert count is not None and count[0] == 2
    await wallets.set_level(PHONE, "basic")
    await wallets.credit(PHONE, CASH, 200_000, "t2")
    assert (await ledger.check_invariants()).ok


async def test_monthly_payment_cap_refuses_before_any_entry(
    wallets: WalletService, ledger: Ledger, db: Database, clock: ManualClock
) -> None:
    await register(wallets)
    await wallets.set_level(PHONE, "basic")
    await ledger.open_account(CASH, "external", allow_negative=True)
    await ledger.open_account("shop:books", "shop")
    for n in range(3):
        await wallets.credit(PHONE, CASH, 1_500_000, f"in-{n}")
        await wallets.pay(PHONE, "shop:books", 1_300_000, f"out-{n}")
    # 39 000 ₽ spent this month on the minimal level's 40 000 ₽ cap.
    await wallets.set_level(PHONE, "minimal")
    before = await db.fetchone("SELECT COUNT(*) FROM entries")
    with pytest.raises(MonthlyLimitExceeded) as error:
        await wallets.pay(PHONE, "shop:books", 200_000, "out-big")
    assert error.value.room == 100_000
    after = await db.fetchone("SELECT COUNT(*) FROM entries")
    assert before is not None and after is not None and before[0] == after[0]
    await wallets.pay(PHONE, "shop:books", 100_000, "out-fits")
    # Replaying an accepted payment is not a new payment, even at the cap.
    replay = await wallets.pay(PHONE, "shop:books", 100_000, "out-fits")
    assert replay.replayed
    # A new month, a new allowance.
    clock.advance(days=5)
    await wallets.pay(PHONE, "shop:books", 100_000, "next-month")
    assert (await ledger.check_invariants()).ok


# ---- parallel guesses: counted and refused in one step, per number and account -------------


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every code or key the service actually compares with its hash."""
    import services.wallet

    checked: list[str] = []
    real = services.wallet.check_async

    async def counting(value: str, stored: str, key: bytes = b"") -> bool:
        checked.append(value)
        return await real(value, stored, key)

    monkeypatch.setattr(services.wallet, "check_async", counting)
    return checked


def guesses_with(right: str, place: int, total: int) -> list[str]:
    wrong = (f"{n:06d}" for n in range(100) if f"{n:06d}" != right)
    guesses = [next(wrong) for _ in range(total - 1)]
    guesses.insert(place - 1, right)
    return guesses


@pytest.mark.parametrize(("place", "total"), [(6, 8), (20, 30)])
async def test_a_right_code_past_the_limit_among_parallel_guesses_is_never_checked(
    wallets: WalletService, checks: list[str], place: int, total: int
) -> None:
    sent = await wallets.start_registration(PHONE, 1)
    guesses = guesses_with(sent.sms.value, place, total)
    results = await asyncio.gather(
        *(wallets.confirm_code(PHONE, g, 1) for g in guesses), return_exceptions=True
    )
    assert isinstance(results[place - 1], TooManyAttempts)
    assert len(checks) == 5 and sent.sms.value not in checks
    assert [type(r) for r in results[:5]] == [WrongCode] * 4 + [TooManyAttempts]
    assert all(isinstance(r, TooManyAttempts) for r in results[5:])
    assert await wallets.wallet_of(1) is None


async def test_a_right_key_past_the_limit_among_parallel_guesses_is_never_checked(
    wallets: WalletService, checks: list[str]
) -> None:
    secret = await register(wallets)
    checks.clear()
    guesses = ["AAAA-AAA" + ch for ch in "BCDEFGHJKLMNPQ"]
    guesses.insert(11, secret)  # 12th of 15
    results = await asyncio.gather(
        *(wallets.sign_in(PHONE, g, 2) for g in guesses), return_exceptions=True
    )
    assert isinstance(results[11], TooManyAttempts)
    assert len(checks) == 5 and secret not in checks
    assert await wallets.wallet_of(2) is None


async def test_many_accounts_share_a_slower_cap_per_number_but_its_owner(
    wallets: WalletService, checks: list[str], clock: ManualClock
) -> None:
    secret = await register(wallets)
    checks.clear()
    # 30 accounts, one guess each at once; the right key is the 25th.
    guesses = [f"AAAA-AA{a}{b}" for a in "BCDEF" for b in "BCDEFG"][:29]
    guesses.insert(24, secret)
    results = await asyncio.gather(
        *(wallets.sign_in(PHONE, g, 100 + n) for n, g in enumerate(guesses)),
        return_exceptions=True,
    )
    assert len(checks) == 20 and secret not in checks
    assert isinstance(results[24], TooManyAttempts)
    assert results[24].until == clock.now() + timedelta(hours=1)
    # The owner, whose account proved the number, is not kept out by strangers.
    await wallets.verify_secret(PHONE, secret, 1)
    clock.advance(hours=1)
    await wallets.sign_in(PHONE, secret, 200)


async def test_wrong_guesses_lock_out_only_the_account_that_made_them(
    wallets: WalletService, clock: ManualClock
) -> None:
    secret = await register(wallets)
    for _ in range(5):
        with pytest.raises((WrongSecret, TooManyAttempts)):
            await wallets.sign_in(PHONE, "AAAA-AAAA", 3)
    with pytest.raises(TooManyAttempts):
        await wallets.sign_in(PHONE, secret, 3)
    # Another account that knows the key signs in at once, and the owner pays as usual.
    assert (await wallets.sign_in(PHONE, secret, 2)).phone == PHONE
    await wallets.verify_secret(PHONE, secret, 1)


async def test_a_code_is_typed_only_in_the_account_it_was_sent_to(
    wallets: WalletService, checks: list[str]
) -> None:
    sent = await wallets.start_registration(PHONE, 1)
    with pytest.raises(NoPendingCode):
        await wallets.confirm_code(PHONE, sent.sms.value, 2)
    assert checks == []
    assert sent.sms.to_user == 1
