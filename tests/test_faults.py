"""Faults injected into real servers mid-batch: no claim is lost, none is stored twice.

S3 (SeaweedFS) killed and restarted, an OCR worker process killed with SIGKILL, PostgreSQL
restarted, S3 slow and hanging past the client's read timeout (a delaying proxy in front of
the real server), the temporary directory full (a 1 MiB tmpfs when this runs as root, else an
injected ENOSPC). The claims are text-layer PDFs (no OCR) except where OCR is the point.
"""

from __future__ import annotations

import contextlib
import contextvars
import errno
import logging
import multiprocessing
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import SAMPLE_DOCS
from postgres import _as_postgres, _bindir
from slowproxy import SlowProxy
from sqlalchemy import func, select
from test_distributed import fresh_database, text_claims, wait_until

from flows.pipeline_run import upload_claim_folder
from infra.s3server import EmbeddedS3
from infra.store import CalculationRow, ClaimRow, StatusHistoryRow
from pipeline.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

BATCH = 12


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Iterator[EmbeddedS3]:
    """An S3 server of this module's own: the tests stop and restart it."""
    server = EmbeddedS3(
        tmp_path_factory.mktemp("fault-s3"), settings.s3_access_key, settings.s3_secret_key
    )
    with server:
        yield server


@pytest.fixture
def make_runtime(
    settings: Settings, tmp_path: Path, prefect_engine: None, s3: EmbeddedS3
) -> Iterator[Callable[..., Any]]:
    from flows.prefect_flows import Runtime

    def make(
        bucket: str,
        database_url: str | None = None,
        ocr_workers: int = 2,
        endpoint: str | None = None,
        **overrides: Any,
    ) -> Any:
        local = settings.model_copy(
            update={
                "state_dir": tmp_path / "state",
                "s3_bucket": bucket,
                "database_url": database_url,
                "ocr_workers": ocr_workers,
                **overrides,
            }
        )
        return Runtime.install(Runtime(local, endpoint=endpoint or s3.endpoint))

    yield make
    Runtime.reset()


class Captured(logging.Handler):
    """The messages of one logger, INFO and up, from every thread."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    def seen(self, text: str) -> bool:
        return any(text in message for message in list(self.messages))


@contextlib.contextmanager
def captured(name: str) -> Iterator[Captured]:
    logger = logging.getLogger(name)
    handler, level = Captured(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@dataclass
class Background:
    thread: threading.Thread
    outcome: dict[str, Any]

    def result(self, timeout: float) -> Any:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"still running after {timeout:.0f} s"
        if "error" in self.outcome:
            raise self.outcome["error"]
        return self.outcome["result"]


def in_background(call: Callable[[], Any]) -> Background:
    """Run `call` in a thread that sees this thread's Prefect settings (context variables)."""
    context = contextvars.copy_context()
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = context.run(call)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return Background(thread, outcome)


def once_after_first_claim(fault: Callable[[], None]) -> tuple[Callable[[str, str], None], Any]:
    """An `on_claim_done` hook that starts `fault` in a thread when the first claim is done."""
    started = threading.Event()
    holder: dict[str, threading.Thread] = {}

    def hook(_claim_id: str, _status: str) -> None:
        if not started.is_set():
            started.set()
            holder["thread"] = threading.Thread(target=fault, daemon=True)
            holder["thread"].start()

    return hook, holder


def upload_batch(runtime: Any, root: Path, prefix: str, count: int = BATCH) -> list[str]:
    return [upload_claim_folder(runtime.objects, f) for f in text_claims(root, count, prefix)]


def assert_each_claim_stored_once(runtime: Any, claim_ids: list[str], status: str) -> None:
    """Every claim's result stored and published, one history row and one calculation each."""
    for claim_id in claim_ids:
        assert runtime.objects.get_result(claim_id)["status"] == status, claim_id
        assert runtime.store.get_result(claim_id)["status"] == status, claim_id
        if status == "complete":
            assert runtime.objects.get_result(claim_id, "reimbursement.json"), (
                f"{claim_id}: reimbursement.json not published (a retry after a failed publish "
                "took run_claim's unchanged-claim branch, which republishes result.json only)"
            )
    with runtime.store.session() as session:
        history = dict(
            session.execute(
                select(StatusHistoryRow.claim_id, func.count()).group_by(StatusHistoryRow.claim_id)
            ).all()
        )
        calculations = dict(
            session.execute(
                select(CalculationRow.claim_id, func.count()).group_by(CalculationRow.claim_id)
            ).all()
        )
    assert runtime.store.count(ClaimRow) == len(claim_ids)
    assert history == dict.fromkeys(claim_ids, 1)
    if status == "complete":
        assert calculations == dict.fromkeys(claim_ids, 1)


