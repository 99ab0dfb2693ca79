"""The web app's typed requests and answers (the API's JSON, and what the pages are built from).

The claim result itself stays the SPEC §6 JSON object the flows store (`dict[str, Any]`); what
the app adds around it is typed here.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, Field

from flows.review import AmountSide, Contradiction
from pipeline.bundle import CareType, ClaimType
from pipeline.records import DocType

TableRows = Annotated[
    list[dict[str, Annotated[str, Field(max_length=300)]]], Field(max_length=2000)
]


class CorrectionIn(BaseModel):
    doc_id: str = Field(max_length=300)
    key: str = Field("", max_length=64)
    action: str = Field(max_length=16)
    value: Annotated[str, Field(max_length=2000)] | TableRows = ""
    reason: str = Field("", max_length=500)


class DecisionKind(StrEnum):
    APPROVE = "approve"
    RETURN = "return_to_claimant"
    REJECT = "reject"


class DecisionIn(BaseModel):
    """A reviewer's decision on a whole claim; returning it names the documents to bring."""

    kind: DecisionKind
    reason: str = Field("", max_length=500)
    documents: list[DocType] = Field(default_factory=list, max_length=20)


class Decision(BaseModel):
    kind: DecisionKind
    reviewer: str
    at: str
    reason: str
    documents: list[str]
    status_before: str


class QueueEntry(BaseModel):
    claim_id: str
    status: str
    claim_type: str
    care_type: str
    issue_codes: list[str]
    missing_documents: list[str]
    patient_name: str
    patient_id_number: str
    age: str
    age_hours: float
    amount: str | None
    claimed_by: str | None
    decision: DecisionKind | None
    discharge_date: date | None = Field(None, description="as read from the documents")
    due_date: date | None = Field(None, description="submission deadline under the rules")
    days_left: int | None = Field(None, description="days before the deadline; < 0 past")
    submitted_late: bool | None = Field(None, description="submitted after the deadline")


class AuditEntry(BaseModel):
    """One line of the audit trail: who changed or decided what, when, from what, and why."""

    at: str
    reviewer: str
    doc_id: str
    key: str
    action: str
    old: Any
    new: Any
    reason: str


class ClaimView(BaseModel):
    """A claim as the review page and `GET /api/claims/<id>` show it."""

    claim: QueueEntry
    result: dict[str, Any] = Field(description="the stored result (SPEC §6)")
    states: dict[str, str] = Field(description="'doc_id:key' -> flagged, confirmed or checked")
    audit: list[AuditEntry]
    rotations: dict[str, int] = Field(description="doc_id -> degrees turned clockwise")
    decisions: list[Decision]
    mismatched: list[str] = Field(description="documents with an open 大写/小写 mismatch")
    contradictions: dict[str, Contradiction] = Field(
        description="documents whose mismatch a reviewer decided, and which amount governs"
    )
    history: list[tuple[str, str]] = Field(description="(status, reason) in order")


class ClaimChange(BaseModel):
    """The claim's status and issues after a change, validated again at once."""

    status: str
    issues: list[dict[str, Any]]


class CorrectionAnswer(ClaimChange):
    reread: dict[str, Any] | None = Field(
        None, description="after a turn: how the page read again (absent otherwise)"
    )


class Holder(BaseModel):
    claim_id: str
    claimed_by: str


class PageView(BaseModel):
    index: int = Field(description="page number in the document (fields' bbox pages)")
    file: str
    page: int = Field(description="page number in the file")
    url: str
    width: int | None
    height: int | None
    turn: int


class RegionIn(BaseModel):
    """A box the reviewer drew on a page image, relative to the image as shown (turned)."""

    file: str = Field(max_length=300)
    page: int = Field(ge=0, lt=1000)
    turn: int = Field(0, ge=0, lt=360)
    box: tuple[
        Annotated[float, Field(ge=0, le=1)],
        Annotated[float, Field(ge=0, le=1)],
        Annotated[float, Field(ge=0, le=1)],
        Annotated[float, Field(ge=0, le=1)],
    ]


class FieldTextIn(BaseModel):
    """A word the reviewer clicked on a page, for the field (or table column) in focus."""

    doc_id: str = Field(max_length=300)
    key: str = Field(max_length=64)
    column: str = Field("", max_length=64)
    text: str = Field(max_length=2000)


class FieldTextOut(BaseModel):
    text: str
    normalised: bool = Field(description="the text was rewritten (amount, date, label dropped)")


class ContradictionIn(BaseModel):
    """The reviewer's decision that a document contradicts itself on the paper (大写 ≠ 小写):
    which amount governs, and why (required)."""

    doc_id: str = Field(max_length=300)
    governs: AmountSide
    reason: str = Field(max_length=500)


class MergeIn(BaseModel):
    """Merge `other` into `doc_id` (the pipeline cut one document in two)."""

    doc_id: str = Field(max_length=300)
    other: str = Field(max_length=300)
    reason: str = Field("", max_length=500)


class SplitIn(BaseModel):
    """Split `doc_id` before its page `page`; the pages from it on become a document of type
    `doc_type` (the same type when empty), read again with the OCR engine."""

    doc_id: str = Field(max_length=300)
    page: int = Field(ge=1, le=1000, description="page number in the document (as in bboxes)")
    doc_type: DocType | None = None
    reason: str = Field("", max_length=500)


class CorrectionProblem(BaseModel):
    """A refused correction shown on the page: the message, and the value the reviewer typed."""

    message: str
    doc_id: str
    key: str
    value: str


class DraftIn(BaseModel):
    claim_type: ClaimType
    care_type: CareType
    insured_region: str = Field("烟台市", min_length=2, max_length=30)
    treatment_region: str = Field(min_length=2, max_length=30)
    by_agent: bool = False


class DraftView(BaseModel):
    """A claimant's upload so far: its files with their verdicts, and the checklist."""

    claim_id: str
    submitted: bool
    files: dict[str, Any]
    checklist: list[dict[str, Any]]


class PresignIn(BaseModel):
    slot: str = Field(max_length=40)
    filename: str = Field(max_length=200)


class UserEntry(BaseModel):
    username: str
    role: str
