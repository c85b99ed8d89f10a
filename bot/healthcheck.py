"""`python -m bot.healthcheck`: exit 0 when the bot's web app answers /healthz (the container's
health check). Standard library only: it runs every few seconds and must not load aiogram."""

from __future__ import annotations

import json
import os
import sys
import urllib.request


def main() -> int:
    port = os.environ.get("WEB_PORT") or "8080"
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as answer:
            healthy = answer.status == 200 and json.load(answer).get("status") == "ok"
    except (OSError, ValueError) as error:
        print(f"unhealthy: {error}", file=sys.stderr)
        return 1
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
