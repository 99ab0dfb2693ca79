"""Our calculator: the insured region's policy file applied to a claim, every figure explained.

Order of the calculation (SPEC §5, seed 000):

1. per line, the policy-compliant amount: 甲 in full; 乙 × (1 − the 乙 first-pay share);
   丙/自费 nothing; a line whose class was not read is settled as `unclassified_lines_as`;
2. the settlement: refused (not filed, not an emergency, `unfiled: refuse`), own place (a
   long-term category treated in its filed place, filing backed by proof) or temporary
   (everything else);
3. temporary only: the individual first bears `temporary_first_share` of the compliant total;
4. the deductible of the hospital level, at most what remains;
5. the fund pays the remainder × the ratio of the hospital level (own or temporary);
6. the fund pays at most the annual cap less what it paid this year, and at most the invoice;
7. the individual pays the invoice total less the fund payment.

A refusal is a result (fund 0.00, `settlement: refused`, the reason in `refusal_reason` and in
the explanation), not an exception: the claim is complete and its outcome is stored and shown
to a reviewer like any other.

Each line and each claim-level step is rounded half-up to the fen once, where it ends.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pipeline.bundle import ClaimType
from pipeline.calculator.models import (
    CalculationInput,
    ClassResult,
    ExplanationStep,
    LineResult,
    ReimbursementResult,
    Settlement,
)
from pipeline.calculator.money import ZERO, fen
from pipeline.calculator.policy import (
    POLICIES_DIR,
    ExpenseClass,
    Level,
    NoPolicyForRegionError,
    Policy,
    policy_for_region,
    region_key,
)
from pipeline.records import ExpenseLine

CLASSES: tuple[ExpenseClass, ...] = ("甲", "乙", "丙")
CLASS_OF_LABEL: dict[str, ExpenseClass] = {"甲": "甲", "乙": "乙", "丙": "丙", "自费": "丙"}


class PolicyCalculator:
    """Settles a claim by the policy file of its insured region (or by the policy given)."""

    def __init__(self, policy: Policy | None = None, policies_dir: Path = POLICIES_DIR) -> None:
        self.policy = policy
        self.policies_dir = policies_dir

    def calculate(self, claim: CalculationInput) -> ReimbursementResult:
        policy = self._policy_for(claim)
        return _Calculation(policy, claim).run()

    def _policy_for(self, claim: CalculationInput) -> Policy:
        if self.policy is None:
            return policy_for_region(claim.insured_region, self.policies_dir)
        if region_key(self.policy.region) != region_key(claim.insured_region):
            raise NoPolicyForRegionError(
                f"policy {self.policy.policy_id} is for {self.policy.region}; claim "
                f"{claim.claim_id} is insured in {claim.insured_region}"
            )
        return self.policy


def settle_line(line: ExpenseLine, policy: Policy) -> LineResult:
    """One line's policy-compliant amount, rounded once at the end of the line."""
    treated_as, class_rule = expense_class(line, policy)
    amount = fen(line.amount)
    if treated_as == "甲":
        compliant, rule = amount, "甲类: fully within the policy scope"
    elif treated_as == "乙":
        share = policy.class_b_first_pay_share
        compliant = fen(line.amount * (1 - share))
        rule = f"乙类: compliant = amount × (1 − {share}) [class_b_first_pay_share]"
    else:
        compliant, rule = ZERO, "丙类/自费: outside the policy scope, compliant 0.00"
    return LineResult(
        name=line.name,
        category=line.category,
        treated_as=treated_as,
        amount=amount,
        compliant=compliant,
        individual_first_pay=amount - compliant,
        rule=f"{class_rule}{rule}",
    )


def expense_class(line: ExpenseLine, policy: Policy) -> tuple[ExpenseClass, str]:
    """The class a line is settled as, and a prefix for its rule when it was not read as such."""
    label = (line.category or "").strip()
    if label in CLASS_OF_LABEL:
        return CLASS_OF_LABEL[label], ""
    fallback = policy.unclassified_lines_as
    read = f"class {label!r} not recognised" if label else "no class read"
    return fallback, f"{read}: settled as {fallback} [unclassified_lines_as]; "


def class_totals(lines: list[LineResult]) -> list[ClassResult]:
    """Per class 甲/乙/丙 (always all three, so the shape never changes)."""
    return [
        ClassResult(
            category=name,
            amount=sum((ln.amount for ln in lines if ln.treated_as == name), ZERO),
            compliant=sum((ln.compliant for ln in lines if ln.treated_as == name), ZERO),
        )
        for name in CLASSES
    ]


