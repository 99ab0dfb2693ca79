"""Cross-document consistency (SPEC §4): one patient, one stay, valid filings, deadlines."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from pipeline.bundle import CareType, ClaimBundle, ClaimType, IssueCode, ValidationIssue
from pipeline.records import DocType, Document, ExpenseLine
from validators.common import (
    ids_agree,
    issue,
    money,
    patient_id_cards,
    region_of_hospital,
    same_region,
    treatment_period,
    value_of,
)
from validators.rules import Rules

NAME_FIELDS = {
    DocType.ID_CARD: "name",
    DocType.MEDICAL_INVOICE: "payer_name",
    DocType.EXPENSE_LIST: "patient_name",
    DocType.DISCHARGE_SUMMARY: "patient_name",
    DocType.FILING_RECORD: "name",
    DocType.RESIDENCE_PERMIT: "name",
    DocType.REFERRAL_FORM: "patient_name",
    DocType.EMERGENCY_CERTIFICATE: "patient_name",
    DocType.SOCIAL_SECURITY_CARD: "name",
}
ID_FIELDS = {
    DocType.ID_CARD: "id_number",
    DocType.MEDICAL_INVOICE: "payer_id_number",
    DocType.FILING_RECORD: "id_number",
    DocType.RESIDENCE_PERMIT: "id_number",
    DocType.REFERRAL_FORM: "id_number",
    DocType.SOCIAL_SECURITY_CARD: "id_number",
}
TOLERANCE = Decimal("0.01")


def _reference(bundle: ClaimBundle, fields: dict[DocType, str]) -> tuple[Document, str] | None:
    """The patient's value: from the ID card if there is one, else the first invoice."""
    for doc_type in (DocType.ID_CARD, DocType.MEDICAL_INVOICE, DocType.SOCIAL_SECURITY_CARD):
        for document in bundle.of_type(doc_type.value):
            value = value_of(document, fields[doc_type])
            if isinstance(value, str):
                return document, value
    return None


def _check_same(
    bundle: ClaimBundle, fields: dict[DocType, str], code: IssueCode, what: str
) -> list[ValidationIssue]:
    reference = _reference(bundle, fields)
    if reference is None:
        return []
    ref_doc, ref_value = reference
    issues = []
    for document in bundle.documents:
        key = fields.get(document.doc_type)
        value = value_of(document, key) if key else None
        if isinstance(value, str) and not ids_agree(value, ref_value):
            issues.append(
                issue(
                    code,
                    f"{what} {value!r} on {document.doc_type.value} differs from {ref_value!r} on "
                    f"{ref_doc.doc_type.value}: a misread, or a document of another person",
                    [document, ref_doc],
                    key,
                )
            )
    return issues


def check_identity(bundle: ClaimBundle, rules: Rules) -> list[ValidationIssue]:
    return _check_same(bundle, NAME_FIELDS, IssueCode.NAME_MISMATCH, "name") + _check_same(
        bundle, ID_FIELDS, IssueCode.ID_NUMBER_MISMATCH, "ID number"
    )


def check_expense_totals(bundle: ClaimBundle, rules: Rules) -> list[ValidationIssue]:
    """The expense lists' totals = the receipts' totals for the same stays (the calculator
    settles the lines, the agency pays against the receipts); lines add up to page and grand
    totals."""
    issues = _list_against_receipts(bundle)
    for listing in bundle.of_type(DocType.EXPENSE_LIST.value):
        total = money(value_of(listing, "total_amount"))
        lines = value_of(listing, "lines") or []
        issues += _line_issues(listing, lines)
        line_sum = sum((line.amount for line in lines), Decimal(0))
        if lines and total is not None and abs(line_sum - total) > TOLERANCE:
            issues.append(
                issue(
                    IssueCode.EXPENSE_LINES_MISMATCH,
                    f"the expense lines add up to {line_sum} but the list's total is {total}",
                    [listing],
                    "lines",
                )
            )
        page_totals = value_of(listing, "page_totals") or []
        per_page: dict[int | None, Decimal] = {}
        for line in lines:
            per_page[line.page] = per_page.get(line.page, Decimal(0)) + line.amount
        sums = [per_page[p] for p in sorted(k for k in per_page if k is not None)]
        if page_totals and len(page_totals) == len(sums):
            for number, (printed, added) in enumerate(zip(page_totals, sums, strict=True), 1):
                if abs(printed - added) > TOLERANCE:
                    issues.append(
                        issue(
                            IssueCode.EXPENSE_LINES_MISMATCH,
                            f"page {number} of the expense list: lines add up to {added}, "
                            f"小计 says {printed}",
                            [listing],
                            "page_totals",
                        )
                    )
    return issues


