"""Reviewer corrections: rebuild a claim's documents from its stored result, apply the audit
trail, and validate (and calculate) again without reading a page twice.

Corrections are data in the claim store (`corrections` table), never edits of the uploads.
Actions:
- `edit`: a field gets the reviewer's value (confidence 1.0, the box kept);
- `confirm`: the field's value stands as read (no low-confidence flag any more);
- `doc_type`: the document is of another type (fields that type does not have are dropped);
- `unreadable`: the reviewer cannot read the page: the claimant is asked for a new photo.
- `rotate`: the page is shown turned; recorded for the audit trail and for the viewer.
- `reextract`: the turned page was read again; the document as read then replaces its fields
  (recorded by the review app with the document's new JSON in `new_value["document"]`).
- `split`, `merge`: documents split or merged by the reviewer; `new_value["documents"]` holds
  the resulting documents' JSON (replacing those ids, or added after the document), and
  `new_value["removed"]` the ids merged away.
- `decision`: the reviewer's decision on the whole claim (approve, return to the claimant with
  the documents to bring, reject), with its reason; it changes no field.
- `contradiction`: the reviewer's decision that a document really contradicts itself on the
  paper (合计 大写 ≠ 小写), naming the amount that governs (`key`: `total_amount` for 小写,
  `total_amount_words` for 大写), with its reason; both amounts as read then are kept
  (`old_value`). It changes no field: while both still read so, the mismatch is no longer an
  open issue (the fields carry a note saying it was decided) and the calculation takes the
  governing amount as the invoice's 合计.

An edit or a confirmation must pass the field's own check (an ID number's check digit, an
invoice code's format, a date not in the future): a value that fails it is refused, never
recorded as confirmed. Table fields (`items`, expense `lines`) are edited as whole tables.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from decimal import Decimal
from typing import Any, Literal, get_args

from pydantic import BaseModel, ValidationError

from claims.calculation import calculate_claim
from claims.service import conclude, evaluate
from infra.store import ClaimStore, CorrectionRow
from pipeline.bundle import (
    ClaimBundle,
    ClaimManifest,
    ClaimStatus,
    FileProblem,
    IssueCode,
    ValidationIssue,
)
from pipeline.calculator import ReimbursementResult
from pipeline.errors import IntakeError
from pipeline.models import QualityFlag
from pipeline.normalize import (
    id_checksum_valid,
    is_masked_id_number,
    normalize_id_number,
    normalize_sex,
    parse_capital_amount,
    parse_date,
    parse_decimal,
    parse_money,
    to_halfwidth,
)
from pipeline.records import (
    RECORD_TYPES,
    DocType,
    Document,
    ExpenseLine,
    ExtractedField,
    InvoiceItem,
    Record,
)
from pipeline.result import ClaimResult
from pipeline.wording import with_article
from validators.consistency import resolve_agent_cards
from validators.rules import rules_for_region
from validators.validate import Outcome, decide_status, validate

log = logging.getLogger(__name__)

ACTIONS = ("edit", "confirm", "doc_type", "unreadable", "rotate")
DECISION = "decision"
CONTRADICTION = "contradiction"
AmountSide = Literal["total_amount", "total_amount_words"]  # 小写, 大写
AMOUNT_SIDES: tuple[AmountSide, AmountSide] = ("total_amount", "total_amount_words")
ID_NUMBER_KEYS = frozenset({"id_number", "payer_id_number"})
FORMATS = {"invoice_code": r"\d{8,12}", "invoice_number": r"\d{6,12}"}
TABLE_COLUMNS = {
    "items": ("name", "amount"),
    "lines": (
        "name",
        "category",
        "spec",
        "unit",
        "quantity",
        "unit_price",
        "amount",
        "self_pay_ratio",
        "page",
    ),
}


class CorrectionError(IntakeError):
    """A reviewer's input that cannot be applied (wrong format, unknown field or document).

    `kind` names the problem for the catalogues (`error.correction_<kind>`), `field` the key.
    """

    reason = "invalid_correction"

    def __init__(self, message: str, kind: str = "invalid_value", field: str = "") -> None:
        super().__init__(message)
        self.kind = kind
        self.field = field


def _record(doc_type: DocType, fields: dict[str, dict[str, Any]]) -> Record:
    record_type = RECORD_TYPES[doc_type]
    known = {k: v for k, v in fields.items() if k in record_type.model_fields}
    return record_type.model_validate(known)


def _field_dumps(document: Document) -> dict[str, dict[str, Any]]:
    return {key: dict(found) for key, found in document.fields.items()}


def parse_field_value(doc_type: DocType, key: str, text: str) -> Any:
    """A reviewer's text as the field's typed value; a clear error when it does not fit."""
    record_type = RECORD_TYPES[doc_type]
    if key not in record_type.model_fields:
        raise CorrectionError(
            f"{with_article(doc_type.value)} has no field {key!r}", "no_field", key
        )
    if key in TABLE_COLUMNS:
        raise CorrectionError(f"{key} is a table; correct its rows in the table", "table", key)
    try:
        record = record_type.model_validate({key: {"value": text.strip(), "confidence": 1.0}})
    except ValidationError as exc:
        hint = exc.errors()[0]["msg"]
        raise CorrectionError(
            f"{key}: {text!r} is not a valid value ({hint}); dates are written 2026-03-01, "
            "amounts 1234.56",
            "invalid_value",
            key,
        ) from exc
    value = getattr(record, key).value
    if isinstance(value, list):
        raise CorrectionError(f"{key} is a table; correct its rows in the table", "table", key)
    return value


def parse_table_value(doc_type: DocType, key: str, rows: list[dict[str, str]]) -> list[Any]:
    """A reviewer's table (rows of column texts) as the field's typed rows; blank rows dropped."""
    record_type = RECORD_TYPES[doc_type]
    if key not in record_type.model_fields or key not in TABLE_COLUMNS:
        raise CorrectionError(
            f"{with_article(doc_type.value)} has no table {key!r}", "no_field", key
        )
    cleaned = []
    for row in rows:
        cells = {c: (row.get(c) or "").strip() for c in TABLE_COLUMNS[key]}
        if not any(cells.values()):
            continue
        cleaned.append({c: v for c, v in cells.items() if v != ""})
    try:
        record = record_type.model_validate({key: {"value": cleaned, "confidence": 1.0}})
    except ValidationError as exc:
        error = exc.errors()[0]
        where = [p for p in error["loc"] if isinstance(p, int)]
        row_number = where[0] + 1 if where else 0
        raise CorrectionError(
            f"{key}: row {row_number} is not valid ({error['msg']}); every row needs a name and "
            "an amount like 1234.56",
            "table_row",
            key,
        ) from exc
    value: list[Any] = getattr(record, key).value
    return value


def check_field_value(document: Document, key: str, value: Any) -> None:
    """The field's own check: refuse a value that the validators would flag by itself."""
    if (
        key in ID_NUMBER_KEYS
        and isinstance(value, str)
        and not id_checksum_valid(value)
        and not (document.doc_type is DocType.FILING_RECORD and is_masked_id_number(value))
    ):
        raise CorrectionError(
            f"{key}: {value} is not a valid ID number (18 characters, GB 11643 check digit)",
            "id_checksum",
            key,
        )
    pattern = FORMATS.get(key)
    if (
        pattern
        and document.doc_type is DocType.MEDICAL_INVOICE
        and isinstance(value, str)
        and not re.fullmatch(pattern, value)
    ):
        raise CorrectionError(f"{key}: {value!r} does not have the expected format", "format", key)
    if isinstance(value, date) and key != "valid_until" and value > date.today():
        raise CorrectionError(f"{key}: {value} is in the future", "future_date", key)
    if isinstance(value, Decimal) and value < 0:
        raise CorrectionError(f"{key}: {value} is negative", "negative", key)


