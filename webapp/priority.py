"""Queue priority: days left before the submission deadline, then waiting time, then amount.

The deadline comes from the insured region's rules (`deadlines.submission_days_after_discharge`
plus `submission_grace_days`, or the end of the calendar year for special-disease outpatient
care where the rules say so), counted from the discharge date read from the claim's documents
(invoices first, then the discharge summary, then the expense list, as the validators do; an
outpatient invoice's visit or issue date when nothing else is read). Days left is the time the
claimant still has to bring documents if the claim is returned: once it is past, a claim
submitted in time is not late, but returning it for more documents is no longer an option.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from typing import Any

from pydantic import BaseModel

from pipeline.bundle import CareType
from pipeline.errors import IntakeError
from pipeline.records import DocType
from validators.rules import Deadlines, rules_for_region

END_FIELDS = ("discharge_date", "visit_date")
SOURCES = (DocType.MEDICAL_INVOICE, DocType.DISCHARGE_SUMMARY, DocType.EXPENSE_LIST)


class Deadline(BaseModel):
    """A claim's submission deadline as the queue shows it."""

    discharge: date | None = None
    due: date | None = None
    days_left: int | None = None
    submitted_late: bool | None = None

    @property
    def overdue(self) -> bool:
        return self.days_left is not None and self.days_left < 0


@cache
def _deadlines(region: str) -> Deadlines | None:
    try:
        return rules_for_region(region).deadlines
    except IntakeError:
        return None


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def discharge_date(result: dict[str, Any]) -> date | None:
    """The latest discharge (or visit) date read, from the first document type that has one."""
    documents = result.get("documents", [])
    for doc_type in SOURCES:
        found = [
            day
            for document in documents
            if document.get("doc_type") == doc_type.value
            for key in END_FIELDS
            if (day := _as_date((document["fields"].get(key) or {}).get("value"))) is not None
        ]
        if found:
            return max(found)
    issued = [
        day
        for document in documents
        if document.get("doc_type") == DocType.MEDICAL_INVOICE.value
        if (day := _as_date((document["fields"].get("issue_date") or {}).get("value")))
    ]
    return max(issued) if issued else None


def deadline_of(manifest: dict[str, Any], result: dict[str, Any], today: date) -> Deadline:
    """The claim's deadline under its insured region's rules; empty when either is unknown."""
    discharge = discharge_date(result)
    rules = _deadlines(str(manifest.get("insured_region", "")))
    if discharge is None or rules is None:
        return Deadline(discharge=discharge)
    if (
        manifest.get("care_type") == CareType.OUTPATIENT_SPECIAL_DISEASE.value
        and rules.outpatient_special_disease_same_year
    ):
        due = date(discharge.year, 12, 31)
    else:
        days = rules.submission_days_after_discharge + rules.submission_grace_days
        due = discharge + timedelta(days=days)
    submitted = _as_date(manifest.get("submitted_on"))
    return Deadline(
        discharge=discharge,
        due=due,
        days_left=(due - today).days,
        submitted_late=submitted > due if submitted else None,
    )


def priority_key(days_left: int | None, age_hours: float, amount: str | None) -> tuple[Any, ...]:
    """Most urgent first: a deadline still ahead, nearest first; then claims whose deadline is
    past or unknown; within each, the longest waiting, then the largest amount."""
    ahead = days_left is not None and days_left >= 0
    try:
        money = -float(amount or 0)
    except ValueError:
        money = 0.0
    return (0 if ahead else 1, days_left if ahead else 0, -age_hours, money)
