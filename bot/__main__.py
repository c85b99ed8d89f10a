"""`python -m bot`: run the bot (and its web app) with settings from the environment."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys

from bot.app import build_services, close_services
from bot.logs import setup_logging
from bot.runner import Runtime
from bot.settings import Settings, SettingsError, load_settings
from services.catalogue import CatalogueError, ItemNotFound
from services.db import SchemaTooNew
from services.errors import DomainError
from services.operator import normalize_phone
from services.wallet import LIMITS

log = logging.getLogger("bot")


def secrets_of(settings: Settings) -> list[str]:
    values = [
        settings.robokassa.password1.get_secret_value(),
        settings.robokassa.password2.get_secret_value(),
        settings.robokassa.password3.get_secret_value(),
    ]
    if settings.bot_token is not None:
        values.append(settings.bot_token.get_secret_value())
    return values


async def run_bot(settings: Settings) -> None:
    runtime = Runtime(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await runtime.start()
        if runtime.emulated:
            print(f"Web chat: {runtime.emulator_url}/", flush=True)
            log.info("no BOT_TOKEN: talking to the local Telegram emulator")
        log.info("bot started; web app on %s", runtime.web_url)
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait(
            {stopper, asyncio.ensure_future(runtime.wait())}, return_when="FIRST_COMPLETED"
        )
        stopper.cancel()
    finally:
        await runtime.stop()
        log.info("bot stopped")


async def run_admin(settings: Settings, args: argparse.Namespace) -> str:
    """The operator and wallet levers a shop uses to demo the world's rules.

    They do not sync the catalogue: a running bot may be selling, and stock is its business.
    """
    services = await build_services(settings, catalogue=False)
    try:
        if args.area == "shop":
            token = await services.merchant.create_invite(args.shop, ttl=args.days * 86400)
            username = settings.bot_username or "qiwi_robokassa_demo_bot"
            return f"https://t.me/{username}?start=owner-{token}"
        number = normalize_phone(args.phone)
        if args.area == "operator":
            if args.action == "deactivate":
                await services.operator.deactivate(number)
            else:
                await services.operator.reactivate(number)
            return f"{number}: {await services.operator.status(number)}"
        await services.wallets.set_level(number, args.level)
        return f"{number}: level {args.level}"
    finally:
        await close_services(services)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bot", description="QIWI + Robokassa bot")
    areas = parser.add_subparsers(dest="area")
    operator = areas.add_parser("operator", help="phone operator stand-in")
    operator.add_argument("action", choices=["deactivate", "reactivate"])
    operator.add_argument("phone")
    wallet = areas.add_parser("wallet", help="wallet stand-in")
    wallet.add_argument("action", choices=["level"])
    wallet.add_argument("phone")
    wallet.add_argument("level", choices=sorted(LIMITS))
    shop = areas.add_parser("shop", help="shops: invite an owner")
    shop.add_argument("action", choices=["invite"])
    shop.add_argument("shop", help="shop id from the catalogue, e.g. flowers")
    shop.add_argument("--days", type=int, default=1, help="how long the link works")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"bot: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level, secrets_of(settings))
    if args.area is not None:
        try:
            print(asyncio.run(run_admin(settings, args)))
        except ItemNotFound:
            print(
                f"bot: no shop {args.shop!r} in the database; the bot loads the shops"
                " from the catalogue when it starts",
                file=sys.stderr,
            )
            return 2
        except (DomainError, CatalogueError) as exc:
            print(f"bot: {exc}", file=sys.stderr)
            return 2
        return 0
    try:
        asyncio.run(run_bot(settings))
    except (SchemaTooNew, CatalogueError) as exc:
        print(f"bot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