def _list_total(listing: Document) -> Decimal | None:
    """The list's 合计, or the sum of its lines when no 合计 row was read."""
    total = money(value_of(listing, "total_amount"))
    lines = value_of(listing, "lines") or []
    return total if total is not None or not lines else sum((ln.amount for ln in lines), Decimal(0))


def _list_against_receipts(bundle: ClaimBundle) -> list[ValidationIssue]:
    """Each list against the receipts of its stay (same 住院号); lists that name no stay the
    receipts do are compared together with all the receipts no list claimed."""
    invoices = bundle.of_type(DocType.MEDICAL_INVOICE.value)
    lists = bundle.of_type(DocType.EXPENSE_LIST.value)
    if not invoices or not lists:
        return []
    pairs: list[tuple[list[Document], list[Document]]] = []
    claimed: list[Document] = []
    unpaired: list[Document] = []
    for listing in lists:
        number = value_of(listing, "admission_number")
        same = [i for i in invoices if number and value_of(i, "admission_number") == number]
        if same and len(lists) > 1:
            pairs.append(([listing], same))
            claimed += same
        else:
            unpaired.append(listing)
    rest = [i for i in invoices if all(i is not c for c in claimed)]
    if unpaired and rest:
        pairs.append((unpaired, rest))
    issues = []
    for listed, paid in pairs:
        totals = [t for d in listed if (t := _list_total(d)) is not None]
        receipts = [t for d in paid if (t := money(value_of(d, "total_amount"))) is not None]
        listed_sum, paid_sum = sum(totals, Decimal(0)), sum(receipts, Decimal(0))
        if not totals or not receipts or abs(listed_sum - paid_sum) <= TOLERANCE:
            continue
        issues.append(
            issue(
                IssueCode.EXPENSE_TOTAL_MISMATCH,
                f"expense list total {listed_sum} differs from the receipt total {paid_sum} "
                "for the same stay: a missing receipt or list page, or a misread",
                [*listed, *paid],
                "total_amount",
            )
        )
    return issues


def _line_issues(listing: Document, lines: list[ExpenseLine]) -> list[ValidationIssue]:
    """A list without readable lines cannot be calculated; a row whose quantity × unit price
    is not its amount was misread somewhere: both need a reviewer, the rows named."""
    if not lines:
        why = listing.missing.get("lines", "no rows were read")
        return [
            issue(
                IssueCode.EXPENSE_LINES_UNREADABLE,
                f"the expense list's lines could not be read ({why}): enter them in the table, "
                "or ask for a clearer copy",
                [listing],
            )
        ]
    wrong = [
        number
        for number, line in enumerate(lines, 1)
        if line.quantity is not None
        and line.unit_price is not None
        and abs(line.quantity * line.unit_price - line.amount) > TOLERANCE
    ]
    if not wrong:
        return []
    return [
        issue(
            IssueCode.EXPENSE_LINES_MISMATCH,
            f"rows {', '.join(map(str, wrong))} of the expense list: quantity × unit price is "
            "not the amount — check what was read",
            [listing],
            "lines",
        )
    ]


def as_date(value: object) -> object:
    """ISO strings (validity ends may read 长期) to dates; anything else unchanged."""
    if isinstance(value, str) and len(value) == 10 and value[4] == "-":
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    return value


def _filing(bundle: ClaimBundle) -> Document | None:
    filings = bundle.of_type(DocType.FILING_RECORD.value)
    return filings[0] if filings else None


def check_filing_validity(bundle: ClaimBundle, rules: Rules) -> list[ValidationIssue]:
    """Treatment dates inside the filing's validity; hospital in the filed region."""
    filing = _filing(bundle)
    start, end = treatment_period(bundle)
    issues: list[ValidationIssue] = []
    if filing is not None and start is not None:
        valid_from = value_of(filing, "valid_from") or value_of(filing, "filing_date")
        valid_until = as_date(value_of(filing, "valid_until"))
        if (
            not isinstance(valid_until, date)
            and isinstance(valid_from, date)
            and valid_until != "长期"
        ):
            valid_until = valid_from + timedelta(days=rules.deadlines.filing_validity_days)
        last = end or start
        before = isinstance(valid_from, date) and start < valid_from
        after = isinstance(valid_until, date) and last > valid_until
        if (before or after) and bundle.manifest.claim_type is not ClaimType.EMERGENCY:
            issues.append(
                issue(
                    IssueCode.OUTSIDE_FILING_VALIDITY,
                    f"treatment {start}–{last} is outside the filing's validity "
                    f"{valid_from}–{valid_until}",
                    [filing],
                    "valid_until" if after else "valid_from",
                )
            )
    filed_region = value_of(filing, "treatment_region") if filing else None
    region = filed_region if isinstance(filed_region, str) else None
    if region is None and bundle.manifest.claim_type.long_term:
        region = bundle.manifest.treatment_region
    if region:
        for invoice in bundle.of_type(DocType.MEDICAL_INVOICE.value):
            hospital = value_of(invoice, "hospital_name")
            where = region_of_hospital(hospital, rules.hospital_regions) if hospital else None
            if where and not same_region(where, region):
                issues.append(
                    issue(
                        IssueCode.HOSPITAL_OUTSIDE_FILED_REGION,
                        f"{hospital} is in {where}, outside the filed treatment region {region}",
                        [invoice],
                        "hospital_name",
                    )
                )
    return issues


