"""Prefect flows: thin orchestration over `flows.claim` with retries and bounded concurrency.

- `process_claim(claim_id)`: download the claim's uploads from S3, read them on the OCR pool,
  validate, calculate when complete, store, write the result beside the uploads.
- `process_pending()`: every claim whose uploads changed since its last result, several at once.
- `reprocess_claim(claim_id)`: after a reviewer's correction: validate again without OCR.
- `ingest_bulk_scan(key)` (flows/bulk_flow.py): a back-office scanner PDF split into claims by
  ID number, each waiting for its manifest. `python -m flows.deploy --pool P` deploys them all.

Re-running any flow is idempotent: a claim whose uploads have the content hash of its stored
result is skipped, results are overwritten not appended, and a calculation is stored once per
input digest.
"""

from __future__ import annotations

import errno
import logging
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from claims.intake import assemble_bundle, claim_files, content_hash
from claims.service import manifest_error_result, process
from flows.claim import unsafe_name_outcomes
from flows.prefect_env import configure_prefect
from flows.review import revalidate
from infra.storage import (
    ObjectNotFoundError,
    ObjectStore,
    StorageUnavailableError,
    UnsafeKeyError,
)
from infra.store import ClaimStore
from infra.workers import OcrPool
from pipeline.bundle import MANIFEST, ClaimManifest, ManifestError
from pipeline.logs import setup_logging
from pipeline.result import ClaimResult
from pipeline.settings import Settings, get_settings

# Prefect reads its settings when imported: set them first (or check them, when an entry
# point imported Prefect already; see flows/prefect_env.py)
configure_prefect()

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.task_runners import ThreadPoolTaskRunner  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402

log = logging.getLogger(__name__)


class Runtime:
    """Per-process resources shared by every flow run: one store, one S3 client, one OCR pool."""

    _lock = threading.Lock()
    _instance: Runtime | None = None

    def __init__(self, settings: Settings, endpoint: str | None = None) -> None:
        setup_logging(settings)
        self.settings = settings
        self.store = ClaimStore(settings.store_url())
        self.objects = ObjectStore(settings, endpoint=endpoint)
        self.objects.ensure_bucket()
        self._pool: OcrPool | None = None
        self.on_claim_done: Callable[[str, str], None] | None = None

    @property
    def pool(self) -> OcrPool:
        with self._lock:
            if self._pool is None:
                self._pool = OcrPool(
                    self.settings.ocr_workers or None, self.settings.ocr_threads or None
                )
            return self._pool

    @classmethod
    def install(cls, runtime: Runtime) -> Runtime:
        with cls._lock:
            cls._instance = runtime
        return runtime

    @classmethod
    def get(cls) -> Runtime:
        with cls._lock:
            if cls._instance is None:
                cls._instance = Runtime(get_settings())
            return cls._instance

    @classmethod
    def reset(cls) -> None:
        with cls._lock:
            instance, cls._instance = cls._instance, None
        if instance is not None and instance._pool is not None:
            instance._pool.close()


DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def _infrastructure_error(task: Any, task_run: Any, state: Any) -> bool:
    """Retry only when the infrastructure failed; bad input is data, not an exception."""
    try:
        state.result()
    except (StorageUnavailableError, ConnectionError, TimeoutError, OperationalError):
        return True
    except OSError as exc:  # a full disk is freed by an operator, not by the claimant
        return exc.errno in DISK_FULL
    except Exception:
        return False
    return False


RETRY: dict[str, Any] = {
    "retries": 4,
    "retry_delay_seconds": [1, 3, 8, 20],
    "retry_condition_fn": _infrastructure_error,
}


def publish(claim_id: str, result: ClaimResult) -> None:
    """Write the money (when calculated), then the result, beside the claim's uploads.

    result.json last: it marks the claim done (no longer pending), so a publish cut short
    leaves the claim pending and its retry writes both."""
    runtime = Runtime.get()
    if result.reimbursement is not None:
        runtime.objects.put_result(claim_id, "reimbursement.json", result.reimbursement.as_json())
    runtime.objects.put_result(claim_id, "result.json", result.as_json())


