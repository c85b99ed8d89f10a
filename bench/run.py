"""`make bench`: the numbers, measured the same way every time, in one run on one machine.

(a) the aiogram echo-bot floor through `Dispatcher.feed_update` with the same in-process
    Telegram (the emulator engine) as our bot: sequential, and 200 concurrent users;
(b) our bot, same harness: users running the whole journey (register → top up → order → pay
    → owner notified): updates/s, p50/p99 per-update latency, ratio to (a);
(c) the ledger: transfers/s through our API vs a raw sync sqlite3 two-row transaction;
(d) peak RSS after 10 000 users and 100 000 orders; cold start of `python -m bot`;
(e) open-loop latency: people with wallets arrive at a fixed pace, each sending an update every
    THINK seconds, so the offered load is 50, 100, 200, 400 updates/s; p50/p99/max per rate
    (counted from when each update was due) against the echo bot under the same schedule;
(f) a registration-heavy mix (three in four people register), with the slow hashes counted.
Prints a table and writes bench/results.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import re
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.enums import ParseMode
from aiogram.types import Message, Update

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from emulator.engine import Engine  # noqa: E402
from services.clock import ManualClock, to_ts  # noqa: E402
from services.db import Database  # noqa: E402
from services.ledger import Ledger  # noqa: E402
from services.secrets import hash_value  # noqa: E402
from services.wallet import _open_wallet as open_wallet  # noqa: E402
from tests.harness import TOKEN, EngineSession, Person, running_harness  # noqa: E402

CONCURRENT = 200


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * share), len(ordered) - 1)]


class Timed:
    """Feeds updates and records each one's latency."""

    def __init__(self, feed: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        self.feed = feed
        self.latencies: list[float] = []

    async def __call__(self, update: dict[str, Any]) -> None:
        start = time.perf_counter()
        await self.feed(update)
        self.latencies.append(time.perf_counter() - start)


# ---- (a) the echo floor ----------------------------------------------------------------


async def echo_floor(updates_per_user: int, users: int) -> dict[str, float]:
    engine = Engine()
    bot = Bot(
        TOKEN,
        session=EngineSession(engine),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    router = Router()

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "…")

    dp = Dispatcher()
    dp.include_router(router)

    async def feed(update: dict[str, Any]) -> None:
        await dp.feed_update(bot, Update.model_validate(update, context={"bot": bot}))

    timed = Timed(feed)
    for uid in range(users):
        engine.add_person(uid + 1, f"u{uid}")

    async def user(uid: int) -> None:
        for n in range(updates_per_user):
            await timed(engine.send_text(uid + 1, f"привет {n}"))

    start = time.perf_counter()
    await asyncio.gather(*(user(uid) for uid in range(users)))
    elapsed = time.perf_counter() - start
    return {
        "updates": len(timed.latencies),
        "updates_per_s": len(timed.latencies) / elapsed,
        "p50_ms": percentile(timed.latencies, 0.5) * 1000,
        "p99_ms": percentile(timed.latencies, 0.99) * 1000,
    }


# ---- (b) our bot, the whole journey ----------------------------------------------------


async def journey(person: Person, h: Any) -> None:
    await person.send("/start")
    await person.press("👛 Завести кошелёк")
    await person.share_contact()
    code = re.search(r"Код подтверждения: (\d{6})", person.bot_messages()[-2].text)
    assert code
    await person.send(code.group(1))
    await top_up_order_pay(person)


async def returning_journey(person: Person, h: Any) -> None:
    """The same journey for someone whose wallet already exists: no scrypt on the way."""
    await person.send("/start")
    await top_up_order_pay(person)


async def top_up_order_pay(person: Person) -> None:
    await person.press("💵 Пополнить")
    await person.press("🏧 Терминал")
    await person.press(next(label for label in person.last.labels if label.startswith("📱")))
    await person.press("Далее ➡️")
    await person.press("Пропустить ➡️")
    await person.press("5000 ₽")
    await person.press("✅ Зачислить")
    await person.send("/start")
    await person.press("🛍 Магазины")
    await person.press("🏪 Цветочная мастерская «Ромашка»")
    await person.press("Услуги")
    await person.press("Доставка букета по городу · 350,00 ₽")
    await person.press("🛒 Купить")
    await person.press("💳 Оплатить через Робокассу")
    await person.press("Visa QIWI Wallet")
    await person.press(next(label for label in person.last.labels if label.startswith("📱")))
    await person.press("📱 В приложении")


async def registered_already(h: Any, people: list[Person]) -> None:
    """Wallets made directly in the database (registration's cost is measured elsewhere)."""
    secret_hash = hash_value("BENC-HKEY", n=2**10)
    now = to_ts(h.clock.now())

    def create(conn: sqlite3.Connection) -> None:
        for person in people:
            phone = h.engine.person(person.id).phone
            conn.execute(
                "INSERT INTO phones (number, status, changed_at) VALUES (?, 'active', ?)",
                (phone, now),
            )
            open_wallet(conn, phone, secret_hash, now)
            conn.execute(
                "INSERT INTO wallet_users (user_id, phone, signed_at) VALUES (?, ?, ?)",
                (person.id, phone, now),
            )

    await h.services.db.transaction(create)


async def our_bot(users: int, tmp: Path, *, registered: bool = False) -> dict[str, float]:
    async with running_harness(tmp) as h:
        h.services.cash.delayed = lambda: False
        owner = h.person("Ольга", phone="+79990000001")
        await h.services.merchant.add_owner("flowers", owner.id)
        timed = Timed(h.feed)
        h.feed = timed  # type: ignore[method-assign]
        people = [
            h.person(f"u{n}", phone=f"+7916{n:07d}", user_id=10_000 + n) for n in range(users)
        ]
        walk = journey
        if registered:
            await registered_already(h, people)
            walk = returning_journey
        start = time.perf_counter()
        await asyncio.gather(*(walk(p, h) for p in people))
        elapsed = time.perf_counter() - start
        await h.drain(rounds=users + 5)
        notes = [m for m in owner.bot_messages() if m.text.startswith("🛒")]
        assert len(notes) == users, (len(notes), users)
        report = await h.services.ledger.check_invariants()
        assert report.ok, report
        h.errors.records.clear()
    return {
        "users": users,
        "updates": len(timed.latencies),
        "updates_per_s": len(timed.latencies) / elapsed,
        "p50_ms": percentile(timed.latencies, 0.5) * 1000,
        "p99_ms": percentile(timed.latencies, 0.99) * 1000,
        "owner_notifications": len(notes),
    }


async def round_trips(tmp: Path) -> dict[str, float]:
    """Hops to the database thread per update on the returning journey, one person alone:
    what the unit of work per update saves, independent of the machine's speed."""
    async with running_harness(tmp) as h:
        h.services.cash.delayed = lambda: False
        owner = h.person("Ольга", phone="+79990000001")
        await h.services.merchant.add_owner("flowers", owner.id)
        person = h.person("u0", phone="+79160000000", user_id=10_000)
        await registered_already(h, [person])
        timed = Timed(h.feed)
        h.feed = timed  # type: ignore[method-assign]
        db = h.services.db
        hops = 0
        real_run = db.run

        async def counted(fn: Any) -> Any:
            nonlocal hops
            hops += 1
            return await real_run(fn)

        db.run = counted  # type: ignore[method-assign]
        await returning_journey(person, h)
        db.run = real_run  # type: ignore[method-assign]
    updates = len(timed.latencies)
    return {"updates": updates, "db_hops": hops, "db_hops_per_update": hops / updates}


# ---- (e) open-loop latency: a fixed offered load --------------------------------------

OPEN_LOOP_RATES = (50, 100, 200, 400)
OPEN_LOOP_SECONDS = 4.0  # people keep arriving this long at each rate
THINK = 0.1  # seconds between one person's updates (a quick human)
P99_LIMIT_MS = 50.0


def returning_steps(person: Person) -> list[Callable[[], Awaitable[Any]]]:
    """The returning journey as separate steps, so each can be sent at its own time."""

    def phone_button() -> str:
        return next(label for label in person.last.labels if label.startswith("📱"))

    labels_before = ["💵 Пополнить", "🏧 Терминал"]
    labels_after = ["Далее ➡️", "Пропустить ➡️", "5000 ₽", "✅ Зачислить"]
    shop = [
        "🛍 Магазины",
        "🏪 Цветочная мастерская «Ромашка»",
        "Услуги",
        "Доставка букета по городу · 350,00 ₽",
        "🛒 Купить",
        "💳 Оплатить через Робокассу",
        "Visa QIWI Wallet",
    ]
    steps: list[Callable[[], Awaitable[Any]]] = [lambda: person.send("/start")]
    steps += [lambda label=label: person.press(label) for label in labels_before]
    steps.append(lambda: person.press(phone_button()))
    steps += [lambda label=label: person.press(label) for label in labels_after]
    steps.append(lambda: person.send("/start"))
    steps += [lambda label=label: person.press(label) for label in shop]
    steps.append(lambda: person.press(phone_button()))
    steps.append(lambda: person.press("📱 В приложении"))
    return steps


async def paced(
    steps: list[Callable[[], Awaitable[Any]]], start: float, latencies: list[float]
) -> None:
    """One person: step k is due at start + k·THINK; latency counts from when it was due, so a
    bot that falls behind is charged for the wait too (no coordinated omission)."""
    for k, step in enumerate(steps):
        due = start + k * THINK
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await step()
        latencies.append(time.perf_counter() - due)


async def open_loop_run(
    rate: float,
    people: list[Any],
    steps_of: Callable[[Any], list[Callable[[], Awaitable[Any]]]],
    updates_per_person: int,
) -> dict[str, float]:
    """People arrive every updates_per_person / rate seconds: the offered load is `rate`."""
    latencies: list[float] = []
    gap = updates_per_person / rate
    begin = time.perf_counter() + 0.05
    walks = [
        asyncio.create_task(paced(steps_of(person), begin + n * gap, latencies))
        for n, person in enumerate(people)
    ]
    await asyncio.gather(*walks)
    return {
        "offered_updates_per_s": rate,
        "updates": len(latencies),
        "p50_ms": percentile(latencies, 0.5) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "max_ms": max(latencies) * 1000,
    }


def people_for(rate: float, updates_per_person: int) -> int:
    return max(2, int(rate * OPEN_LOOP_SECONDS / updates_per_person))


async def open_loop_bot(tmp: Path) -> list[dict[str, float]]:
    runs = []
    async with running_harness(tmp) as h:
        h.services.cash.delayed = lambda: False
        owner = h.person("Ольга", phone="+79990000001")
        await h.services.merchant.add_owner("flowers", owner.id)
        updates = len(returning_steps(owner))
        base = 20_000
        for rate in OPEN_LOOP_RATES:
            count = people_for(rate, updates)
            people = [
                h.person(f"o{base + n}", phone=f"+7917{base + n:07d}", user_id=base + n)
                for n in range(count)
            ]
            base += count
            await registered_already(h, people)
            runs.append(await open_loop_run(rate, people, returning_steps, updates))
            await h.drain(rounds=count + 5)
        report = await h.services.ledger.check_invariants()
        assert report.ok, report
        h.errors.records.clear()
    return runs


async def open_loop_echo() -> list[dict[str, float]]:
    """The echo bot under the same schedule: each person sends as many texts, as often."""
    engine = Engine()
    bot = Bot(
        TOKEN,
        session=EngineSession(engine),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    router = Router()

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "…")

    dp = Dispatcher()
    dp.include_router(router)
    updates = 18

    def steps_of(uid: int) -> list[Callable[[], Awaitable[Any]]]:
        async def say(n: int) -> None:
            update = engine.send_text(uid, f"привет {n}")
            await dp.feed_update(bot, Update.model_validate(update, context={"bot": bot}))

        return [lambda n=n: say(n) for n in range(updates)]

    runs, base = [], 1
    for rate in OPEN_LOOP_RATES:
        count = people_for(rate, updates)
        for uid in range(base, base + count):
            engine.add_person(uid, f"u{uid}")
        runs.append(await open_loop_run(rate, list(range(base, base + count)), steps_of, updates))
        base += count
    return runs


def open_loop_summary(bot: list[dict[str, float]], echo: list[dict[str, float]]) -> dict[str, Any]:
    rows = []
    for ours, floor in zip(bot, echo, strict=True):
        rows.append(
            {
                **ours,
                "echo_p50_ms": floor["p50_ms"],
                "echo_p99_ms": floor["p99_ms"],
                "echo_max_ms": floor["max_ms"],
                "p50_vs_echo": ours["p50_ms"] / floor["p50_ms"],
                "p99_vs_echo": ours["p99_ms"] / floor["p99_ms"],
            }
        )
    crossing = next((r["offered_updates_per_s"] for r in rows if r["p99_ms"] > P99_LIMIT_MS), None)
    return {"think_s": THINK, "rates": rows, "p99_over_50ms_from_rate": crossing}


# ---- (f) a registration-heavy mix -------------------------------------------------------


async def registration_only(person: Person, h: Any) -> None:
    await person.send("/start")
    await person.press("👛 Завести кошелёк")
    await person.share_contact()
    code = re.search(r"Код подтверждения: (\d{6})", person.bot_messages()[-2].text)
    assert code
    await person.send(code.group(1))
    await person.press("👛 Кошелёк")


async def registration_mix(users: int, tmp: Path) -> dict[str, float]:
    """Three in four people register (and look at their new wallet), one in four pays with a
    wallet made beforehand: the mix that costs the most per update."""
    import services.secrets

    slow: list[int] = []
    real = services.secrets._scrypt

    def counting(value: str, salt: bytes, n: int) -> bytes:
        slow.append(1)
        return real(value, salt, n)

    services.secrets._scrypt = counting  # type: ignore[assignment]
    try:
        async with running_harness(tmp) as h:
            h.services.cash.delayed = lambda: False
            owner = h.person("Ольга", phone="+79990000001")
            await h.services.merchant.add_owner("flowers", owner.id)
            timed = Timed(h.feed)
            h.feed = timed  # type: ignore[method-assign]
            people = [
                h.person(f"r{n}", phone=f"+7918{n:07d}", user_id=40_000 + n) for n in range(users)
            ]
            newcomers = [p for n, p in enumerate(people) if n % 4]
            returning = [p for n, p in enumerate(people) if not n % 4]
            await registered_already(h, returning)
            slow.clear()
            start = time.perf_counter()
            await asyncio.gather(
                *(registration_only(p, h) for p in newcomers),
                *(returning_journey(p, h) for p in returning),
            )
            elapsed = time.perf_counter() - start
            registered = await h.services.db.fetchone(
                "SELECT COUNT(*) FROM wallet_users WHERE user_id >= 40000"
            )
            assert registered is not None and registered[0] == users
            h.errors.records.clear()
    finally:
        services.secrets._scrypt = real  # type: ignore[assignment]
    return {
        "users": users,
        "registrations": len(newcomers),
        "slow_hashes": len(slow),
        "slow_hashes_per_registration": len(slow) / len(newcomers),
        "updates": len(timed.latencies),
        "updates_per_s": len(timed.latencies) / elapsed,
        "p50_ms": percentile(timed.latencies, 0.5) * 1000,
        "p99_ms": percentile(timed.latencies, 0.99) * 1000,
    }


# ---- (c) the ledger against raw sqlite3 ------------------------------------------------


def raw_sqlite(path: Path, n: int) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE acc (id TEXT PRIMARY KEY, balance INTEGER NOT NULL)")
    conn.execute("INSERT INTO acc VALUES ('a', 0), ('b', 0)")
    start = time.perf_counter()
    for _ in range(n):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE acc SET balance = balance - 1 WHERE id = 'a'")
        conn.execute("UPDATE acc SET balance = balance + 1 WHERE id = 'b'")
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return n / elapsed


async def our_ledger(path: Path, n: int, callers: int) -> float:
    """`n` transfers through `Ledger.transfer`, from `callers` coroutines at once."""
    db = await Database.open(path)
    ledger = Ledger(db, ManualClock())
    await ledger.open_account("external:cash", "external", allow_negative=True)
    await ledger.open_account("wallet:bench", "wallet")
    numbers = iter(range(n))

    async def caller() -> None:
        for i in numbers:
            await ledger.transfer("external:cash", "wallet:bench", 1, f"bench-{i}")

    start = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(callers)))
    elapsed = time.perf_counter() - start
    assert (await ledger.check_invariants()).ok
    assert await ledger.balance("wallet:bench") == n
    await db.close()
    return n / elapsed