def check_document_validity(bundle: ClaimBundle, rules: Rules) -> list[ValidationIssue]:
    """Residence permit, ID card and referral are valid on the treatment dates."""
    start, end = treatment_period(bundle)
    if start is None:
        return []
    last = end or start
    issues: list[ValidationIssue] = []
    for document in bundle.documents:
        if document.doc_type not in (
            DocType.RESIDENCE_PERMIT,
            DocType.ID_CARD,
            DocType.REFERRAL_FORM,
        ):
            continue
        until = value_of(document, "valid_until")
        if document.doc_type is DocType.REFERRAL_FORM and not isinstance(until, date | str):
            issued = value_of(document, "issue_date")
            if isinstance(issued, date):
                until = issued + timedelta(days=rules.deadlines.referral_validity_days)
        if isinstance(until, str):
            if until == "长期":
                continue
            until = date.fromisoformat(until) if len(until) == 10 else None
        since = value_of(document, "valid_from")
        expired = isinstance(until, date) and start > until
        early = (
            isinstance(since, date) and last < since and document.doc_type is DocType.REFERRAL_FORM
        )
        if expired or early:
            issues.append(
                issue(
                    IssueCode.DOCUMENT_EXPIRED,
                    f"{document.doc_type.value} valid until {until} does not cover the treatment "
                    f"{start}–{last}",
                    [document],
                    "valid_until",
                )
            )
    return issues


def check_deadlines(bundle: ClaimBundle, rules: Rules) -> list[ValidationIssue]:
    """Submission within the window after discharge; emergencies reported within 3 days."""
    manifest = bundle.manifest
    start, end = treatment_period(bundle)
    issues: list[ValidationIssue] = []
    deadlines = rules.deadlines
    if end is not None:
        window = deadlines.submission_days_after_discharge + deadlines.submission_grace_days
        late = (manifest.submitted_on - end).days > window
        if (
            manifest.care_type is CareType.OUTPATIENT_SPECIAL_DISEASE
            and deadlines.outpatient_special_disease_same_year
        ):
            late = manifest.submitted_on.year != end.year
        if late:
            issues.append(
                issue(
                    IssueCode.SUBMISSION_LATE,
                    f"submitted on {manifest.submitted_on}, {(manifest.submitted_on - end).days} days "
                    f"after discharge on {end}; the policy allows "
                    f"{deadlines.submission_days_after_discharge} days (+{deadlines.submission_grace_days} grace)",
                )
            )
    filing = _filing(bundle)
    if manifest.claim_type is ClaimType.EMERGENCY and start is not None and filing is not None:
        reported = value_of(filing, "filing_date")
        if isinstance(reported, date) and (reported - start).days > deadlines.emergency_report_days:
            issues.append(
                issue(
                    IssueCode.EMERGENCY_REPORT_LATE,
                    f"emergency admission on {start} was reported on {reported}, more than "
                    f"{deadlines.emergency_report_days} days later",
                    [filing],
                    "filing_date",
                )
            )
    return issues


def resolve_agent_cards(bundle: ClaimBundle) -> ClaimBundle:
    """With an agent, the ID card whose name is not the patient's is the agent's card: the
    bundle with those cards retyped (a new bundle; the one given is left as it is)."""
    cards = patient_id_cards(bundle)
    if not bundle.manifest.by_agent or len(cards) < 2:
        return bundle
    payers = {value_of(d, "payer_name") for d in bundle.of_type(DocType.MEDICAL_INVOICE.value)} - {
        None
    }
    agents = {id(c) for c in cards if payers and value_of(c, "name") not in payers}
    if not agents:
        return bundle
    documents = [
        d.model_copy(update={"doc_type": DocType.AGENT_ID_CARD}) if id(d) in agents else d
        for d in bundle.documents
    ]
    return bundle.model_copy(update={"documents": documents})
