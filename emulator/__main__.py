"""`python -m emulator --port 8081`: the Telegram emulator on its own, for a bot run elsewhere.

Point the bot at it with `EMULATOR_URL=http://127.0.0.1:8081` (and no BOT_TOKEN).
"""

from __future__ import annotations

import argparse
import sys

from aiohttp import web

from emulator.engine import Engine
from emulator.server import build_emulator_app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--flood-limit", type=int, default=0)
    args = parser.parse_args(argv)
    app = build_emulator_app(Engine(flood_limit_per_chat=args.flood_limit))
    print(f"Web chat: http://{args.host}:{args.port}/", flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
