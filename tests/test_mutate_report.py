"""The mutation report keeps hangs apart from kills, so a broken harness cannot pass for strong tests."""

from __future__ import annotations

import pytest

from mutate.mutants import ModuleMutants
from mutate.runner import ROOT, Outcome, report


def test_a_hang_counts_as_detected_but_is_shown_apart_and_named(
    capsys: pytest.CaptureFixture[str],
) -> None:
    module = ModuleMutants(ROOT, "services/inbox.py")
    first, second, third, fourth = module.mutants[:4]
    outcomes = [
        Outcome(first, "killed", tests=3),
        Outcome(second, "timeout", tests=2, seconds=41.0, budget=40.0),
        Outcome(third, "timeout", tests=1, seconds=19.0, budget=18.0),
        Outcome(fourth, "survived", tests=5),
    ]
    accepted = {"services/inbox.py": {fourth.key: "equivalent: for this test"}}

    clean = report([module], outcomes, accepted, verbose=False)

    out = capsys.readouterr().out
    assert clean
    assert "timeouts" in out
    assert "counted as detected" in out
    row = next(line for line in out.splitlines() if line.startswith("services/inbox.py"))
    # mutants, killed, timeouts, score, accepted, open
    assert row.split()[1:] == ["4", "1", "2", "75.0%", "1", "0"]
    assert f"TIMEOUT  services/inbox.py:{second.line} {second.key} (stopped after 41 s" in out
    assert f"TIMEOUT  services/inbox.py:{third.line} {third.key}" in out
    assert "all: 3/4 detected (75.0 %): 1 killed, 2 timeouts" in out


def test_an_unexplained_survivor_fails_the_run(capsys: pytest.CaptureFixture[str]) -> None:
    module = ModuleMutants(ROOT, "services/inbox.py")
    survivor = module.mutants[0]

    clean = report([module], [Outcome(survivor, "survived", tests=1)], {}, verbose=False)

    out = capsys.readouterr().out
    assert not clean
    assert f"SURVIVED services/inbox.py:{survivor.line} [survived] {survivor.key}" in out
    assert "1 survivor(s) not explained" in out
