"""Claimant uploads from a phone: a draft claim, photos PUT straight to S3, a quality verdict.

The browser PUTs each photo to a presigned URL under `claims/<claim_id>/` (the app never
carries the bytes in); the app then reads the stored photo back and judges it with the same
image checks the pipeline uses (blur, glare, cut-off, resolution). The claim becomes pending
for the pipeline only when the claimant submits it: that writes its `claim.json`, and only
once every required document has a usable photo (or PDF). A photo with a warning (glare, a
black-and-white copy) keeps its advice; a copy where the original is required must be retaken.

A usable file is then read once in the background (the pipeline's reader and extractors, one
file at a time) to check that it is the document its slot asks for. A file that turns out to be
another document (an ID card photo in the invoice slot) is kept and counted for what it is; the
slot it was put in still asks for its own document. Until that read is done the slot is not
counted, so a claim cannot be submitted on a guess.
"""

from __future__ import annotations

import json
import logging
import secrets
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import JSON, DateTime, String, select
from sqlalchemy.orm import Mapped, mapped_column

from extractors.extract import extract_documents
from infra.storage import ObjectStore, upload_key, validate_key_part
from infra.store import ClaimStore
from pipeline.bundle import MANIFEST, CareType, ClaimBundle, ClaimManifest, ClaimType
from pipeline.errors import IntakeError
from pipeline.models import QualityFlag
from pipeline.ocr.registry import get_engine
from pipeline.reader import PageImage, iter_page_images, read_file
from pipeline.records import DocType
from pipeline.settings import Settings
from validators.completeness import NAMES, requirements
from validators.rules import rules_for_region
from webapp.accounts import WebBase
from webapp.reread import OCR_LOCK

log = logging.getLogger(__name__)

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".heic", ".heif", ".webp", ".tif", ".tiff", ".pdf"}

RETAKE_ADVICE = {
    QualityFlag.BLUR: "the photo is blurred: hold the phone still, tap to focus, and retake it",
    QualityFlag.GLARE: "light reflects off the paper: tilt the phone or turn off the flash",
    QualityFlag.CUT_OFF: "part of the document is outside the picture: step back so all four "
    "corners show",
    QualityFlag.LOW_RESOLUTION: "the document is too small in the picture: move closer",
    QualityFlag.TOO_DARK: "the photo is too dark: find more light",
    QualityFlag.GRAYSCALE_COPY: "this looks like a black-and-white copy: photograph the original",
}


ORIGINALS = frozenset({"medical_invoice", "id_card", "social_security_card"})


class SlotCheck(BaseModel):
    """Whether an uploaded file is the document its slot asks for (read in the background)."""

    state: Literal["pending", "done", "failed"]
    doc_types: list[str] = Field(default_factory=list, description="claim documents found")
    matches: bool | None = None


def slot_check(entry: dict[str, Any]) -> SlotCheck | None:
    found = entry.get("kind")
    return SlotCheck.model_validate(found) if found else None


def counted_for(entry: dict[str, Any]) -> set[str]:
    """The documents a file counts for: none until usable and read; what it turned out to be
    when that is not its slot's document; else its slot (also when the read could not tell)."""
    if not (entry.get("verdict") or {}).get("usable"):
        return set()
    check = slot_check(entry)
    if check is None or check.state == "failed":
        return {str(entry.get("slot", ""))}
    if check.state == "pending":
        return set()
    if check.matches is False:
        return set(check.doc_types)
    return {str(entry.get("slot", ""))}


class UploadError(IntakeError):
    reason = "upload_refused"

    def __init__(
        self, message: str, missing: list[str] | None = None, checking: bool = False
    ) -> None:
        super().__init__(message)
        self.missing = missing or []
        self.checking = checking


def _now() -> datetime:
    return datetime.now(UTC)


class DraftRow(WebBase):
    __tablename__ = "web_upload_drafts"

    claim_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(32), index=True)
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON)
    files: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


@dataclass(frozen=True, slots=True)
class Verdict:
    usable: bool
    flags: list[str]
    advice: list[str]

    def as_json(self) -> dict[str, Any]:
        return {"usable": self.usable, "flags": self.flags, "advice": self.advice}


def new_claim_id() -> str:
    return f"U-{date.today():%Y%m%d}-{secrets.token_hex(3).upper()}"


