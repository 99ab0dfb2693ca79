"""Hand-computed worked examples for the reimbursement calculator (policy: yantai.yaml).

Policy figures used below (see pipeline/calculator/policies/yantai.yaml): 乙 first-pay share
0.10; temporary first share 0.10; inpatient deductible L1/L2/L3 200/500/800, own ratio
0.90/0.85/0.80, temporary ratio 0.80/0.75/0.70; outpatient deductible 0, own 0.60/0.55/0.50,
temporary 0.50/0.45/0.40, cap 3000; special disease deductible 0/300/600, own 0.85/0.80/0.75,
temporary 0.75/0.70/0.65.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.bundle import CareType, ClaimType
from pipeline.calculator import (
    CalculationInput,
    CalculatorUnavailableError,
    HttpCalculator,
    PolicyCalculator,
    PolicyFileError,
    load_policy,
    policy_for_region,
)
from pipeline.records import ExpenseLine

D = Decimal
CALC = PolicyCalculator()


def lines(**by_class: str) -> list[ExpenseLine]:
    names = {"甲": "头孢呋辛酯片", "乙": "一次性输液器", "丙": "进口材料", "none": "未分类项目"}
    return [
        ExpenseLine(name=names[k], category=None if k == "none" else k, amount=D(v))
        for k, v in by_class.items()
    ]


def claim(
    claim_type: str, care_type: str, items: list[ExpenseLine], total: str, **extra: Any
) -> CalculationInput:
    return CalculationInput(
        claim_id="C-CALC",
        claim_type=ClaimType(claim_type),
        care_type=CareType(care_type),
        insured_region="烟台市",
        lines=items,
        invoice_total=D(total),
        **{"hospital_level": 3, **extra},
    )


def figures(result: Any) -> tuple[Decimal, Decimal, Decimal, Decimal, Decimal]:
    return (
        result.compliant_amount,
        result.first_share,
        result.deductible,
        result.fund_payment,
        result.individual_payment,
    )


def test_referral_inpatient_level_3() -> None:
    # compliant = 甲 5000.00 + 乙 2000.00 × 0.90 = 6800.00 (丙 1000.00 excluded)
    # first share 6800.00 × 0.10 = 680.00; base 6120.00; deductible 800.00
    # fund (6120.00 − 800.00) × 0.70 = 3724.00; individual 8000.00 − 3724.00 = 4276.00
    result = CALC.calculate(
        claim("referral", "inpatient", lines(甲="5000.00", 乙="2000.00", 丙="1000.00"), "8000.00")
    )
    assert figures(result) == (D("6800.00"), D("680.00"), D("800.00"), D("3724.00"), D("4276.00"))


def test_long_term_resident_inpatient_in_filed_region_uses_own_ratio() -> None:
    # compliant 3000.00 + 1000.00 × 0.90 = 3900.00; no first share; deductible L2 500.00
    # fund (3900.00 − 500.00) × 0.85 = 2890.00; individual 4000.00 − 2890.00 = 1110.00
    result = CALC.calculate(
        claim(
            "long_term_resident",
            "inpatient",
            lines(甲="3000.00", 乙="1000.00"),
            "4000.00",
            hospital_level=2,
            filed_treatment_region="上海市",
            treatment_region="上海市",
        )
    )
    assert figures(result) == (D("3900.00"), D("0.00"), D("500.00"), D("2890.00"), D("1110.00"))


def test_long_term_resident_outside_filed_region_falls_back_to_temporary() -> None:
    # compliant 3900.00; first share 390.00; base 3510.00; deductible 500.00
    # fund (3510.00 − 500.00) × 0.75 = 2257.50; individual 4000.00 − 2257.50 = 1742.50
    result = CALC.calculate(
        claim(
            "long_term_resident",
            "inpatient",
            lines(甲="3000.00", 乙="1000.00"),
            "4000.00",
            hospital_level=2,
            filed_treatment_region="上海市",
            treatment_region="北京市",
        )
    )
    assert figures(result) == (D("3900.00"), D("390.00"), D("500.00"), D("2257.50"), D("1742.50"))
    assert any("outside the filed region" in step for step in result.explanation)


def test_resident_worker_special_disease_without_proof_is_temporary() -> None:
    # compliant 1000.00 + 500.00 × 0.90 = 1450.00; first share 145.00; base 1305.00
    # deductible L3 600.00; fund (1305.00 − 600.00) × 0.65 = 458.25; individual 1500.00 − 458.25 = 1041.75
    result = CALC.calculate(
        claim(
            "resident_worker",
            "outpatient_special_disease",
            lines(甲="1000.00", 乙="500.00"),
            "1500.00",
            long_term_proof=False,
        )
    )
    assert figures(result) == (D("1450.00"), D("145.00"), D("600.00"), D("458.25"), D("1041.75"))


def test_relocated_retiree_outpatient_level_1() -> None:
    # compliant 300.00 (丙 50.00 excluded); deductible 0.00; fund 300.00 × 0.60 = 180.00
    # individual 350.00 − 180.00 = 170.00
    result = CALC.calculate(
        claim(
            "relocated_retiree",
            "outpatient",
            lines(甲="300.00", 丙="50.00"),
            "350.00",
            hospital_level=1,
        )
    )
    assert figures(result) == (D("300.00"), D("0.00"), D("0.00"), D("180.00"), D("170.00"))


def test_emergency_with_unknown_hospital_level_assumes_the_default() -> None:
    # level unknown → 3; compliant 1000.00; first share 100.00; base 900.00; deductible 800.00
    # fund (900.00 − 800.00) × 0.70 = 70.00; individual 1000.00 − 70.00 = 930.00
    result = CALC.calculate(
        claim(
            "emergency",
            "inpatient",
            lines(甲="1000.00"),
            "1000.00",
            hospital_level=None,
            is_filed=False,
        )
    )
    assert figures(result) == (D("1000.00"), D("100.00"), D("800.00"), D("70.00"), D("930.00"))
    assert any("level 3 assumed" in step for step in result.explanation)


def test_self_referral_outpatient_level_2() -> None:
    # compliant 200.00 + 100.00 × 0.90 = 290.00; first share 29.00; base 261.00; deductible 0.00
    # fund 261.00 × 0.45 = 117.45; individual 300.00 − 117.45 = 182.55
    result = CALC.calculate(
        claim(
            "self_referral",
            "outpatient",
            lines(甲="200.00", 乙="100.00"),
            "300.00",
            hospital_level=2,
        )
    )
    assert figures(result) == (D("290.00"), D("29.00"), D("0.00"), D("117.45"), D("182.55"))


def test_unfiled_non_emergency_is_refused_by_the_policy() -> None:
    result = CALC.calculate(
        claim("self_referral", "outpatient", lines(甲="200.00"), "200.00", is_filed=False)
    )
    assert (result.fund_payment, result.individual_payment) == (D("0.00"), D("200.00"))
    assert any("refuses" in step for step in result.explanation)


def test_deductible_larger_than_what_remains_leaves_the_fund_nothing() -> None:
    # compliant 500.00; first share 50.00; base 450.00; deductible min(450.00, 800.00) = 450.00; fund 0.00
    result = CALC.calculate(claim("referral", "inpatient", lines(甲="500.00"), "500.00"))
    assert figures(result) == (D("500.00"), D("50.00"), D("450.00"), D("0.00"), D("500.00"))


def test_annual_cap_reached_exactly() -> None:
    # relocated retiree outpatient L1: fund 5000.00 × 0.60 = 3000.00 = cap 3000.00
    result = CALC.calculate(
        claim("relocated_retiree", "outpatient", lines(甲="5000.00"), "5000.00", hospital_level=1)
    )
    assert result.fund_payment == D("3000.00")


def test_annual_cap_exceeded_with_payments_earlier_this_year() -> None:
    # fund 6000.00 × 0.60 = 3600.00; cap 3000.00 − paid 2500.00 leaves 500.00 → fund 500.00
    result = CALC.calculate(
        claim(
            "relocated_retiree",
            "outpatient",
            lines(甲="6000.00"),
            "6000.00",
            hospital_level=1,
            paid_this_year=D("2500.00"),
        )
    )
    assert (result.fund_payment, result.individual_payment) == (D("500.00"), D("5500.00"))


def test_lines_without_a_class_are_excluded_and_said_so() -> None:
    result = CALC.calculate(claim("referral", "outpatient", lines(none="100.00"), "100.00"))
    assert result.compliant_amount == D("0.00")
    assert result.lines[0].rule == "no class read: treated as outside scope"


def test_rounding_is_to_the_fen_once_per_line_in_decimal() -> None:
    # 乙 0.105: first pay 0.0105 → 0.01; compliant 0.105 − 0.01 = 0.095 → 0.10 (half up)
    result = CALC.calculate(claim("referral", "outpatient", lines(乙="0.105"), "0.11"))
    assert result.lines[0].compliant == D("0.10") and result.lines[0].individual_first_pay == D(
        "0.01"
    )
    assert all(isinstance(v, Decimal) for v in figures(result))


def test_the_same_input_gives_the_same_result_and_digest() -> None:
    item = claim("referral", "inpatient", lines(甲="5000.00", 乙="2000.00"), "7000.00")
    first, second = CALC.calculate(item), CALC.calculate(item.model_copy(deep=True))
    assert first == second and len(first.inputs_digest) == 64


def test_the_policy_marks_its_example_values() -> None:
    policy = policy_for_region("烟台市")
    assert policy.temporary_first_share == D("0.10")
    assert "class_b_first_pay_share" in policy.example_values


def test_a_malformed_policy_names_the_bad_key(tmp_path: Path) -> None:
    text = (Path(__file__).parent.parent / "pipeline/calculator/policies/yantai.yaml").read_text(
        encoding="utf-8"
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        text.replace('temporary_first_share: "0.10"', 'temporary_first_share: "1.5"'),
        encoding="utf-8",
    )
    with pytest.raises(PolicyFileError, match="temporary_first_share"):
        load_policy(bad)


money = st.decimals(min_value=0, max_value=D("50000"), places=2)


@given(
    money, money, money, money, st.sampled_from(list(ClaimType)), st.sampled_from(list(CareType))
)
def test_fund_and_individual_always_add_up_and_respect_the_cap(
    a: Decimal, b: Decimal, c: Decimal, paid: Decimal, claim_type: ClaimType, care_type: CareType
) -> None:
    total = a + b + c
    result = CALC.calculate(
        claim(
            claim_type.value,
            care_type.value,
            lines(甲=str(a), 乙=str(b), 丙=str(c)),
            str(total),
            paid_this_year=paid,
        )
    )
    cap = policy_for_region("烟台市").care[care_type].annual_cap
    assert result.fund_payment + result.individual_payment == total
    assert D(0) <= result.fund_payment <= max(D(0), cap - paid)


def test_an_agency_calculator_service_can_replace_ours() -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            result = CALC.calculate(CalculationInput.model_validate_json(body))
            payload = result.model_dump_json().encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        item = claim("referral", "inpatient", lines(甲="5000.00", 乙="2000.00"), "7000.00")
        remote = HttpCalculator(f"http://127.0.0.1:{server.server_port}/calculate")
        assert remote.calculate(item) == CALC.calculate(item)
    finally:
        server.shutdown()
    with pytest.raises(CalculatorUnavailableError):
        HttpCalculator(f"http://127.0.0.1:{server.server_port}/calculate", timeout=2).calculate(
            item
        )
