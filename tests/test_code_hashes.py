"""Registration costs one slow hash: SMS codes are HMACs under a server key kept outside the
database; secret keys keep scrypt, computed in a small pool that leaves a core to everyone else."""

from __future__ import annotations

import asyncio
import os
import stat
import threading
from pathlib import Path

import pytest

import services.secrets
from services.clock import ManualClock
from services.db import Database
from services.ledger import Ledger
from services.operator import Operator
from services.secrets import HASH_WORKERS, check_value, hash_code, hash_value
from services.wallet import WalletRules, WalletService, WrongCode
from tests.harness import Harness, running_harness
from tests.helpers import register, sms_value

PHONE = "+79123456789"


@pytest.fixture
def slow_hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every scrypt computed (hashing a key or checking one)."""
    computed: list[str] = []
    real = services.secrets._scrypt

    def counting(value: str, salt: bytes, n: int) -> bytes:
        computed.append(value)
        return real(value, salt, n)

    monkeypatch.setattr(services.secrets, "_scrypt", counting)
    return computed


async def test_a_whole_registration_computes_one_slow_hash(
    harness: Harness, slow_hashes: list[str]
) -> None:
    anna = harness.person()
    secret = await register(anna)
    assert anna.last.text == "✅ Кошелёк +7 912 *** ** 89 готов. Баланс 0,00 ₽."
    assert slow_hashes == [secret]


async def test_a_code_hash_verifies_only_with_the_server_key() -> None:
    key, other = b"k" * 32, b"o" * 32
    stored = hash_code("123456", key)
    assert "123456" not in stored
    assert check_value("123456", stored, key)
    assert not check_value("123456", stored, other)
    assert not check_value("123456", stored)  # no key, no match
    assert not check_value("654321", stored, key)
    assert hash_code("123456", key) != stored  # salted per code


async def test_a_code_sent_by_one_server_key_is_wrong_under_another(
    db: Database, clock: ManualClock, ledger: Ledger
) -> None:
    await Operator(db, clock).prove(PHONE, 1)
    server = WalletService(db, clock, ledger, WalletRules(), code_key=b"s" * 32)
    thief = WalletService(db, clock, ledger, WalletRules(), code_key=b"t" * 32)
    sent = await server.start_registration(PHONE, 1)
    with pytest.raises(WrongCode):
        await thief.confirm_code(PHONE, sent.sms.value, 1)
    registered = await server.confirm_code(PHONE, sent.sms.value, 1)
    assert registered.wallet.phone == PHONE


async def test_a_code_sent_before_a_restart_still_works_after_it(tmp_path: Path) -> None:
    async with running_harness(tmp_path) as h:
        anna = h.person()
        await anna.send("/start")
        await anna.press("👛 Завести кошелёк")
        await anna.share_contact()
        code = sms_value(anna)
        key_file = tmp_path / "bot.sqlite3.code-key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        key = key_file.read_text()
        dump = "\n".join([line async for line in h.services.db._conn.iterdump()])
        assert key not in dump and code not in dump
    async with running_harness(tmp_path) as h:
        anna = h.person(user_id=anna.id)  # the state of her conversation is in the database
        await anna.send(code)
        assert anna.last.text == "✅ Кошелёк +7 912 *** ** 89 готов. Баланс 0,00 ₽."
        assert key_file.read_text() == key


async def test_the_key_can_come_from_the_environment(tmp_path: Path) -> None:
    async with running_harness(tmp_path, code_key="ab" * 16) as h:
        assert h.services.wallets.code_key == bytes.fromhex("ab" * 16)
    assert not (tmp_path / "bot.sqlite3.code-key").exists()


async def test_codes_hashed_with_scrypt_before_the_upgrade_still_verify(
    db: Database, clock: ManualClock, ledger: Ledger
) -> None:
    await Operator(db, clock).prove(PHONE, 1)
    wallets = WalletService(db, clock, ledger, WalletRules())
    await wallets.start_registration(PHONE, 1)
    old = hash_value("424242", n=2**10)
    await db.transaction(
        lambda c: c.execute("UPDATE sms_codes SET code_hash = ? WHERE phone = ?", (old, PHONE))
    )
    registered = await wallets.confirm_code(PHONE, "424242", 1)
    assert registered.wallet.phone == PHONE


async def test_slow_hashes_never_take_every_core(monkeypatch: pytest.MonkeyPatch) -> None:
    running = 0
    most = 0
    lock = threading.Lock()
    real = services.secrets._scrypt

    def watched(value: str, salt: bytes, n: int) -> bytes:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            return real(value, salt, n)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(services.secrets, "_scrypt", watched)
    await asyncio.gather(*(services.secrets.hash_async(f"K{i}", n=2**12) for i in range(12)))
    assert 1 <= most <= HASH_WORKERS
    cores = os.cpu_count() or 1
    assert max(cores - 1, 1) == HASH_WORKERS  # one core is left to the bot
