"""Run each mutant against the tests that execute its function, in a forked child.

1. Baseline: the target modules' tests run once in this process while a trace hook records,
   per test, which target functions it executed (also in other threads, e.g. the database's).
2. For each mutant the process forks; the child swaps the mutated function's code object in
   place (`func.__code__`), so every reference to it sees the mutant, and runs pytest on the
   tests that executed that function, fastest first, stopping at the first failure. Nothing is
   imported again: aiogram alone takes seconds to import.
3. A failing test kills the mutant. So does a hang: the child is stopped at its time budget
   and the mutant counts as detected (`timeout`), since a change that makes the tests hang
   would not pass unnoticed either. Timeouts are counted in a column of their own and listed
   by name, as survivors are, so a reader can check each is a real hang and not a harness
   that hangs whatever the code. Survivors are listed; those in the accepted file, with a
   reason, count as explained.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import CodeType, FrameType, FunctionType
from typing import Any

import pytest

from mutate.mutants import ModuleMutants, Mutant

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
NOT_APPLIED = 97  # the child could not put the mutant in place


@dataclass
class Outcome:
    mutant: Mutant
    status: str  # killed | timeout | survived | untested | error
    tests: int = 0
    seconds: float = 0.0
    budget: float = 0.0  # seconds the child may run before it counts as hung


@dataclass
class Targets:
    modules: dict[str, list[str]]
    skip: list[str]

    def tests_for(self, path: str, covering: set[str], failed: list[str]) -> list[str]:
        """The tests to run against a mutant of `path`: from its files, that executed it."""
        files = tuple(f"{f}::" for f in self.modules[path])
        return [
            t
            for t in covering
            if t.startswith(files) and t not in failed and not any(s in t for s in self.skip)
        ]

    @property
    def test_files(self) -> list[str]:
        files: list[str] = []
        for tests in self.modules.values():
            files += [t for t in tests if t not in files]
        return files


def load_targets(path: Path) -> Targets:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    modules = {str(k): [str(t) for t in v] for k, v in data["modules"].items()}
    return Targets(modules, [str(s) for s in data.get("skip_tests", [])])


def load_accepted(path: Path) -> dict[str, dict[str, str]]:
    """{module path: {mutant key: reason}}."""
    if not path.exists():
        return {}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {str(m): {str(k): str(v) for k, v in entries.items()} for m, entries in data.items()}


def dotted(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


def live_function(module_path: str, qualname: str) -> FunctionType:
    """The function object the running program calls for `qualname` (properties included)."""
    owner: Any = importlib.import_module(dotted(module_path))
    parts = qualname.split(".")
    for part in parts[:-1]:
        owner = getattr(owner, part)
    found = owner.__dict__[parts[-1]] if isinstance(owner, type) else getattr(owner, parts[-1])
    if isinstance(found, property):
        found = found.fget
    elif isinstance(found, staticmethod | classmethod):
        found = found.__func__
    while hasattr(found, "__wrapped__"):
        found = found.__wrapped__
    if not isinstance(found, FunctionType):
        raise LookupError(f"{module_path}: {qualname} is not a plain function")
    return found


def _codes(code: CodeType) -> Iterator[CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from _codes(const)


# ---- baseline ----------------------------------------------------------------------------


class Baseline:
    """Which tests executed which target functions, and how long each test took."""

    def __init__(self, functions: dict[CodeType, tuple[str, str]], skip: list[str]) -> None:
        self._functions = functions
        self._skip = skip
        self.current: str | None = None
        self.covers: dict[tuple[str, str], set[str]] = {}
        self.durations: dict[str, float] = {}
        self.failed: list[str] = []

    def trace(self, frame: FrameType, event: str, arg: object) -> None:
        if event == "call" and self.current is not None:
            key = self._functions.get(frame.f_code)
            if key is not None:
                self.covers.setdefault(key, set()).add(self.current)

    # pytest hooks (this object is passed to pytest as a plugin)
    def pytest_collection_modifyitems(self, config: Any, items: list[Any]) -> None:
        skipped = [i for i in items if any(s in i.nodeid for s in self._skip)]
        if skipped:
            config.hook.pytest_deselected(items=skipped)
            items[:] = [i for i in items if i not in skipped]

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: Any) -> None:
        self.current = item.nodeid

    def pytest_runtest_logreport(self, report: Any) -> None:
        self.durations[report.nodeid] = self.durations.get(report.nodeid, 0.0) + report.duration
        if report.failed and report.nodeid not in self.failed:
            self.failed.append(report.nodeid)
        if report.when == "teardown":
            self.current = None


def run_baseline(targets: Targets, modules: list[ModuleMutants]) -> Baseline:
    functions: dict[CodeType, tuple[str, str]] = {}
    for module in modules:
        for qualname in sorted({m.function for m in module.mutants}):
            for code in _codes(live_function(module.path, qualname).__code__):
                functions[code] = (module.path, qualname)
    baseline = Baseline(functions, targets.skip)
    tracer: Callable[..., None] = baseline.trace
    with tempfile.TemporaryDirectory(prefix="mutate-baseline-") as tmp:
        sys.settrace(tracer)
        threading.settrace(tracer)
        try:
            status = pytest.main(
                [
                    "-q",
                    "-p",
                    "no:cacheprovider",
                    f"--basetemp={tmp}/t",
                    *targets.test_files,
                ],
                plugins=[baseline],
            )
        finally:
            sys.settrace(None)
            threading.settrace(None)
    if status not in (0, 1):
        raise SystemExit(f"the baseline test run did not finish (pytest exit code {status})")
    return baseline


# ---- mutants -----------------------------------------------------------------------------


def _child(code: CodeType, mutant: Mutant, tests: list[str], tmp: str, quiet: bool) -> None:
    """In the forked child: put the mutant in place, run the tests, exit with pytest's code."""
    os.setpgid(0, 0)
    try:
        if quiet:
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
        try:
            live_function(mutant.path, mutant.function).__code__ = code
        except (LookupError, ValueError):
            os._exit(NOT_APPLIED)
        status = pytest.main(
            ["-x", "-q", "-p", "no:cacheprovider", f"--basetemp={tmp}", "--no-header", *tests]
        )
        os._exit(int(status))
    except BaseException:
        os._exit(3)