def settlement_for(claim: CalculationInput, policy: Policy) -> tuple[Settlement, str, str | None]:
    """Which policy settles the claim, why, and the policy key behind it (seed 000, seed 003)."""
    category = claim.claim_type.value
    if not claim.is_filed and claim.claim_type is not ClaimType.EMERGENCY:
        if policy.unfiled == "refuse":
            return "refused", f"{category}: not filed and not an emergency: refused", "unfiled"
        reason = f"{category}: not filed and not an emergency: settled as temporary"
        return "temporary", reason, "unfiled"
    if not claim.claim_type.long_term:
        return "temporary", f"{category} is a temporary category (seed 000)", None
    if not claim.long_term_proof:
        reason = (
            f"{category}: long-term filing by personal commitment only, without proof: "
            "treated as temporary (seed 000)"
        )
        return "temporary", reason, None
    filed, treated = claim.filed_treatment_region, claim.treatment_region
    if filed and treated and region_key(filed) != region_key(treated):
        reason = (
            f"{category}: treated in {treated}, outside the filed place {filed}: the temporary "
            "policy applies (seed 000)"
        )
        return "temporary", reason, None
    if not (filed and treated):
        reason = (
            f"{category}: treatment place or filed place unknown, assumed the filed place "
            "(validation checks hospital_outside_filed_region): the insured place's own ratios"
        )
        return "own_place", reason, None
    reason = f"{category}: treated in the filed place {filed}: the insured place's own ratios"
    return "own_place", reason, None


def hospital_level_for(claim: CalculationInput, policy: Policy) -> tuple[Level, str, str | None]:
    if claim.hospital_level is not None:
        return (
            claim.hospital_level,
            f"hospital level {claim.hospital_level} (from the invoice)",
            None,
        )
    level = policy.default_hospital_level
    return level, f"hospital level unknown: settled as level {level}", "default_hospital_level"


