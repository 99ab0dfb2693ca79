"""A pool of OCR worker processes, each loading the OCR engine once.

OCR is the CPU-heavy step. Each worker process runs one engine with one ONNX Runtime thread
per core it owns, so two workers on two cores read two pages at once instead of fighting
over threads; the engine is loaded in the worker's initializer, never per page.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from flows.claim import FileOutcome, read_claim_file

log = logging.getLogger(__name__)


def _init_worker(threads: int) -> None:
    os.environ["INTAKE_OCR_THREADS"] = str(threads)
    from pipeline.ocr import get_engine
    from pipeline.settings import get_settings

    get_settings.cache_clear()
    get_engine()  # load once, now, so the first page does not pay for it
    log.info("OCR worker %d ready", os.getpid())


def _read(path: str) -> FileOutcome:
    return read_claim_file(Path(path))


def _peak_rss(_: int) -> tuple[int, int]:
    import resource

    time.sleep(0.2)  # let every worker take one of the probes
    return os.getpid(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


class OcrPool:
    """`submit(path)` reads and extracts one file in a worker process."""

    def __init__(self, workers: int | None = None) -> None:
        cores = os.cpu_count() or 1
        self.workers = workers or cores
        threads = max(1, cores // self.workers)
        self._executor = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(threads,),
        )

    def submit(self, path: Path) -> Future[FileOutcome]:
        return self._executor.submit(_read, str(path))

    def read_all(self, paths: list[Path]) -> list[FileOutcome]:
        return [future.result() for future in [self.submit(p) for p in paths]]

    def worker_peak_rss(self) -> list[int]:
        """Peak resident memory (KiB) of each worker process."""
        seen = dict(self._executor.map(_peak_rss, range(self.workers * 4)))
        return sorted(seen.values())

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> OcrPool:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
