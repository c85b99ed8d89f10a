"""The bot's own web app (aiohttp): health, Robokassa's ResultURL/SuccessURL/FailURL, sandbox."""

from __future__ import annotations

import logging
import socket

from aiohttp import web

from bot.app import Services
from bot.sandbox_web import build_sandbox_routes, form_params, logged_inv_id
from services.checkout import ModeMismatch, ShpMismatch, UnknownInvoice, UnknownShop, WrongAmount
from services.robokassa import InvalidSignature

SERVICES_KEY = web.AppKey("services", Services)
log = logging.getLogger(__name__)


async def health(request: web.Request) -> web.Response:
    services = request.app[SERVICES_KEY]
    version = await services.db.schema_version()
    return web.json_response({"status": "ok", "schema": version})


async def result_url(request: web.Request) -> web.Response:
    """Robokassa → shop, server to server: the only trustworthy "paid" signal.

    `/robokassa/result/<shop id>` is the ResultURL each shop with its own account enters in its
    cabinet; `/robokassa/result` finds the shop by `Shp_shop`."""
    services = request.app[SERVICES_KEY]
    params = await form_params(request)
    inv_id = logged_inv_id(params.get("InvId", ""))
    try:
        settled = await services.checkout.accept_result(params, request.match_info.get("shop"))
    except UnknownShop:
        log.warning("ResultURL for InvId %s: no such shop", inv_id)
        return web.Response(status=400, text="unknown shop")
    except InvalidSignature:
        log.warning("ResultURL for InvId %s: bad signature", inv_id)
        return web.Response(status=400, text="bad signature")
    except ModeMismatch:
        log.warning(
            "ResultURL for InvId %s: IsTest=1 is %s, the shop's mode differs",
            inv_id,
            params.get("IsTest") == "1",
        )
        return web.Response(status=400, text="wrong mode")
    except UnknownInvoice:
        log.warning("ResultURL for unknown InvId %s", inv_id)
        return web.Response(status=400, text="unknown invoice")
    except WrongAmount:
        log.warning("ResultURL for InvId %s: amount differs from the order", inv_id)
        return web.Response(status=400, text="wrong amount")
    except ShpMismatch:
        log.warning("ResultURL for InvId %s: Shp parameters do not match the order", inv_id)
        return web.Response(status=400, text="wrong parameters")
    except ValueError:
        log.warning("ResultURL for InvId %s: a number is malformed", inv_id)
        return web.Response(status=400, text="bad request")
    services.wake_jobs()
    return web.Response(text=f"OK{settled.order.id}")


def _page(title: str, text: str) -> web.Response:
    return web.Response(
        text=(
            '<!doctype html><html lang="ru"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{title}</title></head><body style="font-family:system-ui;max-width:480px;'
            f'margin:2em auto"><h1>{title}</h1><p>{text}</p></body></html>'
        ),
        content_type="text/html",
    )


async def success_url(request: web.Request) -> web.Response:
    # The buyer's browser came back; this proves nothing about payment, ResultURL does.
    return _page(
        "Спасибо!",
        "Вы вернулись из Робокассы. Как только платёж подтвердится, бот пришлёт чек в Telegram.",
    )


async def fail_url(request: web.Request) -> web.Response:
    return _page(
        "Оплата не завершена",
        "Платёж не прошёл или был отменён. Вернитесь в Telegram: заказ можно оплатить снова, "
        "пока он не истёк.",
    )


def bind(host: str, port: int) -> tuple[socket.socket, str]:
    """The web app's port, taken before anything is built: the Robokassa client and the
    sandbox's ResultURL need its address. Returns the listening socket and the base URL."""
    sock = socket.create_server((host, port))
    sock.setblocking(False)
    return sock, f"http://{host}:{sock.getsockname()[1]}"


async def serve(app: web.Application, sock: socket.socket) -> web.AppRunner:
    """Start the app on a socket from `bind`; clean the runner up to stop it."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    return runner


def build_web_app(services: Services) -> web.Application:
    app = web.Application()
    app[SERVICES_KEY] = services
    app.router.add_get("/healthz", health)
    for method in ("GET", "POST"):
        app.router.add_route(method, "/robokassa/result", result_url)
        app.router.add_route(method, "/robokassa/result/{shop}", result_url)
        app.router.add_route(method, "/robokassa/success", success_url)
        app.router.add_route(method, "/robokassa/fail", fail_url)
    build_sandbox_routes(app, services.aggregator)
    return app