TABLE_ROWS: dict[str, type[InvoiceItem | ExpenseLine]] = {
    "items": InvoiceItem,
    "lines": ExpenseLine,
}
MONEY_COLUMNS = frozenset({"amount", "unit_price"})
_CAPITAL_RUN = re.compile(r"[零〇壹贰貳叁參肆伍陆陸柒捌玖拾佰仟万萬亿億元圆角分整]+")
_ID_RUN = re.compile(r"[0-9][0-9*Xx]{14,17}")
_LABEL = re.compile(r"^[^:：]{1,10}[:：]\s*")


def _value_type(doc_type: DocType, key: str, column: str = "") -> Any:
    """The Python type of a field's value (or of a table column's cells); None if unknown."""
    info = RECORD_TYPES[doc_type].model_fields.get(key)
    if info is None:
        return None
    if column:
        row = TABLE_ROWS.get(key)
        cell = row.model_fields.get(column) if row else None
        if cell is None:
            return None
        options = get_args(cell.annotation) or (cell.annotation,)
        return next((a for a in options if a is not type(None)), None)
    field = next((a for a in get_args(info.annotation) if a is not type(None)), None)
    value = getattr(field, "model_fields", {}).get("value")
    return value.annotation if value is not None else None


def _amount_text(key: str, column: str, text: str) -> str | None:
    """An amount picked on the page as the editor writes it: 1234.50 (大写 words parsed)."""
    if key.endswith("_words") or (not re.search(r"\d", text) and _CAPITAL_RUN.search(text)):
        for run in _CAPITAL_RUN.findall(text):
            words = parse_capital_amount(run)
            if words is not None:
                return f"{words:.2f}"
    if column and column not in MONEY_COLUMNS:
        number = parse_decimal(text)
        return str(number) if number is not None else None
    money = parse_money(text)
    return f"{money:.2f}" if money is not None else None


