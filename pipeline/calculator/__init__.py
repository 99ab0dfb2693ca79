"""Reimbursement of a complete claim, from a policy file (SPEC §5), every figure explained.

Per expense line: 甲 counts in full, 乙 less the individual first-pay share, 丙/自费 not at
all. Temporary categories (referral, emergency, self-referral) — and long-term categories
treated outside their filed region or filed without proof — bear a first share of the
compliant total (10% in seed 000), then the temporary ratio applies after the deductible;
long-term categories in their filed region get the insured place's own ratio. The fund pays
at most the annual cap less what was paid this year. Money is Decimal, rounded to the fen at
the end of each line and each claim-level step.

`Calculator` is the hand-off interface: an agency's own calculator service can stand in for
`PolicyCalculator` (see `HttpCalculator`).
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipeline.bundle import CareType, ClaimType
from pipeline.datafiles import load_yaml_model
from pipeline.records import ExpenseLine

POLICIES_DIR = Path(__file__).resolve().parent / "policies"
FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def fen(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


class PolicyFileError(ValueError):
    """A policy file that does not load; the message names the file and the bad key."""


class NotReimbursableError(Exception):
    """The policy refuses the claim outright (e.g. not filed and not an emergency)."""


class CareRates(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    deductible: dict[Literal[1, 2, 3], Decimal]
    own_ratio: dict[Literal[1, 2, 3], Decimal]
    temporary_ratio: dict[Literal[1, 2, 3], Decimal]
    annual_cap: Decimal = Field(ge=0)


class Policy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    policy_id: str
    region: str
    effective_from: date
    example_values: tuple[str, ...] = ()
    temporary_first_share: Decimal = Field(ge=0, le=1)
    class_b_first_pay_share: Decimal = Field(ge=0, le=1)
    default_hospital_level: Literal[1, 2, 3]
    unfiled: Literal["refuse", "temporary"]
    care: dict[CareType, CareRates]


def load_policy(path: Path) -> Policy:
    return load_yaml_model(path, Policy, PolicyFileError)


@lru_cache(maxsize=8)
def policy_for_region(region: str, directory: Path = POLICIES_DIR) -> Policy:
    for path in sorted(directory.glob("*.yaml")):
        policy = load_policy(path)
        if policy.region == region:
            return policy
    raise PolicyFileError(f"no reimbursement policy for insured region {region!r} in {directory}")


class CalculationInput(BaseModel):
    """Everything the calculation depends on; the result is reproducible from it."""

    claim_id: str
    claim_type: ClaimType
    care_type: CareType
    insured_region: str
    filed_treatment_region: str | None = None
    treatment_region: str | None = None
    long_term_proof: bool = True
    is_filed: bool = True
    hospital_level: int | None = Field(None, ge=1, le=3)
    lines: list[ExpenseLine]
    invoice_total: Decimal = Field(ge=0)
    paid_this_year: Decimal = Field(ZERO, ge=0)

    def digest(self) -> str:
        canonical = json.dumps(self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class LineResult(BaseModel):
    name: str
    category: str | None
    amount: Decimal
    compliant: Decimal
    individual_first_pay: Decimal
    rule: str


class ClassResult(BaseModel):
    category: str
    amount: Decimal
    compliant: Decimal


class ReimbursementResult(BaseModel):
    policy: str
    compliant_amount: Decimal
    first_share: Decimal
    deductible: Decimal
    fund_payment: Decimal
    individual_payment: Decimal
    lines: list[LineResult]
    by_class: list[ClassResult]
    explanation: list[str]
    inputs_digest: str

    def as_json(self) -> dict[str, Any]:
        return json.loads(self.model_dump_json())  # type: ignore[no-any-return]


class Calculator(Protocol):
    """The hand-off: complete claims go to a calculator, ours or the agency's."""

    def calculate(self, claim: CalculationInput) -> ReimbursementResult: ...


def _strip_region(text: str) -> str:
    return text.removesuffix("市").removesuffix("省")


def _same_region(a: str | None, b: str | None) -> bool:
    return bool(a and b) and _strip_region(a or "") == _strip_region(b or "")


