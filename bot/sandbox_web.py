"""HTTP face of the embedded Robokassa sandbox, under `/robokassa-sandbox` in the bot's web app.

Same paths and shapes as the real service: `Merchant/Index.aspx`, the web service's
`GetCurrencies` and `OpStateExt` XML, and the Refund API's `Refund/Create` (a JWT in the body)
and `Refund/GetState` (JSON). The payment page is minimal HTML in Russian; in the chat
the bot plays the buyer's browser (it opens the page, then acts for the buyer in-process).
"""

from __future__ import annotations

import html
from datetime import datetime
from xml.sax.saxutils import escape

from aiohttp import web

from services.aggregator import Aggregator, PaymentRequestError
from services.clock import MOSCOW
from services.numbers import MAX_INV_ID, parse_id

PREFIX = "/robokassa-sandbox"
XMLNS = "http://merchant.roboxchange.com/WebService/"
OPERATION_HEADER = "X-Robokassa-Operation"

# What the sandbox offers: QIWI works; the rest are listed as the real service lists them.
CURRENCIES = [
    ("EMoney", "Электронными деньгами", [("Qiwi40PS", "QiwiWallet", "QIWI Кошелек", "1", "15000")]),
    ("BankCard", "Банковской картой", [("BankCardPSR", "BankCard", "Карта", "1", "300000")]),
    ("SBP", "Системой быстрых платежей", [("SBPPSR", "SBP", "СБП", "1", "1000000")]),
    ("Mobile", "С баланса телефона", [("MtsPSR", "PhoneMTS", "МТС", "10", "5000")]),
]
# With `Language=en` the real service names its methods in English; so does the sandbox.
ENGLISH = {
    "Электронными деньгами": "E-money",
    "QIWI Кошелек": "QIWI Wallet",
    "Банковской картой": "Bank card",
    "Карта": "Card",
    "Системой быстрых платежей": "Faster Payments System",
    "СБП": "SBP",
    "С баланса телефона": "Mobile phone balance",
    "МТС": "MTS",
}


def _page(title: str, body: str, status: int = 200) -> web.Response:
    return web.Response(
        text=(
            '<!doctype html><html lang="ru"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{html.escape(title)}</title></head>"
            '<body style="font-family:system-ui;max-width:480px;margin:2em auto">'
            f"{body}</body></html>"
        ),
        content_type="text/html",
        status=status,
    )


async def form_params(request: web.Request) -> dict[str, str]:
    """Query and form fields; a body that is no form (bad encoding, say) is a 400."""
    params = dict(request.query)
    if request.method == "POST":
        try:
            form = await request.post()
        except ValueError:
            raise web.HTTPBadRequest(text="malformed form") from None
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


def logged_inv_id(text: str) -> str:
    """InvId as it may go into a log line: the number when it is one, else a fixed word, so
    a value from an unauthenticated request can neither forge log lines nor flood the log."""
    try:
        return str(parse_id(text, high=MAX_INV_ID))
    except ValueError:
        return "(malformed)"