def field_text(doc_type: DocType, key: str, text: str, column: str = "") -> str:
    """Text a reviewer picked on the page image, written the way the field editor accepts it
    (amounts 1234.56, dates 2026-03-01, ID numbers upper-case, labels like 姓名： dropped), so
    saving it is not refused for its form; text that does not parse is given back as it is."""
    text = text.strip()
    kind = _value_type(doc_type, key, column)
    if kind is Decimal:
        return _amount_text(key, column, text) or text
    if kind is date:
        found = parse_date(text)
        return found.isoformat() if found else text
    value = _LABEL.sub("", text) or text
    if key in ID_NUMBER_KEYS:
        run = _ID_RUN.search(to_halfwidth(value))
        return normalize_id_number(run.group()) if run else value
    if key == "sex":
        return normalize_sex(value.removeprefix("性别")) or value
    return value


def _json_value(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


RESTRUCTURE = ("split", "merge")


def _restructure(documents: list[Document], after: Document, change: dict[str, Any]) -> None:
    """Documents replaced by (or added as) their recorded JSON; merged-away ones removed."""
    anchor = documents.index(after)
    for data in change.get("documents", []):
        fresh = Document.from_json(data)
        at = next((i for i, d in enumerate(documents) if d.id == fresh.id), None)
        if at is None:
            anchor += 1
            documents.insert(anchor, fresh)
        else:
            documents[at] = fresh
    removed = set(change.get("removed", []))
    documents[:] = [d for d in documents if d.id not in removed]


def apply_correction(documents: list[Document], correction: CorrectionRow) -> None:
    """Apply one audit-trail entry to the documents, in place."""
    document = next((d for d in documents if d.id == correction.doc_id), None)
    if document is None:
        log.warning("correction %s names an unknown document; ignored", correction.id)
        return
    if correction.action == "edit":
        value: Any
        if isinstance(correction.new_value, list):
            value = parse_table_value(document.doc_type, correction.key, correction.new_value)
            raw = f"{len(value)} rows"
        else:
            value = parse_field_value(document.doc_type, correction.key, str(correction.new_value))
            raw = str(correction.new_value)
        fields = _field_dumps(document)
        before = fields.get(correction.key, {})
        fields[correction.key] = {
            **before,
            "value": value,
            "confidence": 1.0,
            "raw": raw,
            "note": f"corrected by {correction.reviewer}",
        }
        document.record = RECORD_TYPES[document.doc_type].model_validate(fields)
        document.missing.pop(correction.key, None)
    elif correction.action == "doc_type":
        new_type = DocType(str(correction.new_value))
        document.record = _record(new_type, _field_dumps(document))
        document.doc_type = new_type
        document.doc_type_confidence = 1.0
    elif correction.action == "reextract" and isinstance(correction.new_value, dict):
        data = correction.new_value.get("document")
        if data:
            fresh = Document.from_json(data)
            document.doc_type = fresh.doc_type
            document.doc_type_confidence = fresh.doc_type_confidence
            document.record = fresh.record
            document.missing = fresh.missing
    elif correction.action in RESTRUCTURE and isinstance(correction.new_value, dict):
        _restructure(documents, document, correction.new_value)
    elif correction.action == "unreadable":
        flags = [*document.quality.flags, QualityFlag.MARKED_UNREADABLE]
        document.quality = document.quality.model_copy(update={"flags": flags})


def current_value(document: Document, key: str) -> Any:
    found: ExtractedField[Any] | None = document.fields.get(key)
    if found is None:
        return None
    if isinstance(found.value, list):
        return found.as_json()["value"]
    return _json_value(found.value)


def current_typed_value(document: Document, key: str) -> Any:
    """The field's value as typed (date, Decimal, str), for its own check."""
    found: ExtractedField[Any] | None = document.fields.get(key)
    return found.value if found is not None else None


class Contradiction(BaseModel):
    """A document the reviewer found contradicting itself on the paper, and what governs."""

    doc_id: str
    governs: AmountSide
    amounts: dict[str, str | None]  # both sides as read when decided
    reviewer: str
    reason: str


def amounts_of(document: Document) -> dict[str, str | None]:
    """合计 in figures and in words, as the review page shows them."""
    return {
        key: None if (value := current_value(document, key)) is None else str(value)
        for key in AMOUNT_SIDES
    }


def contradictions(corrections: list[CorrectionRow]) -> dict[str, Contradiction]:
    """The latest contradiction decision per document, from the audit trail."""
    decided: dict[str, Contradiction] = {}
    for c in corrections:
        if c.action == CONTRADICTION and c.key in AMOUNT_SIDES and isinstance(c.old_value, dict):
            decided[c.doc_id] = Contradiction(
                doc_id=c.doc_id,
                governs=c.key,  # checked against AMOUNT_SIDES above
                amounts={k: c.old_value.get(k) for k in AMOUNT_SIDES},
                reviewer=c.reviewer,
                reason=c.reason,
            )
    return decided


def held_contradictions(
    bundle: ClaimBundle, decided: dict[str, Contradiction]
) -> dict[str, Contradiction]:
    """The decisions that still hold: both amounts read as when the reviewer decided (an edit
    of either amount since then reopens the question)."""
    documents = {d.id: d for d in bundle.documents}
    return {
        doc_id: c
        for doc_id, c in decided.items()
        if doc_id in documents and amounts_of(documents[doc_id]) == c.amounts
    }


def open_issues(
    issues: list[ValidationIssue], held: dict[str, Contradiction]
) -> list[ValidationIssue]:
    """The issues still open: an amount_words_mismatch on a decided document is settled."""
    return [
        i
        for i in issues
        if not (
            i.code is IssueCode.AMOUNT_WORDS_MISMATCH and i.doc_ids and set(i.doc_ids) <= set(held)
        )
    ]


def _with_fields(document: Document, changes: dict[str, dict[str, Any]]) -> Document:
    fields = _field_dumps(document)
    for key, change in changes.items():
        if key in fields:
            fields[key] = {**fields[key], **change}
    record = RECORD_TYPES[document.doc_type].model_validate(fields)
    return document.model_copy(update={"record": record})


def _noted(bundle: ClaimBundle, held: dict[str, Contradiction]) -> ClaimBundle:
    """Both amounts say, in the result, that the contradiction was decided and which governs."""
    documents = []
    for document in bundle.documents:
        c = held.get(document.id)
        if c is not None:
            note = f"the paper contradicts itself: {c.governs} governs (decided by {c.reviewer})"
            document = _with_fields(document, {k: {"note": note} for k in AMOUNT_SIDES})
        documents.append(document)
    return bundle.model_copy(update={"documents": documents})


def governed(bundle: ClaimBundle, held: dict[str, Contradiction]) -> ClaimBundle:
    """The bundle the calculation reads: where the 大写 amount governs, it is the 合计."""
    documents = []
    for document in bundle.documents:
        c = held.get(document.id)
        words = document.fields.get("total_amount_words")
        if c is not None and c.governs == "total_amount_words" and words is not None:
            document = _with_fields(document, {"total_amount": {"value": words.value}})
        documents.append(document)
    return bundle.model_copy(update={"documents": documents})


def _evaluate_decided(
    bundle: ClaimBundle, store: ClaimStore, held: dict[str, Contradiction]
) -> tuple[ClaimBundle, Outcome, ReimbursementResult | None]:
    """Validation with the decided contradictions settled: the status is decided again over
    the issues left open, and a complete claim is calculated on the governing amounts."""
    rules = rules_for_region(bundle.manifest.insured_region)
    checked = validate(bundle, rules, store)
    issues = open_issues(checked.issues, held)
    outcome = Outcome(
        decide_status(issues, checked.missing_documents, rules), issues, checked.missing_documents
    )
    reimbursement = None
    if outcome.status is ClaimStatus.COMPLETE:
        reimbursement = calculate_claim(governed(bundle, held))
    return _noted(bundle, held), outcome, reimbursement


def revalidate(store: ClaimStore, claim_id: str) -> ClaimResult:
    """Validate a stored claim again with its corrections; store and return the new result
    (its reimbursement is None unless the claim is complete)."""
    row = store.get_claim(claim_id)
    if row is None:
        raise CorrectionError(f"claim {claim_id} has no stored result yet; process it first")
    stored = row.result
    documents = [Document.from_json(d) for d in stored.get("documents", [])]
    for correction in store.corrections(claim_id):
        apply_correction(documents, correction)
    bundle = resolve_agent_cards(
        ClaimBundle(
            manifest=ClaimManifest.parse_data(row.manifest),
            documents=documents,
            file_problems=[FileProblem.model_validate(p) for p in stored.get("file_problems", [])],
            confirmed_fields=store.confirmed_fields(claim_id),
        )
    )
    held = held_contradictions(bundle, contradictions(store.corrections(claim_id)))
    if held:
        bundle, outcome, reimbursement = _evaluate_decided(bundle, store, held)
    else:
        outcome, reimbursement = evaluate(bundle, store)
    return conclude(bundle, outcome, reimbursement, store, row.content_hash)
