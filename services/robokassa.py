"""Robokassa protocol client: signatures, payment URL, ResultURL/SuccessURL checks, OpStateExt.

The same code talks to the real service (https://auth.robokassa.ru) and to the embedded sandbox.
Facts followed here (see the project's protocol notes):
- payment: hash(MerchantLogin:OutSum:InvId[:Receipt]:Password#1[:Shp_a=1:Shp_b=2...]);
  an absent InvId leaves its slot empty; Shp_ pairs come after the password, sorted by name.
- ResultURL: hash(OutSum:InvId:Password#2[:Shp...]) over the raw OutSum string as received;
  the answer is the body `OK{InvId}`. SuccessURL is the same with Password#1 and proves nothing.
- OpStateExt: hash(MerchantLogin:InvoiceID:Password#2).
- Digests are hex; compared case-insensitively in constant time. UTF-8 bytes are hashed.
- Refund API: POST {refund_url}/Refund/Create, the body a JWT (HS256, Password#3) with
  {OpKey, RefundSum?}; the answer is JSON {success, message, requestId}. Its state comes from
  GET {refund_url}/Refund/GetState?id=… as {requestId, amount, label: finished|processing|canceled}.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlencode

import httpx

from services.fiscal import dumps, encode
from services.numbers import MAX_INV_ID, parse_id

REAL_BASE_URL = "https://auth.robokassa.ru"
REAL_REFUND_URL = "https://services.robokassa.ru/RefundService"
NS = "{http://merchant.roboxchange.com/WebService/}"
ALGORITHMS = ("md5", "ripemd160", "sha1", "sha256", "sha384", "sha512")
QIWI_LABEL = "Qiwi40PS"


class InvalidSignature(Exception):
    """A callback's signature does not match: it is not from the aggregator."""


class RobokassaError(Exception):
    """The aggregator answered with a non-zero result code."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description


def digest(text: str, algorithm: str = "md5") -> str:
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown signature algorithm {algorithm!r}")
    return hashlib.new(algorithm, text.encode("utf-8")).hexdigest()


def same_signature(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.lower().encode(), given.strip().lower().encode())


def shp_of(params: Mapping[str, str]) -> dict[str, str]:
    """The merchant's own parameters. The service accepts the prefix in any case (`shp_`,
    `Shp_`); we send only `Shp_`. How it orders names of mixed-case prefixes is not documented
    (uncertain), so a plain sort by name is used, which is exact for a single prefix."""
    return {k: v for k, v in params.items() if k.lower().startswith("shp_")}


def _shp_tail(shp: Mapping[str, str] | None) -> list[str]:
    return [f"{name}={value}" for name, value in sorted((shp or {}).items())]


def format_out_sum(kopecks: int) -> str:
    """Kopecks → the OutSum we send: always two decimals, e.g. `350.00`."""
    return f"{Decimal(kopecks) / 100:.2f}"


# Far above any order here; a bigger sum is a mistake or an attack, not a payment.
MAX_OUT_SUM = 1_000_000_000  # kopecks: 10 000 000 ₽
# ASCII digits only (`\d` would take `１`); Robokassa sends six decimals (`100.000000`).
_OUT_SUM = re.compile(r"[0-9]{1,10}(\.[0-9]{1,8})?")


def parse_out_sum(text: str) -> int:
    """An OutSum as received (`100.000000`) → kopecks; refuses what is not a whole kopeck,
    not positive or above `MAX_OUT_SUM` (also `Infinity`, `NaN`, `1e9`: not a plain number)."""
    if not _OUT_SUM.fullmatch(text):
        raise ValueError("OutSum is not a plain decimal number")
    kopecks = Decimal(text) * 100
    if kopecks != kopecks.to_integral_value() or not 0 < kopecks <= MAX_OUT_SUM:
        raise ValueError("OutSum is not a positive sum in whole kopecks")
    return int(kopecks)


@dataclass(frozen=True)
class ResultNotification:
    out_sum: str
    inv_id: int
    amount: int  # kopecks, from OutSum
    shp: dict[str, str]
    fee: str | None = None
    email: str | None = None
    inc_curr_label: str | None = None
    payment_method: str | None = None
    is_test: bool = False


@dataclass(frozen=True)
class OpState:
    result_code: int
    result_description: str
    state_code: int | None = None
    request_date: str | None = None
    state_date: str | None = None
    inc_curr_label: str | None = None
    inc_sum: str | None = None
    inc_account: str | None = None
    payment_method: str | None = None
    out_sum: str | None = None
    op_key: str | None = None
    user_fields: dict[str, str] = field(default_factory=dict)

    @property
    def paid(self) -> bool:
        return self.state_code == 100


@dataclass(frozen=True)
class RefundRequest:
    """Robokassa's answer to Refund/Create."""

    success: bool
    request_id: str | None
    message: str


