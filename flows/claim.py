"""One claim folder through the house (the CLI's `intake claim`), and the uploads that were
never read because their names are unsafe."""

from __future__ import annotations

from pathlib import Path

from claims.intake import FileOutcome, assemble_bundle, claim_files, content_hash, read_claim_file
from claims.service import process
from infra.storage import UnsafeKeyError
from infra.store import ClaimStore
from pipeline.bundle import MANIFEST, ClaimManifest, FileProblem
from pipeline.ocr import OcrEngine
from pipeline.result import ClaimResult
from pipeline.settings import Settings, get_settings


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