@dataclass
class _Running:
    outcome: Outcome
    started: float
    deadline: float


def run_mutants(
    targets: Targets,
    modules: list[ModuleMutants],
    baseline: Baseline,
    *,
    jobs: int,
    quiet: bool,
    progress: Callable[[Outcome], None],
) -> list[Outcome]:
    queue: list[tuple[ModuleMutants, int]] = [
        (module, i) for module in modules for i in range(len(module.mutants))
    ]
    outcomes: list[Outcome] = []
    running: dict[int, _Running] = {}
    tmp_root = tempfile.mkdtemp(prefix="mutate-")
    counter = 0
    while queue or running:
        while queue and len(running) < jobs:
            module, index = queue.pop(0)
            mutant = module.mutants[index]
            covering = baseline.covers.get((mutant.path, mutant.function), set())
            tests = sorted(
                targets.tests_for(mutant.path, covering, baseline.failed),
                key=lambda t: baseline.durations.get(t, 0.0),
            )
            if not tests:
                outcome = Outcome(mutant, "untested")
                outcomes.append(outcome)
                progress(outcome)
                continue
            try:
                code = module.code_of(index)
            except (LookupError, SyntaxError, ValueError):
                outcome = Outcome(mutant, "error")
                outcomes.append(outcome)
                progress(outcome)
                continue
            counter += 1
            budget = 15 + 3 * sum(baseline.durations.get(t, 1.0) for t in tests)
            pid = os.fork()
            if pid == 0:
                _child(code, mutant, tests, f"{tmp_root}/{counter}", quiet)
            now = time.monotonic()
            outcome = Outcome(mutant, "", len(tests), budget=budget)
            running[pid] = _Running(outcome, now, now + budget)
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            now = time.monotonic()
            for child, job in list(running.items()):
                if now > job.deadline:
                    os.killpg(child, signal.SIGKILL)
                    os.waitpid(child, 0)
                    job.outcome.status = "timeout"
                    _finish(running.pop(child), outcomes, progress)
            time.sleep(0.02)
            continue
        job = running.pop(pid)
        exit_code = os.waitstatus_to_exitcode(status)
        if exit_code == 0:
            job.outcome.status = "survived"
        elif exit_code in (NOT_APPLIED, 3, 4, 5):
            job.outcome.status = "error"
        else:  # failed tests, an interrupted run or a crash: the mutant was noticed
            job.outcome.status = "killed"
        _finish(job, outcomes, progress)
    return outcomes


def _finish(job: _Running, outcomes: list[Outcome], progress: Callable[[Outcome], None]) -> None:
    job.outcome.seconds = time.monotonic() - job.started
    outcomes.append(job.outcome)
    progress(job.outcome)


# ---- report ------------------------------------------------------------------------------


HEADER = (
    "score = mutants detected / mutants: detected is `killed` (a test failed) plus `timeouts`\n"
    "(the tests hung past their time budget; counted as detected, listed below to check)"
)


