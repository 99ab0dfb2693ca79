"""Reviewer corrections: rebuild a claim's documents from its stored result, apply the audit
trail, and validate (and calculate) again without reading a page twice.

Corrections are data in the claim store (`corrections` table), never edits of the uploads.
Actions:
- `edit`: a field gets the reviewer's value (confidence 1.0, the box kept);
- `confirm`: the field's value stands as read (no low-confidence flag any more);
- `doc_type`: the document is of another type (fields that type does not have are dropped);
- `unreadable`: the reviewer cannot read the page: the claimant is asked for a new photo.
- `rotate`: the page is shown turned; recorded for the audit trail and for the viewer.
"""

from __future__ import annotations

import logging
from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from flows.claim import claim_result, evaluate_bundle
from pipeline.bundle import ClaimBundle, ClaimManifest, FileProblem
from pipeline.errors import IntakeError
from pipeline.models import BBox, PageQuality, QualityFlag
from pipeline.records import RECORD_TYPES, DocType, Document, ExtractedField, Record
from pipeline.store import ClaimStore, CorrectionRow
from validators.duplicates import invoice_keys

log = logging.getLogger(__name__)

ACTIONS = ("edit", "confirm", "doc_type", "unreadable", "rotate")


class CorrectionError(IntakeError):
    """A reviewer's input that cannot be applied (wrong format, unknown field or document)."""

    reason = "invalid_correction"


def _field_from_json(data: dict[str, Any]) -> dict[str, Any]:
    box = data.get("bbox")
    return {
        "value": data["value"],
        "confidence": data["confidence"],
        "page": box[0] if box else None,
        "bbox": BBox(x0=box[1], y0=box[2], x1=box[3], y1=box[4]) if box else None,
        "raw": data.get("raw", ""),
        "note": data.get("note"),
    }


def _record(doc_type: DocType, fields: dict[str, dict[str, Any]]) -> Record:
    record_type = RECORD_TYPES[doc_type]
    known = {k: v for k, v in fields.items() if k in record_type.model_fields}
    return record_type.model_validate(known)


def document_from_json(data: dict[str, Any]) -> Document:
    """The inverse of `Document.as_json` (typed values, boxes and quality restored)."""
    doc_type = DocType(data["doc_type"])
    region = data.get("region")
    return Document(
        id=data["id"],
        file=data["file"],
        pages=data["pages"],
        doc_type=doc_type,
        doc_type_confidence=data["doc_type_confidence"],
        region=BBox(x0=region[0], y0=region[1], x1=region[2], y1=region[3]) if region else None,
        quality=PageQuality.model_validate(data.get("quality") or {}),
        record=_record(doc_type, {k: _field_from_json(f) for k, f in data["fields"].items()}),
        missing=data.get("missing", {}),
    )


def _field_dumps(document: Document) -> dict[str, dict[str, Any]]:
    return {key: dict(found) for key, found in document.fields.items()}


def parse_field_value(doc_type: DocType, key: str, text: str) -> Any:
    """A reviewer's text as the field's typed value; a clear error when it does not fit."""
    record_type = RECORD_TYPES[doc_type]
    if key not in record_type.model_fields:
        raise CorrectionError(f"a {doc_type.value} has no field {key!r}")
    try:
        record = record_type.model_validate({key: {"value": text.strip(), "confidence": 1.0}})
    except ValidationError as exc:
        hint = exc.errors()[0]["msg"]
        raise CorrectionError(
            f"{key}: {text!r} is not a valid value ({hint}); dates are written 2026-03-01, "
            "amounts 1234.56"
        ) from exc
    value = getattr(record, key).value
    if isinstance(value, list):
        raise CorrectionError(f"{key} is a table; correct its rows in the expense list")
    return value


def _json_value(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def apply_correction(documents: list[Document], correction: CorrectionRow) -> None:
    """Apply one audit-trail entry to the documents, in place."""
    document = next((d for d in documents if d.id == correction.doc_id), None)
    if document is None:
        log.warning("correction %s names an unknown document; ignored", correction.id)
        return
    if correction.action == "edit":
        value = parse_field_value(document.doc_type, correction.key, str(correction.new_value))
        fields = _field_dumps(document)
        before = fields.get(correction.key, {})
        fields[correction.key] = {
            **before,
            "value": value,
            "confidence": 1.0,
            "raw": str(correction.new_value),
            "note": f"corrected by {correction.reviewer}",
        }
        document.record = RECORD_TYPES[document.doc_type].model_validate(fields)
        document.missing.pop(correction.key, None)
    elif correction.action == "doc_type":
        new_type = DocType(str(correction.new_value))
        document.record = _record(new_type, _field_dumps(document))
        document.doc_type = new_type
        document.doc_type_confidence = 1.0
    elif correction.action == "unreadable":
        flags = [*document.quality.flags, QualityFlag.MARKED_UNREADABLE]
        document.quality = document.quality.model_copy(update={"flags": flags})


def current_value(document: Document, key: str) -> Any:
    found: ExtractedField[Any] | None = document.fields.get(key)
    return _json_value(found.value) if found is not None else None


def revalidate(store: ClaimStore, claim_id: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Validate a stored claim again with its corrections; store and return the new result.

    Returns (result, reimbursement); the reimbursement is None unless the claim is complete.
    """
    row = store.get_claim(claim_id)
    if row is None:
        raise CorrectionError(f"claim {claim_id} has no stored result yet; process it first")
    stored = row.result
    documents = [document_from_json(d) for d in stored.get("documents", [])]
    for correction in store.corrections(claim_id):
        apply_correction(documents, correction)
    bundle = ClaimBundle(
        manifest=ClaimManifest.parse_data(row.manifest),
        documents=documents,
        file_problems=[FileProblem.model_validate(p) for p in stored.get("file_problems", [])],
        confirmed_fields=store.confirmed_fields(claim_id),
    )
    outcome, reimbursement = evaluate_bundle(bundle, store)
    result = claim_result(bundle, outcome, reimbursement)
    store.save_result(result, row.manifest, invoice_keys(bundle), row.content_hash)
    if reimbursement is not None:
        store.save_calculation(claim_id, str(reimbursement.get("inputs_digest", "")), reimbursement)
    return result, reimbursement