def build_sandbox_routes(app: web.Application, aggregator: Aggregator) -> None:
    async def index(request: web.Request) -> web.Response:
        params = await form_params(request)
        try:
            op = await aggregator.start_payment(params)
        except PaymentRequestError as error:
            response = _page(
                "Робокасса: ошибка",
                f"<h1>Ошибка {error.code}</h1><p>Платёж не может быть выполнен: "
                f"{html.escape(error.reason)}.</p>",
                status=400,
            )
            response.headers["X-Robokassa-Error"] = str(error.code)
            return response
        response = _page(
            "Робокасса: оплата",
            f"<h1>Робокасса (песочница)</h1><p>Счёт № {op.inv_id}: {html.escape(op.description)}"
            f"</p><p>Сумма: {html.escape(op.out_sum)} ₽</p><p>Способ оплаты: Visa QIWI Wallet — "
            "счёт будет выставлен на ваш номер мобильного.</p>",
        )
        response.headers[OPERATION_HEADER] = str(op.id)
        return response

    async def currencies(request: web.Request) -> web.Response:
        if request.query.get("MerchantLogin") not in aggregator.merchants:
            return _xml(
                "CurrenciesList",
                "<Result><Code>2</Code><Description>shop unknown</Description></Result>",
            )
        groups = []
        english = request.query.get("Language") == "en"

        def word(text: str) -> str:
            return escape(ENGLISH.get(text, text) if english else text)

        for code, description, items in CURRENCIES:
            entries = "".join(
                f'<Currency Label="{label}" Alias="{alias}" Name="{word(name)}" '
                f'MinValue="{low}" MaxValue="{high}"/>'
                for label, alias, name, low, high in items
            )
            groups.append(
                f'<Group Code="{code}" Description="{word(description)}">'
                f"<Items>{entries}</Items></Group>"
            )
        return _xml(
            "CurrenciesList",
            "<Result><Code>0</Code></Result><Groups>" + "".join(groups) + "</Groups>",
        )

    async def op_state(request: web.Request) -> web.Response:
        query = request.query
        descriptions = {1: "bad signature", 2: "shop unknown or inactive", 3: "invoice not found"}
        try:
            code, op = await aggregator.op_state(
                query.get("MerchantLogin", ""),
                query.get("InvoiceID", ""),
                query.get("Signature", ""),
            )
        except ValueError:  # InvoiceID is no invoice number
            return _xml(
                "OperationStateResponse",
                "<Result><Code>3</Code><Description>bad InvoiceID</Description></Result>",
                status=400,
            )
        if op is None:
            return _xml(
                "OperationStateResponse",
                f"<Result><Code>{code}</Code><Description>{descriptions.get(code, '')}"
                "</Description></Result>",
            )
        stamp = op_stamp(op.expires_at)
        fields = "".join(
            f"<Field><Name>{escape(k)}</Name><Value>{escape(v)}</Value></Field>"
            for k, v in sorted(op.shp.items())
        )
        return _xml(
            "OperationStateResponse",
            f"<Result><Code>{code}</Code></Result>"
            f"<State><Code>{op.state}</Code><RequestDate>{stamp}</RequestDate>"
            f"<StateDate>{stamp}</StateDate></State>"
            f"<Info><IncCurrLabel>Qiwi40PS</IncCurrLabel><IncSum>{op.out_sum}</IncSum>"
            "<IncAccount></IncAccount><PaymentMethod><Code>EMoney</Code>"
            "<Description>Электронными деньгами</Description></PaymentMethod>"
            f"<OutCurrLabel>BNR</OutCurrLabel><OutSum>{op.out_sum}</OutSum>"
            f"<OpKey>sandbox-{op.id}</OpKey></Info>"
            f"<UserField>{fields}</UserField>",
        )

    async def refund_create(request: web.Request) -> web.Response:
        # A body that is no UTF-8 is no token either; the API says so in its own words.
        token = (await request.read()).decode("utf-8", errors="replace")
        return web.json_response(await aggregator.refund_create(token))

    async def refund_state(request: web.Request) -> web.Response:
        state = await aggregator.refund_state(request.query.get("id", ""))
        if state is None:
            return web.json_response({"success": False, "message": "RequestNotFound"}, status=404)
        return web.json_response(state)

    app.router.add_route("GET", f"{PREFIX}/Merchant/Index.aspx", index)
    app.router.add_post(f"{PREFIX}/RefundService/Refund/Create", refund_create)
    app.router.add_get(f"{PREFIX}/RefundService/Refund/GetState", refund_state)
    app.router.add_route("POST", f"{PREFIX}/Merchant/Index.aspx", index)
    service = f"{PREFIX}/Merchant/WebService/Service.asmx"
    app.router.add_get(f"{service}/GetCurrencies", currencies)
    app.router.add_get(f"{service}/OpStateExt", op_state)


def op_stamp(moment: object) -> str:
    if isinstance(moment, datetime):
        return moment.astimezone(MOSCOW).isoformat(timespec="seconds")
    return ""


def _xml(root: str, body: str, status: int = 200) -> web.Response:
    return web.Response(
        text=f'<?xml version="1.0" encoding="utf-8"?><{root} xmlns="{XMLNS}">{body}</{root}>',
        content_type="text/xml",
        status=status,
    )