# ---- (d) memory and cold start ---------------------------------------------------------


def memory_probe(users: int, orders: int) -> dict[str, float]:
    """In a fresh process: create the users and orders through the services, report peak RSS."""
    code = f"""
import asyncio, resource, sys, tempfile
from pathlib import Path
sys.path.insert(0, {str(ROOT)!r})
from bench.memory import fill
asyncio.run(fill(Path(tempfile.mkdtemp()), {users}, {orders}))
# VmHWM, not ru_maxrss: the latter keeps the parent's peak across fork+exec.
status = Path("/proc/self/status").read_text()
print(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))
"""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return {
        "users": users,
        "orders": orders,
        "peak_rss_mb": int(out.stdout.strip().splitlines()[-1]) / 1024,
        "fill_seconds": time.perf_counter() - start,
    }


FRAMEWORK_FLOOR = """
import time
start = time.perf_counter()
from aiogram import Bot, Dispatcher, Router
from aiogram.types import Message

router = Router()

@router.message()
async def echo(message: Message) -> None:
    await message.answer(message.text or "…")

dp = Dispatcher()
dp.include_router(router)
bot = Bot("42:" + "A" * 35)
elapsed = time.perf_counter() - start
status = open("/proc/self/status").read()
print(elapsed, next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))
"""