def report(
    modules: list[ModuleMutants],
    outcomes: list[Outcome],
    accepted: dict[str, dict[str, str]],
    *,
    verbose: bool,
) -> bool:
    """Print scores, timeouts and survivors; True when every survivor is explained."""
    by_module: dict[str, list[Outcome]] = {m.path: [] for m in modules}
    for outcome in outcomes:
        by_module[outcome.mutant.path].append(outcome)
    unexplained = 0
    print()
    print(HEADER)
    print(
        f"{'module':32} {'mutants':>8} {'killed':>7} {'timeouts':>9} {'score':>7}"
        f" {'accepted':>9} {'open':>5}"
    )
    rows = []
    for path, found in by_module.items():
        killed = sum(o.status == "killed" for o in found)
        hung = [o for o in found if o.status == "timeout"]
        survivors = [o for o in found if o.status not in ("killed", "timeout")]
        ok = accepted.get(path, {})
        explained = [o for o in survivors if o.mutant.key in ok]
        open_ = [o for o in survivors if o.mutant.key not in ok]
        unexplained += len(open_)
        score = 100 * (killed + len(hung)) / len(found) if found else 100.0
        print(
            f"{path:32} {len(found):8} {killed:7} {len(hung):9} {score:6.1f}%"
            f" {len(explained):9} {len(open_):5}"
        )
        rows.append((path, hung, open_, explained, ok, {o.mutant.key for o in found}))
    for path, hung, open_, explained, ok, keys in rows:
        for outcome in sorted(hung, key=lambda o: o.mutant.line):
            m = outcome.mutant
            print(
                f"TIMEOUT  {path}:{m.line} {m.key} (stopped after {outcome.seconds:.0f} s,"
                f" budget {outcome.budget:.0f} s, {outcome.tests} tests)"
            )
        for outcome in sorted(open_, key=lambda o: o.mutant.line):
            m = outcome.mutant
            print(f"SURVIVED {path}:{m.line} [{outcome.status}] {m.key}")
        if verbose:
            for outcome in sorted(explained, key=lambda o: o.mutant.line):
                m = outcome.mutant
                print(f"accepted {path}:{m.line} {m.key}\n    because: {ok[m.key]}")
        for key in ok:
            if key not in keys:
                print(f"stale accepted entry in {path} (no such mutant now): {key}")
    total = len(outcomes)
    killed = sum(o.status == "killed" for o in outcomes)
    hung_all = sum(o.status == "timeout" for o in outcomes)
    detected = killed + hung_all
    print(
        f"\nall: {detected}/{total} detected ({100 * detected / max(total, 1):.1f} %):"
        f" {killed} killed, {hung_all} timeouts"
    )
    if unexplained:
        print(f"{unexplained} survivor(s) not explained: add a test, or accept with a reason")
    else:
        print("every survivor explained")
    return unexplained == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mutate", description=__doc__)
    parser.add_argument("modules", nargs="*", help="only these modules (paths from targets)")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("MUTATE_JOBS", "2")))
    parser.add_argument("--targets", type=Path, default=HERE / "targets.toml")
    parser.add_argument("--accepted", type=Path, default=HERE / "accepted.toml")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--verbose", action="store_true", help="also list accepted survivors")
    parser.add_argument("--show-output", action="store_true", help="the children's pytest output")
    args = parser.parse_args(argv)
    os.chdir(ROOT)
    targets = load_targets(args.targets)
    if args.modules:
        unknown = [m for m in args.modules if m not in targets.modules]
        if unknown:
            parser.error(f"not in {args.targets.name}: {', '.join(unknown)}")
        targets = Targets({m: targets.modules[m] for m in args.modules}, targets.skip)
    modules = [ModuleMutants(ROOT, path) for path in targets.modules]
    if args.list:
        for module in modules:
            for m in module.mutants:
                print(f"{m.path}:{m.line} {m.key}")
        return 0
    total = sum(len(m.mutants) for m in modules)
    print(f"{total} mutants in {len(modules)} modules; baseline run of {targets.test_files}")
    started = time.monotonic()
    baseline = run_baseline(targets, modules)
    if baseline.failed:
        print(f"failing before any mutation (left out): {baseline.failed}")
    print(f"baseline: {len(baseline.durations)} tests in {time.monotonic() - started:.0f} s")
    done = 0

    def progress(outcome: Outcome) -> None:
        nonlocal done
        done += 1
        mark = {"killed": ".", "timeout": "T", "survived": "S", "untested": "U", "error": "E"}
        print(mark[outcome.status], end="" if done % 80 else f" {done}/{total}\n", flush=True)
        if outcome.status != "killed":
            # Named at once, so a long run's survivors and hangs can be looked at while it goes on.
            m = outcome.mutant
            print(f"\n  {outcome.status}: {m.path}:{m.line} {m.key}", flush=True)

    outcomes = run_mutants(
        targets,
        modules,
        baseline,
        jobs=max(args.jobs, 1),
        quiet=not args.show_output,
        progress=progress,
    )
    print(f"\n{len(outcomes)} mutants in {time.monotonic() - started:.0f} s")
    clean = report(modules, outcomes, load_accepted(args.accepted), verbose=args.verbose)
    return 0 if clean else 1
