"""The claim contract (SPEC §6): manifest in, bundle with issues, status and money out."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.errors import IntakeError
from pipeline.models import BBox
from pipeline.records import Document


class ClaimType(StrEnum):
    RELOCATED_RETIREE = "relocated_retiree"
    LONG_TERM_RESIDENT = "long_term_resident"
    RESIDENT_WORKER = "resident_worker"
    REFERRAL = "referral"
    EMERGENCY = "emergency"
    SELF_REFERRAL = "self_referral"

    @property
    def long_term(self) -> bool:
        return self in (
            ClaimType.RELOCATED_RETIREE,
            ClaimType.LONG_TERM_RESIDENT,
            ClaimType.RESIDENT_WORKER,
        )


class CareType(StrEnum):
    INPATIENT = "inpatient"
    OUTPATIENT = "outpatient"
    OUTPATIENT_SPECIAL_DISEASE = "outpatient_special_disease"


class ClaimStatus(StrEnum):
    COMPLETE = "complete"
    INCOMPLETE = "incomplete"
    NEEDS_REVIEW = "needs_review"
    REJECTED = "rejected"
    AWAITING_MANIFEST = "awaiting_manifest"  # found in a bulk scan; its claim.json has not come
    PENDING = "pending"  # its claim.json is there; it waits for the next batch


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class ManifestError(IntakeError):
    """claim.json is missing or wrong: the operator must fix it."""

    reason = "manifest_invalid"


MAX_MONEY = Decimal("100000000")
MAX_MANIFEST_BYTES = 64 * 1024


MANIFEST = "claim.json"  # a claim's manifest, uploaded beside its documents


class ClaimManifest(BaseModel):
    """`claim.json`: unknown keys are an error, so a typo never passes silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    claim_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
    claim_type: ClaimType
    care_type: CareType
    insured_region: str = Field(min_length=2, max_length=30)
    treatment_region: str = Field(min_length=2, max_length=30)
    submitted_on: date
    by_agent: bool = False
    paid_this_year: Decimal = Field(Decimal("0.00"), ge=0, lt=MAX_MONEY, decimal_places=2)

    @field_validator("submitted_on")
    @classmethod
    def _not_in_future(cls, value: date) -> date:
        if value > date.today():
            raise ValueError(f"submitted_on {value} is in the future")
        return value

    @classmethod
    def load(cls, path: Path, claim_id: str | None = None) -> ClaimManifest:
        """Read claim.json; with `claim_id`, it must name the claim whose folder holds it."""
        if not path.is_file():
            raise ManifestError(
                "claim.json is missing: every claim needs a manifest with claim_id, claim_type, "
                "care_type, insured_region, treatment_region and submitted_on",
                path=str(path),
            )
        size = path.stat().st_size
        if size > MAX_MANIFEST_BYTES:
            raise ManifestError(
                f"claim.json is {size} bytes; a manifest is a few hundred bytes (limit "
                f"{MAX_MANIFEST_BYTES}): upload the claim's manifest, not another file",
                path=str(path),
            )
        try:
            data = json.loads(path.read_bytes().decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ManifestError(f"claim.json is not valid JSON ({exc})", path=str(path)) from exc
        except (ValueError, RecursionError) as exc:  # a 5,000-digit number, 30,000 nested brackets
            raise ManifestError(
                f"claim.json is not a manifest ({type(exc).__name__}: {str(exc)[:200]})",
                path=str(path),
            ) from exc
        manifest = cls.parse_data(data, path)
        if claim_id is not None and manifest.claim_id != claim_id:
            raise ManifestError(
                f"claim.json names claim {manifest.claim_id!r} but lies in the folder of claim "
                f"{claim_id!r}; put the manifest in its own claim's folder",
                path=str(path),
            )
        return manifest

    @classmethod
    def parse_data(cls, data: Any, path: Path | None = None) -> ClaimManifest:
        if not isinstance(data, dict):
            raise ManifestError(
                "claim.json must hold a JSON object", path=str(path) if path else None
            )
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'claim'}: {err['msg']}"
                for err in exc.errors()
            )
            raise ManifestError(
                f"claim.json is invalid: {problems}", path=str(path) if path else None
            ) from exc


class IssueCode(StrEnum):
    """Every issue a claim can carry: SPEC §4's codes, then ours. Codes are an API (results,
    rules files, message catalogues): add, never rename."""

    MISSING_DOCUMENT = "missing_document"
    UNSUPPORTED_FILE = "unsupported_file"
    UNREADABLE_PAGE = "unreadable_page"
    RETAKE_PHOTO = "retake_photo"
    LOW_CONFIDENCE = "low_confidence"
    ID_CHECKSUM_INVALID = "id_checksum_invalid"
    ID_BIRTH_MISMATCH = "id_birth_mismatch"
    ID_SEX_MISMATCH = "id_sex_mismatch"
    AMOUNT_WORDS_MISMATCH = "amount_words_mismatch"
    PAYMENT_PARTS_MISMATCH = "payment_parts_mismatch"
    EXPENSE_TOTAL_MISMATCH = "expense_total_mismatch"
    EXPENSE_LINES_MISMATCH = "expense_lines_mismatch"
    NAME_MISMATCH = "name_mismatch"
    ID_NUMBER_MISMATCH = "id_number_mismatch"
    DATE_INVALID = "date_invalid"
    OUTSIDE_FILING_VALIDITY = "outside_filing_validity"
    DOCUMENT_EXPIRED = "document_expired"
    HOSPITAL_OUTSIDE_FILED_REGION = "hospital_outside_filed_region"
    SUBMISSION_LATE = "submission_late"
    EMERGENCY_REPORT_LATE = "emergency_report_late"
    DUPLICATE_INVOICE = "duplicate_invoice"
    AMOUNT_NEGATIVE = "amount_negative"
    INVOICE_FORMAT_INVALID = "invoice_format_invalid"
    EXPENSE_LINES_UNREADABLE = "expense_lines_unreadable"
    MANIFEST_INVALID = "manifest_invalid"


class ValidationIssue(BaseModel):
    """One problem on a claim. `code` is a stable API: codes are added, never renamed."""

    model_config = ConfigDict(frozen=True)

    code: IssueCode
    severity: Severity
    message: str
    doc_ids: list[str] = Field(default_factory=list)
    field: str | None = None
    page: int | None = None
    bbox: BBox | None = None

    def as_json(self) -> dict[str, Any]:
        box = [self.page, *self.bbox.as_list()] if self.bbox is not None else None
        return {
            "code": self.code.value,
            "severity": self.severity.value,
            "message": self.message,
            "doc_ids": self.doc_ids,
            "field": self.field,
            "bbox": box,
        }


class FileProblem(BaseModel):
    """An uploaded file that could not be read, kept as-is with the reason."""

    file: str
    reason: str
    message: str


class ClaimBundle(BaseModel):
    """Everything known about one claim; travels from extraction to validation to payment."""

    manifest: ClaimManifest
    documents: list[Document] = Field(default_factory=list)
    file_problems: list[FileProblem] = Field(default_factory=list)
    confirmed_fields: set[str] = Field(
        default_factory=set, description="'doc_id:field' confirmed or corrected by a reviewer"
    )

    def of_type(self, doc_type: str) -> list[Document]:
        return [d for d in self.documents if d.doc_type.value == doc_type]
