"""Typed records, one per document type of SPEC §2, each field with confidence and source.

Values are canonical: dates are `date`, money is `Decimal` (never float), ID numbers are
upper-case, sex is 男/女, ethnicity has no 族 suffix. A field that could not be read is absent
from the record and listed in `Document.missing` with the reason.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from pipeline.models import BBox, PageQuality

T = TypeVar("T")


class DocType(StrEnum):
    MEDICAL_INVOICE = "medical_invoice"
    EXPENSE_LIST = "expense_list"
    ID_CARD = "id_card"
    RESIDENCE_PERMIT = "residence_permit"
    DISCHARGE_SUMMARY = "discharge_summary"
    REFERRAL_FORM = "referral_form"
    FILING_RECORD = "filing_record"
    EMERGENCY_CERTIFICATE = "emergency_certificate"
    RESIDENCE_PROOF = "residence_proof"
    EMPLOYMENT_PROOF = "employment_proof"
    PRESCRIPTION_OR_REPORT = "prescription_or_report"
    SOCIAL_SECURITY_CARD = "social_security_card"
    BANK_CARD = "bank_card"
    AGENT_ID_CARD = "agent_id_card"
    OTHER = "other"


class ExtractedField(BaseModel, Generic[T]):
    """One extracted value with how sure we are and where on which page it was read."""

    model_config = ConfigDict(frozen=True)

    value: T
    confidence: float = Field(ge=0.0, le=1.0)
    page: int | None = Field(None, description="0-based page index within the document's file")
    bbox: BBox | None = None
    raw: str = Field("", description="the text as read, before normalisation")
    note: str | None = Field(None, description="what was done to the raw text, e.g. a repair")

    def as_json(self) -> dict[str, Any]:
        """SPEC §2 shape: bbox is [page, x0, y0, x1, y1]."""
        box = [self.page, *self.bbox.as_list()] if self.bbox is not None else None
        out: dict[str, Any] = {
            "value": _jsonable(self.value),
            "confidence": round(self.confidence, 4),
            "bbox": box,
            "raw": self.raw,
        }
        if self.note:
            out["note"] = self.note
        return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"{value:.2f}" if value.as_tuple().exponent == -2 else str(value)
    if isinstance(value, BaseModel):
        return {k: _jsonable(v) for k, v in value.model_dump().items() if v is not None}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


class InvoiceItem(BaseModel):
    name: str
    amount: Decimal


class ExpenseLine(BaseModel):
    name: str
    code: str | None = Field(None, description="项目编码: the item's code, in its own column")
    category: str | None = None
    spec: str | None = None
    unit: str | None = None
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    amount: Decimal
    self_pay_ratio: Decimal | None = None
    page: int | None = None
    confidence: float | None = Field(None, description="OCR confidence of the row, checked")


S = ExtractedField[str]
D = ExtractedField[date]
M = ExtractedField[Decimal]


class Record(BaseModel):
    """Base of the per-type records: every attribute is an optional ExtractedField."""

    def present(self) -> dict[str, ExtractedField[Any]]:
        return {
            name: getattr(self, name)
            for name in type(self).model_fields
            if getattr(self, name) is not None
        }


class MedicalInvoice(Record):
    invoice_code: S | None = None
    invoice_number: S | None = None
    check_code: S | None = None
    payer_name: S | None = None
    payer_id_number: S | None = None
    issue_date: D | None = None
    hospital_name: S | None = None
    hospital_type: S | None = None
    insurance_type: S | None = None
    insurance_number: S | None = None
    sex: S | None = None
    serial_number: S | None = None
    admission_number: S | None = None
    admission_date: D | None = None
    discharge_date: D | None = None
    items: ExtractedField[list[InvoiceItem]] | None = None
    total_amount: M | None = None
    total_amount_words: M | None = None
    fund_payment: M | None = None
    account_payment: M | None = None
    other_payment: M | None = None
    cash_payment: M | None = None
    self_pay: M | None = None
    self_expense: M | None = None


class ExpenseList(Record):
    patient_name: S | None = None
    hospital_name: S | None = None
    admission_number: S | None = None
    admission_date: D | None = None
    discharge_date: D | None = None
    lines: ExtractedField[list[ExpenseLine]] | None = None
    page_totals: ExtractedField[list[Decimal]] | None = None
    total_amount: M | None = None


class IdCard(Record):
    name: S | None = None
    sex: S | None = None
    ethnicity: S | None = None
    birth_date: D | None = None
    address: S | None = None
    id_number: S | None = None
    issuing_authority: S | None = None
    valid_from: D | None = None
    valid_until: S | None = Field(None, description="ISO date or 长期")


class ResidencePermit(Record):
    name: S | None = None
    sex: S | None = None
    birth_date: D | None = None
    id_number: S | None = None
    address: S | None = None
    issuing_authority: S | None = None
    valid_from: D | None = None
    valid_until: S | None = None


class DischargeSummary(Record):
    patient_name: S | None = None
    hospital_name: S | None = None
    admission_date: D | None = None
    discharge_date: D | None = None
    diagnosis: S | None = None
    has_seal: ExtractedField[bool] | None = None


class ReferralForm(Record):
    patient_name: S | None = None
    id_number: S | None = None
    referring_hospital: S | None = None
    referring_hospital_level: S | None = None
    destination: S | None = None
    issue_date: D | None = None
    valid_until: D | None = None


class FilingRecord(Record):
    name: S | None = None
    id_number: S | None = None
    insured_region: S | None = None
    treatment_region: S | None = None
    category: S | None = None
    filing_date: D | None = None
    valid_from: D | None = None
    valid_until: D | None = None


class EmergencyCertificate(Record):
    patient_name: S | None = None
    hospital_name: S | None = None
    visit_date: D | None = None
    diagnosis: S | None = None


class ResidenceProof(Record):
    name: S | None = None
    address: S | None = None
    issuing_authority: S | None = None
    valid_from: D | None = None


class EmploymentProof(Record):
    employee_name: S | None = None
    employer: S | None = None
    work_place: S | None = None
    valid_from: D | None = None
    valid_until: D | None = None


class PrescriptionOrReport(Record):
    patient_name: S | None = None
    hospital_name: S | None = None
    date: D | None = None


class SocialSecurityCard(Record):
    name: S | None = None
    id_number: S | None = None
    card_number: S | None = None


class BankCard(Record):
    holder_name: S | None = None
    account_number: S | None = None


class OtherDocument(Record):
    """A page that is not a claim document: no fields are ever invented for it."""


RECORD_TYPES: dict[DocType, type[Record]] = {
    DocType.MEDICAL_INVOICE: MedicalInvoice,
    DocType.EXPENSE_LIST: ExpenseList,
    DocType.ID_CARD: IdCard,
    DocType.AGENT_ID_CARD: IdCard,
    DocType.RESIDENCE_PERMIT: ResidencePermit,
    DocType.DISCHARGE_SUMMARY: DischargeSummary,
    DocType.REFERRAL_FORM: ReferralForm,
    DocType.FILING_RECORD: FilingRecord,
    DocType.EMERGENCY_CERTIFICATE: EmergencyCertificate,
    DocType.RESIDENCE_PROOF: ResidenceProof,
    DocType.EMPLOYMENT_PROOF: EmploymentProof,
    DocType.PRESCRIPTION_OR_REPORT: PrescriptionOrReport,
    DocType.SOCIAL_SECURITY_CARD: SocialSecurityCard,
    DocType.BANK_CARD: BankCard,
    DocType.OTHER: OtherDocument,
}


def number_pages(parts: list[tuple[str, list[int]]]) -> list[tuple[str, int, int]]:
    """(file, page in file, page in document) for a document standing on `parts` (file,
    pages): a later file's pages count on after the last page of the file before. The one
    numbering both the extractor (bbox pages, 本页小计 per page) and the review page use."""
    numbered: list[tuple[str, int, int]] = []
    for name, pages in parts:
        offset = numbered[-1][2] + 1 - pages[0] if numbered and pages else 0
        numbered.extend((name, page, page + offset) for page in pages)
    return numbered


class Document(BaseModel):
    """One document found in an input file: which pages, what type, what it says."""

    id: str
    file: str
    pages: list[int]
    doc_type: DocType
    doc_type_confidence: float = Field(ge=0.0, le=1.0)
    region: BBox | None = Field(None, description="part of the page, when a page holds several")
    quality: PageQuality = Field(default_factory=PageQuality)
    record: Record = Field(default_factory=OtherDocument)
    missing: dict[str, str] = Field(default_factory=dict, description="field -> why it is absent")
    form: str = Field(
        "", description="the printed version of its form family (电子票据, 门诊票据…), when told"
    )
    continued: dict[str, list[int]] = Field(
        default_factory=dict,
        description="file -> pages: a document (an expense list photographed page by page) that "
        "runs on into later files; their pages count on after the last page of `file`",
    )

    @property
    def fields(self) -> dict[str, ExtractedField[Any]]:
        return self.record.present()

    def page_images(self) -> list[tuple[str, int]]:
        """Every (file, page) the document stands on, in reading order."""
        own = [(self.file, page) for page in self.pages]
        return own + [(name, page) for name, pages in self.continued.items() for page in pages]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Document:
        """The inverse of `as_json` (typed values, boxes and quality restored)."""
        doc_type = DocType(data["doc_type"])
        region = data.get("region")
        record_type = RECORD_TYPES[doc_type]
        fields = {
            key: _field_from_json(found)
            for key, found in data["fields"].items()
            if key in record_type.model_fields
        }
        return cls(
            id=data["id"],
            file=data["file"],
            pages=data["pages"],
            doc_type=doc_type,
            doc_type_confidence=data["doc_type_confidence"],
            region=BBox(x0=region[0], y0=region[1], x1=region[2], y1=region[3]) if region else None,
            quality=PageQuality.model_validate(data.get("quality") or {}),
            record=record_type.model_validate(fields),
            missing=data.get("missing", {}),
            continued=data.get("continued", {}),
            form=data.get("form", ""),
        )

    def as_json(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"continued": self.continued} if self.continued else {}
        if self.form:
            extra["form"] = self.form
        return {
            "id": self.id,
            "file": self.file,
            "pages": self.pages,
            **extra,
            "doc_type": self.doc_type.value,
            "doc_type_confidence": round(self.doc_type_confidence, 4),
            "region": self.region.as_list() if self.region else None,
            "quality": self.quality.model_dump(mode="json", exclude_none=True),
            "fields": {key: f.as_json() for key, f in self.fields.items()},
            "missing": self.missing,
        }


def _field_from_json(data: dict[str, Any]) -> dict[str, Any]:
    """An `ExtractedField.as_json` dict as the field's constructor arguments."""
    box = data.get("bbox")
    return {
        "value": data["value"],
        "confidence": data["confidence"],
        "page": box[0] if box else None,
        "bbox": BBox(x0=box[1], y0=box[2], x1=box[3], y1=box[4]) if box else None,
        "raw": data.get("raw", ""),
        "note": data.get("note"),
    }


R = TypeVar("R", bound=Record)


def records_of(documents: list[Document], kind: type[R]) -> list[R]:
    """The typed records of the documents of one kind (`MedicalInvoice`, `ExpenseList`…):
    fields read as attributes with their types, not by string key."""
    return [d.record for d in documents if isinstance(d.record, kind)]


def value(found: ExtractedField[T] | None) -> T | None:
    """A field's value, or None when it was not read."""
    return found.value if found is not None else None
