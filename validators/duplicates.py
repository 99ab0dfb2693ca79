"""Duplicate invoices across claims: the same invoice used twice is fraud-suspect."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from pipeline.bundle import ClaimBundle, IssueCode, ValidationIssue
from pipeline.records import DocType, Document
from validators.common import issue, value_of
from validators.rules import Rules


class InvoiceRegistry(Protocol):
    """Where used invoices are remembered (the claim store)."""

    def claims_using_invoice(self, invoice_key: str, exclude_claim: str) -> list[str]: ...


def invoice_key(document: Document) -> str | None:
    """code + number, or the e-receipt check code when the number was not read."""
    code = value_of(document, "invoice_code")
    number = value_of(document, "invoice_number")
    if isinstance(code, str) and isinstance(number, str):
        return f"{code}-{number}"
    check = value_of(document, "check_code")
    return f"check:{check}" if isinstance(check, str) else None


def invoice_keys(bundle: ClaimBundle) -> list[str]:
    keys = (invoice_key(d) for d in bundle.of_type(DocType.MEDICAL_INVOICE.value))
    return [k for k in keys if k]


def duplicate_check(
    registry: InvoiceRegistry | None,
) -> Callable[[ClaimBundle, Rules], list[ValidationIssue]]:
    """A check bound to a registry; without one (a single offline run) only in-claim repeats count."""

    def check_duplicates(bundle: ClaimBundle, rules: Rules) -> list[ValidationIssue]:
        issues: list[ValidationIssue] = []
        seen: dict[str, Document] = {}
        for document in bundle.of_type(DocType.MEDICAL_INVOICE.value):
            key = invoice_key(document)
            if key is None:
                continue
            if key in seen:
                issues.append(
                    issue(
                        IssueCode.DUPLICATE_INVOICE,
                        f"invoice {key} appears twice in this claim",
                        [document, seen[key]],
                        "invoice_number",
                    )
                )
                continue
            seen[key] = document
            others = (
                registry.claims_using_invoice(key, bundle.manifest.claim_id) if registry else []
            )
            if others:
                issues.append(
                    issue(
                        IssueCode.DUPLICATE_INVOICE,
                        f"invoice {key} was already submitted in claim {', '.join(others)}",
                        [document],
                        "invoice_number",
                    )
                )
        return issues

    return check_duplicates
