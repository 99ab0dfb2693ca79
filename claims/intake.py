"""A claim's uploads as a bundle: read each file (a broken one becomes a problem record), find
the documents over all of them in upload order, and the digest that makes a re-run a no-op.

Plain functions: the OCR worker pool (`infra/workers.py`) runs `read_claim_file`, the flows
and the CLI assemble the bundle and hand it to the claim service. Nothing here deletes or
changes an uploaded file.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from extractors.extract import extract_claim_documents
from pipeline.bundle import MANIFEST, ClaimBundle, ClaimManifest, FileProblem
from pipeline.errors import CorruptFileError, IntakeError, OcrEngineError
from pipeline.models import ReadResult
from pipeline.ocr import OcrEngine
from pipeline.reader import read_file
from pipeline.settings import Settings
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