def run_claim(claim_id: str, force: bool = False) -> ClaimResult:
    """Fetch, read, validate, store and publish one claim (the body of every claim flow)."""
    runtime = Runtime.get()
    with tempfile.TemporaryDirectory(prefix="intake-") as workdir:
        folder = runtime.objects.download_claim(claim_id, Path(workdir) / claim_id)
        digest = content_hash(folder)
        stored = runtime.store.get_result(claim_id)
        if stored is not None and not force and runtime.store.content_hash_of(claim_id) == digest:
            log.info("claim %s unchanged since its last result; skipped", claim_id)
            # published again: a retry after a failed publish must finish it (no longer pending)
            result = ClaimResult.from_json(stored)
            publish(claim_id, result)
            return result
        if not any(folder.iterdir()):
            raise ObjectNotFoundError(f"claim {claim_id} has no uploads under claims/{claim_id}/")
        try:
            manifest = ClaimManifest.load(folder / MANIFEST, claim_id)
        except ManifestError as exc:  # recorded and quarantined: the operator must fix it
            log.warning("claim %s: %s", claim_id, exc)
            result = manifest_error_result(claim_id, exc, stored=(folder / MANIFEST).is_file())
        else:
            outcomes = runtime.pool.read_all(claim_files(folder))
            outcomes += unsafe_name_outcomes(runtime.objects.skipped_uploads(claim_id))
            bundle = assemble_bundle(manifest, outcomes)
            bundle.confirmed_fields = runtime.store.confirmed_fields(claim_id)
            result = process(bundle, runtime.store, digest)
    publish(claim_id, result)
    for problem in result.file_problems:
        if problem.reason == UnsafeKeyError.reason:
            continue  # an unsafe name cannot be copied by name; the result reports it
        runtime.objects.quarantine(claim_id, problem.file, f"{problem.reason}: {problem.message}")
    if runtime.on_claim_done is not None:
        runtime.on_claim_done(claim_id, result.status.value)
    return result


@task(name="claim", task_run_name="claim-{claim_id}", **RETRY)
def claim_task(claim_id: str, force: bool = False) -> dict[str, Any]:
    return run_claim(claim_id, force).as_json()  # the flows hand on the published JSON


@flow(name="process-claim")
def process_claim(claim_id: str, force: bool = False) -> dict[str, Any]:
    """One claim from S3 to a stored, published result."""
    result: dict[str, Any] = claim_task(claim_id, force)
    get_run_logger().info("claim %s: %s", claim_id, result["status"])
    return result


@task(name="revalidate", task_run_name="revalidate-{claim_id}", **RETRY)
def revalidate_task(claim_id: str) -> dict[str, Any]:
    runtime = Runtime.get()
    result = revalidate(runtime.store, claim_id)
    publish(claim_id, result)
    if runtime.on_claim_done is not None:
        runtime.on_claim_done(claim_id, result.status.value)
    return result.as_json()


@flow(name="reprocess-claim")
def reprocess_claim(claim_id: str) -> dict[str, Any]:
    """After a reviewer's correction: validate the stored extraction again with the
    corrections applied (no OCR), calculate when complete, publish."""
    result: dict[str, Any] = revalidate_task(claim_id)
    get_run_logger().info("claim %s after review: %s", claim_id, result["status"])
    return result


@flow(name="process-pending", task_runner=ThreadPoolTaskRunner(max_workers=4))  # type: ignore[arg-type]
def process_pending(limit: int = 0, claim_ids: list[str] | None = None) -> dict[str, str]:
    """Every claim whose uploads are newer than its result, several at once."""
    runtime = Runtime.get()
    pending = claim_ids if claim_ids is not None else runtime.objects.pending_claims()
    if limit:
        pending = pending[:limit]
    futures = {claim_id: claim_task.submit(claim_id) for claim_id in pending}
    statuses: dict[str, str] = {}
    for claim_id, future in futures.items():
        try:
            statuses[claim_id] = future.result()["status"]
        except Exception as exc:  # one broken claim must not stop the batch
            get_run_logger().error("claim %s failed: %s", claim_id, exc)
            statuses[claim_id] = f"failed: {type(exc).__name__}"
    return statuses
