"""The wallet's rules at the second they change and on numbers the operator stopped serving:
when another code may be asked for, the last second a code works, a right guess giving the
whole allowance back, a blocked number that cannot be registered or re-keyed, and signing out."""

from __future__ import annotations

import asyncio
import os
import signal
from datetime import timedelta

import pytest

import services.wallet as wallet_module
from services.clock import ManualClock, to_ts
from services.db import Database
from services.ledger import Ledger
from services.operator import Operator, PhoneDeactivated
from services.secrets import hash_async
from services.wallet import (
    CodeExpired,
    CodeSent,
    NoPendingCode,
    Registered,
    ResendTooSoon,
    TooManyAttempts,
    WalletNotFound,
    WalletRules,
    WalletService,
    WrongCode,
    WrongSecret,
)
from tests.helpers import World, register

PHONE = "+79123456789"
BORIS_PHONE = "+79990000000"


@pytest.fixture
def operator(db: Database, clock: ManualClock) -> Operator:
    return Operator(db, clock)


@pytest.fixture
async def wallets(
    db: Database, clock: ManualClock, ledger: Ledger, operator: Operator
) -> WalletService:
    # Account 1 has PHONE, account 2 has BORIS_PHONE: each one's SMS come to it.
    await operator.prove(PHONE, 1)
    await operator.prove(BORIS_PHONE, 2)
    return WalletService(db, clock, ledger, WalletRules())


def wrong(sent: CodeSent) -> str:
    return "000000" if sent.sms.value != "000000" else "111111"


async def wrong_codes_until_locked(wallets: WalletService, sent: CodeSent) -> list[int]:
    lefts = []
    while True:
        try:
            await wallets.confirm_code(PHONE, wrong(sent), 1)
        except WrongCode as error:
            lefts.append(error.attempts_left)
        except TooManyAttempts:
            return lefts


async def wrong_keys_until_locked(wallets: WalletService, user: int) -> list[int]:
    lefts = []
    while True:
        try:
            await wallets.verify_secret(PHONE, "AAAA-BBBB-CCCC", user)
        except WrongSecret as error:
            lefts.append(error.attempts_left)
        except TooManyAttempts:
            return lefts


async def register_wallet(wallets: WalletService) -> str:
    sent = await wallets.start_registration(PHONE, 1)
    return (await wallets.confirm_code(PHONE, sent.sms.value, 1)).sms.value


# ---- the clock's edges ---------------------------------------------------------------------


async def test_another_code_comes_at_the_end_of_the_minute_not_a_second_before(
    wallets: WalletService, clock: ManualClock
) -> None:
    first = await wallets.start_registration(PHONE, 1)
    assert to_ts(first.resend_at) == to_ts(clock.now()) + 60
    clock.advance(seconds=59)
    with pytest.raises(ResendTooSoon) as error:
        await wallets.start_registration(PHONE, 1)
    assert error.value.seconds == 1
    clock.advance(seconds=1)
    assert clock.now() == first.resend_at
    second = await wallets.start_registration(PHONE, 1)
    assert second.sms.value  # the promised moment: a new code is sent
    with pytest.raises(ResendTooSoon) as error:
        await wallets.start_registration(PHONE, 1)
    assert error.value.seconds == 60  # and the minute starts again from it


async def test_a_code_works_until_its_last_second_and_not_at_the_promised_end(
    wallets: WalletService, clock: ManualClock
) -> None:
    anna = await wallets.start_registration(PHONE, 1)
    assert to_ts(anna.expires_at) == to_ts(clock.now()) + 300
    clock.advance(minutes=4, seconds=59)
    registered = await wallets.confirm_code(PHONE, anna.sms.value, 1)
    assert registered.wallet.active

    boris = await wallets.start_registration(BORIS_PHONE, 2)
    clock.advance(minutes=5)
    assert clock.now() == boris.expires_at
    with pytest.raises(CodeExpired):
        await wallets.confirm_code(BORIS_PHONE, boris.sms.value, 2)
    clock.advance(seconds=1)
    with pytest.raises(CodeExpired):
        await wallets.confirm_code(BORIS_PHONE, boris.sms.value, 2)
    assert await wallets.has_wallet(BORIS_PHONE) is None


