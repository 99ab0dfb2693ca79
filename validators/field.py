"""Field-level rules (SPEC §4): ID numbers, 大写 = 小写, payment parts, dates, formats."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from pipeline.bundle import ClaimBundle, IssueCode, ValidationIssue
from pipeline.normalize import id_birth_date, id_checksum_valid, id_sex, is_masked_id_number
from pipeline.records import DocType
from validators.common import issue, money, value_of
from validators.rules import Rules

ID_FIELDS = {
    DocType.ID_CARD: "id_number",
    DocType.AGENT_ID_CARD: "id_number",
    DocType.RESIDENCE_PERMIT: "id_number",
    DocType.MEDICAL_INVOICE: "payer_id_number",
    DocType.REFERRAL_FORM: "id_number",
    DocType.FILING_RECORD: "id_number",
    DocType.SOCIAL_SECURITY_CARD: "id_number",
}
TOLERANCE = Decimal("0.01")


def check_id_numbers(bundle: ClaimBundle, rules: Rules) -> list[ValidationIssue]:
    """GB 11643 check digit, and birth date and sex printed beside the number."""
    issues: list[ValidationIssue] = []
    for document in bundle.documents:
        key = ID_FIELDS.get(document.doc_type)
        number = value_of(document, key) if key else None
        if not isinstance(number, str) or key is None or is_masked_id_number(number):
            continue  # a masked number (3706**********1234) has no check digit to verify
        if not id_checksum_valid(number):
            issues.append(
                issue(
                    IssueCode.ID_CHECKSUM_INVALID,
                    f"ID number {number} fails the GB 11643 check digit: compare it with the "
                    "document and correct the misread digit",
                    [document],
                    key,
                )
            )
            continue
        born = value_of(document, "birth_date")
        if isinstance(born, date) and id_birth_date(number) != born:
            issues.append(
                issue(
                    IssueCode.ID_BIRTH_MISMATCH,
                    f"birth date {born} does not match the ID number's {id_birth_date(number)}",
                    [document],
                    "birth_date",
                )
            )
        sex = value_of(document, "sex")
        if isinstance(sex, str) and sex != id_sex(number):
            issues.append(
                issue(
                    IssueCode.ID_SEX_MISMATCH,
                    f"sex {sex} does not match the ID number, which encodes {id_sex(number)}",
                    [document],
                    "sex",
                )
            )
    return issues


def check_invoice_amounts(bundle: ClaimBundle, rules: Rules) -> list[ValidationIssue]:
    """合计 in words equals 合计 in figures; payment parts add up; nothing negative."""
    issues: list[ValidationIssue] = []
    for invoice in bundle.of_type(DocType.MEDICAL_INVOICE.value):
        total = money(value_of(invoice, "total_amount"))
        words = money(value_of(invoice, "total_amount_words"))
        if total is not None and words is not None and total != words:
            issues.append(
                issue(
                    IssueCode.AMOUNT_WORDS_MISMATCH,
                    f"合计 in words reads {words} but in figures {total}: check both on the invoice",
                    [invoice],
                    "total_amount_words",
                )
            )
        parts = [
            money(value_of(invoice, k))
            for k in ("fund_payment", "account_payment", "other_payment", "cash_payment")
        ]
        present = [p for p in parts if p is not None]
        if total is not None and len(present) >= 2 and abs(sum(present) - total) > TOLERANCE:
            issues.append(
                issue(
                    IssueCode.PAYMENT_PARTS_MISMATCH,
                    f"统筹 + 个人账户 + 其他 + 现金 = {sum(present)} but 合计 is {total}",
                    [invoice],
                    "cash_payment",
                )
            )
        for key, amount in invoice.fields.items():
            if isinstance(amount.value, Decimal) and amount.value < 0:
                issues.append(
                    issue(
                        IssueCode.AMOUNT_NEGATIVE,
                        f"{key} is negative ({amount.value})",
                        [invoice],
                        key,
                    )
                )
    return issues


def check_dates(bundle: ClaimBundle, rules: Rules) -> list[ValidationIssue]:
    """Dates are not in the future; an invoice is not dated before the admission."""
    issues: list[ValidationIssue] = []
    today = date.today()
    for document in bundle.documents:
        for key, found in document.fields.items():
            if isinstance(found.value, date) and found.value > today and key != "valid_until":
                issues.append(
                    issue(
                        IssueCode.DATE_INVALID,
                        f"{key} {found.value} is in the future",
                        [document],
                        key,
                    )
                )
        admitted = value_of(document, "admission_date")
        discharged = value_of(document, "discharge_date")
        if isinstance(admitted, date) and isinstance(discharged, date) and discharged < admitted:
            issues.append(
                issue(
                    IssueCode.DATE_INVALID,
                    f"discharge {discharged} is before admission {admitted}",
                    [document],
                    "discharge_date",
                )
            )
        issued = value_of(document, "issue_date")
        if (
            document.doc_type is DocType.MEDICAL_INVOICE
            and isinstance(issued, date)
            and isinstance(admitted, date)
            and issued < admitted
        ):
            issues.append(
                issue(
                    IssueCode.DATE_INVALID,
                    f"invoice dated {issued}, before the admission on {admitted}",
                    [document],
                    "issue_date",
                )
            )
    return issues


def check_invoice_formats(bundle: ClaimBundle, rules: Rules) -> list[ValidationIssue]:
    """票据代码 is 8–12 digits and 票据号码 6–12 digits on a medical invoice."""
    issues: list[ValidationIssue] = []
    for invoice in bundle.of_type(DocType.MEDICAL_INVOICE.value):
        for key, pattern in (("invoice_code", r"\d{8,12}"), ("invoice_number", r"\d{6,12}")):
            value = value_of(invoice, key)
            if isinstance(value, str) and not re.fullmatch(pattern, value):
                issues.append(
                    issue(
                        IssueCode.INVOICE_FORMAT_INVALID,
                        f"{key} {value!r} does not have the expected format: check the digits",
                        [invoice],
                        key,
                    )
                )
    return issues
