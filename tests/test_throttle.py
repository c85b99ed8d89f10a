"""Anti-flood: someone sending faster than a person can is told once to wait, and the rest of
the flood is dropped until they slow down; everyone else is served as usual."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.throttle import Limit, MemoryThrottleStore, Throttle, Verdict
from services.clock import ManualClock
from tests.harness import Harness, running_harness
from tests.helpers import open_registration

WAIT = "Слишком часто — подождите секунду."
GREETING = "Здравствуйте"


@pytest.fixture
async def strict(tmp_path: Path) -> AsyncIterator[Harness]:
    """A bot whose limits are small enough to reach by hand, on the controllable clock."""
    limits = {"rate": 1, "burst": 3, "strict_rate": 0.2, "strict_burst": 2}
    async with running_harness(tmp_path, throttle=limits) as h:
        throttle = next(m for m in h.dp.update.outer_middleware if isinstance(m, Throttle))
        throttle.clock = h.clock
        yield h


def texts(person: object, after: int) -> list[str]:
    return [m.text for m in person.bot_messages(after)]  # type: ignore[attr-defined]


async def test_a_flood_is_answered_once_and_dropped_until_the_person_slows_down(
    strict: Harness,
) -> None:
    anna = strict.person()
    for _ in range(3):
        seen = await anna.send("/start")
        assert seen.text.startswith(GREETING)
    mark = anna.last.message_id
    for _ in range(5):
        await anna.send("/start")
    assert texts(anna, mark) == [WAIT]  # once, not five times
    strict.clock.advance(seconds=1)
    seen = await anna.send("/start")
    assert seen.text.startswith(GREETING)
    # Slowed down: a later flood is told again.
    mark = anna.last.message_id
    for _ in range(3):
        await anna.send("/start")
    assert texts(anna, mark) == [WAIT]


async def test_flooded_buttons_are_answered_and_do_nothing(strict: Harness) -> None:
    anna = strict.person()
    await anna.send("/start")
    menu = anna.last
    await anna.press("❓ Помощь")
    mark = anna.last.message_id
    await anna.press_data(menu.message_id, "cb:nonsense")  # the bucket's last token
    assert anna.last_answer is not None and anna.last_answer["text"] != WAIT
    await anna.press_data(menu.message_id, "cb:nonsense")
    assert anna.last_answer == {"text": WAIT, "show_alert": False}
    await anna.press_data(menu.message_id, "cb:nonsense")
    assert anna.last_answer == {"text": "", "show_alert": False}  # answered, silently
    assert all(c.answer is not None for c in strict.engine.callbacks.values())
    assert texts(anna, mark) == []


async def test_someone_elses_flood_does_not_slow_anyone_down(strict: Harness) -> None:
    anna, boris = strict.person(), strict.person("Борис", phone="+79990000000")
    for _ in range(10):
        await anna.send("/start")
    for _ in range(3):
        seen = await boris.send("/start")
        assert seen.text.startswith(GREETING)


async def test_registration_steps_have_a_stricter_limit(strict: Harness) -> None:
    anna = strict.person()
    await open_registration(anna)  # two updates, outside the costly steps
    strict.clock.advance(seconds=3)  # the general bucket is full again
    await anna.share_contact()  # now in registration: the stricter bucket counts too
    prompt = anna.last
    await anna.send("111111")
    assert "Неверный код" in anna.last.text
    mark = anna.last.message_id
    await anna.send("222222")
    assert texts(anna, mark) == [WAIT]
    tries = await strict.services.db.fetchone("SELECT tries FROM guesses")
    assert tries is not None and tries[0] == 1  # the dropped guess cost no attempt
    assert prompt.text.startswith("Введите код")


async def test_a_forgotten_bucket_is_a_full_one() -> None:
    store = MemoryThrottleStore(max_keys=2)
    limit = Limit(rate=1, burst=1)
    assert await store.hit("anna", 0, limit) is Verdict.PASS
    assert await store.hit("anna", 0, limit) is Verdict.WARN
    assert await store.hit("anna", 0, limit) is Verdict.DROP
    await store.hit("boris", 0, limit)
    await store.hit("clara", 0, limit)
    assert list(store.buckets) == ["boris", "clara"]  # memory stays bounded
    assert await store.hit("anna", 0, limit) is Verdict.PASS


async def test_a_clock_stepping_back_takes_no_tokens_away() -> None:
    store = MemoryThrottleStore()
    limit = Limit(rate=1, burst=2)
    clock = ManualClock()
    now = clock.now().timestamp()
    assert await store.hit("anna", now, limit) is Verdict.PASS
    assert await store.hit("anna", now - 3600, limit) is Verdict.PASS
    assert await store.hit("anna", now - 3600, limit) is Verdict.WARN
    assert await store.hit("anna", now + 1, limit) is Verdict.PASS
