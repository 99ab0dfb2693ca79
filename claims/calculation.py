"""Hand a complete claim to the calculator: build its input from the extracted documents."""

from __future__ import annotations

import re
from decimal import Decimal

from pipeline.bundle import ClaimBundle
from pipeline.calculator import CalculationInput, ReimbursementResult, get_calculator
from pipeline.records import (
    DocType,
    ExpenseLine,
    ExpenseList,
    FilingRecord,
    MedicalInvoice,
    records_of,
    value,
)
from pipeline.settings import get_settings
from validators.common import region_of_hospital
from validators.rules import rules_for_region

LEVELS = {"一": 1, "二": 2, "三": 3}
PROOF_TYPES = (DocType.RESIDENCE_PROOF, DocType.RESIDENCE_PERMIT, DocType.EMPLOYMENT_PROOF)


def hospital_level(bundle: ClaimBundle) -> int | None:
    """From the invoice's 医疗机构类型 (三级甲等综合医院) — the treating hospital's level."""
    for invoice in records_of(bundle.documents, MedicalInvoice):
        match = re.search(r"([一二三])级", value(invoice.hospital_type) or "")
        if match:
            return LEVELS[match.group(1)]
    return None


def calculation_input(bundle: ClaimBundle) -> CalculationInput:
    manifest = bundle.manifest
    invoices = records_of(bundle.documents, MedicalInvoice)
    lines: list[ExpenseLine] = [
        line
        for listing in records_of(bundle.documents, ExpenseList)
        for line in value(listing.lines) or []
    ]
    total = sum((t for i in invoices if (t := value(i.total_amount)) is not None), Decimal("0.00"))
    filings = records_of(bundle.documents, FilingRecord)
    filed_region = value(filings[0].treatment_region) if filings else None
    hospital = next((h for i in invoices if (h := value(i.hospital_name))), None)
    known = rules_for_region(manifest.insured_region).hospital_regions
    return CalculationInput(
        claim_id=manifest.claim_id,
        claim_type=manifest.claim_type,
        care_type=manifest.care_type,
        insured_region=manifest.insured_region,
        filed_treatment_region=filed_region or manifest.treatment_region,
        treatment_region=region_of_hospital(hospital, known) if hospital else None,
        long_term_proof=any(d.doc_type in PROOF_TYPES for d in bundle.documents),
        is_filed=bool(filings)
        or manifest.claim_type.long_term
        or bool(bundle.of_type(DocType.REFERRAL_FORM.value)),
        hospital_level=hospital_level(bundle),
        lines=lines,
        invoice_total=total,
        paid_this_year=manifest.paid_this_year,
    )


def calculate_claim(bundle: ClaimBundle) -> ReimbursementResult:
    """The reimbursement of a complete claim (policy, figures, lines, explanation)."""
    calculator = get_calculator(get_settings().calculator_url)
    return calculator.calculate(calculation_input(bundle))
