"""One claim's files: read every upload, find its documents, assemble the bundle.

Plain functions the Prefect flows wrap as tasks; the claim service (`claims.service`)
finishes the claim. Nothing here deletes or changes an uploaded file.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from claims.service import process
from extractors.extract import extract_claim_documents
from infra.storage import UnsafeKeyError
from infra.store import ClaimStore
from pipeline.bundle import MANIFEST, ClaimBundle, ClaimManifest, FileProblem
from pipeline.errors import CorruptFileError, IntakeError, OcrEngineError
from pipeline.models import ReadResult
from pipeline.ocr import OcrEngine
from pipeline.reader import read_file
from pipeline.result import ClaimResult
from pipeline.settings import Settings, get_settings
from validators.consistency import resolve_agent_cards

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FileOutcome:
    """The pages read from one uploaded file, or why it could not be read.

    Documents are found over all of a claim's files at once (`assemble_bundle`): one
    expense list may run over several photos."""

    name: str
    read: ReadResult | None
    problem: FileProblem | None


def claim_files(folder: Path) -> list[Path]:
    """Uploaded files of a claim folder: everything but the manifest and hidden files."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.name != MANIFEST and not p.name.startswith(".")
    )


def read_claim_file(
    path: Path, engine: OcrEngine | None = None, settings: Settings | None = None
) -> FileOutcome:
    """Read and extract one file; a broken file becomes a problem record, never an exception.

    Infrastructure failures are raised: the OCR engine, imports, the disk, memory. A decoder
    failing on hostile bytes in a way nobody foresaw is the file's problem: it is refused as
    corrupt, with the error, so that one bad upload never stops its claim."""
    try:
        read = read_file(path, engine=engine, settings=settings)
    except IntakeError as exc:
        message = str(exc.rename(path.name, path))  # the upload's name, not the scratch copy's
        log.warning("refused %s", message)
        return FileOutcome(
            path.name, None, FileProblem(file=path.name, reason=exc.reason, message=message)
        )
    except (OcrEngineError, ImportError, OSError, MemoryError):
        raise
    except Exception as exc:
        # a library's own words (an OpenCV assertion, a scratch path) mean nothing to the
        # person who uploaded the file: they go to the log, the message says what to do
        log.warning("%s could not be read (%s); refused as corrupt", path.name, type(exc).__name__)
        log.info("%s: the reader failed", path.name, exc_info=True)
        message = (
            f"{path.name}: the file cannot be read; it is probably damaged — upload the "
            "original again"
        )
        return FileOutcome(
            path.name,
            None,
            FileProblem(file=path.name, reason=CorruptFileError.reason, message=message),
        )
    # the upload's name, not the scratch copy's, names the documents found in it
    return FileOutcome(path.name, read.model_copy(update={"file": path.name}), None)


def unsafe_name_outcomes(skipped: dict[str, str]) -> list[FileOutcome]:
    """Objects under the claim whose names are unsafe (stored by another S3 client, see
    `ObjectStore.skipped_uploads`): never downloaded nor read, but reported, never lost."""
    return [
        FileOutcome(
            name,
            None,
            FileProblem(file=name, reason=UnsafeKeyError.reason, message=f"{reason}; not read"),
        )
        for name, reason in skipped.items()
    ]


def content_hash(folder: Path) -> str:
    """Digest of the manifest and every uploaded file: a re-run on the same input is a no-op."""
    digest = hashlib.sha256()
    for path in [folder / MANIFEST, *claim_files(folder)]:
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def assemble_bundle(manifest: ClaimManifest, outcomes: list[FileOutcome]) -> ClaimBundle:
    """The claim's documents, found over all its readable files in upload order."""
    bundle = ClaimBundle(
        manifest=manifest,
        documents=extract_claim_documents([o.read for o in outcomes if o.read is not None]),
        file_problems=[o.problem for o in outcomes if o.problem is not None],
    )
    return resolve_agent_cards(bundle)


def process_claim_folder(
    folder: Path,
    *,
    store: ClaimStore | None = None,
    engine: OcrEngine | None = None,
    settings: Settings | None = None,
) -> ClaimResult:
    """Run the whole claim; store the result when a store is given."""
    settings = settings or get_settings()
    manifest = ClaimManifest.load(folder / MANIFEST)
    outcomes = [read_claim_file(p, engine, settings) for p in claim_files(folder)]
    bundle = assemble_bundle(manifest, outcomes)
    return process(bundle, store, content_hash(folder) if store is not None else "")
