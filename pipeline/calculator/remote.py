"""An agency's own calculator service standing in for ours, over plain HTTP (stdlib only).

Contract: `POST <url>` with the `CalculationInput` as JSON (money as decimal strings), answer
`200` with a `ReimbursementResult` as JSON, echoing the inputs and their digest. Any other
outcome — no connection, a timeout, an HTTP error, a body that is not such a result, or a result
for other inputs or whose payments do not add up — is `CalculatorUnavailableError`: the claim
waits for the service rather than being paid on a guess.
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from pydantic import ValidationError

from pipeline.calculator.engine import PolicyCalculator
from pipeline.calculator.models import CalculationInput, Calculator, ReimbursementResult

MAX_RESPONSE_BYTES = 10_000_000


class CalculatorUnavailableError(Exception):
    """The calculator service gave no usable result; the message says what went wrong."""


CalculatorUnavailable = CalculatorUnavailableError
"""The name used in the project brief; the class follows the `...Error` naming rule."""


class HttpCalculator:
    """Calls an agency's calculator service: POST the input JSON, parse a ReimbursementResult."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"calculator URL must be http:// or https://, not {url!r}")
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, not {timeout}")
        self.url = url
        self.timeout = timeout

    def calculate(self, claim: CalculationInput) -> ReimbursementResult:
        body = self._post(claim.model_dump_json().encode("utf-8"))
        result = self._parse(body)
        self._check_answers(claim, result)
        return result

    def _post(self, payload: bytes) -> bytes:
        request = urllib.request.Request(
            self.url,
            data=payload,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body: bytes = response.read(MAX_RESPONSE_BYTES + 1)
        except urllib.error.HTTPError as exc:
            raise self._unavailable(f"answered HTTP {exc.code} {exc.reason}") from exc
        except urllib.error.URLError as exc:
            raise self._unavailable(f"cannot be reached ({exc.reason})") from exc
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            raise self._unavailable(f"failed ({type(exc).__name__}: {exc})") from exc
        if len(body) > MAX_RESPONSE_BYTES:
            raise self._unavailable(f"answered more than {MAX_RESPONSE_BYTES} bytes")
        return body

    def _parse(self, body: bytes) -> ReimbursementResult:
        try:
            return ReimbursementResult.model_validate_json(body)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, err['loc'])) or 'body'}: {err['msg']}"
                for err in exc.errors()[:5]
            )
            raise self._unavailable(
                f"answered something that is not a result ({problems})"
            ) from exc

    def _check_answers(self, claim: CalculationInput, result: ReimbursementResult) -> None:
        if result.inputs_digest != claim.digest():
            raise self._unavailable("answered for other inputs (inputs_digest differs)")
        problems = result.inconsistencies()
        if problems:
            raise self._unavailable(f"answered an inconsistent result ({'; '.join(problems)})")

    def _unavailable(self, what: str) -> CalculatorUnavailableError:
        return CalculatorUnavailableError(f"calculator service {self.url} {what}")


def get_calculator(url: str | None = None, timeout: float = 10.0) -> Calculator:
    """The agency's service when a URL is configured (INTAKE_CALCULATOR_URL), else ours."""
    if url:
        return HttpCalculator(url, timeout=timeout)
    return PolicyCalculator()
