"""Prefect flow: a back-office scanner PDF in S3 split into claims by the claimant's ID number.

    ingest_bulk_scan("bulk/scan-2026-11-23.pdf")

1. The scan is downloaded (the object itself is never changed or deleted) and split into
   one-page PDFs, which the OCR pool reads in parallel (text layer where there is one).
2. The pages are segmented into documents as for any file, and the documents are grouped by
   claimant (`flows.bulk.group_by_claimant`: ID number, else name, else position).
3. Each group's pages are copied into one PDF, stored as an upload of a new claim
   `claims/<claim_id>/<scan name>`. The claim id is derived from the scan's key and the group's
   ID number (`bulk_claim_id`), so running the flow again on the same scan finds the same
   claims and writes nothing twice.
4. A claim without a manifest gets `claims/<claim_id>/_results/result.json` with the status
   `awaiting_manifest` and a message saying which `claim.json` to upload. Once the operator
   uploads it, the claim is pending like any other and `process_pending` picks it up; its real
   result then replaces this interim one. A claim whose manifest (or real result) already exists
   is left as it is.
5. A summary of the scan (which claims, which pages) is written to `<folder>/_results/<scan
   name>.json` beside the scan.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from extractors.extract import extract_documents
from flows.bulk import ClaimGroup, group_by_claimant, write_group_pdf
from flows.prefect_env import configure_prefect, prefect_server_errors
from flows.prefect_flows import RETRY, Runtime
from infra.storage import (
    CLAIMS,
    QUARANTINE,
    RESULT,
    RESULTS,
    SHA256_META,
    ObjectNotFoundError,
    ObjectStore,
    UploadExistsError,
    upload_key,
    validate_key,
    validate_key_part,
)
from pipeline.bundle import MANIFEST, ClaimStatus
from pipeline.errors import IntakeError, UnsupportedFileError
from pipeline.inputs import PDF_TYPE, sniff
from pipeline.models import Page, ReadResult
from pipeline.pdf import _open_pdf, _open_plumber, _refuse_active_content
from pipeline.result import AwaitingManifest, ClaimResult, ScanSource
from pipeline.settings import Settings

configure_prefect()  # only checks: flows.prefect_flows (imported above) has set them

from prefect import flow, get_run_logger, task  # noqa: E402

log = logging.getLogger(__name__)

BULK_PREFIX = "bulk/"
AWAITING_MANIFEST = ClaimStatus.AWAITING_MANIFEST.value
PENDING = ClaimStatus.PENDING.value  # a manifest is there, the claim waits for the next batch


@dataclass(frozen=True, slots=True)
class BulkClaim:
    """One claimant's share of a bulk scan, as written to S3."""

    claim_id: str
    id_number: str | None
    name: str | None
    pages: list[int]  # 0-based pages of the scan
    documents: list[str]  # document types, in page order
    file: str  # the upload under claims/<claim_id>/
    status: str  # awaiting_manifest, pending (manifest there, no result yet) or the result's


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def bulk_claim_id(scan_key: str, group: ClaimGroup, index: int) -> str:
    """A claim id from the scan's key and the claimant's ID number (else name, else position).

    The same scan always yields the same ids, so a re-run adds no claims; the ID number is
    hashed, so it does not appear in object keys or URLs."""
    identity = (
        f"id:{group.id_number}"
        if group.id_number
        else f"name:{group.name}"
        if group.name
        else f"group:{index}"
    )
    return f"BULK-{_sha256(scan_key.encode())[:10]}-{_sha256(identity.encode())[:8]}"


def summary_key(scan_key: str) -> str:
    """`bulk/x.pdf` → `bulk/_results/x.pdf.json`."""
    folder, _, name = scan_key.rpartition("/")
    return f"{folder}/{RESULTS}/{name}.json" if folder else f"{RESULTS}/{name}.json"


def _check_scan_key(key: str) -> str:
    validate_key(key)
    top = key.split("/", 1)[0]
    if top in (CLAIMS, QUARANTINE) or f"/{RESULTS}/" in f"/{key}":
        raise ValueError(
            f"{key} is not a bulk scan: scans go outside {CLAIMS}/ and {QUARANTINE}/ "
            f"(e.g. {BULK_PREFIX}<name>.pdf)"
        )
    return key