def checklist(manifest: ClaimManifest, files: dict[str, Any]) -> list[dict[str, Any]]:
    """The documents this claim type needs, each with whether a usable photo is in."""
    rules = rules_for_region(manifest.insured_region)
    provided = {slot for f in files.values() for slot in counted_for(f)}
    items = []
    for requirement in requirements(ClaimBundle(manifest=manifest), rules):
        options = requirement if isinstance(requirement, tuple) else (requirement,)
        slot = options[0].value
        items.append(
            {
                "slot": slot,
                "name": " or ".join(NAMES.get(o.value, o.value) for o in options),
                "options": [o.value for o in options],
                "done": any(o.value in provided for o in options),
            }
        )
    return items


def judge_photo(path: Path, settings: Settings) -> Verdict:
    """The pipeline's own image checks on the first page of an uploaded photo."""
    try:
        first = next(iter(iter_page_images(path, settings)), None)
    except IntakeError as exc:  # named as uploaded, not as the server's scratch copy
        return Verdict(False, [exc.reason], [str(exc.rename(path.name, path))])
    if not isinstance(first, PageImage):
        return Verdict(True, [], [])  # a PDF with a text layer: nothing to judge
    flags = [QualityFlag(f) for f in first.quality.flags]
    return Verdict(
        usable=first.quality.usable,
        flags=[f.value for f in flags],
        advice=[RETAKE_ADVICE[f] for f in flags if f in RETAKE_ADVICE],
    )


def for_slot(verdict: Verdict, slot: str) -> Verdict:
    """A black-and-white copy is no good where the original is required."""
    if slot in ORIGINALS and QualityFlag.GRAYSCALE_COPY.value in verdict.flags:
        return Verdict(False, verdict.flags, verdict.advice)
    return verdict


