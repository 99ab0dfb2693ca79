"""OCR backend benchmark over the labelled sample documents.

For each backend, in its own process (so peak memory is its own): pages/s, mean and p95
seconds per OCR'd page, peak RSS, field hit rate (share of ground-truth values found verbatim
in the page text, spaces ignored) and character accuracy (1 - edits/characters, each value
matched against its best-fitting stretch of text).

    .venv/bin/python bench/ocr.py sample_docs [--backend rapidocr] [--limit 20] [--json]
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.textmatch import squash, substring_distance

BACKENDS = ("rapidocr", "paddleocr")
ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def truth_files(root: Path) -> list[Path]:
    """Labelled files: every `X.truth.json` sidecar whose `X` exists (claim folders excluded)."""
    files = []
    for sidecar in sorted(root.rglob("*.truth.json")):
        document = sidecar.with_name(sidecar.name.removesuffix(".truth.json"))
        if document.is_file():
            files.append(document)
    return files


def printed_forms(value: str) -> list[str]:
    """The ways a normalised truth value may be printed on a document."""
    match = ISO_DATE.match(value)
    if match:
        y, m, d = match.groups()
        return [
            f"{y}-{m}-{d}",
            f"{y}年{m}月{d}日",
            f"{y}年{int(m)}月{int(d)}日",
            f"{y}.{m}.{d}",
            f"{y}{m}{d}",
            f"{y}/{m}/{d}",
        ]
    forms = [value]
    if re.fullmatch(r"\d{4,}\.\d{2}", value):
        forms.append(f"{float(value):,.2f}")
    if re.fullmatch(r"0\.\d+", value):  # self-pay ratio fractions are printed as percentages
        forms.append(f"{float(value) * 100:g}%")
    return forms


def truth_values(fields: dict[str, Any]) -> list[str]:
    """Every printed string value in a truth record (codes and booleans are not printed)."""
    values: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for item in node.values():
                walk(item)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, str) and node and not re.fullmatch(r"[a-z_]+", node):
            values.append(node)

    walk(fields)
    return values


def score_file(document: Path, pages_text: list[str]) -> tuple[int, int, int, int]:
    """(values found, values, character edits, characters) for one labelled file."""
    truth = json.loads(document.with_name(document.name + ".truth.json").read_text("utf-8"))
    hits = total = edits = chars = 0
    for doc in truth["documents"]:
        text = squash("".join(pages_text[p] for p in doc["pages"] if p < len(pages_text)))
        for value in truth_values(doc["fields"]):
            best = min(substring_distance(squash(form), text) for form in printed_forms(value))
            total += 1
            hits += best == 0
            edits += best
            chars += len(squash(value))
    return hits, total, edits, chars


def run_backend(backend: str, files: list[Path]) -> dict[str, Any]:
    """Runs inside the child process: load the engine once, read every file."""
    from pipeline.errors import IntakeError
    from pipeline.models import PageSource
    from pipeline.ocr import get_engine
    from pipeline.reader import read_file

    t0 = time.perf_counter()
    engine = get_engine(backend)
    load_seconds = time.perf_counter() - t0
    per_page: list[float] = []
    hits = total = edits = chars = 0
    errors = []
    started = time.perf_counter()
    for number, file in enumerate(files, 1):
        t = time.perf_counter()
        try:
            result = read_file(file, engine=engine)
        except IntakeError as exc:
            errors.append(f"{file.name}: {exc.reason}")
            continue
        elapsed = time.perf_counter() - t
        ocr_pages = [p for p in result.pages if p.source == PageSource.OCR]
        if ocr_pages and len(ocr_pages) == len(result.pages):
            per_page.extend([elapsed / len(ocr_pages)] * len(ocr_pages))
        h, n, e, c = score_file(file, [p.text for p in result.pages])
        hits, total, edits, chars = hits + h, total + n, edits + e, chars + c
        print(f"  [{backend}] {number}/{len(files)} {file.name}", file=sys.stderr, flush=True)
    wall = time.perf_counter() - started
    ocr_seconds = sum(per_page)
    return {
        "backend": backend,
        "files": len(files),
        "ocr_pages": len(per_page),
        "load_seconds": round(load_seconds, 2),
        "pages_per_second": round(len(per_page) / ocr_seconds, 3) if ocr_seconds else None,
        "mean_seconds_per_page": round(statistics.fmean(per_page), 3) if per_page else None,
        "p95_seconds_per_page": round(_p95(per_page), 3) if per_page else None,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "field_hit_rate": round(hits / total, 4) if total else None,
        "char_accuracy": round(1 - edits / chars, 4) if chars else None,
        "values": total,
        "wall_seconds": round(wall, 1),
        "errors": errors,
    }


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("root", type=Path, nargs="?", default=Path("sample_docs"))
    parser.add_argument("--backend", choices=BACKENDS, action="append", help="default: both")
    parser.add_argument("--limit", type=int, default=0, help="read only the first N files")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    files = truth_files(args.root)
    if args.limit:
        files = files[: args.limit]
    if not files:
        parser.error(f"no labelled files (*.truth.json sidecars) under {args.root}")
    if args.child:
        print(json.dumps(run_backend(args.backend[0], files)))
        return
    results = []
    for backend in args.backend or BACKENDS:
        command = [sys.executable, __file__, str(args.root), "--backend", backend, "--child"]
        if args.limit:
            command += ["--limit", str(args.limit)]
        output = subprocess.run(command, check=True, capture_output=False, stdout=subprocess.PIPE)
        results.append(json.loads(output.stdout))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"\nOCR backends over {len(files)} labelled files in {args.root}")
    print(
        f"{'backend':<10} {'pages':>5} {'pages/s':>8} {'mean s':>7} {'p95 s':>6} "
        f"{'RSS MB':>7} {'field hit':>9} {'char acc':>8} {'load s':>6}"
    )
    for r in results:
        print(
            f"{r['backend']:<10} {r['ocr_pages']:>5} {r['pages_per_second']:>8} "
            f"{r['mean_seconds_per_page']:>7} {r['p95_seconds_per_page']:>6} {r['peak_rss_mb']:>7} "
            f"{r['field_hit_rate']:>9.2%} {r['char_accuracy']:>8.2%} {r['load_seconds']:>6}"
        )
        for error in r["errors"]:
            print(f"    refused: {error}")


if __name__ == "__main__":
    main()
