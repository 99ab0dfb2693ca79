"""Run a batch end to end on the embedded default: S3 server, Prefect local engine, SQLite.

Used by `intake demo` and the pipeline benchmark. With `INTAKE_S3_ENDPOINT` set, the same code
runs against a real MinIO/S3 instead of starting the embedded server.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from infra.s3server import EmbeddedS3
from pipeline.settings import Settings


@contextmanager
def s3_endpoint(settings: Settings) -> Iterator[str]:
    """The configured S3 endpoint, or an embedded server for the duration of the block."""
    if settings.s3_endpoint:
        yield settings.s3_endpoint
        return
    server = EmbeddedS3(
        settings.state_dir.resolve() / "s3", settings.s3_access_key, settings.s3_secret_key
    )
    with server:
        yield server.endpoint


def upload_claim_folder(objects: Any, folder: Path) -> str:
    """Upload a local claim folder under claims/<folder name>/ (re-uploads are no-ops)."""
    claim_id = folder.name
    for path in sorted(folder.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            objects.upload(claim_id, path.name, path)
    return claim_id


def run_batch(
    folders: list[Path],
    settings: Settings,
    report: Path | None = None,
    echo: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Upload the claim folders, process every pending claim with the flows, report."""
    from flows.prefect_env import configure_prefect, prefect_server_errors

    configure_prefect(settings)  # before flows.prefect_flows imports prefect
    from flows.prefect_flows import Runtime, process_pending

    with s3_endpoint(settings) as endpoint:
        runtime = Runtime.install(Runtime(settings, endpoint=endpoint))
        try:
            ids = [upload_claim_folder(runtime.objects, folder) for folder in folders]
            echo(f"uploaded {len(ids)} claims to s3://{settings.s3_bucket} at {endpoint}")
            done = _progress(len(ids), echo)
            runtime.on_claim_done = done
            with prefect_server_errors():
                process_pending(claim_ids=ids)
            results = [r for cid in ids if (r := runtime.store.get_result(cid)) is not None]
        finally:
            Runtime.reset()
    if report is not None:
        from flows.report import write_report

        by_id = {f.name: f for f in folders}
        write_report([(r, by_id.get(r["claim_id"])) for r in results], report)
    return results


def _progress(total: int, echo: Callable[[str], None]) -> Callable[[str, str], None]:
    lock = threading.Lock()
    count = [0]

    def done(claim_id: str, status: str) -> None:
        with lock:
            count[0] += 1
            bar = "#" * round(30 * count[0] / total)
            echo(f"[{bar:<30}] {count[0]}/{total} {claim_id}: {status}")

    return done
