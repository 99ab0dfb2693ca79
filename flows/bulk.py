"""Back-office bulk scans: one scanner PDF holding the documents of several claimants.

The documents are found as for any file; they are then grouped into prospective claims by
the patient's ID number (from ID cards and invoices), the name where no number was read, and
otherwise by position (a document belongs to the claimant whose documents surround it). Each
group's pages are written to a new PDF; the group waits for a manifest from the operator.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.records import DocType, Document

ID_KEYS = {
    DocType.ID_CARD: "id_number",
    DocType.MEDICAL_INVOICE: "payer_id_number",
    DocType.SOCIAL_SECURITY_CARD: "id_number",
    DocType.FILING_RECORD: "id_number",
    DocType.REFERRAL_FORM: "id_number",
    DocType.RESIDENCE_PERMIT: "id_number",
}
NAME_KEYS = ("name", "payer_name", "patient_name", "employee_name")


@dataclass(slots=True)
class ClaimGroup:
    """The documents of one claimant found in a bulk scan."""

    id_number: str | None
    name: str | None
    documents: list[Document] = field(default_factory=list)

    @property
    def pages(self) -> list[int]:
        return sorted({p for d in self.documents for p in d.pages})


def _identity(document: Document) -> tuple[str | None, str | None]:
    key = ID_KEYS.get(document.doc_type)
    number = document.fields.get(key) if key else None
    name = next((document.fields[k] for k in NAME_KEYS if k in document.fields), None)
    return (
        str(number.value) if number is not None else None,
        str(name.value) if name is not None else None,
    )


def _find_group(
    groups: list[ClaimGroup], number: str | None, name: str | None
) -> ClaimGroup | None:
    for group in groups:
        if number and group.id_number == number:
            return group
    for group in groups:
        if name and group.name == name and not (number and group.id_number):
            return group
    return None


def group_by_claimant(documents: list[Document]) -> list[ClaimGroup]:
    """Group documents by claimant; an unidentified document joins the current claimant."""
    starts_claim = (DocType.ID_CARD, DocType.SOCIAL_SECURITY_CARD)
    groups: list[ClaimGroup] = []
    for document in documents:
        number, name = _identity(document)
        group = _find_group(groups, number, name)
        if group is None:
            new_card = document.doc_type in starts_claim and bool(number or name)
            other_person = bool(number and groups and groups[-1].id_number not in (None, number))
            if groups and not new_card and not other_person:
                group = groups[-1]
            else:
                group = ClaimGroup(number, name)
                groups.append(group)
        group.id_number = group.id_number or number
        group.name = group.name or name
        group.documents.append(document)
    return groups


def group_claim_id(scan_key: str, index: int) -> str:
    """A stable claim id per group: the same scan always yields the same ids (idempotent)."""
    digest = hashlib.sha256(scan_key.encode()).hexdigest()[:10]
    return f"BULK-{digest}-{index:02d}"


def write_group_pdf(source: Path, pages: list[int], target: Path) -> Path:
    """Copy the group's pages of the scanner PDF into a new PDF (the original is untouched)."""
    import pypdfium2 as pdfium

    original = pdfium.PdfDocument(str(source))
    try:
        output = pdfium.PdfDocument.new()
        output.import_pages(original, pages)
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as fh:
            output.save(fh)
        output.close()
    finally:
        original.close()
    return target
