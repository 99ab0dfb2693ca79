"""Pipeline benchmark: bare OCR engine vs the full pipeline over the same pages.

Full pipeline = S3 (embedded SeaweedFS) → Prefect flow → OCR worker pool → extraction →
validation → claim store (SQLite), measured with one worker using every core, one worker
using one core, and two workers; plus the end-to-end latency of a single phone photo claim
(and, beside it, the time to read that photo in-process), and the peak RSS of each worker.

    .venv/bin/python bench/pipeline.py [--claims 6] [--photo-runs 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SAMPLES = Path(__file__).resolve().parent.parent / "sample_docs"
TEMPLATE = SAMPLES / "claims" / "C-2026-0001"
PHOTO = SAMPLES / "documents" / "photo" / "invoice_inpatient_01.jpg"


def make_claims(root: Path, count: int, tag: str) -> list[Path]:
    """Copies of one sample claim under new claim ids (same pages, fresh S3 keys)."""
    folders = []
    for n in range(count):
        folder = root / f"BENCH-{tag}-{n:03d}"
        shutil.copytree(TEMPLATE, folder)
        manifest = (folder / "claim.json").read_text(encoding="utf-8")
        (folder / "claim.json").write_text(
            manifest.replace(TEMPLATE.name, folder.name), encoding="utf-8"
        )
        folders.append(folder)
    return folders


def page_count(folders: list[Path]) -> int:
    from pipeline.reader import iter_page_images

    return sum(
        len(list(iter_page_images(p)))
        for f in folders
        for p in f.iterdir()
        if p.name != "claim.json"
    )


def bare_engine(folders: list[Path]) -> tuple[int, float]:
    """Pages/s of the engine alone on the prepared pages of the same files."""
    from pipeline.ocr import get_engine
    from pipeline.reader import PageImage, iter_page_images

    engine = get_engine()
    images = [
        i.image
        for f in folders
        for p in sorted(f.iterdir())
        if p.name != "claim.json"
        for i in iter_page_images(p)
        if isinstance(i, PageImage)
    ]
    engine.read(images[0])
    started = time.perf_counter()
    for image in images:
        engine.read(image)
    return len(images), time.perf_counter() - started


def bare_photo_seconds(runs: int) -> list[float]:
    """Seconds to read the phone photo in-process, engine already loaded: the floor of the
    photo's end-to-end latency."""
    from pipeline.reader import read_file

    read_file(PHOTO)
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        read_file(PHOTO)
        timings.append(time.perf_counter() - started)
    return timings


def run_pipeline(
    folders: list[Path], workers: int, state: Path, threads: int | None = None
) -> tuple[float, list[int]]:
    """Seconds for the batch once the service is up (S3 server, Prefect, warmed OCR workers).

    A deployed intake is a long-running service: start-up (S3 server, Prefect's local server,
    worker processes loading the model) is paid once, not per batch, so it is excluded; one
    warm-up claim runs first."""
    from flows.pipeline_run import s3_endpoint, upload_claim_folder
    from flows.prefect_flows import Runtime, process_claim, process_pending
    from pipeline.settings import Settings

    settings = Settings(state_dir=state, ocr_workers=workers, ocr_threads=threads or 0)
    with s3_endpoint(settings) as endpoint:
        runtime = Runtime.install(Runtime(settings, endpoint=endpoint))
        try:
            warm = make_claims(state / "warm", 1, f"warm{workers}")[0]
            process_claim(upload_claim_folder(runtime.objects, warm))
            started = time.perf_counter()
            ids = [upload_claim_folder(runtime.objects, folder) for folder in folders]
            statuses = process_pending(claim_ids=ids)
            seconds = time.perf_counter() - started
            # copies of one claim share its invoices: all but the first are rejected as
            # duplicate_invoice after the full read, extraction and validation (only the
            # calculation, a few milliseconds, is skipped); what matters is that none is lost
            assert sorted(statuses) == sorted(ids), statuses
            rss = runtime.pool.worker_peak_rss()
        finally:
            Runtime.reset()
    return seconds, rss


def photo_latency(runs: int, root: Path) -> list[float]:
    """Seconds from upload to stored result for a claim holding one phone photo."""
    from flows.pipeline_run import s3_endpoint, upload_claim_folder
    from flows.prefect_flows import Runtime, process_claim
    from pipeline.settings import Settings

    settings = Settings(state_dir=root / "latency", ocr_workers=1)
    timings = []
    with s3_endpoint(settings) as endpoint:
        runtime = Runtime.install(Runtime(settings, endpoint=endpoint))
        try:
            runtime.pool.read_all([PHOTO])  # warm the worker
            for n in range(runs):
                folder = root / f"PHOTO-{n:03d}"
                folder.mkdir()
                shutil.copy(PHOTO, folder / "photo.jpg")
                (folder / "claim.json").write_text(
                    (TEMPLATE / "claim.json").read_text().replace(TEMPLATE.name, folder.name)
                )
                started = time.perf_counter()
                upload_claim_folder(runtime.objects, folder)
                process_claim(folder.name)
                timings.append(time.perf_counter() - started)
        finally:
            Runtime.reset()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--claims", type=int, default=6, help="claims per run (copies of C-2026-0001)"
    )
    parser.add_argument("--photo-runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="intake-bench-") as tmp:
        root = Path(tmp)
        # before anything imports prefect (Prefect reads its settings then): one fresh Prefect
        # home for the whole process, whose runs each have their own state dir
        from flows.prefect_env import configure_prefect
        from pipeline.settings import Settings

        configure_prefect(Settings(state_dir=root), log_level="ERROR")
        folders = make_claims(root / "one", args.claims, "w1")
        pages = page_count(folders)
        bare_pages, bare_seconds = bare_engine(folders)
        bare_rate = bare_pages / bare_seconds
        print(
            f"bare engine: {bare_pages} OCR pages in {bare_seconds:.1f} s = {bare_rate:.2f} pages/s "
            f"(peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)"
        )
        cores = os.cpu_count() or 1
        rates = {}
        # (workers, ONNX threads per worker): the default single worker uses every core;
        # "1 × 1" is one core's worth, the base for the per-process scaling of 2 workers
        for workers, threads in ((1, cores), (1, 1), (2, max(1, cores // 2))):
            tag = f"w{workers}t{threads}"
            batch = make_claims(root / tag, args.claims, tag)
            seconds, rss = run_pipeline(batch, workers, root / f"state-{tag}", threads)
            rates[workers, threads] = pages / seconds
            print(
                f"pipeline, {workers} worker(s) × {threads} thread(s): {pages} pages in "
                f"{seconds:.1f} s = {rates[workers, threads]:.2f} pages/s "
                f"({rates[workers, threads] / bare_rate:.2f} × bare engine); worker peak RSS "
                f"{', '.join(f'{r / 1024:.0f} MB' for r in rss) or 'n/a'}"
            )
        two = rates[2, max(1, cores // 2)]
        print(
            f"2 workers / 1 worker: {two / rates[1, cores]:.2f}× (against 1 worker with all "
            f"{cores} cores), {two / rates[1, 1]:.2f}× (against 1 worker with 1 core)"
        )
        floor = statistics.median(bare_photo_seconds(args.photo_runs))
        timings = sorted(photo_latency(args.photo_runs, root))
        p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
        print(
            f"single phone photo → stored result: p50 {statistics.median(timings):.2f} s, "
            f"p95 {p95:.2f} s over {len(timings)} runs (reading it in-process alone: "
            f"{floor:.2f} s)"
        )


if __name__ == "__main__":
    main()
