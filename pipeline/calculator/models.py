"""What goes into a calculation, what comes out, and the interface any calculator implements.

These models are also the JSON contract of an agency's own calculator service: it receives
`CalculationInput` as JSON and answers with a `ReimbursementResult` (see `HttpCalculator`).
Money is Decimal throughout; on the wire it is a decimal string ("1234.50").
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from pipeline.bundle import CareType, ClaimType
from pipeline.calculator.money import canonical, fen, refuse_float
from pipeline.calculator.policy import ExpenseClass, Level
from pipeline.records import ExpenseLine

Money = Annotated[Decimal, BeforeValidator(refuse_float)]
Settlement = Literal["own_place", "temporary", "refused"]


class CalculationInput(BaseModel):
    """Everything the calculation depends on: the result is reproducible from it (and the policy).

    `long_term_proof` is whether the long-term filing is backed by proof (residence permit,
    residence or employment proof) rather than a personal commitment only; `is_filed` whether
    the treatment was filed (备案) with the insured place.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    claim_id: str = Field(min_length=1)
    claim_type: ClaimType
    care_type: CareType
    insured_region: str = Field(min_length=1)
    filed_treatment_region: str | None = Field(None, description="the region the filing names")
    treatment_region: str | None = Field(None, description="where the treating hospital is")
    long_term_proof: bool
    hospital_level: Level | None = Field(None, description="None: the policy's default level")
    lines: list[ExpenseLine]
    invoice_total: Annotated[Money, Field(ge=0)]
    paid_this_year: Annotated[Money, Field(ge=0)] = Decimal("0.00")
    is_filed: bool

    def canonical_json(self) -> str:
        """Sorted keys, no spaces, one spelling per amount: the text the digest is taken of."""
        return json.dumps(
            _canonical(self.model_dump(mode="python")),
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        )

    def digest(self) -> str:
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, Decimal):
        return canonical(value)
    if isinstance(value, dict):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    return value


class LineResult(BaseModel):
    """One expense line: how much of it is within the policy scope, and by which rule."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    category: str | None = Field(description="the class as read from the expense list")
    treated_as: ExpenseClass = Field(description="the class the line was settled as")
    amount: Decimal
    compliant: Decimal
    individual_first_pay: Decimal = Field(description="amount − compliant")
    rule: str


class ClassResult(BaseModel):
    """Totals of one expense class (甲/乙/丙) over the claim's lines."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    category: ExpenseClass
    amount: Decimal
    compliant: Decimal


class ExplanationStep(BaseModel):
    """One step of the calculation: the figure it produced and the rule or policy key behind it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    step: str
    figure: Decimal | None = None
    rule: str
    policy_key: str | None = None


class ReimbursementResult(BaseModel):
    """The reimbursement of one claim; `inputs` and `policy_digest` make it reproducible."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    policy: str = Field(description="policy id, e.g. yantai-2026")
    policy_digest: str = Field(description="sha256 of the canonical policy")
    settlement: Settlement
    refusal_reason: str | None = None
    hospital_level: Level | None = Field(description="the level settled at; None when refused")
    compliant_amount: Decimal
    first_share: Decimal = Field(description="the temporary policy's individual first share")
    deductible: Decimal
    ratio: Decimal | None = Field(description="fund ratio applied; None when refused")
    fund_payment: Decimal
    individual_payment: Decimal
    lines: list[LineResult]
    by_class: list[ClassResult]
    explanation: list[ExplanationStep]
    inputs: CalculationInput
    inputs_digest: str

    def as_json(self) -> dict[str, Any]:
        """JSON-able dict, money as decimal strings ("1234.50"), as stored beside the claim."""
        return self.model_dump(mode="json")

    def inconsistencies(self) -> list[str]:
        """Why this result cannot be trusted, if it cannot: a check on answers from a service."""
        problems: list[str] = []
        if self.inputs_digest != self.inputs.digest():
            problems.append("inputs_digest is not the sha256 of the echoed inputs")
        total = fen(self.inputs.invoice_total)
        if self.fund_payment + self.individual_payment != total:
            problems.append(
                f"fund {self.fund_payment} + individual {self.individual_payment} ≠ invoice "
                f"total {total}"
            )
        if self.fund_payment < 0:
            problems.append(f"fund payment {self.fund_payment} is negative")
        return problems


class Calculator(Protocol):
    """The hand-off: a complete claim goes to a calculator, ours or an agency's service."""

    def calculate(self, claim: CalculationInput) -> ReimbursementResult: ...
