"""The HTML report: a Chinese summary with charts first, each calculation as a table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flows.report import write_report


def _result(claim_id: str, status: str, fund: str | None, codes: list[str]) -> dict[str, Any]:
    money = None
    if fund is not None:
        money = {
            "policy": "yantai-2026",
            "compliant_amount": "1000.00",
            "deductible": "800.00",
            "fund_payment": fund,
            "individual_payment": "500.00",
            "refusal_reason": None,
            "lines": [
                {
                    "name": "西药费",
                    "category": "乙",
                    "treated_as": "乙",
                    "amount": "600.00",
                    "compliant": "540.00",
                    "individual_first_pay": "60.00",
                    "rule": "乙类先行自付 10%",
                }
            ],
            "explanation": [
                {"step": "起付线", "figure": "800.00", "rule": "三级医院", "policy_key": None},
                {
                    "step": "政策说明",
                    "figure": None,
                    "rule": "临时外出就医先自付",
                    "policy_key": None,
                },
            ],
        }
    return {
        "claim_id": claim_id,
        "status": status,
        "claim_type": "referral",
        "care_type": "inpatient",
        "documents": [],
        "missing_documents": ["discharge_summary"] if status == "incomplete" else [],
        "issues": [
            {"code": c, "severity": "error", "message": f"{c} detail", "field": "total_amount"}
            for c in codes
        ],
        "reimbursement": money,
    }


def test_the_report_opens_with_a_chinese_summary_and_explains_each_calculation(
    tmp_path: Path,
) -> None:
    results = [
        _result("C-1", "complete", "1200.50", []),
        _result("C-2", "needs_review", None, ["amount_words_mismatch", "low_confidence"]),
        _result("C-3", "needs_review", None, ["amount_words_mismatch"]),
        _result("C-4", "incomplete", None, ["missing_document"]),
    ]
    page = write_report([(r, None) for r in results], tmp_path / "report.html").read_text()
    assert "<html lang='zh-CN'>" in page
    assert page.index("概览") < page.index("C-1 "), "the summary comes first"
    assert "基金支付合计" in page and "1200.50" in page
    assert "25%" in page, "one of four claims went straight through"
    assert page.count('class="bar"') >= 4 + 1 + 3, "status, fund and issue bars"
    top = page.index("最常见的问题")
    assert page.index("大写金额与小写金额不一致", top) < page.index("识别置信度低", top)
    assert "<td>乙类先行自付 10%</td>" in page and "<td class='num'>540.00</td>" in page
    assert "figure" not in page and "None" not in page and "policy_key" not in page
    assert "待审核" in page and "缺少材料" in page and "出院小结" in page
    assert "异地转诊就医" in page and "title='amount_words_mismatch'" in page
