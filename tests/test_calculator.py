"""Hand-computed worked examples for the reimbursement calculator (policy: yantai.yaml).

Policy figures used below (pipeline/calculator/policies/yantai.yaml; all but the temporary
first share are example values, not from the seeds):

- temporary first share 0.10 (seed 000); 乙 first-pay share 0.10; unknown level → 3;
  unclassified lines → 丙; unfiled non-emergency → refuse
- inpatient: deductible L1/L2/L3 200/500/800, own ratio 0.90/0.85/0.80, temporary ratio
  0.80/0.75/0.70, annual cap 400000
- outpatient: deductible 0/0/0, own 0.60/0.55/0.50, temporary 0.50/0.45/0.40, cap 3000
- outpatient special disease: deductible 0/300/600, own 0.85/0.80/0.75, temporary
  0.75/0.70/0.65, cap 100000

`figures(result)` is (compliant, first share, deductible, fund, individual).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from pipeline.bundle import CareType, ClaimType
from pipeline.calculator import (
    POLICIES_DIR,
    CalculationInput,
    NoPolicyForRegionError,
    PolicyCalculator,
    PolicyFileError,
    ReimbursementResult,
    load_policy,
    policy_for_region,
)
from pipeline.records import ExpenseLine

D = Decimal
CALC = PolicyCalculator()
YANTAI = POLICIES_DIR / "yantai.yaml"
CALC_FOR_YANTAI = PolicyCalculator(load_policy(YANTAI))
NAMES = {"甲": "头孢呋辛酯片", "乙": "一次性输液器", "丙": "进口材料", "自费": "特需床位费"}


def expense_lines(*items: tuple[str | None, str]) -> list[ExpenseLine]:
    """(class, amount) pairs → expense lines; class None is a line whose class was not read."""
    return [
        ExpenseLine(name=NAMES.get(cls or "", "未分类项目"), category=cls, amount=D(amount))
        for cls, amount in items
    ]


def claim_input(
    claim_type: str,
    care_type: str,
    items: list[ExpenseLine],
    total: str,
    **extra: Any,
) -> CalculationInput:
    """A filed claim insured in 烟台市, level 3, long-term ones with proof in their filed place."""
    fields: dict[str, Any] = {
        "claim_id": "C-CALC",
        "claim_type": ClaimType(claim_type),
        "care_type": CareType(care_type),
        "insured_region": "烟台市",
        "filed_treatment_region": "上海市",
        "treatment_region": "上海市",
        "long_term_proof": True,
        "is_filed": True,
        "hospital_level": 3,
        "lines": items,
        "invoice_total": D(total),
    }
    return CalculationInput(**{**fields, **extra})


def figures(result: ReimbursementResult) -> tuple[Decimal, ...]:
    return (
        result.compliant_amount,
        result.first_share,
        result.deductible,
        result.fund_payment,
        result.individual_payment,
    )


def explained(result: ReimbursementResult) -> str:
    return "\n".join(
        f"{s.step} | {s.figure} | {s.rule} | {s.policy_key}" for s in result.explanation
    )


# --- one worked example per claim category --------------------------------------------------


def test_relocated_retiree_inpatient_in_the_filed_place_gets_own_ratios() -> None:
    # 甲 6000.00 + 乙 2000.00 × 0.90 = 6000.00 + 1800.00 = 7800.00 compliant (丙 500.00 out)
    # own place: no first share; deductible L2 500.00
    # fund (7800.00 − 500.00) × 0.85 = 6205.00; individual 8500.00 − 6205.00 = 2295.00
    result = CALC.calculate(
        claim_input(
            "relocated_retiree",
            "inpatient",
            expense_lines(("甲", "6000.00"), ("乙", "2000.00"), ("丙", "500.00")),
            "8500.00",
            hospital_level=2,
        )
    )
    assert figures(result) == (D("7800.00"), D("0.00"), D("500.00"), D("6205.00"), D("2295.00"))
    assert (result.settlement, result.ratio, result.hospital_level) == ("own_place", D("0.85"), 2)


def test_long_term_resident_special_disease_level_1_in_the_filed_place() -> None:
    # 甲 800.00 + 乙 400.00 × 0.90 = 1160.00; own place; deductible L1 0.00
    # fund 1160.00 × 0.85 = 986.00; individual 1200.00 − 986.00 = 214.00
    result = CALC.calculate(
        claim_input(
            "long_term_resident",
            "outpatient_special_disease",
            expense_lines(("甲", "800.00"), ("乙", "400.00")),
            "1200.00",
            hospital_level=1,
        )
    )
    assert figures(result) == (D("1160.00"), D("0.00"), D("0.00"), D("986.00"), D("214.00"))


def test_resident_worker_outpatient_level_3_in_the_filed_place() -> None:
    # 甲 150.00 + 乙 50.00 × 0.90 = 195.00 (丙 20.00 out); own place; deductible 0.00
    # fund 195.00 × 0.50 = 97.50; individual 220.00 − 97.50 = 122.50
    # "上海" and "上海市" are the same place
    result = CALC.calculate(
        claim_input(
            "resident_worker",
            "outpatient",
            expense_lines(("甲", "150.00"), ("乙", "50.00"), ("丙", "20.00")),
            "220.00",
            treatment_region="上海",
        )
    )
    assert figures(result) == (D("195.00"), D("0.00"), D("0.00"), D("97.50"), D("122.50"))
    assert "own ratios" in explained(result)


def test_referral_inpatient_level_3() -> None:
    # 甲 5000.00 + 乙 2000.00 × 0.90 = 6800.00 compliant (丙 1000.00 out)
    # temporary: first share 6800.00 × 0.10 = 680.00; remainder 6120.00; deductible L3 800.00
    # fund (6120.00 − 800.00) × 0.70 = 3724.00; individual 8000.00 − 3724.00 = 4276.00
    result = CALC.calculate(
        claim_input(
            "referral",
            "inpatient",
            expense_lines(("甲", "5000.00"), ("乙", "2000.00"), ("丙", "1000.00")),
            "8000.00",
        )
    )
    assert figures(result) == (D("6800.00"), D("680.00"), D("800.00"), D("3724.00"), D("4276.00"))
    assert (result.settlement, result.ratio) == ("temporary", D("0.70"))


def test_emergency_inpatient_needs_no_filing() -> None:
    # not filed, but an emergency: temporary, not refused
    # 甲 3000.00 + 乙 1000.00 × 0.90 = 3900.00; first share 390.00; remainder 3510.00
    # deductible L2 500.00; fund (3510.00 − 500.00) × 0.75 = 2257.50; individual 4000.00 − 2257.50
    # = 1742.50
    result = CALC.calculate(
        claim_input(
            "emergency",
            "inpatient",
            expense_lines(("甲", "3000.00"), ("乙", "1000.00")),
            "4000.00",
            hospital_level=2,
            is_filed=False,
        )
    )
    assert figures(result) == (D("3900.00"), D("390.00"), D("500.00"), D("2257.50"), D("1742.50"))


def test_self_referral_outpatient_level_2() -> None:
    # 甲 200.00 + 乙 100.00 × 0.90 = 290.00; first share 29.00; remainder 261.00; deductible 0.00
    # fund 261.00 × 0.45 = 117.45; individual 300.00 − 117.45 = 182.55
    result = CALC.calculate(
        claim_input(
            "self_referral",
            "outpatient",
            expense_lines(("甲", "200.00"), ("乙", "100.00")),
            "300.00",
            hospital_level=2,
        )
    )
    assert figures(result) == (D("290.00"), D("29.00"), D("0.00"), D("117.45"), D("182.55"))


def test_referral_outpatient_special_disease_level_2() -> None:
    # 甲 1000.00 + 乙 500.00 × 0.90 = 1450.00; first share 145.00; remainder 1305.00
    # deductible L2 300.00; fund (1305.00 − 300.00) × 0.70 = 703.50; individual 1500.00 − 703.50
    # = 796.50
    result = CALC.calculate(
        claim_input(
            "referral",
            "outpatient_special_disease",
            expense_lines(("甲", "1000.00"), ("乙", "500.00")),
            "1500.00",
            hospital_level=2,
        )
    )
    assert figures(result) == (D("1450.00"), D("145.00"), D("300.00"), D("703.50"), D("796.50"))


# --- long-term categories falling back to the temporary policy -----------------------------


def test_long_term_resident_treated_outside_the_filed_place_falls_back_to_temporary() -> None:
    # filed 上海市, treated 北京市 → temporary (seed 000)
    # 甲 3000.00 + 乙 1000.00 × 0.90 = 3900.00; first share 390.00; remainder 3510.00
    # deductible L2 500.00; fund (3510.00 − 500.00) × 0.75 = 2257.50; individual 1742.50
    # (in the filed place it would be (3900.00 − 500.00) × 0.85 = 2890.00)
    items = expense_lines(("甲", "3000.00"), ("乙", "1000.00"))
    outside = CALC.calculate(
        claim_input(
            "long_term_resident",
            "inpatient",
            items,
            "4000.00",
            hospital_level=2,
            treatment_region="北京市",
        )
    )
    assert figures(outside) == (
        D("3900.00"),
        D("390.00"),
        D("500.00"),
        D("2257.50"),
        D("1742.50"),
    )
    assert outside.settlement == "temporary"
    assert "outside the filed place 上海市" in explained(outside)
    inside = CALC.calculate(
        claim_input("long_term_resident", "inpatient", items, "4000.00", hospital_level=2)
    )
    assert (inside.settlement, inside.fund_payment) == ("own_place", D("2890.00"))


def test_long_term_filing_without_proof_is_treated_as_temporary() -> None:
    # personal commitment only (seed 000) → temporary, although treated in the filed place
    # 甲 1000.00 + 乙 500.00 × 0.90 = 1450.00; first share 145.00; remainder 1305.00
    # deductible L3 600.00; fund (1305.00 − 600.00) × 0.65 = 458.25; individual 1500.00 − 458.25
    # = 1041.75
    result = CALC.calculate(
        claim_input(
            "resident_worker",
            "outpatient_special_disease",
            expense_lines(("甲", "1000.00"), ("乙", "500.00")),
            "1500.00",
            long_term_proof=False,
        )
    )
    assert figures(result) == (D("1450.00"), D("145.00"), D("600.00"), D("458.25"), D("1041.75"))
    assert "personal commitment only, without proof" in explained(result)


# --- deductible, cap, exclusions, unknowns ---------------------------------------------------


def test_deductible_larger_than_the_reimbursable_amount_leaves_the_fund_nothing() -> None:
    # 甲 500.00 compliant; first share 50.00; remainder 450.00
    # deductible min(450.00, 800.00) = 450.00; fund (450.00 − 450.00) × 0.70 = 0.00
    # individual 500.00 − 0.00 = 500.00
    result = CALC.calculate(
        claim_input("referral", "inpatient", expense_lines(("甲", "500.00")), "500.00")
    )
    assert figures(result) == (D("500.00"), D("50.00"), D("450.00"), D("0.00"), D("500.00"))


def test_annual_cap_reached_exactly() -> None:
    # relocated retiree outpatient L1: fund 5000.00 × 0.60 = 3000.00 = cap 3000.00 − 0.00
    # individual 5000.00 − 3000.00 = 2000.00
    first = CALC.calculate(
        claim_input(
            "relocated_retiree",
            "outpatient",
            expense_lines(("甲", "5000.00")),
            "5000.00",
            hospital_level=1,
        )
    )
    assert (first.fund_payment, first.individual_payment) == (D("3000.00"), D("2000.00"))
    # with 1800.00 paid this year: 2000.00 × 0.60 = 1200.00 = 3000.00 − 1800.00: not cut
    # individual 2000.00 − 1200.00 = 800.00
    later = CALC.calculate(
        claim_input(
            "relocated_retiree",
            "outpatient",
            expense_lines(("甲", "2000.00")),
            "2000.00",
            hospital_level=1,
            paid_this_year=D("1800.00"),
        )
    )
    assert (later.fund_payment, later.individual_payment) == (D("1200.00"), D("800.00"))
    assert "leaves 1200.00: not reached" in explained(later)


def test_annual_cap_exceeded_with_payments_earlier_this_year() -> None:
    # fund 6000.00 × 0.60 = 3600.00; cap 3000.00 − paid 2500.00 leaves 500.00 → fund 500.00
    # individual 6000.00 − 500.00 = 5500.00
    result = CALC.calculate(
        claim_input(
            "relocated_retiree",
            "outpatient",
            expense_lines(("甲", "6000.00")),
            "6000.00",
            hospital_level=1,
            paid_this_year=D("2500.00"),
        )
    )
    assert (result.fund_payment, result.individual_payment) == (D("500.00"), D("5500.00"))
    cap_step = next(s for s in result.explanation if s.policy_key == "care.outpatient.annual_cap")
    assert cap_step.figure == D("500.00") and "3600.00 capped" in cap_step.rule


def test_cap_already_used_up_pays_nothing() -> None:
    # fund 100.00 × 0.60 = 60.00; cap 3000.00 − paid 3500.00 < 0 → room 0.00; individual 100.00
    result = CALC.calculate(
        claim_input(
            "relocated_retiree",
            "outpatient",
            expense_lines(("甲", "100.00")),
            "100.00",
            hospital_level=1,
            paid_this_year=D("3500.00"),
        )
    )
    assert (result.fund_payment, result.individual_payment) == (D("0.00"), D("100.00"))


def test_class_c_and_self_paid_lines_are_excluded() -> None:
    # referral outpatient L1: 甲 100.00 in; 丙 900.00 and 自费 50.00 out → compliant 100.00
    # first share 10.00; remainder 90.00; deductible 0.00; fund 90.00 × 0.50 = 45.00
    # individual 1050.00 − 45.00 = 1005.00
    result = CALC.calculate(
        claim_input(
            "referral",
            "outpatient",
            expense_lines(("甲", "100.00"), ("丙", "900.00"), ("自费", "50.00")),
            "1050.00",
            hospital_level=1,
        )
    )
    assert figures(result) == (D("100.00"), D("10.00"), D("0.00"), D("45.00"), D("1005.00"))
    excluded = [line for line in result.lines if line.treated_as == "丙"]
    assert [(ln.category, ln.compliant, ln.individual_first_pay) for ln in excluded] == [
        ("丙", D("0.00"), D("900.00")),
        ("自费", D("0.00"), D("50.00")),
    ]
    assert all("outside the policy scope" in ln.rule for ln in excluded)
    assert {c.category: (c.amount, c.compliant) for c in result.by_class} == {
        "甲": (D("100.00"), D("100.00")),
        "乙": (D("0.00"), D("0.00")),
        "丙": (D("950.00"), D("0.00")),
    }


def test_lines_without_a_class_are_settled_as_the_policy_says_and_explained() -> None:
    # unclassified_lines_as: 丙 → 未分类项目 100.00 compliant 0.00; 甲 100.00 compliant
    # referral outpatient L3: first share 10.00; fund 90.00 × 0.40 = 36.00; individual 200.00
    # − 36.00 = 164.00
    result = CALC.calculate(
        claim_input(
            "referral",
            "outpatient",
            expense_lines(("甲", "100.00"), (None, "100.00")),
            "200.00",
        )
    )
    assert figures(result) == (D("100.00"), D("10.00"), D("0.00"), D("36.00"), D("164.00"))
    unread = result.lines[1]
    assert (unread.category, unread.treated_as, unread.compliant) == (None, "丙", D("0.00"))
    assert unread.rule.startswith("no class read: settled as 丙 [unclassified_lines_as]")
    assert any(s.policy_key == "unclassified_lines_as" for s in result.explanation)


def test_unknown_hospital_level_uses_the_policy_default_and_says_so() -> None:
    # level unknown → default_hospital_level 3; emergency inpatient 甲 1000.00
    # first share 100.00; remainder 900.00; deductible L3 800.00; fund 100.00 × 0.70 = 70.00
    # individual 1000.00 − 70.00 = 930.00
    result = CALC.calculate(
        claim_input(
            "emergency",
            "inpatient",
            expense_lines(("甲", "1000.00")),
            "1000.00",
            hospital_level=None,
        )
    )
    assert figures(result) == (D("1000.00"), D("100.00"), D("800.00"), D("70.00"), D("930.00"))
    assert result.hospital_level == 3
    level_step = next(s for s in result.explanation if s.step == "hospital level")
    assert level_step.policy_key == "default_hospital_level"
    assert "unknown: settled as level 3" in level_step.rule


def test_unfiled_non_emergency_is_refused_with_the_reason() -> None:
    # unfiled: refuse → fund 0.00; individual = invoice total 200.00
    result = CALC.calculate(
        claim_input(
            "self_referral",
            "outpatient",
            expense_lines(("甲", "200.00")),
            "200.00",
            is_filed=False,
        )
    )
    assert (result.settlement, result.fund_payment, result.individual_payment) == (
        "refused",
        D("0.00"),
        D("200.00"),
    )
    assert result.refusal_reason == "self_referral: not filed and not an emergency: refused"
    assert result.compliant_amount == D("200.00") and result.ratio is None
    assert "refused" in explained(result) and "unfiled" in explained(result)


def test_unfiled_under_a_temporary_unfiled_policy_is_settled_as_temporary() -> None:
    # unfiled: temporary; long-term resident inpatient L2, not filed, in the place it names
    # 3900.00 compliant; first share 390.00; remainder 3510.00; deductible 500.00
    # fund (3510.00 − 500.00) × 0.75 = 2257.50; individual 4000.00 − 2257.50 = 1742.50
    lenient = policy_for_region("烟台市").model_copy(update={"unfiled": "temporary"})
    result = PolicyCalculator(lenient).calculate(
        claim_input(
            "long_term_resident",
            "inpatient",
            expense_lines(("甲", "3000.00"), ("乙", "1000.00")),
            "4000.00",
            hospital_level=2,
            is_filed=False,
        )
    )
    assert figures(result) == (D("3900.00"), D("390.00"), D("500.00"), D("2257.50"), D("1742.50"))
    assert result.settlement == "temporary"


def test_the_fund_never_pays_more_than_the_invoice() -> None:
    # lines say 甲 1000.00 but the invoice says 100.00: own place outpatient L1
    # fund by ratio 1000.00 × 0.60 = 600.00 > invoice 100.00 → fund 100.00; individual 0.00
    result = CALC.calculate(
        claim_input(
            "relocated_retiree",
            "outpatient",
            expense_lines(("甲", "1000.00")),
            "100.00",
            hospital_level=1,
        )
    )
    assert (result.fund_payment, result.individual_payment) == (D("100.00"), D("0.00"))
    steps = [s.step for s in result.explanation]
    assert "lines total differs from the invoice total" in steps
    assert "fund payment limited to the invoice total" in steps


# --- money: Decimal only, half-up to the fen --------------------------------------------------


def test_rounding_is_half_up_to_the_fen_per_line_and_per_step_with_no_float() -> None:
    # 甲 0.105 → 0.11 (half up; the float 0.105 is 0.10499… and would give 0.10)
    # 乙 12.35 × 0.90 = 11.115 → 11.12; its first pay 12.35 − 11.12 = 1.23
    # compliant 0.11 + 11.12 = 11.23; referral outpatient L3: first share 11.23 × 0.10 = 1.123
    # → 1.12; remainder 10.11; deductible 0.00; fund 10.11 × 0.40 = 4.044 → 4.04
    # invoice 12.455 → 12.46; individual 12.46 − 4.04 = 8.42
    result = CALC.calculate(
        claim_input(
            "referral",
            "outpatient",
            expense_lines(("甲", "0.105"), ("乙", "12.35")),
            "12.455",
        )
    )
    assert [(ln.amount, ln.compliant, ln.individual_first_pay) for ln in result.lines] == [
        (D("0.11"), D("0.11"), D("0.00")),
        (D("12.35"), D("11.12"), D("1.23")),
    ]
    assert figures(result) == (D("11.23"), D("1.12"), D("0.00"), D("4.04"), D("8.42"))
    # 乙 0.05 × 0.90 = 0.045 → 0.05 (half up, not banker's 0.04)
    tiny = CALC.calculate(
        claim_input("referral", "outpatient", expense_lines(("乙", "0.05")), "0.05")
    )
    assert tiny.lines[0].compliant == D("0.05")
    assert not _floats(result.model_dump())


def _floats(value: Any) -> list[float]:
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        return [f for item in value.values() for f in _floats(item)]
    if isinstance(value, list):
        return [f for item in value for f in _floats(item)]
    return []


def test_money_given_as_a_float_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"not the float 0\.105"):
        claim_input(
            "referral", "outpatient", expense_lines(("甲", "1.00")), "1.00", paid_this_year=0.105
        )


# --- explanation, reproducibility, JSON --------------------------------------------------------


def test_the_explanation_gives_every_step_in_order_with_its_figure_and_policy_key() -> None:
    # referral inpatient L3, 甲 5000.00 + 乙 2000.00 → as in test_referral_inpatient_level_3
    result = CALC.calculate(
        claim_input(
            "referral",
            "inpatient",
            expense_lines(("甲", "5000.00"), ("乙", "2000.00"), ("丙", "1000.00")),
            "8000.00",
        )
    )
    steps = [(s.step.split(":")[0], s.figure, s.policy_key) for s in result.explanation]
    assert steps == [
        ("policy for care type inpatient", None, "policy_id"),
        ("invoice total", D("8000.00"), None),
        ("line 1 头孢呋辛酯片 (甲)", D("5000.00"), None),
        ("line 2 一次性输液器 (乙)", D("1800.00"), "class_b_first_pay_share"),
        ("line 3 进口材料 (丙)", D("0.00"), None),
        ("class 甲", D("5000.00"), None),
        ("class 乙", D("1800.00"), None),
        ("class 丙", D("0.00"), None),
        ("compliant amount", D("6800.00"), None),
        ("settlement", None, None),
        ("hospital level", None, None),
        ("individual first share", D("680.00"), "temporary_first_share"),
        ("deductible", D("800.00"), "care.inpatient.deductible.3"),
        ("fund share by ratio", D("3724.00"), "care.inpatient.temporary_ratio.3"),
        ("fund payment after the annual cap", D("3724.00"), "care.inpatient.annual_cap"),
        ("individual payment", D("4276.00"), None),
    ]
    assert "example values, not from the seeds" in result.explanation[0].rule
    assert "(6120.00 − deductible 800.00) × 0.70" in explained(result)


def test_the_same_input_gives_the_identical_result_and_digest() -> None:
    def make(second_amount: str) -> CalculationInput:
        return claim_input(
            "referral",
            "inpatient",
            expense_lines(("甲", "5000.00"), ("乙", second_amount)),
            "7000.00",
        )

    first, again = CALC.calculate(make("2000.00")), PolicyCalculator().calculate(make("2000.00"))
    assert first == again and first.as_json() == again.as_json()
    assert len(first.inputs_digest) == 64 and first.inputs_digest == make("2000.00").digest()
    # the digest is of the amounts, not of how they were spelt: "2000" is "2000.00"
    assert make("2000").digest() == first.inputs_digest
    assert make("2000.01").digest() != first.inputs_digest
    # reproducible from what it carries: the echoed inputs give the same result again
    assert CALC.calculate(first.inputs) == first
    assert first.policy_digest == policy_for_region("烟台市").digest()


def test_as_json_has_money_as_decimal_strings_and_round_trips() -> None:
    # 甲 5000 + 乙 2000.5 × 0.90 = 5000.00 + 1800.45 = 6800.45; first share 680.045 → 680.05
    # remainder 6120.40; fund (6120.40 − 800.00) × 0.70 = 3724.28; individual 8000.50 − 3724.28
    # = 4276.22
    result = CALC.calculate(
        claim_input(
            "referral",
            "inpatient",
            expense_lines(("甲", "5000"), ("乙", "2000.5"), ("丙", "1000.00")),
            "8000.50",
        )
    )
    out = json.loads(json.dumps(result.as_json(), ensure_ascii=False))
    assert out["policy"] == "yantai-2026"
    assert [out[k] for k in ("compliant_amount", "first_share", "deductible", "ratio")] == [
        "6800.45",
        "680.05",
        "800.00",
        "0.70",
    ]
    assert (out["fund_payment"], out["individual_payment"]) == ("3724.28", "4276.22")
    assert out["lines"][0]["amount"] == "5000.00" and out["lines"][1]["compliant"] == "1800.45"
    assert out["explanation"][-1] == {
        "step": "individual payment",
        "figure": "4276.22",
        "rule": "invoice total 8000.50 − fund payment 3724.28",
        "policy_key": None,
    }
    assert ReimbursementResult.model_validate(out) == result
    assert result.inconsistencies() == []


# --- policy files ------------------------------------------------------------------------------


def test_the_policy_marks_every_number_the_seeds_do_not_give_as_an_example() -> None:
    policy = load_policy(YANTAI)
    assert (policy.policy_id, policy.region, str(policy.effective_from)) == (
        "yantai-2026",
        "烟台市",
        "2022-01-01",
    )
    assert policy.temporary_first_share == D("0.10")
    assert "temporary_first_share" not in policy.example_values
    numbers = {"class_b_first_pay_share", "default_hospital_level"} | {
        f"care.{care.value}.{key}"
        for care in CareType
        for key in ("deductible", "own_ratio", "temporary_ratio", "annual_cap")
    }
    assert set(policy.example_values) == numbers
    marked = YANTAI.read_text(encoding="utf-8").count("# example value, not from the seeds")
    assert marked == len(numbers)
    assert policy_for_region("烟台") == policy_for_region(" 烟台市 ") == policy


def _broken(tmp_path: Path, old: str, new: str, name: str = "bad.yaml") -> Path:
    text = YANTAI.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("old", "new", "named"),
    [
        ('temporary_first_share: "0.10"', 'temporary_first_share: "1.5"', "temporary_first_share"),
        ("annual_cap:", "anual_cap:", r"care\.inpatient\.anual_cap: .*Extra inputs"),
        (', 3: "0.70"}', "}", r"care\.inpatient: .*temporary_ratio: no value for .*\[3\]"),
        ('own_ratio: {1: "0.90"', "own_ratio: {1: 0.90", r"own_ratio\.1: .*not the float"),
        ("unfiled: refuse", "unfiled: ignore", r"unfiled: 'ignore' — Input should be 'refuse' or"),
        ("  - default_hospital_level", "  - default_level", "example_values: .*default_level"),
        ("  outpatient:\n", "  outpatients:\n", r"care\.outpatients"),
    ],
)
def test_a_malformed_policy_file_names_the_file_and_the_key(
    tmp_path: Path, old: str, new: str, named: str
) -> None:
    with pytest.raises(PolicyFileError, match=named) as info:
        load_policy(_broken(tmp_path, old, new))
    assert str(info.value).startswith(str(tmp_path / "bad.yaml"))


def test_missing_policy_files_and_regions_are_clear(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError, match=r"missing\.yaml: no such file"):
        load_policy(tmp_path / "missing.yaml")
    with pytest.raises(NoPolicyForRegionError, match=r"临沂市.*policies cover: 烟台"):
        policy_for_region("临沂市")
    _broken(tmp_path, "policy_id: yantai-2026", "policy_id: yantai-copy", "copy.yaml")
    (tmp_path / "yantai.yaml").write_text(YANTAI.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(PolicyFileError, match="already has policy"):
        policy_for_region("烟台市", tmp_path)
    item = claim_input("referral", "outpatient", expense_lines(("甲", "1.00")), "1.00")
    with pytest.raises(NoPolicyForRegionError, match="insured in 临沂市"):
        CALC_FOR_YANTAI.calculate(item.model_copy(update={"insured_region": "临沂市"}))


# --- property ----------------------------------------------------------------------------------

money = st.decimals(min_value=0, max_value=D("50000"), places=2)
CAPS = {care: policy_for_region("烟台市").care[care].annual_cap for care in CareType}


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(["甲", "乙", "丙", "自费", None]), money), max_size=6),
    money,
    st.decimals(min_value=D("-100"), max_value=D("100"), places=2),
    st.sampled_from(list(ClaimType)),
    st.sampled_from(list(CareType)),
    st.sampled_from([None, 1, 2, 3]),
    st.booleans(),
    st.booleans(),
    st.sampled_from([None, "上海市", "北京市"]),
)
def test_fund_and_individual_add_up_and_the_fund_stays_within_the_cap(
    items: list[tuple[str | None, Decimal]],
    paid: Decimal,
    invoice_delta: Decimal,
    claim_type: ClaimType,
    care_type: CareType,
    level: int | None,
    filed: bool,
    proof: bool,
    treated_in: str | None,
) -> None:
    lines_total = sum((amount for _, amount in items), D("0.00"))
    total = max(D("0.00"), lines_total + invoice_delta)
    result = CALC.calculate(
        claim_input(
            claim_type.value,
            care_type.value,
            expense_lines(*((cls, str(amount)) for cls, amount in items)),
            str(total),
            paid_this_year=paid,
            hospital_level=level,
            is_filed=filed,
            long_term_proof=proof,
            treatment_region=treated_in,
        )
    )
    assert result.fund_payment + result.individual_payment == total
    assert D("0.00") <= result.fund_payment <= max(D("0.00"), CAPS[care_type] - paid)
    assert result.fund_payment <= result.compliant_amount
    assert result.inconsistencies() == []