class _Calculation:
    """One run over one claim; collects the explanation as it goes."""

    def __init__(self, policy: Policy, claim: CalculationInput) -> None:
        self.policy = policy
        self.claim = claim
        self.rates = policy.care[claim.care_type]
        self.care = claim.care_type.value
        self.steps: list[ExplanationStep] = []

    def explain(self, step: str, figure: Decimal | None, rule: str, key: str | None = None) -> None:
        self.steps.append(ExplanationStep(step=step, figure=figure, rule=rule, policy_key=key))

    def run(self) -> ReimbursementResult:
        self._explain_policy()
        invoice_total = self._invoice_total()
        lines = self._lines()
        by_class = class_totals(lines)
        compliant = self._compliant(lines, by_class, invoice_total)
        settlement, reason, key = settlement_for(self.claim, self.policy)
        self.explain("settlement", None, reason, key)
        if settlement == "refused":
            return self._refused(reason, invoice_total, lines, by_class, compliant)
        level, why, level_key = hospital_level_for(self.claim, self.policy)
        self.explain("hospital level", None, why, level_key)
        first_share = self._first_share(settlement, compliant)
        remainder = compliant - first_share
        deductible = self._deductible(level, remainder)
        ratio, by_ratio = self._fund_by_ratio(settlement, level, remainder, deductible)
        fund = self._within_cap(by_ratio)
        fund = self._within_invoice(fund, invoice_total)
        individual = self._individual(invoice_total, fund)
        return self._result(
            settlement=settlement,
            level=level,
            lines=lines,
            by_class=by_class,
            compliant=compliant,
            first_share=first_share,
            deductible=deductible,
            ratio=ratio,
            fund=fund,
            individual=individual,
        )

    def _explain_policy(self) -> None:
        policy = self.policy
        rule = f"{policy.policy_id} ({policy.region}, effective from {policy.effective_from})"
        if policy.example_values:
            rule += (
                f"; holds {len(policy.example_values)} example values, not from the seeds "
                "(example_values): replace them before paying"
            )
        self.explain(f"policy for care type {self.care}", None, rule, "policy_id")

    def _invoice_total(self) -> Decimal:
        total = fen(self.claim.invoice_total)
        self.explain("invoice total", total, "as submitted, rounded to the fen")
        return total

    def _lines(self) -> list[LineResult]:
        lines = [settle_line(line, self.policy) for line in self.claim.lines]
        for number, line in enumerate(lines, start=1):
            self.explain(
                f"line {number} {line.name} ({line.category or 'no class'}): amount "
                f"{line.amount}, individual first pay {line.individual_first_pay}",
                line.compliant,
                line.rule,
                _line_key(line),
            )
        return lines

    def _compliant(
        self, lines: list[LineResult], by_class: list[ClassResult], invoice_total: Decimal
    ) -> Decimal:
        for total in by_class:
            self.explain(
                f"class {total.category}: amount {total.amount}", total.compliant, "Σ its lines"
            )
        compliant = max(ZERO, sum((total.compliant for total in by_class), ZERO))
        self.explain(
            "compliant amount",
            compliant,
            "Σ compliant of 甲 + 乙 + 丙 (甲 in full, 乙 less its first-pay share, 丙 0)",
        )
        lines_total = sum((line.amount for line in lines), ZERO)
        if lines_total != invoice_total:
            self.explain(
                "lines total differs from the invoice total",
                lines_total,
                f"the expense lines add up to {lines_total}, the invoice to {invoice_total}; "
                "the individual payment is taken from the invoice total",
            )
        return compliant

    def _first_share(self, settlement: Settlement, compliant: Decimal) -> Decimal:
        if settlement != "temporary":
            self.explain("individual first share", ZERO, "own-place settlement: none")
            return ZERO
        share = self.policy.temporary_first_share
        first_share = fen(compliant * share)
        self.explain(
            "individual first share",
            first_share,
            f"{compliant} × {share}: the individual first bears this share of the compliant "
            "total (seed 000)",
            "temporary_first_share",
        )
        return first_share

    def _deductible(self, level: Level, remainder: Decimal) -> Decimal:
        threshold = self.rates.deductible[level]
        deductible = fen(max(ZERO, min(remainder, threshold)))
        self.explain(
            "deductible",
            deductible,
            f"起付线 {threshold} for level {level}, at most the {remainder} that remains",
            f"care.{self.care}.deductible.{level}",
        )
        return deductible

    def _fund_by_ratio(
        self, settlement: Settlement, level: Level, remainder: Decimal, deductible: Decimal
    ) -> tuple[Decimal, Decimal]:
        key = "own_ratio" if settlement == "own_place" else "temporary_ratio"
        ratio = getattr(self.rates, key)[level]
        fund = fen(max(ZERO, remainder - deductible) * ratio)
        self.explain(
            "fund share by ratio",
            fund,
            f"({remainder} − deductible {deductible}) × {ratio} ({key}, level {level})",
            f"care.{self.care}.{key}.{level}",
        )
        return ratio, fund

    def _within_cap(self, fund: Decimal) -> Decimal:
        cap, paid = self.rates.annual_cap, fen(self.claim.paid_this_year)
        room = fen(max(ZERO, cap - paid))
        key = f"care.{self.care}.annual_cap"
        if fund > room:
            rule = f"封顶线 {cap} − {paid} paid this year leaves {room}: {fund} capped"
            self.explain("fund payment after the annual cap", room, rule, key)
            return room
        rule = f"封顶线 {cap} − {paid} paid this year leaves {room}: not reached"
        self.explain("fund payment after the annual cap", fund, rule, key)
        return fund

    def _within_invoice(self, fund: Decimal, invoice_total: Decimal) -> Decimal:
        if fund <= invoice_total:
            return fund
        self.explain(
            "fund payment limited to the invoice total",
            invoice_total,
            f"the fund never pays more than was invoiced ({fund} > {invoice_total})",
        )
        return invoice_total

    def _individual(self, invoice_total: Decimal, fund: Decimal) -> Decimal:
        individual = invoice_total - fund
        self.explain(
            "individual payment",
            individual,
            f"invoice total {invoice_total} − fund payment {fund}",
        )
        return individual

    def _refused(
        self,
        reason: str,
        invoice_total: Decimal,
        lines: list[LineResult],
        by_class: list[ClassResult],
        compliant: Decimal,
    ) -> ReimbursementResult:
        self.explain("fund payment", ZERO, f"refused by the policy: {reason}", "unfiled")
        individual = self._individual(invoice_total, ZERO)
        return self._result(
            settlement="refused",
            level=None,
            lines=lines,
            by_class=by_class,
            compliant=compliant,
            first_share=ZERO,
            deductible=ZERO,
            ratio=None,
            fund=ZERO,
            individual=individual,
            refusal_reason=reason,
        )

    def _result(
        self,
        *,
        settlement: Settlement,
        level: Level | None,
        lines: list[LineResult],
        by_class: list[ClassResult],
        compliant: Decimal,
        first_share: Decimal,
        deductible: Decimal,
        ratio: Decimal | None,
        fund: Decimal,
        individual: Decimal,
        refusal_reason: str | None = None,
    ) -> ReimbursementResult:
        return ReimbursementResult(
            policy=self.policy.policy_id,
            policy_digest=self.policy.digest(),
            settlement=settlement,
            refusal_reason=refusal_reason,
            hospital_level=level,
            compliant_amount=compliant,
            first_share=first_share,
            deductible=deductible,
            ratio=ratio,
            fund_payment=fund,
            individual_payment=individual,
            lines=lines,
            by_class=by_class,
            explanation=self.steps,
            inputs=self.claim,
            inputs_digest=self.claim.digest(),
        )


def _line_key(line: LineResult) -> str | None:
    if line.category is None or line.category.strip() not in CLASS_OF_LABEL:
        return "unclassified_lines_as"
    return "class_b_first_pay_share" if line.treated_as == "乙" else None