@dataclass(frozen=True)
class RefundState:
    """Refund/GetState: `label` is finished, processing or canceled."""

    request_id: str
    amount: str | None
    label: str


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def jwt_hs256(payload: Mapping[str, object], secret: str) -> str:
    """A compact JWT signed with HMAC-SHA256 (what the Refund API expects, keyed by Password#3)."""
    header = _b64url(b'{"alg":"HS256","typ":"JWT"}')
    body = _b64url(dumps(payload).encode())
    signing_input = f"{header}.{body}"
    signature = hmac.new(secret.encode(), signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"


def jwt_payload(token: str) -> dict[str, object]:
    """The payload of a compact HS256 JWT, not yet verified (to find whose key checks it)."""
    try:
        header, body, _ = token.strip().split(".")
        if json.loads(_b64url_decode(header)).get("alg") != "HS256":
            raise InvalidSignature("not an HS256 token")
        payload = json.loads(_b64url_decode(body))
    except (ValueError, AttributeError, RecursionError) as error:  # deep JSON nesting, too
        raise InvalidSignature("malformed token") from error
    if not isinstance(payload, dict):
        raise InvalidSignature("malformed token")
    return payload


def jwt_verify(token: str, secret: str) -> dict[str, object]:
    """The payload when the HS256 signature matches `secret`; InvalidSignature otherwise."""
    payload = jwt_payload(token)
    signing_input, _, signature = token.strip().rpartition(".")
    expected = hmac.new(secret.encode(), signing_input.encode("ascii"), hashlib.sha256).digest()
    try:
        given = _b64url_decode(signature)
    except ValueError:
        raise InvalidSignature("malformed signature") from None
    if not hmac.compare_digest(expected, given):
        raise InvalidSignature("token signature does not match")
    return payload


@dataclass(frozen=True)
class Currency:
    group: str
    group_description: str
    label: str
    alias: str
    name: str
    min_value: str | None
    max_value: str | None


class Robokassa:
    def __init__(
        self,
        login: str,
        password1: str,
        password2: str,
        *,
        algorithm: str = "md5",
        is_test: bool = False,
        base_url: str = REAL_BASE_URL,
        password3: str = "",
        refund_url: str = REAL_REFUND_URL,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        if algorithm not in ALGORITHMS:
            raise ValueError(f"unknown signature algorithm {algorithm!r}")
        self.login = login
        self._password1 = password1
        self._password2 = password2
        self.algorithm = algorithm
        self.is_test = is_test
        self.base_url = base_url.rstrip("/")
        self._password3 = password3
        self.refund_url = refund_url.rstrip("/")
        self._http = http

    def __repr__(self) -> str:
        return f"Robokassa(login={self.login!r}, algorithm={self.algorithm!r}, test={self.is_test})"

    # ---- signatures ------------------------------------------------------------------

    def payment_signature(
        self,
        out_sum: str,
        inv_id: int | None,
        *,
        receipt: str | None = None,
        shp: Mapping[str, str] | None = None,
    ) -> str:
        parts = [self.login, out_sum, "" if inv_id is None else str(inv_id)]
        if receipt is not None:
            parts.append(receipt)
        parts.append(self._password1)
        parts += _shp_tail(shp)
        return digest(":".join(parts), self.algorithm)

    def result_signature(
        self, out_sum: str, inv_id: int | str, shp: Mapping[str, str] | None = None
    ) -> str:
        return digest(
            ":".join([out_sum, str(inv_id), self._password2, *_shp_tail(shp)]), self.algorithm
        )

    def success_signature(
        self, out_sum: str, inv_id: int | str, shp: Mapping[str, str] | None = None
    ) -> str:
        return digest(
            ":".join([out_sum, str(inv_id), self._password1, *_shp_tail(shp)]), self.algorithm
        )

    def payment_url(
        self,
        out_sum: str,
        inv_id: int | None,
        description: str,
        *,
        receipt: str | None = None,
        shp: Mapping[str, str] | None = None,
        inc_curr_label: str | None = None,
        culture: str = "ru",
        email: str | None = None,
        expiration: datetime | None = None,
    ) -> str:
        """The page the buyer is sent to. `receipt` is the 54-FZ JSON as text.

        The receipt is signed URL-encoded once and transmitted encoded again, like the official
        SDK does (sources disagree on this; the sandbox accepts both ways).
        """
        encoded_receipt = encode(receipt) if receipt is not None else None
        params: dict[str, str] = {
            "MerchantLogin": self.login,
            "OutSum": out_sum,
            "Description": description[:100],
            "SignatureValue": self.payment_signature(
                out_sum, inv_id, receipt=encoded_receipt, shp=shp
            ),
            "Culture": culture,
            "Encoding": "utf-8",
        }
        if inv_id is not None:
            params["InvId"] = str(inv_id)
        if encoded_receipt is not None:
            params["Receipt"] = encoded_receipt
        if inc_curr_label:
            params["IncCurrLabel"] = inc_curr_label
        if email:
            params["Email"] = email
        if expiration is not None:
            params["ExpirationDate"] = expiration.isoformat(timespec="seconds")
        if self.is_test:
            params["IsTest"] = "1"
        params.update(shp or {})
        return f"{self.base_url}/Merchant/Index.aspx?{urlencode(params)}"

    # ---- callbacks -------------------------------------------------------------------

    def check_result(self, params: Mapping[str, str]) -> ResultNotification:
        """Verify a ResultURL call (Password#2); raises `InvalidSignature`."""
        out_sum, inv_id, signature = _required(params)
        shp = shp_of(params)
        if not same_signature(self.result_signature(out_sum, inv_id, shp), signature):
            raise InvalidSignature("ResultURL signature does not match")
        # Numbers are read only once the signature holds; a signed impossible one is a
        # ValueError (400), never an overflow further on.
        return ResultNotification(
            out_sum=out_sum,
            inv_id=parse_id(inv_id, high=MAX_INV_ID),
            amount=parse_out_sum(out_sum),
            shp=shp,
            fee=params.get("Fee"),
            email=params.get("EMail"),
            inc_curr_label=params.get("IncCurrLabel"),
            payment_method=params.get("PaymentMethod"),
            is_test=params.get("IsTest") == "1",
        )

    def check_success(self, params: Mapping[str, str]) -> ResultNotification:
        """Verify a SuccessURL redirect (Password#1). It shows the buyer came back, not payment."""
        out_sum, inv_id, signature = _required(params)
        shp = shp_of(params)
        if not same_signature(self.success_signature(out_sum, inv_id, shp), signature):
            raise InvalidSignature("SuccessURL signature does not match")
        return ResultNotification(
            out_sum, parse_id(inv_id, high=MAX_INV_ID), parse_out_sum(out_sum), shp
        )

    # ---- web service -----------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=15)
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    async def op_state(self, inv_id: int) -> OpState:
        signature = digest(f"{self.login}:{inv_id}:{self._password2}", self.algorithm)
        response = await self._client().get(
            f"{self.base_url}/Merchant/WebService/Service.asmx/OpStateExt",
            params={"MerchantLogin": self.login, "InvoiceID": str(inv_id), "Signature": signature},
        )
        response.raise_for_status()
        return parse_op_state(response.text)

    async def open_payment_page(self, url: str) -> httpx.Response:
        """GET a signed payment URL as a browser would (the sandbox answers in headers)."""
        return await self._client().get(url)

    async def create_refund(
        self,
        op_key: str,
        refund_sum: int | None = None,
        invoice_items: list[dict[str, object]] | None = None,
    ) -> RefundRequest:
        """Ask for the operation's money back to the payer: all of it, or `refund_sum` kopecks.
        `invoice_items` are the receipt lines that go back (`services.fiscal`)."""
        payload: dict[str, object] = {"OpKey": op_key}
        if refund_sum is not None:
            payload["RefundSum"] = format_out_sum(refund_sum)  # a decimal string, "350.00"
        if invoice_items:
            payload["InvoiceItems"] = invoice_items
        response = await self._client().post(
            f"{self.refund_url}/Refund/Create",
            content=jwt_hs256(payload, self._password3).encode("ascii"),
        )
        response.raise_for_status()
        answer = response.json()
        request_id = answer.get("requestId")
        return RefundRequest(
            success=answer.get("success") is True,
            request_id=None if request_id is None else str(request_id),
            message=str(answer.get("message") or ""),
        )

    async def refund_state(self, request_id: str) -> RefundState:
        response = await self._client().get(
            f"{self.refund_url}/Refund/GetState", params={"id": request_id}
        )
        response.raise_for_status()
        answer = response.json()
        amount = answer.get("amount")
        return RefundState(
            request_id=str(answer.get("requestId") or request_id),
            amount=None if amount is None else str(amount),
            label=str(answer.get("label") or ""),
        )

    async def currencies(self, language: str = "ru") -> list[Currency]:
        response = await self._client().get(
            f"{self.base_url}/Merchant/WebService/Service.asmx/GetCurrencies",
            params={"MerchantLogin": self.login, "Language": language},
        )
        response.raise_for_status()
        return parse_currencies(response.text)


def _required(params: Mapping[str, str]) -> tuple[str, str, str]:
    try:
        out_sum, inv_id, signature = params["OutSum"], params["InvId"], params["SignatureValue"]
    except KeyError as missing:
        raise InvalidSignature(f"{missing.args[0]} is missing") from None
    return out_sum, inv_id, signature


def _text(node: ET.Element | None, path: str) -> str | None:
    """Text at a namespaced path like `Result/Code`, or None."""
    if node is None:
        return None
    found = node.find("/".join(NS + part for part in path.split("/")))
    return None if found is None else (found.text or "")


def parse_op_state(xml_text: str) -> OpState:
    root = ET.fromstring(xml_text)
    code = int(_text(root, "Result/Code") or "1000")
    description = _text(root, "Result/Description") or ""
    if code != 0:
        return OpState(result_code=code, result_description=description)
    state_code = _text(root, "State/Code")
    fields = {}
    for node in root.findall(f"{NS}UserField/{NS}Field"):
        name = node.find(f"{NS}Name")
        value = node.find(f"{NS}Value")
        if name is not None and value is not None:
            fields[name.text or ""] = value.text or ""
    return OpState(
        result_code=0,
        result_description=description,
        state_code=None if state_code is None else int(state_code),
        request_date=_text(root, "State/RequestDate"),
        state_date=_text(root, "State/StateDate"),
        inc_curr_label=_text(root, "Info/IncCurrLabel"),
        inc_sum=_text(root, "Info/IncSum"),
        inc_account=_text(root, "Info/IncAccount"),
        payment_method=_text(root, "Info/PaymentMethod/Code"),
        out_sum=_text(root, "Info/OutSum"),
        op_key=_text(root, "Info/OpKey"),
        user_fields=fields,
    )


def parse_currencies(xml_text: str) -> list[Currency]:
    root = ET.fromstring(xml_text)
    code = int(_text(root, "Result/Code") or "0")
    if code != 0:
        raise RobokassaError(code, _text(root, "Result/Description") or "")
    found = []
    for group in root.iter(f"{NS}Group"):
        for currency in group.iter(f"{NS}Currency"):
            found.append(
                Currency(
                    group=group.get("Code", ""),
                    group_description=group.get("Description", ""),
                    label=currency.get("Label", ""),
                    alias=currency.get("Alias", ""),
                    name=currency.get("Name", ""),
                    min_value=currency.get("MinValue"),
                    max_value=currency.get("MaxValue"),
                )
            )
    return found
