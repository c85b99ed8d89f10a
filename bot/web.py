"""The bot's own web app (aiohttp): health check now; Robokassa callbacks and sandbox later."""

from __future__ import annotations

from aiohttp import web

from bot.app import Services

SERVICES_KEY = web.AppKey("services", Services)


async def health(request: web.Request) -> web.Response:
    services = request.app[SERVICES_KEY]
    version = await services.db.schema_version()
    return web.json_response({"status": "ok", "schema": version})


def build_web_app(services: Services) -> web.Application:
    app = web.Application()
    app[SERVICES_KEY] = services
    app.router.add_get("/healthz", health)
    return app