class Uploads:
    """Draft claims of claimants, over the claim store's database and the object store."""

    def __init__(self, store: ClaimStore, objects: ObjectStore, settings: Settings) -> None:
        self.store = store
        self.objects = objects
        self.settings = settings
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="intake-slot-check")
        self._reading: dict[tuple[str, str], Future[SlotCheck]] = {}
        WebBase.metadata.create_all(store.engine)

    def start(self, owner: str, fields: dict[str, Any]) -> DraftRow:
        claim_id = new_claim_id()
        manifest = ClaimManifest.parse_data(
            {"claim_id": claim_id, "submitted_on": date.today().isoformat(), **fields}
        )
        row = DraftRow(
            claim_id=claim_id,
            owner=owner,
            manifest=manifest.model_dump(mode="json"),
            files={},
            created_at=_now(),
        )
        with self.store.session() as session:
            session.add(row)
        return row

    def draft(self, claim_id: str, owner: str) -> DraftRow:
        """The caller's own draft; someone else's draft is reported as not found."""
        with self.store.session() as session:
            row = session.get(DraftRow, claim_id)
        if row is None or row.owner != owner:
            raise LookupError(claim_id)
        return row

    def presign(self, claim_id: str, owner: str, slot: str, filename: str) -> dict[str, str]:
        draft = self.draft(claim_id, owner)
        if draft.submitted_at is not None:
            raise UploadError("this claim was submitted already; start a new one to add photos")
        suffix = Path(filename).suffix.lower()
        if suffix not in PHOTO_SUFFIXES:
            raise UploadError(
                f"{suffix or 'a file without extension'} is not accepted: upload a photo "
                "(JPEG, PNG, HEIC) or a PDF"
            )
        if slot not in {item["slot"] for item in self.checklist(draft)} | {"other"}:
            raise UploadError(f"{slot!r} is not a document this claim needs")
        name = validate_key_part(
            f"{len(draft.files) + 1:02d}_{slot}_{secrets.token_hex(2)}{suffix}"
        )
        url = self.objects.presigned_put(claim_id, name, self.settings.web_presign_seconds)
        self._update_files(claim_id, name, {"slot": slot, "verdict": None})
        return {"name": name, "url": url}

    def check(self, claim_id: str, owner: str, name: str) -> Verdict:
        draft = self.draft(claim_id, owner)
        if name not in draft.files:
            raise LookupError(name)
        key = upload_key(claim_id, name)
        stored = self.objects.stat(key)
        if stored.size > self.settings.web_max_upload_bytes:
            verdict = Verdict(
                False,
                ["too_large"],
                [
                    f"the photo is {stored.size // 1_000_000} MB; the limit is "
                    f"{self.settings.web_max_upload_bytes // 1_000_000} MB"
                ],
            )
        else:
            with tempfile.TemporaryDirectory(prefix="intake-upload-") as work:
                local = self.objects.get_file(key, Path(work) / name)
                verdict = judge_photo(local, self.settings)
            verdict = for_slot(verdict, str(draft.files[name].get("slot", "")))
        slot = str(draft.files[name].get("slot", ""))
        entry: dict[str, Any] = {**draft.files[name], "verdict": verdict.as_json(), "kind": None}
        if verdict.usable and slot != "other":
            entry["kind"] = SlotCheck(state="pending").model_dump()
        self._update_files(claim_id, name, entry)
        if entry["kind"]:
            options = next(
                (i["options"] for i in self.checklist(draft) if i["slot"] == slot), [slot]
            )
            self.check_slot_later(claim_id, name, options)
        return verdict

    def check_slot_later(self, claim_id: str, name: str, options: list[str]) -> Future[SlotCheck]:
        """Read the file once in the background and record whether it is one of `options`."""
        job = self._reader.submit(self._check_slot, claim_id, name, options)
        self._reading[(claim_id, name)] = job
        job.add_done_callback(lambda _: self._reading.pop((claim_id, name), None))
        return job

    def resume_checks(self, draft: DraftRow) -> None:
        """Files left waiting by a restarted server are queued again (never stuck pending)."""
        items = self.checklist(draft)
        for name, entry in draft.files.items():
            check = slot_check(entry)
            if check is None or check.state != "pending" or (draft.claim_id, name) in self._reading:
                continue
            slot = str(entry.get("slot", ""))
            options = next((i["options"] for i in items if i["slot"] == slot), [slot])
            self.check_slot_later(draft.claim_id, name, options)

    def _check_slot(self, claim_id: str, name: str, options: list[str]) -> SlotCheck:
        try:
            with tempfile.TemporaryDirectory(prefix="intake-slot-") as work:
                local = self.objects.get_file(upload_key(claim_id, name), Path(work) / name)
                with OCR_LOCK:
                    engine = get_engine(settings=self.settings)
                    read = read_file(local, engine=engine, settings=self.settings)
                documents = extract_documents(read)
            found = sorted({d.doc_type.value for d in documents if d.doc_type is not DocType.OTHER})
            # nothing recognisable: the reviewer will judge it; never refuse on a guess
            check = SlotCheck(
                state="done", doc_types=found, matches=not found or bool(set(found) & set(options))
            )
        except Exception:
            log.exception("could not read %s of %s to check its slot", name, claim_id)
            check = SlotCheck(state="failed")
        with self.store.session() as session:
            row = session.get(DraftRow, claim_id, with_for_update=True)
            if row is not None and name in row.files:
                row.files = {**row.files, name: {**row.files[name], "kind": check.model_dump()}}
        return check

    def checklist(self, draft: DraftRow) -> list[dict[str, Any]]:
        return checklist(ClaimManifest.parse_data(draft.manifest), draft.files)

    def submit(self, claim_id: str, owner: str) -> DraftRow:
        """Write the manifest: from now on the pipeline sees a pending claim."""
        draft = self.draft(claim_id, owner)
        if not any((f.get("verdict") or {}).get("usable") for f in draft.files.values()):
            raise UploadError("add at least one usable photo before submitting")
        checking = [
            n
            for n, f in draft.files.items()
            if (slot_check(f) or SlotCheck(state="done")).state == "pending"
        ]
        missing = [item["slot"] for item in self.checklist(draft) if not item["done"]]
        if checking and missing:
            raise UploadError("files are still being read; wait a moment", missing, checking=True)
        if missing:
            raise UploadError(
                f"required documents are missing: {', '.join(missing)}", missing=missing
            )
        manifest = json.dumps(draft.manifest, ensure_ascii=False).encode()
        self.objects.put_bytes(claim_id, MANIFEST, manifest, "application/json")
        with self.store.session() as session:
            row = session.get(DraftRow, claim_id)
            assert row is not None
            row.submitted_at = row.submitted_at or _now()
            return row

    def claims_of(self, owner: str) -> list[str]:
        """The claims this claimant submitted, newest first."""
        with self.store.session() as session:
            rows = session.scalars(
                select(DraftRow.claim_id)
                .where(DraftRow.owner == owner, DraftRow.submitted_at.is_not(None))
                .order_by(DraftRow.created_at.desc())
            )
            return list(rows)

    def _update_files(self, claim_id: str, name: str, entry: dict[str, Any]) -> None:
        with self.store.session() as session:
            row = session.get(DraftRow, claim_id, with_for_update=True)
            assert row is not None
            row.files = {**row.files, name: entry}


def care_and_claim_types() -> tuple[list[str], list[str]]:
    return [c.value for c in ClaimType], [c.value for c in CareType]
