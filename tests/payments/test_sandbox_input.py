"""The sandbox provider answers nonsense with a 400 VALIDATION_ERROR, never a 500."""

from __future__ import annotations

import io
import json
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest

from rathaus.payments.sandbox.server import SandboxApp

ORIGINATOR = "/paymenttransaction/rathaus/05124000"


def _call(
    method: str,
    path: str,
    body: bytes = b"",
    *,
    content_length: str | None = None,
    app: SandboxApp | None = None,
) -> tuple[int, bytes]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "CONTENT_LENGTH": str(len(body)) if content_length is None else content_length,
        "wsgi.input": io.BytesIO(body),
    }
    setup_testing_defaults(environ)
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        answer["status"] = int(status.split()[0])

    content = b"".join((app or SandboxApp())(environ, start_response))
    return answer["status"], content


def _refused(status: int, content: bytes) -> bool:
    return status == 400 and json.loads(content)["errorCode"] == "VALIDATION_ERROR"


def _order(amount: Any) -> bytes:
    return (
        '{"requestId": "r-1", "requestTimestamp": "2026-11-20T13:00:00Z", "currency": "EUR", '
        '"purpose": "Gebuehr", "redirectUrl": "https://portal.example/back", '
        f'"grosAmount": {amount}, "items": [{{"totalNetAmount": {amount}}}]}}'
    ).encode()


@pytest.mark.parametrize("amount", ["1e40", "123456789012345678901234567890.5", "1E+999999"])
def test_an_amount_too_large_for_the_sandbox_is_refused(amount: str) -> None:
    assert _refused(*_call("POST", ORIGINATOR, _order(amount)))


def test_an_ordinary_amount_is_taken() -> None:
    status, content = _call("POST", ORIGINATOR, _order("30.60"))
    assert status == 200
    assert json.loads(content)["paymentInformation"]["status"] == "INITIAL"


@pytest.mark.parametrize("length", ["abc", "-5", "1e3", "²", str(2 * 1024 * 1024)])
@pytest.mark.parametrize("path", [ORIGINATOR, "/_sandbox/control", "/pay/unknown"])
def test_a_content_length_that_is_no_length_is_refused(path: str, length: str) -> None:
    assert _refused(*_call("POST", path, b'{"action": "reset"}', content_length=length))


@pytest.mark.parametrize(
    "fault",
    [
        {"fault": "timeout", "count": "abc"},
        {"fault": "timeout", "count": None},
        {"fault": "timeout", "count": 1.5},
        {"fault": "timeout", "count": 0},
        {"fault": "delay", "seconds": "x"},
        {"fault": "delay", "seconds": 3600},
        {"fault": "error", "httpStatus": "x"},
        {"fault": "error", "httpStatus": 499},
        {"fault": "error", "errorCode": 5},
        {"fault": "gibt-es-nicht"},
        {"fault": "timeout", "methods": "GET"},
        {"fault": "timeout", "methods": ["DELETE"]},
    ],
)
def test_a_fault_the_sandbox_cannot_inject_is_refused(fault: dict[str, Any]) -> None:
    body = json.dumps({"action": "fault", **fault}).encode()
    assert _refused(*_call("POST", "/_sandbox/control", body))


@pytest.mark.parametrize(
    "body",
    [
        {"action": "set_originators", "originators": 5},
        {"action": "set_originators", "originators": ["x"]},
        {"action": "set_originators", "originators": [{"originatorId": 5}]},
        {"action": "script", "statuses": 5},
        {"action": "script", "statuses": [["PAYED"]]},
    ],
)
def test_other_control_requests_it_cannot_follow_are_refused(body: dict[str, Any]) -> None:
    app = SandboxApp()
    status, content = _call("POST", ORIGINATOR, _order("30.60"), app=app)
    transaction_id = json.loads(content)["paymentInformation"]["transactionId"]

    body = {"transactionId": transaction_id, **body}
    assert _refused(*_call("POST", "/_sandbox/control", json.dumps(body).encode(), app=app))
    # and the sandbox still works
    status, content = _call("GET", f"{ORIGINATOR}/{transaction_id}", app=app)
    assert status == 200