def test_a_batch_completes_when_s3_stops_mid_batch_and_comes_back(
    make_runtime: Callable[..., Any], s3: EmbeddedS3, tmp_path: Path
) -> None:
    from flows.prefect_flows import process_pending

    runtime = make_runtime("faults-s3")
    claim_ids = upload_batch(runtime, tmp_path, "C-S3DOWN-")
    endpoint = s3.endpoint

    def outage() -> None:
        s3.stop(timeout=0.5)  # SIGTERM, SIGKILL half a second later: a crash, not a drain
        time.sleep(4)
        s3.start()

    runtime.on_claim_done, fault = once_after_first_claim(outage)
    with captured("infra.storage") as storage, captured("prefect.task_runs") as tasks:
        statuses = process_pending()
    fault["thread"].join(60)
    assert s3.running and s3.endpoint == endpoint
    assert storage.seen("failed")  # the outage was felt by the claims in flight
    assert tasks.seen("Retry 1/4")  # ... and they were retried
    assert statuses == dict.fromkeys(claim_ids, "complete")
    assert_each_claim_stored_once(runtime, claim_ids, "complete")
    assert runtime.objects.pending_claims() == []


def test_a_batch_completes_when_s3_is_slow_and_hangs_past_the_read_timeout(
    make_runtime: Callable[..., Any], s3: EmbeddedS3, tmp_path: Path
) -> None:
    from flows.prefect_flows import process_pending

    with SlowProxy(s3.endpoint, delay=0.05) as proxy:
        runtime = make_runtime("faults-slow", endpoint=proxy.endpoint, s3_read_timeout=2.0)
        claim_ids = upload_batch(runtime, tmp_path, "C-S3SLOW-")

        def hang() -> None:
            proxy.stalled.set()  # answers held back: every read in flight times out
            time.sleep(3)
            proxy.stalled.clear()

        runtime.on_claim_done, fault = once_after_first_claim(hang)
        with captured("infra.storage") as storage:
            statuses = process_pending()
        fault["thread"].join(60)
        assert storage.seen("timed out") or storage.seen("Timeout")  # the hang was felt
        assert statuses == dict.fromkeys(claim_ids, "complete")
        assert_each_claim_stored_once(runtime, claim_ids, "complete")
        assert runtime.objects.pending_claims() == []


def test_a_claim_completes_when_an_ocr_worker_is_killed_mid_claim(
    make_runtime: Callable[..., Any],
) -> None:
    from flows.prefect_flows import process_claim

    runtime = make_runtime("faults-ocr")
    claim_id = upload_claim_folder(runtime.objects, SAMPLE_DOCS / "claims" / "C-2026-0001")
    runtime.pool.worker_peak_rss()  # both workers up, their engines loaded
    workers = sorted(p.pid for p in multiprocessing.active_children() if p.pid is not None)
    assert len(workers) == 2
    run = in_background(lambda: process_claim(claim_id))
    wait_until(lambda: runtime.pool.pending > 0, 60, "the claim's pages on the pool", 0.05)
    time.sleep(1.0)  # both workers are reading a photo now
    os.kill(workers[0], signal.SIGKILL)

    result = run.result(240)
    assert result["status"] == "complete"  # the claim's expected status (its truth file)
    assert runtime.pool.restarts == 1
    assert workers[0] not in {p.pid for p in multiprocessing.active_children()}
    assert_each_claim_stored_once(runtime, [claim_id], "complete")


def _postgres_started_at(url: str) -> Any:
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as connection:
        row = connection.execute("SELECT pg_postmaster_start_time()").fetchone()
    assert row is not None
    return row[0]