def _group_file_name(scan_key: str) -> str:
    """The name of a group's PDF inside its claim: the scan's own name, made a safe upload."""
    name = scan_key.rsplit("/", 1)[-1]
    stem = name[:-4] if name.lower().endswith(".pdf") else name
    candidate = f"{stem}.pdf".lstrip("_.") or "bulk_scan.pdf"
    return validate_key_part(candidate if candidate[0].isalnum() else f"scan{candidate}")


def split_pages(scan: Path, dest: Path, settings: Settings) -> list[Path]:
    """One PDF per page of `scan`, in page order, after the checks every uploaded PDF gets
    (size, pages, encryption, damage, active content)."""
    import pypdfium2 as pdfium

    if sniff(scan, settings).media_type != PDF_TYPE:
        raise UnsupportedFileError(
            "a bulk scan must be a PDF (scanner output); upload single images as claim files",
            path=str(scan),
        )
    original = _open_pdf(scan, settings)
    dest.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    try:
        # the same refusal as for any uploaded PDF: the split pages would not carry it along
        plumber = _open_plumber(scan)
        try:
            _refuse_active_content(original, plumber, scan)
        finally:
            if plumber is not None:
                plumber.close()
        for index in range(len(original)):
            single = pdfium.PdfDocument.new()
            try:
                single.import_pages(original, [index])
                path = dest / f"page-{index:04d}.pdf"
                with path.open("wb") as handle:
                    single.save(handle)
            finally:
                single.close()
            paths.append(path)
    finally:
        original.close()
    return paths


def read_scan(runtime: Runtime, scan: Path, workdir: Path) -> ReadResult:
    """Every page of the scan read on the OCR pool, page by page in parallel."""
    page_files = split_pages(scan, workdir / "pages", runtime.settings)
    pages: list[Page] = []
    for index, read in enumerate(runtime.pool.read_pages(page_files)):
        pages.extend(page.model_copy(update={"index": index}) for page in read.pages)
    return ReadResult(file=scan.name, media_type=PDF_TYPE, pages=pages)


def _awaiting_result(claim: BulkClaim, scan_key: str, scan_sha256: str) -> ClaimResult:
    """The interim result of a claim found in a bulk scan that has no manifest yet."""
    shown_pages = ", ".join(str(p + 1) for p in claim.pages)
    message = (
        f"claim {claim.claim_id} was found in the bulk scan {scan_key} (pages {shown_pages}, "
        f"ID number {claim.id_number or 'not read'}, name {claim.name or 'not read'}); "
        f"upload its manifest as {upload_key(claim.claim_id, MANIFEST)} with "
        f'"claim_id": "{claim.claim_id}", claim_type, care_type, insured_region, '
        "treatment_region and submitted_on, and the claim is processed with the next "
        "pending batch"
    )
    awaiting = AwaitingManifest(
        message=message,
        source=ScanSource(scan=scan_key, sha256=scan_sha256, pages=claim.pages),
        id_number=claim.id_number,
        name=claim.name,
        found_documents=claim.documents,
    )
    return ClaimResult(
        claim_id=claim.claim_id, status=ClaimStatus.AWAITING_MANIFEST, awaiting=awaiting
    )


def _store_group_file(objects: ObjectStore, claim_id: str, name: str, path: Path) -> None:
    """The group's PDF as an upload, unless the claim already has it (a re-run)."""
    if objects.exists(upload_key(claim_id, name)):
        log.info("claim %s already holds %s; not written again", claim_id, name)
        return
    try:
        objects.put_file(claim_id, name, path)
    except UploadExistsError:  # another run wrote it meanwhile
        log.info("claim %s: %s was written by another run", claim_id, name)


def _current_status(objects: ObjectStore, claim_id: str) -> str | None:
    """The status of the claim's published result, or None without a result."""
    result = objects.get_result(claim_id, RESULT)
    return str(result["status"]) if result else None


