"""Load test: hundreds of claims through the real S3 server, the Prefect flows and the OCR pool.

    .venv/bin/python bench/load.py [--claims 500] [--photo-share 0.1] [--ocr-workers 0]

Claims C-LOAD-0001… are made with the sample documents' own generator (sample_docs/generate.py):
each is the complete self-referral outpatient claim of a different person (ID card front and
back, medical invoice, expense list, filing record), as text-layer PDFs like the electronic
invoices and lists hospitals send; in a `--photo-share` of the claims the ID card front is a
phone photo instead, which goes through the full OCR path (rectification, detection,
recognition). Every invoice is unique, so no claim is refused as a duplicate. Generated
claims are cached under <state dir>/load/ and reused by later runs.

The run starts a fresh embedded S3 server (SeaweedFS) and a fresh SQLite claim store in a
temporary folder, uploads every claim through the S3 API, then runs `process_pending` (four
claims at a time, OCR on the worker pool) on Prefect's local engine, and prints: throughput
(claims/min), p50/p95 seconds per claim (the claim task's run time), peak RSS of the main
process, the OCR workers, the S3 server and Prefect's server, the count of each status, and the
check that no claim was lost or duplicated. Exit status 1 if a claim was lost or duplicated.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import random
import resource
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

REPO = Path(__file__).resolve().parent.parent
GENERATOR = REPO / "sample_docs" / "generate.py"
CACHE_VERSION = "v1"
PREFIX = "C-LOAD-"


def _sample_generator() -> ModuleType:
    """sample_docs/generate.py as a module (it is a script, not a package)."""
    name = "intake_sample_generator"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file runs
    spec.loader.exec_module(module)
    return module


def text_pdfs(documents: list[tuple[str, Any]], folder: Path) -> list[Path]:
    """Each generated document as `<name>.pdf` with a text layer, as sample_docs/generate.py
    draws them; written as one PDF first and then split, so the CJK font is embedded once
    per claim (five times faster than one document at a time)."""
    import pypdfium2 as pdfium
    from fpdf import FPDF

    gen = _sample_generator()
    logging.getLogger("fontTools").setLevel(logging.ERROR)  # "BDF NOT subset" noise
    pdf = FPDF(unit="mm")
    pdf.set_creation_date(datetime(2026, 1, 1, tzinfo=UTC))
    pdf.set_auto_page_break(False)
    pdf.add_font("cjk", fname=gen.PDF_FONT)
    for _, doc in documents:
        for ops in doc.pages:
            pdf.add_page(format=doc.size)
            gen.draw_pdf_page(pdf, ops)
    combined = pdfium.PdfDocument(bytes(pdf.output()))
    paths, first = [], 0
    try:
        for name, doc in documents:
            single = pdfium.PdfDocument.new()
            single.import_pages(combined, list(range(first, first + len(doc.pages))))
            first += len(doc.pages)
            paths.append(folder / f"{name}.pdf")
            single.save(str(paths[-1]))
            single.close()
    finally:
        combined.close()
    return paths


def write_claim(folder: Path, claim_id: str, seed: int, photo: bool = False) -> Path:
    """A complete self-referral outpatient claim of one generated person in `folder`.

    Text-layer PDFs (no OCR needed), or with `photo` the ID card front as a phone photo."""
    gen = _sample_generator()
    rng = random.Random(seed)
    person = gen.make_person(rng)
    hospital = gen.HOSPITALS[3]  # 济南市中心医院: the filing below is for 济南市
    start = date(2026, rng.randint(3, 9), rng.randint(1, 28))
    stay = gen.make_stay(rng, person, hospital, start, rng.randint(1, 6), rng.randint(4, 10))
    filed = start - timedelta(days=rng.randint(10, 60))
    documents = [
        ("01_id_front", gen.id_front(rng, person)),
        ("02_id_back", gen.id_back(rng, person, date(2019, 4, 2), False)),
        (
            "03_invoice",
            gen.invoice(rng, person, hospital, stay.start, stay.end, stay.items, False, stay.codes),
        ),
        (
            "04_expense_list",
            gen.expense_list(
                rng, person, hospital, stay.start, stay.end, stay.rows, stay.admission
            ),
        ),
        (
            "05_filing",
            gen.filing(
                rng, person, "self_referral", hospital[1], filed, filed, filed + timedelta(days=365)
            ),
        ),
    ]
    folder.mkdir(parents=True, exist_ok=True)
    if photo:
        name, doc = documents.pop(0)
        page = gen.render(doc, rng, rng.choice(gen.FONTS[:4]))[0]
        gen.photo(page, rng).save(folder / f"{name}.jpg", quality=80)
    text_pdfs(documents, folder)
    manifest = {
        "claim_id": claim_id,
        "claim_type": "self_referral",
        "care_type": "outpatient",
        "insured_region": "烟台市",
        "treatment_region": hospital[1],
        "submitted_on": (stay.end + timedelta(days=rng.randint(2, 20))).isoformat(),
        "by_agent": False,
        "paid_this_year": "0.00",
    }
    (folder / "claim.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    return folder


def make_claims(root: Path, count: int, photo_share: float, prefix: str = PREFIX) -> list[Path]:
    """`count` claim folders `<prefix>0001`…; every n-th one (by `photo_share`) has a photo.

    A folder already complete from an earlier run is reused."""
    photo_every = round(1 / photo_share) if photo_share > 0 else 0
    folders = []
    for n in range(1, count + 1):
        photo = bool(photo_every) and n % photo_every == 0
        claim_id = f"{prefix}{n:04d}"
        folder = root / ("photo" if photo else "text") / claim_id
        if not (folder / "claim.json").is_file():
            partial = folder.with_name(f".{claim_id}.partial")
            shutil.rmtree(partial, ignore_errors=True)
            write_claim(partial, claim_id, seed=n, photo=photo)
            shutil.rmtree(folder, ignore_errors=True)
            partial.rename(folder)
        folders.append(folder)
    return folders


class RssSampler:
    """Peak resident memory of this process and its descendants, by role, sampled."""

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.peaks: dict[str, float] = {}
        self.ocr_pids: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @staticmethod
    def _role(process: Any) -> str:
        try:
            command = " ".join(process.cmdline())
        except Exception:
            return "other"
        if "weed" in command:
            return "s3_server"
        if "spawn_main" in command:
            return "ocr_worker"
        if "uvicorn" in command or "prefect" in command:
            return "prefect_server"
        return "other"

    def sample(self) -> None:
        import psutil

        me = psutil.Process()
        self._note("main", me.memory_info().rss)
        for child in me.children(recursive=True):
            try:
                rss = child.memory_info().rss
            except psutil.Error:
                continue
            role = self._role(child)
            if role == "ocr_worker":
                self.ocr_pids.add(child.pid)
            self._note(role, rss)

    def _note(self, role: str, rss: int) -> None:
        self.peaks[role] = max(self.peaks.get(role, 0.0), rss / 2**20)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()


def task_durations(prefix: str) -> dict[str, float]:
    """Seconds each claim task ran (last attempt's start to end), from Prefect's API."""
    from prefect import get_client
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterName

    durations: dict[str, float] = {}
    with get_client(sync_client=True) as client:
        offset = 0
        while True:
            runs = client.read_task_runs(
                task_run_filter=TaskRunFilter(name=TaskRunFilterName(like_=f"claim-{prefix}")),
                limit=200,
                offset=offset,
            )
            for run in runs:
                if run.start_time and run.end_time:
                    claim_id = run.name.removeprefix("claim-")
                    durations[claim_id] = (run.end_time - run.start_time).total_seconds()
            if len(runs) < 200:
                return durations
            offset += 200


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def integrity(runtime: Any, claim_ids: list[str]) -> dict[str, int]:
    """Lost claims (no stored or published result) and duplicated rows, from the store and S3."""
    from sqlalchemy import func, select

    from infra.store import CalculationRow, ClaimRow, StatusHistoryRow

    published = {
        key.split("/")[1]
        for key, _ in runtime.objects.list_keys("claims/")
        if key.endswith("/_results/result.json")
    }
    with runtime.store.session() as session:
        stored = set(session.scalars(select(ClaimRow.claim_id)))
        histories = session.execute(
            select(StatusHistoryRow.claim_id, func.count()).group_by(StatusHistoryRow.claim_id)
        ).all()
        calculations = session.execute(
            select(CalculationRow.claim_id, func.count()).group_by(CalculationRow.claim_id)
        ).all()
    return {
        "lost": sum(1 for c in claim_ids if c not in stored or c not in published),
        "duplicate_status_rows": sum(n - 1 for _, n in histories if n > 1),
        "duplicate_calculations": sum(n - 1 for _, n in calculations if n > 1),
        "calculations": sum(n for _, n in calculations),
    }


def run(count: int, photo_share: float, ocr_workers: int) -> int:
    from pipeline.settings import get_settings

    base = get_settings()
    cache = base.state_dir.resolve() / "load" / CACHE_VERSION
    started = time.perf_counter()
    folders = make_claims(cache, count, photo_share)
    photos = sum(1 for f in folders if f.parent.name == "photo")
    files = sum(1 for f in folders for p in f.iterdir() if p.name != "claim.json")
    print(
        f"{count} claims ({count - photos} text-layer PDF only, {photos} with a phone photo), "
        f"{files} files; generated or found in {time.perf_counter() - started:.1f} s ({cache})"
    )
    with tempfile.TemporaryDirectory(prefix="intake-load-") as tmp:
        state = Path(tmp)
        settings = base.model_copy(
            update={
                "state_dir": state,
                "database_url": None,
                "s3_bucket": "load",
                "ocr_workers": ocr_workers,
            }
        )
        # before Prefect is imported: a fresh Prefect database, no telemetry, quiet logs
        from flows.prefect_env import configure_prefect

        configure_prefect(settings)
        from flows.pipeline_run import upload_claim_folder
        from flows.prefect_flows import Runtime, process_pending
        from infra.s3server import EmbeddedS3

        with RssSampler() as rss, EmbeddedS3(state / "s3", settings=settings) as server:
            runtime = Runtime.install(Runtime(settings, endpoint=server.endpoint))
            try:
                upload_started = time.perf_counter()
                ids = [upload_claim_folder(runtime.objects, f) for f in folders]
                upload_s = time.perf_counter() - upload_started
                print(f"uploaded {files + count} objects in {upload_s:.1f} s")
                done = [0]
                lock = threading.Lock()

                def progress(claim_id: str, status: str) -> None:
                    with lock:
                        done[0] += 1
                        if done[0] % 50 == 0 or done[0] == count:
                            print(f"  {done[0]}/{count} claims done", flush=True)

                runtime.on_claim_done = progress
                batch_started = time.perf_counter()
                statuses = process_pending()
                batch_s = time.perf_counter() - batch_started
                durations = task_durations(PREFIX)
                checks = integrity(runtime, ids)
                workers = runtime.pool.workers
                restarts = runtime.pool.restarts
            finally:
                Runtime.reset()
    per_claim = [durations[c] for c in ids if c in durations]
    counts = Counter(statuses.get(c, "missing") for c in ids)
    main_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    report: dict[str, Any] = {
        "claims": count,
        "photo_claims": photos,
        "ocr_workers": workers,
        "batch_seconds": round(batch_s, 1),
        "claims_per_minute": round(count / batch_s * 60, 1),
        "p50_seconds_per_claim": round(statistics.median(per_claim), 2) if per_claim else None,
        "p95_seconds_per_claim": round(percentile(per_claim, 0.95), 2),
        "peak_rss_mb": {
            "main": round(max(main_peak, rss.peaks.get("main", 0.0))),
            "ocr_worker_max": round(rss.peaks.get("ocr_worker", 0.0)),
            "s3_server": round(rss.peaks.get("s3_server", 0.0)),
            "prefect_server": round(rss.peaks.get("prefect_server", 0.0)),
        },
        "ocr_worker_processes_seen": len(rss.ocr_pids),
        "pool_restarts": restarts,
        "statuses": dict(sorted(counts.items())),
        **checks,
    }
    print(f"\nbatch of {count} claims in {batch_s:.1f} s: {report['claims_per_minute']} claims/min")
    print(
        f"seconds per claim: p50 {report['p50_seconds_per_claim']}, "
        f"p95 {report['p95_seconds_per_claim']} ({len(per_claim)} task runs measured)"
    )
    peaks = report["peak_rss_mb"]
    print(
        f"peak RSS: main {peaks['main']} MB, each OCR worker ≤ {peaks['ocr_worker_max']} MB "
        f"({workers} workers), S3 server {peaks['s3_server']} MB, "
        f"Prefect server {peaks['prefect_server']} MB"
    )
    print("statuses: " + ", ".join(f"{k} {v}" for k, v in report["statuses"].items()))
    ok = checks["lost"] == 0 and not checks["duplicate_status_rows"]
    ok = ok and not checks["duplicate_calculations"]
    print(
        f"lost {checks['lost']} (must be 0), duplicate status rows "
        f"{checks['duplicate_status_rows']}, duplicate calculations "
        f"{checks['duplicate_calculations']} ({checks['calculations']} calculations): "
        + ("OK" if ok else "FAILED")
    )
    print(json.dumps(report, ensure_ascii=False))
    return 0 if ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--claims", type=int, default=500, help="number of claims (default 500)")
    parser.add_argument(
        "--photo-share",
        type=float,
        default=0.1,
        help="share of claims whose ID card front is a phone photo (default 0.1)",
    )
    parser.add_argument(
        "--ocr-workers", type=int, default=0, help="OCR worker processes (default: one per core)"
    )
    args = parser.parse_args()
    if args.claims < 1 or not 0 <= args.photo_share <= 1:
        parser.error("--claims must be ≥ 1 and --photo-share between 0 and 1")
    sys.exit(run(args.claims, args.photo_share, args.ocr_workers))


if __name__ == "__main__":
    main()