async def test_a_code_may_be_asked_for_again_the_second_the_lock_out_ends(
    wallets: WalletService, clock: ManualClock
) -> None:
    sent = await wallets.start_registration(PHONE, 1)
    assert await wrong_codes_until_locked(wallets, sent) == [4, 3, 2, 1]
    with pytest.raises(TooManyAttempts) as locked:
        await wallets.start_registration(PHONE, 1)
    clock.advance(seconds=to_ts(locked.value.until) - to_ts(clock.now()) - 1)
    with pytest.raises(TooManyAttempts):
        await wallets.start_registration(PHONE, 1)
    clock.advance(seconds=1)  # the second the chat promised
    again = await wallets.start_registration(PHONE, 1)
    registered = await wallets.confirm_code(PHONE, again.sms.value, 1)
    assert registered.wallet.active


async def test_the_operators_own_timings_are_the_ones_kept(
    db: Database, clock: ManualClock, ledger: Ledger, operator: Operator
) -> None:
    await operator.prove(PHONE, 1)
    wallets = WalletService(db, clock, ledger, WalletRules(code_ttl=120, resend_cooldown=30))
    first = await wallets.start_registration(PHONE, 1)
    assert first.resend_at - clock.now() == timedelta(seconds=30)
    assert first.expires_at - clock.now() == timedelta(minutes=2)
    clock.advance(seconds=30)
    second = await wallets.start_registration(PHONE, 1)
    clock.advance(minutes=2)
    with pytest.raises(CodeExpired):
        await wallets.confirm_code(PHONE, second.sms.value, 1)


# ---- a right guess gives the allowance back ------------------------------------------------


async def test_a_right_key_forgets_the_wrong_ones_before_it(wallets: WalletService) -> None:
    secret = await register_wallet(wallets)
    for left in (4, 3, 2, 1):
        with pytest.raises(WrongSecret) as error:
            await wallets.verify_secret(PHONE, "AAAA-BBBB-CCCC", 2)
        assert error.value.attempts_left == left
    await wallets.sign_in(PHONE, secret, 2)
    # A typo next week is not the fifth strike: the whole allowance is back.
    assert await wrong_keys_until_locked(wallets, 2) == [4, 3, 2, 1]


async def test_a_right_code_forgets_the_wrong_ones_before_it(
    wallets: WalletService, operator: Operator
) -> None:
    sent = await wallets.start_registration(PHONE, 1)
    for left in (4, 3, 2, 1):
        with pytest.raises(WrongCode) as error:
            await wallets.confirm_code(PHONE, wrong(sent), 1)
        assert error.value.attempts_left == left
    await wallets.confirm_code(PHONE, sent.sms.value, 1)
    # Months later the number is blocked and given back; registering again starts afresh.
    await operator.deactivate(PHONE)
    await operator.reactivate(PHONE)
    again = await wallets.start_registration(PHONE, 1)
    assert again.reregistration
    assert await wrong_codes_until_locked(wallets, again) == [4, 3, 2, 1]


# ---- a number the operator stopped serving -------------------------------------------------


async def test_a_code_typed_after_the_number_was_deactivated_opens_no_wallet(
    wallets: WalletService, operator: Operator
) -> None:
    sent = await wallets.start_registration(PHONE, 1)
    await operator.deactivate(PHONE)
    with pytest.raises(PhoneDeactivated):
        await wallets.confirm_code(PHONE, sent.sms.value, 1)
    assert await wallets.has_wallet(PHONE) is None
    assert await wallets.wallet_of(1) is None


async def test_a_terminal_registers_no_wallet_on_a_deactivated_number(
    wallets: WalletService, operator: Operator
) -> None:
    await operator.deactivate(PHONE)
    with pytest.raises(PhoneDeactivated):
        await wallets.register_at_terminal(PHONE, 1)
    assert await wallets.has_wallet(PHONE) is None
    assert await wallets.wallet_of(1) is None


