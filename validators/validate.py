"""Run every check on a claim bundle and decide its status (SPEC §6)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pipeline.bundle import ClaimBundle, ClaimStatus, ValidationIssue
from validators.completeness import check_completeness, missing_documents
from validators.consistency import (
    check_deadlines,
    check_document_validity,
    check_expense_totals,
    check_filing_validity,
    check_identity,
    resolve_agent_cards,
)
from validators.duplicates import InvoiceRegistry, duplicate_check
from validators.field import (
    check_dates,
    check_id_numbers,
    check_invoice_amounts,
    check_invoice_formats,
)
from validators.quality import check_confidence, check_files, check_pages
from validators.rules import Rules

Check = Callable[[ClaimBundle, Rules], list[ValidationIssue]]

CHECKS: tuple[Check, ...] = (
    check_files,
    check_pages,
    check_completeness,
    check_id_numbers,
    check_invoice_amounts,
    check_invoice_formats,
    check_dates,
    check_identity,
    check_expense_totals,
    check_filing_validity,
    check_document_validity,
    check_deadlines,
    check_confidence,
)


@dataclass(frozen=True, slots=True)
class Outcome:
    status: ClaimStatus
    issues: list[ValidationIssue]
    missing_documents: list[str]


def validate(bundle: ClaimBundle, rules: Rules, registry: InvoiceRegistry | None = None) -> Outcome:
    """Every issue on the claim, the documents it lacks, and the resulting status."""
    bundle = resolve_agent_cards(bundle)  # a copy: validation never changes what it checks
    issues: list[ValidationIssue] = []
    for check in (*CHECKS, duplicate_check(registry)):
        issues.extend(check(bundle, rules))
    missing = missing_documents(bundle, rules)
    return Outcome(decide_status(issues, missing, rules), issues, missing)


def decide_status(issues: list[ValidationIssue], missing: list[str], rules: Rules) -> ClaimStatus:
    """rejected > incomplete > needs_review > complete."""
    codes = {i.code for i in issues}
    if codes & rules.rejecting_codes:
        return ClaimStatus.REJECTED
    if missing:
        return ClaimStatus.INCOMPLETE
    if issues:  # errors a reviewer may mend, and warnings a reviewer must confirm
        return ClaimStatus.NEEDS_REVIEW
    return ClaimStatus.COMPLETE
