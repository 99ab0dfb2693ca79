"""An agency's calculator service in our place: a real HTTP server on 127.0.0.1, no mocks.

The server wraps `PolicyCalculator`, so `HttpCalculator` must give exactly the result we compute
locally; its other paths answer the ways a service fails (HTTP 500, not JSON, too slow, a result
for other inputs, payments that do not add up), each of which must be `CalculatorUnavailable`.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import ValidationError
from test_calculator import claim_input, expense_lines

from pipeline.calculator import (
    CalculationInput,
    CalculatorUnavailable,
    HttpCalculator,
    PolicyCalculator,
    ReimbursementResult,
    get_calculator,
)

OURS = PolicyCalculator()
RELEASE = threading.Event()


class AgencyHandler(BaseHTTPRequestHandler):
    """POST /calculate: the agency's answer; other paths: the ways a service goes wrong."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        try:
            claim = CalculationInput.model_validate_json(body)
        except ValidationError as exc:
            self._send(422, exc.json().encode())
            return
        result = OURS.calculate(claim)
        if self.path == "/calculate":
            self._send(200, result.model_dump_json().encode())
        elif self.path == "/error":
            self._send(500, b'{"detail": "internal error"}')
        elif self.path == "/not-json":
            self._send(200, b"<html>maintenance</html>")
        elif self.path == "/slow":
            RELEASE.wait(5)
            self._send(200, result.model_dump_json().encode())
        elif self.path == "/other-claim":
            other = OURS.calculate(claim.model_copy(update={"claim_id": "C-OTHER"}))
            self._send(200, other.model_dump_json().encode())
        elif self.path == "/does-not-add-up":
            wrong = result.model_copy(update={"fund_payment": result.fund_payment + 1})
            self._send(200, wrong.model_dump_json().encode())
        else:
            self._send(404, b"{}")

    def _send(self, status: int, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (the timeout test) is expected, not an error to print."""


@pytest.fixture(scope="module")
def agency() -> Iterator[str]:
    server = QuietServer(("127.0.0.1", 0), AgencyHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        RELEASE.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


CLAIMS = {
    "referral_inpatient": claim_input(
        "referral",
        "inpatient",
        expense_lines(("甲", "5000.00"), ("乙", "2000.00"), ("丙", "1000.00")),
        "8000.00",
    ),
    "relocated_retiree_outpatient_capped": claim_input(
        "relocated_retiree",
        "outpatient",
        expense_lines(("甲", "6000.00")),
        "6000.00",
        hospital_level=1,
        paid_this_year=Decimal("2500.00"),
    ),
    "long_term_special_disease_unknown_level_and_class": claim_input(
        "long_term_resident",
        "outpatient_special_disease",
        expense_lines(("甲", "0.105"), ("乙", "12.35"), (None, "3.00")),
        "15.46",
        hospital_level=None,
    ),
    "self_referral_unfiled_refused": claim_input(
        "self_referral", "outpatient", expense_lines(("甲", "200.00")), "200.00", is_filed=False
    ),
}


@pytest.mark.parametrize("name", sorted(CLAIMS))
def test_the_agency_service_gives_the_same_result_as_ours(agency: str, name: str) -> None:
    claim = CLAIMS[name]
    remote = HttpCalculator(f"{agency}/calculate", timeout=5)
    result = remote.calculate(claim)
    assert result == OURS.calculate(claim)
    assert result.inputs_digest == claim.digest()
    assert isinstance(result.fund_payment, Decimal)


def test_a_closed_port_is_unavailable_quickly() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # the port was bound and released: nothing listens there
    started = time.monotonic()
    with pytest.raises(CalculatorUnavailable, match="cannot be reached"):
        HttpCalculator(f"http://127.0.0.1:{port}/calculate", timeout=2).calculate(
            CLAIMS["referral_inpatient"]
        )
    assert time.monotonic() - started < 1.5


def test_a_service_slower_than_the_timeout_is_unavailable(agency: str) -> None:
    started = time.monotonic()
    with pytest.raises(CalculatorUnavailable, match="timed out"):
        HttpCalculator(f"{agency}/slow", timeout=0.3).calculate(CLAIMS["referral_inpatient"])
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("path", "says"),
    [
        ("/error", "answered HTTP 500"),
        ("/missing", "answered HTTP 404"),
        ("/not-json", "not a result"),
        ("/other-claim", "answered for other inputs"),
        ("/does-not-add-up", "inconsistent result"),
    ],
)
def test_a_service_that_answers_wrongly_is_unavailable(agency: str, path: str, says: str) -> None:
    with pytest.raises(CalculatorUnavailable, match=says):
        HttpCalculator(f"{agency}{path}", timeout=5).calculate(CLAIMS["referral_inpatient"])


def test_get_calculator_picks_the_service_when_a_url_is_configured(agency: str) -> None:
    assert isinstance(get_calculator(None), PolicyCalculator)
    assert isinstance(get_calculator(""), PolicyCalculator)
    remote = get_calculator(f"{agency}/calculate", timeout=3)
    assert isinstance(remote, HttpCalculator) and remote.timeout == 3
    claim = CLAIMS["referral_inpatient"]
    assert remote.calculate(claim) == get_calculator(None).calculate(claim)
    with pytest.raises(ValueError, match="http:// or https://"):
        HttpCalculator("file:///etc/passwd")


def test_the_wire_format_is_json_with_money_as_strings(agency: str) -> None:
    claim = CLAIMS["long_term_special_disease_unknown_level_and_class"]
    assert '"invoice_total":"15.46"' in claim.model_dump_json()
    assert '"amount":"0.105"' in claim.model_dump_json()
    result = HttpCalculator(f"{agency}/calculate").calculate(claim)
    assert ReimbursementResult.model_validate_json(result.model_dump_json()) == result