async def test_a_key_is_not_changed_once_the_number_is_deactivated_meanwhile(
    wallets: WalletService, operator: Operator, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = await register_wallet(wallets)
    before = await db.fetchone("SELECT secret_hash FROM wallets WHERE phone = ?", (PHONE,))
    make_hash = wallet_module.hash_async

    async def deactivated_while_hashing(value: str, *, n: int) -> str:
        # The old key was right; the operator stops serving the number before the new one is
        # stored.
        await operator.deactivate(PHONE)
        return await make_hash(value, n=n)

    monkeypatch.setattr(wallet_module, "hash_async", deactivated_while_hashing)
    with pytest.raises(PhoneDeactivated):
        await wallets.change_secret(1, secret)
    after = await db.fetchone("SELECT secret_hash FROM wallets WHERE phone = ?", (PHONE,))
    assert before is not None and after is not None and after[0] == before[0]


# ---- the key and the terminal -------------------------------------------------------------


async def test_the_key_is_changed_only_by_someone_who_knows_the_old_one(
    wallets: WalletService, db: Database
) -> None:
    secret = await register_wallet(wallets)
    before = await db.fetchone("SELECT secret_hash FROM wallets WHERE phone = ?", (PHONE,))
    with pytest.raises(WrongSecret) as error:
        await wallets.change_secret(1, "AAAA-BBBB-CCCC")
    assert error.value.attempts_left == 4
    after = await db.fetchone("SELECT secret_hash FROM wallets WHERE phone = ?", (PHONE,))
    assert before is not None and after is not None and after[0] == before[0]
    await wallets.verify_secret(PHONE, secret, 1)  # the old key still opens the wallet


async def test_a_double_tap_on_the_code_opens_the_wallet_once_with_one_key(
    wallets: WalletService, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = await wallets.start_registration(PHONE, 1)
    make_hash = wallet_module.hash_async
    both_checked = asyncio.Barrier(2)

    async def after_both_checked(value: str, *, n: int) -> str:
        await both_checked.wait()  # both taps passed the code check before either finishes
        return await make_hash(value, n=n)

    monkeypatch.setattr(wallet_module, "hash_async", after_both_checked)
    results = await asyncio.gather(
        wallets.confirm_code(PHONE, sent.sms.value, 1),
        wallets.confirm_code(PHONE, sent.sms.value, 1),
        return_exceptions=True,
    )
    keys = [r.sms.value for r in results if isinstance(r, Registered)]
    assert len(keys) == 1
    assert [type(r) for r in results if not isinstance(r, Registered)] == [NoPendingCode]
    await wallets.verify_secret(PHONE, keys[0], 1)


async def test_a_terminal_registration_signs_the_chat_in_unless_it_uses_another_wallet(
    wallets: WalletService, operator: Operator
) -> None:
    registered = await wallets.register_at_terminal(PHONE, 1)
    assert registered.wallet == await wallets.wallet_of(1)  # nothing spent, signed in here
    assert registered.wallet.spent_this_month == 0
    # Anna also has Boris's old number now; her chat keeps the wallet it uses.
    await operator.prove("+79990000001", 1)
    await wallets.register_at_terminal("+79990000001", 1)
    mine = await wallets.wallet_of(1)
    assert mine is not None and mine.phone == PHONE


async def test_identifying_a_number_without_a_wallet_says_there_is_none(
    wallets: WalletService,
) -> None:
    with pytest.raises(WalletNotFound):
        await wallets.set_level(BORIS_PHONE, "basic")
    assert await wallets.has_wallet(BORIS_PHONE) is None


# ---- signing out -----------------------------------------------------------------------------


async def test_signing_out_leaves_the_wallet_to_its_other_accounts(
    wallets: WalletService,
) -> None:
    secret = await register_wallet(wallets)
    await wallets.sign_in(PHONE, secret, 2)
    await wallets.sign_out(2)
    assert await wallets.wallet_of(2) is None
    mine = await wallets.wallet_of(1)
    assert mine is not None and mine.phone == PHONE
    again = await wallets.sign_in(PHONE, secret, 2)  # the key still opens it
    assert again.phone == PHONE


async def test_after_signing_out_the_wallet_asks_to_sign_in_again(chat: World) -> None:
    anna = chat.person()
    await register(anna)
    await anna.press("👛 Кошелёк")
    await anna.press("🚪 Выйти из кошелька")
    await anna.press("🚪 Да, выйти")
    seen = await anna.send("/start")
    assert "👛 Завести кошелёк" in seen.labels and "👛 Кошелёк" not in seen.labels
    seen = await anna.press("👛 Завести кошелёк")
    assert seen.text.startswith("Кошелька пока нет.")


# ---- a forked process (the mutation runner's children) -------------------------------------


def test_a_forked_process_hashes_keys_instead_of_waiting_forever() -> None:
    # The pool's threads stay behind in the parent; a child that reused the pool would queue
    # its hash for threads it does not have, and every key check there would hang.
    assert asyncio.run(hash_async("AAAA-BBBB", n=2**10)).startswith("scrypt$")
    pid = os.fork()
    if pid == 0:
        signal.alarm(10)
        try:
            asyncio.run(hash_async("AAAA-BBBB", n=2**10))
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
