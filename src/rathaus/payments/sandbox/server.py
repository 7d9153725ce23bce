"""A sandbox ePayment provider speaking the XBezahldienste wire protocol (standard library only).

The portal reaches it over HTTP exactly like a real provider. Testers choose pay, fail or cancel
on its payment page; tests steer it through ``POST /_sandbox/control`` (faults, late and
out-of-order statuses). State lives in memory and is lost on restart.
"""

from __future__ import annotations

import base64
import html
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

STATES = ("INITIAL", "PAYED", "FAILED", "CANCELED")
PURPOSE = re.compile(r"^[\w\d\s-]+$", re.ASCII)
KERN_DIR = Path(__file__).resolve().parents[2] / "core" / "static" / "vendor" / "kern" / "2.7.2"
STATIC_DIR = Path(__file__).resolve().parent / "static"
#: The largest amount the sandbox takes (the portal's own limit is 999,999.99 €).
MAX_AMOUNT = Decimal("999999999.99")
#: The largest request body it reads.
MAX_BODY_BYTES = 1024 * 1024
FAULT_KINDS = ("timeout", "delay", "malformed", "http500", "error", "wrong_amount", "wrong_id")
METHODS = ("POST", "GET")

StartResponse = Callable[..., Any]


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass
class Transaction:
    transaction_id: str
    originator_id: str
    endpoint_id: str
    request: dict[str, Any]
    status: str = "INITIAL"
    reference: str = ""
    payment_method: str = ""
    created: float = field(default_factory=time.time)
    # Statuses the next GETs report instead of the true one (late, twice, out of order).
    scripted: list[str] = field(default_factory=list)

    @property
    def amount(self) -> Decimal:
        return Decimal(str(self.request["grosAmount"]))


@dataclass
class Fault:
    kind: str  # timeout, delay, malformed, http500, error, wrong_amount, wrong_id
    count: int
    methods: tuple[str, ...]
    seconds: float = 0.0
    error_code: str = ""
    http_status: int = 400