class PolicyCalculator:
    """Our calculator: the insured region's policy file, applied line by line."""

    def __init__(self, policy: Policy | None = None) -> None:
        self.policy = policy

    def calculate(self, claim: CalculationInput) -> ReimbursementResult:
        policy = self.policy or policy_for_region(claim.insured_region)
        rates = policy.care[claim.care_type]
        steps: list[str] = []
        lines = [self._line(line, policy) for line in claim.lines]
        by_class = _by_class(lines)
        compliant = fen(sum((ln.compliant for ln in lines), ZERO))
        steps.append(
            f"compliant amount {compliant} = Σ lines (甲 in full, 乙 less "
            f"{policy.class_b_first_pay_share:%} first pay, 丙/自费 excluded) [policy {policy.policy_id}]"
        )
        if (
            not claim.is_filed
            and claim.claim_type is not ClaimType.EMERGENCY
            and policy.unfiled == "refuse"
        ):
            steps.append(
                "not filed and not an emergency: the policy refuses reimbursement (unfiled: refuse)"
            )
            return self._result(policy, claim, lines, by_class, compliant, ZERO, ZERO, ZERO, steps)
        temporary, why = _temporary(claim)
        steps.append(why)
        level = claim.hospital_level or policy.default_hospital_level
        if claim.hospital_level is None:
            steps.append(f"hospital level unknown: level {level} assumed (default_hospital_level)")
        first_share = fen(compliant * policy.temporary_first_share) if temporary else ZERO
        if temporary:
            steps.append(
                f"individual first share {first_share} = {compliant} × {policy.temporary_first_share} "
                "(temporary_first_share, seed 000)"
            )
        base = compliant - first_share
        deductible = min(base, rates.deductible[level])  # type: ignore[index]
        steps.append(f"deductible {deductible} (care.{claim.care_type.value}.deductible[{level}])")
        ratio = (rates.temporary_ratio if temporary else rates.own_ratio)[level]  # type: ignore[index]
        fund = fen((base - deductible) * ratio)
        key = "temporary_ratio" if temporary else "own_ratio"
        steps.append(
            f"fund share {fund} = ({base} − {deductible}) × {ratio} (care.{claim.care_type.value}.{key}[{level}])"
        )
        room = max(ZERO, rates.annual_cap - claim.paid_this_year)
        if fund > room:
            steps.append(
                f"annual cap {rates.annual_cap} less {claim.paid_this_year} paid this year leaves {room}: "
                f"fund payment capped from {fund}"
            )
            fund = fen(room)
        return self._result(
            policy, claim, lines, by_class, compliant, first_share, deductible, fund, steps
        )

    @staticmethod
    def _line(line: ExpenseLine, policy: Policy) -> LineResult:
        if line.category == "甲":
            compliant, first, rule = line.amount, ZERO, "甲类: fully within scope"
        elif line.category == "乙":
            first = fen(line.amount * policy.class_b_first_pay_share)
            compliant = fen(line.amount - first)
            rule = f"乙类: individual first pays {policy.class_b_first_pay_share} (class_b_first_pay_share)"
        else:
            compliant, first = ZERO, fen(line.amount)
            rule = (
                "丙类/自费: outside scope"
                if line.category
                else "no class read: treated as outside scope"
            )
        return LineResult(
            name=line.name,
            category=line.category,
            amount=fen(line.amount),
            compliant=fen(compliant),
            individual_first_pay=first,
            rule=rule,
        )

    @staticmethod
    def _result(
        policy: Policy,
        claim: CalculationInput,
        lines: list[LineResult],
        by_class: list[ClassResult],
        compliant: Decimal,
        first_share: Decimal,
        deductible: Decimal,
        fund: Decimal,
        steps: list[str],
    ) -> ReimbursementResult:
        individual = fen(claim.invoice_total - fund)
        steps.append(
            f"individual payment {individual} = invoice total {claim.invoice_total} − fund {fund}"
        )
        return ReimbursementResult(
            policy=policy.policy_id,
            compliant_amount=compliant,
            first_share=first_share,
            deductible=fen(deductible),
            fund_payment=fen(fund),
            individual_payment=individual,
            lines=lines,
            by_class=by_class,
            explanation=steps,
            inputs_digest=claim.digest(),
        )


def _temporary(claim: CalculationInput) -> tuple[bool, str]:
    """Whether the temporary policy applies, and why (seed 000)."""
    if not claim.claim_type.long_term:
        return True, f"{claim.claim_type.value} is a temporary category: temporary policy"
    if not claim.long_term_proof:
        return True, "long-term filing without proof (personal commitment only): temporary policy"
    if (
        claim.filed_treatment_region
        and claim.treatment_region
        and not _same_region(claim.filed_treatment_region, claim.treatment_region)
    ):
        return True, (
            f"treated in {claim.treatment_region}, outside the filed region "
            f"{claim.filed_treatment_region}: temporary policy"
        )
    return False, "long-term resident treated in the filed region: the insured place's own ratios"


def _by_class(lines: list[LineResult]) -> list[ClassResult]:
    classes: dict[str, ClassResult] = {}
    for line in lines:
        key = line.category or "丙"
        current = classes.get(key, ClassResult(category=key, amount=ZERO, compliant=ZERO))
        classes[key] = ClassResult(
            category=key,
            amount=current.amount + line.amount,
            compliant=current.compliant + line.compliant,
        )
    return [classes[k] for k in sorted(classes)]


class CalculatorUnavailableError(Exception):
    """The agency's calculator service did not answer with a result."""


class HttpCalculator:
    """An agency's own calculator service: POST the input JSON, read a ReimbursementResult."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url
        self.timeout = timeout

    def calculate(self, claim: CalculationInput) -> ReimbursementResult:
        request = urllib.request.Request(
            self.url,
            data=claim.model_dump_json().encode("utf-8"),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return ReimbursementResult.model_validate_json(response.read())
        except (urllib.error.URLError, TimeoutError, ValidationError, ValueError) as exc:
            raise CalculatorUnavailableError(
                f"calculator service {self.url} failed: {exc}"
            ) from exc


def get_calculator(url: str | None = None) -> Calculator:
    return HttpCalculator(url) if url else PolicyCalculator()