def framework_floor(runs: int = 3) -> dict[str, float]:
    """The echo bot's own process: import aiogram and build a dispatcher (no data, no I/O)."""
    times, peaks = [], []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", FRAMEWORK_FLOOR], capture_output=True, text=True, check=True
        )
        elapsed, peak_kb = out.stdout.split()
        times.append(float(elapsed))
        peaks.append(int(peak_kb) / 1024)
    return {"start_s": statistics.median(times), "peak_rss_mb": max(peaks)}


def scrypt_ceiling(hashes_per_journey: int, updates_per_journey: int) -> dict[str, float]:
    """Registration hashes on purpose; with every core hashing and nothing else, how fast at most."""
    from services.secrets import hash_value

    timings = []
    for _ in range(5):
        start = time.perf_counter()
        hash_value("123456")
        timings.append(time.perf_counter() - start)
    per_hash = statistics.median(timings)
    cores = os.cpu_count() or 1
    journeys_per_s = cores / (per_hash * hashes_per_journey)
    return {
        "hash_ms": per_hash * 1000,
        "hashes_per_journey": hashes_per_journey,
        "ceiling_updates_per_s": journeys_per_s * updates_per_journey,
    }


def cold_start(runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as folder:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "ROBOKASSA"))}
            env.update(PYTHONPATH=str(ROOT), WEB_PORT="0", EMULATOR_PORT="0", LOG_LEVEL="WARNING")
            start = time.perf_counter()
            process = subprocess.Popen(
                [sys.executable, "-m", "bot"],
                cwd=folder,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
            )
            assert process.stdout is not None
            line = process.stdout.readline()
            times.append(time.perf_counter() - start)
            assert line.startswith("Web chat:"), line
            process.terminate()
            process.wait(timeout=30)
    return statistics.median(times)


