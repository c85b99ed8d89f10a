"""Private servers for tests (Redis now; PostgreSQL the same way later): each test session
starts its own on a free port in a temporary folder, or uses the one a URL names
(`TEST_REDIS_URL`). `make test` installs the Debian packages when the binaries are missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.balancer import free_port

START_SECONDS = 30


@dataclass(frozen=True)
class ServerKind:
    name: str
    # A URL from outside wins: a server the developer or CI already runs.
    env: str
    # The binary's name, and folders to look in besides PATH (Debian keeps some off PATH).
    binary: str
    folders: tuple[str, ...]
    # Commands run once in the empty folder before the server starts (e.g. initdb).
    prepare: Callable[[str, Path], list[list[str]]]
    command: Callable[[str, int, Path], list[str]]
    # The server prints this once it accepts connections.
    ready: str
    url: Callable[[int, Path], str]
    package: str

    def find(self) -> str | None:
        found = shutil.which(self.binary)
        for folder in self.folders:
            if found is None:
                for candidate in sorted(Path("/").glob(folder.lstrip("/")), reverse=True):
                    if (candidate / self.binary).exists():
                        found = str(candidate / self.binary)
                        break
        return found


REDIS = ServerKind(
    name="Redis",
    env="TEST_REDIS_URL",
    binary="redis-server",
    folders=(),
    prepare=lambda binary, folder: [],
    command=lambda binary, port, folder: [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        str(folder),
        "--save",
        "",
        "--appendonly",
        "no",
    ],
    ready="Ready to accept connections",
    url=lambda port, folder: f"redis://127.0.0.1:{port}/0",
    package="redis-server",
)


@contextmanager
def private_server(kind: ServerKind, folder: Path) -> Iterator[str]:
    """The URL of a running server of this kind, started here unless the environment names one."""
    given = os.environ.get(kind.env)
    if given:
        yield given
        return
    binary = kind.find()
    if binary is None:
        raise RuntimeError(
            f"{kind.name} is needed by the tests: `make test` installs Debian's {kind.package}"
            f" package, or set {kind.env} to a running server"
        )
    for step in kind.prepare(binary, folder):
        subprocess.run(step, check=True, capture_output=True, timeout=120)
    port = free_port()
    process = subprocess.Popen(
        kind.command(binary, port, folder),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_ready(kind, process)
        yield kind.url(port, folder)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(kind: ServerKind, process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    deadline = time.monotonic() + START_SECONDS
    said = []
    # Each line is read as the server writes it: nothing sleeps.
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"{kind.name} did not start: {''.join(said)[-2000:]}")
        said.append(line)
        if kind.ready in line:
            return
    raise RuntimeError(f"{kind.name} did not say it was ready in {START_SECONDS} s")