class SandboxState:
    """Transactions, registered originators and injected faults, shared by all threads."""

    def __init__(self, originators: Iterable[dict[str, str]] = ()) -> None:
        self.lock = threading.Lock()
        self.transactions: dict[str, Transaction] = {}
        self.originators: list[dict[str, str]] = list(originators)
        self.faults: list[Fault] = []
        self.counter = 0
        self.requests: list[str] = []

    def reset(self) -> None:
        with self.lock:
            self.transactions.clear()
            self.faults.clear()
            self.originators.clear()
            self.requests.clear()

    def take_fault(self, method: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if method in fault.methods and fault.count > 0:
                    fault.count -= 1
                    if fault.count == 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def next_reference(self) -> str:
        self.counter += 1
        return f"SBX-{time.strftime('%Y')}-{self.counter:06d}"

    def set_status(self, tx: Transaction, status: str) -> None:
        tx.status = status
        if status == "PAYED" and not tx.reference:
            tx.reference = self.next_reference()
            tx.payment_method = "CREDITCARD"


def _amount(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ApiError(400, "VALIDATION_ERROR", f"{where} must be a number")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ApiError(400, "VALIDATION_ERROR", f"{where} must be a number") from None
    if not amount.is_finite():  # json.loads accepts NaN and Infinity
        raise ApiError(400, "VALIDATION_ERROR", f"{where} must be a number")
    if amount > MAX_AMOUNT:  # nor can quantize() hold every number: 1E+40 raises
        raise ApiError(400, "VALIDATION_ERROR", f"{where} must be at most {MAX_AMOUNT}")
    if amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ApiError(400, "VALIDATION_ERROR", f"{where} must be an amount with two decimals")
    return amount


def validate_request(body: Any) -> dict[str, Any]:
    """The PaymentRequest rules of XBezahldienste (REFERENCE.md)."""
    if not isinstance(body, dict):
        raise ApiError(400, "VALIDATION_ERROR", "body must be a PaymentRequest object")
    request_id = body.get("requestId")
    if not isinstance(request_id, str) or not 0 < len(request_id) <= 36:
        raise ApiError(400, "VALIDATION_ERROR", "requestId: 1 to 36 characters")
    if not isinstance(body.get("requestTimestamp"), str):
        raise ApiError(400, "VALIDATION_ERROR", "requestTimestamp is required")
    if body.get("currency") != "EUR":
        raise ApiError(400, "VALIDATION_ERROR", "currency must be EUR")
    purpose = body.get("purpose")
    if not isinstance(purpose, str) or len(purpose) > 27 or not PURPOSE.match(purpose):
        raise ApiError(400, "VALIDATION_ERROR", r"purpose: at most 27 characters ^[\w\d\s-]+$")
    description = body.get("description", "")
    if not isinstance(description, str) or len(description) > 250:
        raise ApiError(400, "VALIDATION_ERROR", "description: at most 250 characters")
    redirect = body.get("redirectUrl")
    if not isinstance(redirect, str) or urlsplit(redirect).scheme not in {"http", "https"}:
        raise ApiError(400, "VALIDATION_ERROR", "redirectUrl must be an http(s) URL")
    items = body.get("items")
    if not isinstance(items, list) or not 1 <= len(items) <= 99:
        raise ApiError(400, "VALIDATION_ERROR", "items: 1 to 99 entries")
    total = Decimal(0)
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ApiError(400, "VALIDATION_ERROR", f"items[{index}] must be an object")
        quantity = item.get("quantity", 1)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise ApiError(400, "VALIDATION_ERROR", f"items[{index}].quantity must be >= 1")
        net = _amount(item.get("totalNetAmount"), f"items[{index}].totalNetAmount")
        tax = _amount(item.get("totalTaxAmount", 0), f"items[{index}].totalTaxAmount")
        single = item.get("singleNetAmount")
        if (
            single is not None
            and _amount(single, f"items[{index}].singleNetAmount") * quantity != net
        ):
            raise ApiError(
                400, "CALCULATION_ERROR", f"items[{index}]: quantity * singleNetAmount != total"
            )
        total += net + tax
    gros = _amount(body.get("grosAmount"), "grosAmount")
    if gros <= 0:
        raise ApiError(400, "VALIDATION_ERROR", "grosAmount must be positive")
    if gros != total:
        raise ApiError(400, "CALCULATION_ERROR", f"grosAmount {gros} ≠ sum of items {total}")
    return body


def _number(amount: Decimal) -> float:
    return float(amount)


class SandboxApp:
    """The WSGI application."""

    def __init__(self, state: SandboxState | None = None) -> None:
        self.state = state or SandboxState()

    # -- WSGI plumbing ---------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "/")
        try:
            return self.route(environ, method, path, start_response)
        except ApiError as error:
            return self.json(
                start_response,
                error.status,
                {"errorCode": error.code, "errorMessage": error.message},
            )

    def route(
        self, environ: dict[str, Any], method: str, path: str, start_response: StartResponse
    ) -> list[bytes]:
        parts = [p for p in path.split("/") if p]
        if parts[:1] == ["paymenttransaction"] and len(parts) in {3, 4}:
            return self.api(environ, method, parts[1:], start_response)
        if parts[:1] == ["pay"] and len(parts) == 2:
            if method == "GET":
                return self.payment_page(parts[1], start_response)
            if method == "POST":
                return self.payment_choice(environ, parts[1], start_response)
        if parts == ["_sandbox", "control"] and method == "POST":
            return self.control(self.read_json(environ), start_response)
        if parts == ["_sandbox", "transactions"] and method == "GET":
            with self.state.lock:
                listing = [self.document(tx, environ) for tx in self.state.transactions.values()]
            return self.json(start_response, 200, {"transactions": listing})
        if parts == ["health"]:
            return self.json(start_response, 200, {"status": "ok"})
        if parts[:1] == ["static"] and len(parts) == 2 and method == "GET":
            return self.static(parts[1], start_response)
        raise ApiError(404, "NOT_FOUND", f"no resource {method} {path}")

    @staticmethod
    def read_body(environ: dict[str, Any]) -> bytes:
        """The request body as its Content-Length announces it; a length that is no whole
        number from 0 to ``MAX_BODY_BYTES`` is a 400 (a negative one would read to the end of
        the connection)."""
        text = str(environ.get("CONTENT_LENGTH") or "0").strip()
        if not text.isascii() or not text.isdigit():
            raise ApiError(400, "VALIDATION_ERROR", "Content-Length must be a whole number")
        length = int(text)
        if length > MAX_BODY_BYTES:
            raise ApiError(400, "VALIDATION_ERROR", f"body: at most {MAX_BODY_BYTES} bytes")
        return environ["wsgi.input"].read(length) if length else b""

    @classmethod
    def read_json(cls, environ: dict[str, Any]) -> Any:
        raw = cls.read_body(environ)
        try:
            return json.loads(raw or b"null", parse_float=Decimal)
        except ValueError:
            raise ApiError(400, "VALIDATION_ERROR", "body is not JSON") from None

    @staticmethod
    def json(start_response: StartResponse, status: int, body: Any) -> list[bytes]:
        data = json.dumps(body, default=_number, ensure_ascii=False).encode()
        start_response(
            f"{status} {HTTPStatus(status).phrase}",
            [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
        )
        return [data]

    @staticmethod
    def base_url(environ: dict[str, Any]) -> str:
        host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
        return f"http://{host}"

    def document(self, tx: Transaction, environ: dict[str, Any], status: str = "") -> dict:
        status = status or tx.status
        info: dict[str, Any] = {
            "transactionId": tx.transaction_id,
            "transactionUrl": f"{self.base_url(environ)}/pay/{tx.transaction_id}",
            "transactionTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(tx.created)),
            "status": status,
        }
        if status == "PAYED":
            info["transactionReference"] = tx.reference
            info["paymentMethod"] = tx.payment_method or "CREDITCARD"
        return {"paymentInformation": info, "paymentRequest": tx.request}

    # -- the XBezahldienste API ------------------------------------------------------------

    def check_originator(self, environ: dict[str, Any], originator: str, endpoint: str) -> None:
        if not self.state.originators:
            return
        match = next(
            (
                o
                for o in self.state.originators
                if o.get("originatorId") == originator and o.get("endPointId") == endpoint
            ),
            None,
        )
        if match is None:
            raise ApiError(
                400, "NO_VALID_ORIGINATOR_OR_ENDPOINT", "unknown originatorId or endPointId"
            )
        if match.get("username"):
            expected = base64.b64encode(
                f"{match['username']}:{match.get('password', '')}".encode()
            ).decode()
            if environ.get("HTTP_AUTHORIZATION", "") != f"Basic {expected}":
                raise ApiError(403, "FORBIDDEN", "wrong or missing credentials")

    def api(
        self, environ: dict[str, Any], method: str, ids: list[str], start_response: StartResponse
    ) -> list[bytes]:
        self.state.requests.append(f"{method} {'/'.join(ids)}")
        fault = self.state.take_fault(method)
        if fault is not None:
            if fault.kind in {"timeout", "delay"}:
                time.sleep(fault.seconds)
            elif fault.kind == "malformed":
                start_response("200 OK", [("Content-Type", "application/json")])
                return [b'{"paymentInformation": {"status": "MAYBE"']
            elif fault.kind == "http500":
                start_response("500 Internal Server Error", [("Content-Type", "text/html")])
                return [b"<h1>Internal error</h1>"]
            elif fault.kind == "error":
                raise ApiError(fault.http_status, fault.error_code, "injected error")
        originator, endpoint = ids[0], ids[1]
        self.check_originator(environ, originator, endpoint)
        if len(ids) == 2:
            if method != "POST":
                raise ApiError(405, "VALIDATION_ERROR", "use POST to create a transaction")
            body = validate_request(self.read_json(environ))
            with self.state.lock:
                if any(
                    t.request["requestId"] == body["requestId"]
                    and t.originator_id == originator
                    and t.endpoint_id == endpoint
                    for t in self.state.transactions.values()
                ):
                    raise ApiError(409, "PAYMENT_EXISTS", "a payment with this requestId exists")
                tx = Transaction(uuid.uuid4().hex, originator, endpoint, body)
                self.state.transactions[tx.transaction_id] = tx
            document = self.document(tx, environ)
        else:
            if method != "GET":
                raise ApiError(405, "VALIDATION_ERROR", "use GET to read a transaction")
            with self.state.lock:
                found = self.state.transactions.get(ids[2])
                if (
                    found is None
                    or found.originator_id != originator
                    or found.endpoint_id != endpoint
                ):
                    raise ApiError(404, "NOT_FOUND", "unknown transaction")
                reported = found.scripted.pop(0) if found.scripted else found.status
                if reported == "PAYED" and not found.reference:
                    found.reference = self.state.next_reference()
                document = self.document(found, environ, reported)
        if fault is not None and fault.kind == "wrong_amount":
            document["paymentRequest"] = {
                **document["paymentRequest"],
                "grosAmount": Decimal(str(document["paymentRequest"]["grosAmount"]))
                + Decimal("0.01"),
            }
        if fault is not None and fault.kind == "wrong_id":
            document["paymentInformation"]["transactionId"] = uuid.uuid4().hex
        return self.json(start_response, 200, document)

    # -- test control ----------------------------------------------------------------------

    def control(self, body: Any, start_response: StartResponse) -> list[bytes]:
        if not isinstance(body, dict) or not isinstance(body.get("action"), str):
            raise ApiError(400, "VALIDATION_ERROR", "control needs an action")
        action = body["action"]
        state = self.state
        if action == "reset":
            state.reset()
        elif action == "set_originators":
            originators = body.get("originators", [])
            if not isinstance(originators, list) or not all(
                isinstance(o, dict) and all(isinstance(v, str) for v in o.values())
                for o in originators
            ):
                raise ApiError(400, "VALIDATION_ERROR", "originators: a list of objects of text")
            with state.lock:
                state.originators = list(originators)
        elif action == "fault":
            state.faults.append(_fault(body))
        elif action in {"set_status", "script"}:
            with state.lock:
                tx = state.transactions.get(str(body.get("transactionId")))
                if tx is None:
                    raise ApiError(404, "NOT_FOUND", "unknown transaction")
                if action == "set_status":
                    if body.get("status") not in STATES:
                        raise ApiError(400, "VALIDATION_ERROR", f"status must be one of {STATES}")
                    state.set_status(tx, body["status"])
                else:
                    statuses = body.get("statuses", [])
                    if not isinstance(statuses, list) or not all(
                        isinstance(s, str) and s in STATES for s in statuses
                    ):
                        raise ApiError(400, "VALIDATION_ERROR", f"statuses from {STATES}")
                    tx.scripted = list(statuses)
        else:
            raise ApiError(400, "VALIDATION_ERROR", f"unknown action {action!r}")
        return self.json(start_response, 200, {"ok": True})

    # -- the payment page ------------------------------------------------------------------

    def find(self, transaction_id: str) -> Transaction:
        tx = self.state.transactions.get(transaction_id)
        if tx is None:
            raise ApiError(404, "NOT_FOUND", "unknown transaction")
        return tx

    def payment_page(self, transaction_id: str, start_response: StartResponse) -> list[bytes]:
        tx = self.state.transactions.get(transaction_id)
        if tx is None:
            return self.page(
                start_response,
                404,
                "Zahlung nicht gefunden",
                "<p class='kern-body'>Diese Zahlung ist nicht bekannt. "
                "<span lang='en'>This payment is not known.</span></p>",
            )
        request = tx.request
        rows = "".join(
            "<tr class='kern-table__row'>"
            f"<td class='kern-table__cell'>{html.escape(str(item.get('description', '')))}</td>"
            f"<td class='kern-table__cell'>{int(item.get('quantity', 1))}</td>"
            f"<td class='kern-table__cell'>{_euro(item.get('totalNetAmount', 0))}</td></tr>"
            for item in request["items"]
        )
        summary = (
            "<dl class='kern-description-list'>"
            + _pair("Verwendungszweck", html.escape(request["purpose"]))
            + _pair("Beschreibung", html.escape(request.get("description", "")))
            + _pair("Betrag", _euro(request["grosAmount"]))
            + "</dl>"
            "<table class='kern-table'><caption class='kern-title'>Positionen</caption>"
            "<thead class='kern-table__head'><tr class='kern-table__row'>"
            "<th class='kern-table__header' scope='col'>Position</th>"
            "<th class='kern-table__header' scope='col'>Anzahl</th>"
            "<th class='kern-table__header' scope='col'>Betrag</th></tr></thead>"
            f"<tbody class='kern-table__body'>{rows}</tbody></table>"
        )
        if tx.status != "INITIAL":
            label = {"PAYED": "bezahlt", "FAILED": "fehlgeschlagen", "CANCELED": "abgebrochen"}
            body = (
                summary + f"<p class='kern-body'>Diese Zahlung ist abgeschlossen "
                f"({label[tx.status]}).</p>"
                f"<p><a class='kern-link' href='{html.escape(request['redirectUrl'])}'>"
                "Zurück zum Portal</a></p>"
            )
            return self.page(start_response, 200, "Zahlung abgeschlossen", body)
        form = (
            f"<form method='post' action='/pay/{html.escape(tx.transaction_id)}' "
            "class='sandbox-choices'>"
            "<fieldset class='kern-fieldset'>"
            "<legend class='kern-label'>Ergebnis der Testzahlung wählen "
            "<span lang='en'>(choose the outcome of this test payment)</span></legend>"
            "<div class='sandbox-buttons'>"
            "<button class='kern-btn kern-btn--primary' type='submit' name='choice' "
            "value='pay'><span class='kern-label'>Bezahlen</span></button>"
            "<button class='kern-btn kern-btn--secondary' type='submit' name='choice' "
            "value='fail'><span class='kern-label'>Zahlung fehlschlagen lassen</span></button>"
            "<button class='kern-btn kern-btn--tertiary' type='submit' name='choice' "
            "value='cancel'><span class='kern-label'>Abbrechen</span></button>"
            "</div></fieldset></form>"
        )
        notice = (
            "<div class='kern-alert kern-alert--info' role='note'>"
            "<div class='kern-alert__body'><p class='kern-body'>Dies ist ein Testsystem. "
            "Es wird kein Geld bewegt. <span lang='en'>This is a sandbox: no money moves."
            "</span></p></div></div>"
        )
        return self.page(start_response, 200, "Gebühr bezahlen", notice + summary + form)

    def payment_choice(
        self, environ: dict[str, Any], transaction_id: str, start_response: StartResponse
    ) -> list[bytes]:
        form = parse_qs(self.read_body(environ).decode(errors="replace"))
        choice = (form.get("choice") or [""])[0]
        with self.state.lock:
            tx = self.find(transaction_id)
            if tx.status == "INITIAL":
                outcome = {"pay": "PAYED", "fail": "FAILED", "cancel": "CANCELED"}.get(choice)
                if outcome is None:
                    return self.page(
                        start_response,
                        400,
                        "Bitte eine Auswahl treffen",
                        "<p class='kern-body'>Bitte wählen Sie Bezahlen, Fehlschlagen oder "
                        "Abbrechen. <a class='kern-link' "
                        f"href='/pay/{html.escape(tx.transaction_id)}'>"
                        "Zurück zur Bezahlseite</a></p>",
                    )
                self.state.set_status(tx, outcome)
            target = tx.request["redirectUrl"]
        # The return carries no status (XBezahldienste): the portal must pull it.
        start_response("303 See Other", [("Location", target), ("Content-Length", "0")])
        return [b""]

    def page(
        self, start_response: StartResponse, status: int, title: str, body: str
    ) -> list[bytes]:
        document = (
            "<!DOCTYPE html><html lang='de'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{html.escape(title)} - Sandbox-Bezahldienst</title>"
            "<link rel='stylesheet' href='/static/kern.min.css'>"
            "<link rel='stylesheet' href='/static/sandbox.css'></head><body>"
            "<header class='sandbox-header'><p class='kern-body'>Sandbox-Bezahldienst "
            "(XBezahldienste)</p></header>"
            f"<main class='sandbox-main'><h1 class='kern-heading-large'>{html.escape(title)}</h1>"
            f"{body}</main></body></html>"
        ).encode()
        start_response(
            f"{status} {HTTPStatus(status).phrase}",
            [
                ("Content-Type", "text/html; charset=utf-8"),
                ("Content-Length", str(len(document))),
                ("Content-Security-Policy", "default-src 'self'; form-action *"),
            ],
        )
        return [document]

    @staticmethod
    def static(name: str, start_response: StartResponse) -> list[bytes]:
        files = {
            "kern.min.css": KERN_DIR / "kern.min.css",
            "sandbox.css": STATIC_DIR / "sandbox.css",
        }
        path = files.get(name)
        if path is None or not path.exists():
            raise ApiError(404, "NOT_FOUND", "no such file")
        data = path.read_bytes()
        start_response("200 OK", [("Content-Type", "text/css"), ("Content-Length", str(len(data)))])
        return [data]


def _whole(body: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ApiError(400, "VALIDATION_ERROR", f"{name}: a whole number from {low} to {high}")
    return value


def _fault(body: dict[str, Any]) -> Fault:
    """The fault a control request injects; anything it cannot be is a 400."""
    kind = body.get("fault")
    if kind not in FAULT_KINDS:
        raise ApiError(400, "VALIDATION_ERROR", f"fault must be one of {FAULT_KINDS}")
    methods = body.get("methods", list(METHODS))
    if not isinstance(methods, list) or not methods or not all(m in METHODS for m in methods):
        raise ApiError(400, "VALIDATION_ERROR", f"methods: a list from {METHODS}")
    seconds = body.get("seconds", 5)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float | Decimal):
        raise ApiError(400, "VALIDATION_ERROR", "seconds must be a number")
    if not 0 <= seconds <= 60:  # NaN too
        raise ApiError(400, "VALIDATION_ERROR", "seconds: from 0 to 60")
    error_code = body.get("errorCode", "")
    if not isinstance(error_code, str):
        raise ApiError(400, "VALIDATION_ERROR", "errorCode must be text")
    http_status = _whole(body, "httpStatus", 400, 400, 599)
    if http_status not in {status.value for status in HTTPStatus}:
        raise ApiError(400, "VALIDATION_ERROR", "httpStatus must be an HTTP status code")
    return Fault(
        kind=kind,
        count=_whole(body, "count", 1, 1, 1000),
        methods=tuple(methods),
        seconds=float(seconds),
        error_code=error_code,
        http_status=http_status,
    )


def _euro(value: Any) -> str:
    amount = Decimal(str(value)).quantize(Decimal("0.01"))
    euros, cents = f"{amount:.2f}".split(".")
    return f"{int(euros):,}".replace(",", ".") + f",{cents}&nbsp;€"


def _pair(key: str, value: str) -> str:
    return (
        "<div class='kern-description-list-item'>"
        f"<dt class='kern-description-list-item__key'>{key}</dt>"
        f"<dd class='kern-description-list-item__value'>{value}</dd></div>"
    )