async def main() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        results: dict[str, Any] = {
            "machine": {
                "python": platform.python_version(),
                "cpu": platform.processor() or platform.machine(),
                "cores": os.cpu_count(),
                "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            }
        }
        # The ledger first, in a small heap: the bot runs leave a large one behind.
        n = 20_000
        raw = raw_sqlite(tmp / "raw.sqlite3", n)
        alone = await our_ledger(tmp / "ledger-1.sqlite3", n, 1)
        ours = await our_ledger(tmp / "ledger.sqlite3", n, CONCURRENT)
        results["ledger"] = {
            "transfers": n,
            "raw_sqlite3_per_s": raw,
            "ours_one_caller_per_s": alone,
            "ours_per_s": ours,
            "callers": CONCURRENT,
            "ratio_one_caller": alone / raw,
            "ratio": ours / raw,
        }
        results["echo_sequential"] = await echo_floor(2000, 1)
        results["echo_concurrent"] = await echo_floor(10, CONCURRENT)
        results["bot_sequential"] = await our_bot(1, tmp / "seq")
        results["bot_concurrent"] = await our_bot(CONCURRENT, tmp / "conc")
        results["bot_returning_concurrent"] = await our_bot(
            CONCURRENT, tmp / "returning", registered=True
        )
        results["round_trips"] = await round_trips(tmp / "hops")
        results["registration_mix"] = await registration_mix(CONCURRENT, tmp / "mix")
        results["open_loop"] = open_loop_summary(
            await open_loop_bot(tmp / "open"), await open_loop_echo()
        )
        results["scrypt"] = scrypt_ceiling(
            1, results["bot_concurrent"]["updates"] // results["bot_concurrent"]["users"]
        )
        results["memory"] = memory_probe(10_000, 100_000)
        results["cold_start_s"] = cold_start()
        results["framework_floor"] = framework_floor()
        results["ratios"] = {
            "bot_vs_echo_concurrent": results["bot_concurrent"]["updates_per_s"]
            / results["echo_concurrent"]["updates_per_s"],
            "bot_vs_echo_p99_concurrent": results["bot_concurrent"]["p99_ms"]
            / results["echo_concurrent"]["p99_ms"],
            "ledger_vs_raw": ours / raw,
            "bot_returning_vs_echo_concurrent": results["bot_returning_concurrent"]["updates_per_s"]
            / results["echo_concurrent"]["updates_per_s"],
            "bot_returning_vs_echo_p99_concurrent": results["bot_returning_concurrent"]["p99_ms"]
            / results["echo_concurrent"]["p99_ms"],
            "bot_vs_scrypt_ceiling": results["bot_concurrent"]["updates_per_s"]
            / results["scrypt"]["ceiling_updates_per_s"],
            "registration_mix_vs_echo_concurrent": results["registration_mix"]["updates_per_s"]
            / results["echo_concurrent"]["updates_per_s"],
            "registration_mix_vs_echo_p99_concurrent": results["registration_mix"]["p99_ms"]
            / results["echo_concurrent"]["p99_ms"],
            **{
                f"open_loop_p99_vs_echo_at_{row['offered_updates_per_s']}": row["p99_vs_echo"]
                for row in results["open_loop"]["rates"]
            },
        }
    return results


def table(r: dict[str, Any]) -> str:
    rows = [
        (
            "(a) echo floor, sequential",
            f"{r['echo_sequential']['updates_per_s']:.0f} upd/s",
            f"p50 {r['echo_sequential']['p50_ms']:.2f} ms, p99 {r['echo_sequential']['p99_ms']:.2f} ms",
            "—",
        ),
        (
            f"(a) echo floor, {CONCURRENT} users",
            f"{r['echo_concurrent']['updates_per_s']:.0f} upd/s",
            f"p50 {r['echo_concurrent']['p50_ms']:.1f} ms, p99 {r['echo_concurrent']['p99_ms']:.1f} ms",
            "—",
        ),
        (
            "(b) our bot, 1 user, whole journey",
            f"{r['bot_sequential']['updates_per_s']:.0f} upd/s",
            f"p50 {r['bot_sequential']['p50_ms']:.2f} ms, p99 {r['bot_sequential']['p99_ms']:.1f} ms",
            f"{r['bot_sequential']['updates_per_s'] / r['echo_sequential']['updates_per_s']:.2f}× echo",
        ),
        (
            f"(b) our bot, {CONCURRENT} users, whole journey",
            f"{r['bot_concurrent']['updates_per_s']:.0f} upd/s",
            f"p50 {r['bot_concurrent']['p50_ms']:.1f} ms, p99 {r['bot_concurrent']['p99_ms']:.1f} ms",
            f"{r['ratios']['bot_vs_echo_concurrent']:.2f}× echo; p99 {r['ratios']['bot_vs_echo_p99_concurrent']:.1f}× echo's",
        ),
        (
            f"(b) {CONCURRENT} users with wallets already, no registration",
            f"{r['bot_returning_concurrent']['updates_per_s']:.0f} upd/s",
            f"p50 {r['bot_returning_concurrent']['p50_ms']:.1f} ms, "
            f"p99 {r['bot_returning_concurrent']['p99_ms']:.1f} ms",
            f"{r['ratios']['bot_returning_vs_echo_concurrent']:.2f}× echo; "
            f"p99 {r['ratios']['bot_returning_vs_echo_p99_concurrent']:.0f}× echo's",
        ),
        (
            "(b) ceiling set by registration's scrypt",
            f"{r['scrypt']['ceiling_updates_per_s']:.0f} upd/s",
            f"{r['scrypt']['hashes_per_journey']} × {r['scrypt']['hash_ms']:.0f} ms per journey, all cores",
            f"we reach {r['ratios']['bot_vs_scrypt_ceiling']:.2f}× of it",
        ),
        (
            "(b) database round trips, returning journey, 1 user",
            f"{r['round_trips']['db_hops_per_update']:.1f} per update",
            f"{r['round_trips']['db_hops']} hops for {r['round_trips']['updates']} updates",
            "—",
        ),
        (
            f"(b) registration-heavy mix, {CONCURRENT} users",
            f"{r['registration_mix']['updates_per_s']:.0f} upd/s",
            f"p50 {r['registration_mix']['p50_ms']:.1f} ms, p99 {r['registration_mix']['p99_ms']:.1f} ms; "
            f"{r['registration_mix']['slow_hashes_per_registration']:.2f} slow hashes per registration",
            f"{r['ratios']['registration_mix_vs_echo_concurrent']:.2f}× echo",
        ),
        *(
            (
                f"(e) open loop, {row['offered_updates_per_s']} upd/s offered",
                f"p99 {row['p99_ms']:.1f} ms",
                f"p50 {row['p50_ms']:.1f} ms, max {row['max_ms']:.0f} ms; "
                f"echo p99 {row['echo_p99_ms']:.2f} ms",
                f"p99 {row['p99_vs_echo']:.0f}× echo's",
            )
            for row in r["open_loop"]["rates"]
        ),
        (
            "(e) open loop: p99 over 50 ms from",
            f"{r['open_loop']['p99_over_50ms_from_rate'] or 'none'} upd/s",
            f"rates tried: {', '.join(str(x) for x in OPEN_LOOP_RATES)}",
            "target: p99 ≤ 10 ms at 200, ≤ 50 ms at 400",
        ),
        (
            "(c) ledger transfer, 1 caller",
            f"{r['ledger']['ours_one_caller_per_s']:.0f}/s",
            f"raw sqlite3 {r['ledger']['raw_sqlite3_per_s']:.0f}/s",
            f"{r['ledger']['ratio_one_caller']:.2f}× raw",
        ),
        (
            f"(c) ledger transfer, {CONCURRENT} callers",
            f"{r['ledger']['ours_per_s']:.0f}/s",
            "group commit",
            f"{r['ledger']['ratio']:.2f}× raw",
        ),
        (
            "(d) peak RSS, 10 000 users + 100 000 orders",
            f"{r['memory']['peak_rss_mb']:.0f} MB",
            f"filled in {r['memory']['fill_seconds']:.0f} s",
            "target ≤ 150 MB",
        ),
        (
            "(d) floor: import aiogram + echo dispatcher",
            f"{r['framework_floor']['peak_rss_mb']:.0f} MB, {r['framework_floor']['start_s']:.2f} s",
            "peak RSS and time, separate process",
            "no bot can go below this",
        ),
        (
            "(d) cold start, python -m bot",
            f"{r['cold_start_s']:.2f} s",
            "to the 'Web chat' line",
            "target ≤ 1.5 s",
        ),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = [" | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    outcome = asyncio.run(main())
    (ROOT / "bench" / "results.json").write_text(json.dumps(outcome, indent=2, ensure_ascii=False))
    print(table(outcome))
    print(f"\nmachine: {outcome['machine']}")
    print(
        f"peak RSS of this bench process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"
    )
