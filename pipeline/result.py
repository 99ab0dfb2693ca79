"""A claim's result (SPEC §6): what is stored, published and shown to a reviewer.

One typed model from the claim service to the store and the web app; `as_json` writes the
SPEC §6 contract byte for byte as before, `from_json` reads it back (also results stored
by older versions).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from pipeline.bundle import (
    CareType,
    ClaimStatus,
    ClaimType,
    FileProblem,
    IssueCode,
    Severity,
    ValidationIssue,
)
from pipeline.calculator.models import ReimbursementResult
from pipeline.models import BBox
from pipeline.records import Document


class ScanSource(BaseModel):
    """Where in a bulk scan a claim's pages were found."""

    model_config = ConfigDict(frozen=True)

    scan: str
    sha256: str
    pages: list[int]


class AwaitingManifest(BaseModel):
    """What a bulk scan told about a claim whose manifest (claim.json) has not come yet."""

    model_config = ConfigDict(frozen=True)

    message: str = Field(description="what the operator must upload, in words")
    source: ScanSource
    id_number: str | None = None
    name: str | None = None
    found_documents: list[str] = Field(default_factory=list, description="document types")


class ClaimResult(BaseModel):
    """The outcome of one claim: its documents, what is wrong, and what it pays."""

    claim_id: str
    status: ClaimStatus
    claim_type: ClaimType | None = None
    care_type: CareType | None = None
    documents: list[Document] = Field(default_factory=list)
    file_problems: list[FileProblem] = Field(default_factory=list)
    missing_documents: list[str] = Field(default_factory=list)
    issues: list[ValidationIssue] = Field(default_factory=list)
    reimbursement: ReimbursementResult | None = None
    awaiting: AwaitingManifest | None = Field(
        None, description="a claim found in a bulk scan, waiting for its manifest"
    )

    def as_json(self) -> dict[str, Any]:
        """The SPEC §6 result JSON."""
        head: dict[str, Any] = {"claim_id": self.claim_id, "status": self.status.value}
        if self.awaiting is not None:
            head |= self.awaiting.model_dump(mode="json")
        else:
            head["claim_type"] = self.claim_type.value if self.claim_type else None
            head["care_type"] = self.care_type.value if self.care_type else None
        return head | {
            "documents": [d.as_json() for d in self.documents],
            "file_problems": [p.model_dump() for p in self.file_problems],
            "missing_documents": self.missing_documents,
            "issues": [i.as_json() for i in self.issues],
            "reimbursement": self.reimbursement.as_json() if self.reimbursement else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ClaimResult:
        """The inverse of `as_json`."""
        awaiting = (
            AwaitingManifest.model_validate(data)
            if data.get("status") == ClaimStatus.AWAITING_MANIFEST.value
            else None
        )
        reimbursement = data.get("reimbursement")
        return cls(
            claim_id=data["claim_id"],
            status=ClaimStatus(data["status"]),
            claim_type=data.get("claim_type"),
            care_type=data.get("care_type"),
            documents=[Document.from_json(d) for d in data.get("documents", [])],
            file_problems=[FileProblem.model_validate(p) for p in data.get("file_problems", [])],
            missing_documents=data.get("missing_documents", []),
            issues=[issue_from_json(i) for i in data.get("issues", [])],
            reimbursement=ReimbursementResult.model_validate(reimbursement)
            if reimbursement
            else None,
            awaiting=awaiting,
        )


def issue_from_json(data: dict[str, Any]) -> ValidationIssue:
    """The inverse of `ValidationIssue.as_json` (its box is `[page, x0, y0, x1, y1]`)."""
    box = data.get("bbox")
    return ValidationIssue(
        code=IssueCode(data["code"]),
        severity=Severity(data["severity"]),
        message=data["message"],
        doc_ids=data.get("doc_ids", []),
        field=data.get("field"),
        page=box[0] if box else None,
        bbox=BBox(x0=box[1], y0=box[2], x1=box[3], y1=box[4]) if box else None,
    )
