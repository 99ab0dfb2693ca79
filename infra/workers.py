"""A pool of OCR worker processes, each loading the OCR engine once.

OCR is the CPU-heavy step. Each worker process runs one engine with one ONNX Runtime thread
per core it owns, so two workers on two cores read two pages at once instead of fighting
over threads; the engine is loaded in the worker's initializer, never per page.

A worker process that dies (killed, out of memory) breaks a `ProcessPoolExecutor` for good:
every pending read fails with BrokenProcessPool. The pool then starts a new executor and the
reads of the interrupted batch are submitted again (`READ_ATTEMPTS` in all); a file that kills
its worker every time ends as OcrWorkerCrashedError instead of looping.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any, TypeVar

from claims.intake import FileOutcome, read_claim_file
from pipeline.models import ReadResult
from pipeline.reader import read_file

log = logging.getLogger(__name__)

READ_ATTEMPTS = 3  # tries of one batch of files when worker processes die under it
T = TypeVar("T")


class OcrWorkerCrashedError(RuntimeError):
    """OCR worker processes died under the same files on every attempt."""


def _init_worker(threads: int) -> None:
    os.environ["INTAKE_OCR_THREADS"] = str(threads)
    from pipeline.logs import setup_logging
    from pipeline.ocr import get_engine
    from pipeline.settings import get_settings

    get_settings.cache_clear()
    setup_logging(get_settings())  # OCR text passes through here: no ID number may reach a log
    get_engine()  # load once, now, so the first page does not pay for it
    log.info("OCR worker %d ready", os.getpid())


def _read(path: str) -> FileOutcome:
    return read_claim_file(Path(path))


def _read_pages(path: str) -> ReadResult:
    return read_file(Path(path))


def _peak_rss(_: int) -> tuple[int, int]:
    import resource

    time.sleep(0.2)  # let every worker take one of the probes
    return os.getpid(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


class OcrPool:
    """Worker processes that read (and extract) files, one OCR engine loaded in each."""

    def __init__(self, workers: int | None = None, threads: int | None = None) -> None:
        """`workers` processes (default one per core), each engine with `threads` ONNX Runtime
        threads (default: the cores shared out between the workers)."""
        cores = os.cpu_count() or 1
        self.workers = workers or cores
        self._threads = threads or max(1, cores // self.workers)
        self._lock = threading.Lock()
        self._pending = 0
        self.restarts = 0
        self._executor = self._start()

    def _start(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(self._threads,),
        )

    def _restart(self, broken: ProcessPoolExecutor) -> None:
        """Replace a broken executor, once however many threads saw it break."""
        with self._lock:
            if self._executor is not broken:
                return
            broken.shutdown(wait=False, cancel_futures=True)
            self._executor = self._start()
            self.restarts += 1
            restarts = self.restarts
        log.warning("an OCR worker process died; started a new pool (restart %d)", restarts)

    @property
    def pending(self) -> int:
        """Files submitted and not read yet."""
        with self._lock:
            return self._pending

    def _done(self, _future: Future[Any]) -> None:
        with self._lock:
            self._pending -= 1

    def _submit(self, function: Callable[[str], T], path: Path) -> Future[T]:
        executor = self._executor
        try:
            future = executor.submit(function, str(path))
        except BrokenProcessPool:
            self._restart(executor)
            future = self._executor.submit(function, str(path))
        with self._lock:
            self._pending += 1
        future.add_done_callback(self._done)
        return future

    def _run_all(self, function: Callable[[str], T], paths: list[Path]) -> list[T]:
        """`function` over `paths` in the workers; again on a new pool if a worker dies."""
        for attempt in range(1, READ_ATTEMPTS + 1):
            executor = self._executor
            futures = [self._submit(function, p) for p in paths]
            try:
                return [future.result() for future in futures]
            except BrokenProcessPool as exc:
                self._restart(executor)
                if attempt == READ_ATTEMPTS:
                    names = ", ".join(p.name for p in paths)
                    raise OcrWorkerCrashedError(
                        f"OCR worker processes died {READ_ATTEMPTS} times while reading "
                        f"{names}; a file may crash the OCR engine (or memory ran out)"
                    ) from exc
                log.warning(
                    "an OCR worker died while reading %d file(s) (%s); reading them again",
                    len(paths),
                    exc,
                )
        raise AssertionError("unreachable")

    def read_all(self, paths: list[Path]) -> list[FileOutcome]:
        """Read and extract each file, in order."""
        return self._run_all(_read, paths)

    def read_pages(self, paths: list[Path]) -> list[ReadResult]:
        """Only read each file (text layer or OCR), in order: no extraction."""
        return self._run_all(_read_pages, paths)

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