def run_bulk_scan(key: str) -> dict[str, Any]:
    """Split one bulk scan in S3 into claims (the body of `ingest_bulk_scan`); idempotent."""
    runtime = Runtime.get()
    objects = runtime.objects
    _check_scan_key(key)
    file_name = _group_file_name(key)
    claims: list[BulkClaim] = []
    with tempfile.TemporaryDirectory(prefix="intake-bulk-") as tmp:
        workdir = Path(tmp)
        scan = objects.get_file(key, workdir / "scan" / key.rsplit("/", 1)[-1])
        scan_sha256 = _sha256(scan.read_bytes())
        try:
            read = read_scan(runtime, scan, workdir)
        except IntakeError as exc:
            raise exc.rename(key, scan) from None  # the scan's key, not the scratch copy
        groups = group_by_claimant(extract_documents(read))
        for index, group in enumerate(groups, 1):
            claim_id = bulk_claim_id(key, group, index)
            target = write_group_pdf(scan, group.pages, workdir / "groups" / claim_id / file_name)
            _store_group_file(objects, claim_id, file_name, target)
            has_manifest = objects.exists(upload_key(claim_id, MANIFEST))
            status = _current_status(objects, claim_id)
            if status is None and has_manifest:
                status = PENDING
            claim = BulkClaim(
                claim_id=claim_id,
                id_number=group.id_number,
                name=group.name,
                pages=group.pages,
                documents=[d.doc_type.value for d in group.documents],
                file=file_name,
                status=status or AWAITING_MANIFEST,
            )
            if not has_manifest and status in (None, AWAITING_MANIFEST):
                objects.put_result(
                    claim_id, RESULT, _awaiting_result(claim, key, scan_sha256).as_json()
                )
            claims.append(claim)
            log.info("bulk scan %s: claim %s, pages %s", key, claim_id, group.pages)
    summary = {
        "scan": key,
        "sha256": scan_sha256,
        "pages": len(read.pages),
        "ingested_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "claims": [asdict(c) for c in claims],
    }
    objects.put_json(summary_key(key), summary)
    return summary


def upload_scan(objects: ObjectStore, path: Path, key: str | None = None) -> str:
    """Store a local scanner PDF under `bulk/<name>` (or `key`); the same bytes again are a
    no-op, other bytes under a taken key are refused (a scan, once stored, never changes)."""
    key = _check_scan_key(key or f"{BULK_PREFIX}{validate_key_part(path.name)}")
    data = path.read_bytes()
    digest = _sha256(data)
    try:
        existing = objects.stat(key)
    except ObjectNotFoundError:
        existing = None
    if existing is not None:
        if existing.metadata.get(SHA256_META) == digest:
            return key
        raise UploadExistsError(
            f"{key} already holds another scan; scans are never overwritten: use a new name"
        )
    objects._put(key, len(data), lambda: path.open("rb"), PDF_TYPE, {SHA256_META: digest})
    return key


@task(name="bulk-scan", task_run_name="bulk-scan-{key}", **RETRY)
def bulk_scan_task(key: str) -> dict[str, Any]:
    return run_bulk_scan(key)


@flow(name="ingest-bulk-scan")
def ingest_bulk_scan(key: str) -> dict[str, Any]:
    """A scanner PDF in S3 split into claims by ID number; each waits for its manifest."""
    summary: dict[str, Any] = bulk_scan_task(key)
    get_run_logger().info(
        "bulk scan %s: %d claim(s): %s",
        key,
        len(summary["claims"]),
        ", ".join(f"{c['claim_id']} ({c['status']})" for c in summary["claims"]),
    )
    return summary


def ingest_local_scan(path: Path, settings: Settings) -> dict[str, Any]:
    """Store a local scanner PDF under bulk/ and split it into claims (`intake bulk`): on the
    configured S3, or on the embedded server when none is configured."""
    from flows.pipeline_run import s3_endpoint

    with s3_endpoint(settings) as endpoint:
        runtime = Runtime.install(Runtime(settings, endpoint=endpoint))
        try:
            with prefect_server_errors():
                summary: dict[str, Any] = ingest_bulk_scan(upload_scan(runtime.objects, path))
        finally:
            Runtime.reset()
    return summary