def restart_postgres(url: str) -> None:
    """`pg_ctl restart -m fast` of the test server: every connection is cut."""
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as connection:
        row = connection.execute("SHOW data_directory").fetchone()
    assert row is not None
    data = Path(row[0])
    command = [str(_bindir() / "pg_ctl"), "-D", str(data), "-l", str(data.parent / "log")]
    subprocess.run(
        _as_postgres([*command, "-m", "fast", "-w", "restart"]),
        check=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=60,
    )


def test_a_batch_completes_when_postgresql_restarts_mid_batch(
    make_runtime: Callable[..., Any], postgres_url: str, tmp_path: Path
) -> None:
    from flows.prefect_flows import process_pending

    database = fresh_database(postgres_url, "intake_faults")
    runtime = make_runtime("faults-pg", database_url=database)
    claim_ids = upload_batch(runtime, tmp_path, "C-PGDOWN-")
    started = _postgres_started_at(database)
    runtime.on_claim_done, fault = once_after_first_claim(lambda: restart_postgres(database))
    statuses = process_pending()
    fault["thread"].join(60)
    assert _postgres_started_at(database) > started  # it did restart, mid-batch
    assert statuses == dict.fromkeys(claim_ids, "complete")
    assert_each_claim_stored_once(runtime, claim_ids, "complete")


@dataclass
class FullDisk:
    """A temporary directory with no space left: a 1 MiB tmpfs, filled (or, where it cannot
    be mounted, an ENOSPC injected into the download into it)."""

    path: Path
    mounted: bool
    filler: Path | None = None
    full: bool = True

    def free(self) -> None:
        if self.filler is not None:
            self.filler.unlink()
        self.full = False


def _mount_tmpfs(path: Path) -> bool:
    if os.geteuid() != 0:
        return False
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(path)], capture_output=True
    )
    return done.returncode == 0


def _fill(path: Path) -> Path:
    filler = path / "filler"
    with filler.open("wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    return filler


@pytest.fixture
def full_temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FullDisk]:
    path = tmp_path / "tiny-tmp"
    path.mkdir()
    disk = FullDisk(path, mounted=_mount_tmpfs(path))
    try:
        if disk.mounted:
            disk.filler = _fill(path)
        else:  # fault injection: the download into the temp dir meets a full disk
            from infra.storage import ObjectStore

            original = ObjectStore.get_file

            def get_file(self: ObjectStore, key: str, dest: Path) -> Path:
                if disk.full and dest.is_relative_to(path):
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(dest))
                return original(self, key, dest)

            monkeypatch.setattr(ObjectStore, "get_file", get_file)
        monkeypatch.setattr(tempfile, "tempdir", str(path))
        yield disk
    finally:
        monkeypatch.undo()
        if disk.mounted:
            subprocess.run(["umount", "-l", str(path)], check=False)


def test_a_full_temp_dir_fails_the_claim_clearly_and_it_is_retried_not_lost(
    make_runtime: Callable[..., Any], full_temp_dir: FullDisk, tmp_path: Path
) -> None:
    from flows.prefect_flows import process_pending

    runtime = make_runtime("faults-disk")
    [folder] = text_claims(tmp_path / "claims", 1, "C-DISKFULL-")
    claim_id = upload_claim_folder(runtime.objects, folder)
    originals = {p.name: p.read_bytes() for p in folder.iterdir()}
    with captured("prefect.task_runs") as tasks:
        batch = in_background(lambda: process_pending(claim_ids=[claim_id]))
        wait_until(lambda: tasks.seen("No space left on device"), 60, "the disk-full failure")
        assert tasks.seen("Retry 1/4")  # an infrastructure error: retried, not given up
        assert runtime.objects.get_result(claim_id) is None
        assert claim_id in runtime.objects.pending_claims()  # not lost: still to do
        full_temp_dir.free()
        statuses = batch.result(120)
    assert statuses == {claim_id: "complete"}
    assert_each_claim_stored_once(runtime, [claim_id], "complete")
    for name, data in originals.items():
        assert runtime.objects.read_bytes(f"claims/{claim_id}/{name}") == data
