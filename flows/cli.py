"""The `intake` command line. Each subcommand is thin: it parses, calls `pipeline`, prints."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from flows.prefect_env import PrefectUnavailableError, configure_prefect
from pipeline.errors import IntakeError
from pipeline.logs import setup_logging
from pipeline.models import ReadResult
from pipeline.result import ClaimResult
from pipeline.settings import get_settings

app = typer.Typer(
    help=(
        "Yidi Claims Intake: read, check and calculate out-of-town medical reimbursement claims "
        "(异地就医手工报销). Settings come from INTAKE_* environment variables; see README.md."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DOCUMENT_SUFFIXES = {
    ".jpg",
    ".jpeg",
    ".png",
    ".tif",
    ".tiff",
    ".heic",
    ".heif",
    ".pdf",
    ".webp",
    ".bmp",
}


@app.callback()
def main(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="log progress to stderr")
    ] = False,
) -> None:
    level = logging.INFO if verbose else logging.WARNING
    # first, before any subcommand imports prefect: Prefect reads its settings at import (the
    # flows create Prefect's home folder when they start it)
    configure_prefect(get_settings(), logging.getLevelName(level), create_home=False)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(level)  # on the handler too: Prefect's INFO records reach the root anyway
    console.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[console])
    setup_logging(get_settings())


@contextlib.contextmanager
def servers_or_exit() -> Iterator[None]:
    """A server that cannot start (the embedded S3 server: folder in use, binary missing, no
    answer; Prefect's local server: no answer) ends the command with one sentence saying what
    happened and what to do, and exit status 2, not a traceback."""
    from infra.s3server import EmbeddedS3Error

    try:
        yield
    except (EmbeddedS3Error, PrefectUnavailableError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc


def _document_files(path: Path) -> list[Path]:
    """The files to read under `path`: itself, or the document files of a folder, sorted."""
    if path.is_dir():
        return sorted(
            p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in DOCUMENT_SUFFIXES
        )
    return [path]


def _page_json(result: ReadResult) -> list[dict[str, object]]:
    return [
        {
            "index": page.index,
            "width": page.width,
            "height": page.height,
            "source": page.source.value,
            "quality": page.quality.model_dump(mode="json"),
            "lines": [
                {"text": ln.text, "confidence": round(ln.confidence, 4), "bbox": ln.bbox.as_list()}
                for ln in page.lines
            ],
        }
        for page in result.pages
    ]


@app.command()
def ocr(
    path: Annotated[Path, typer.Argument(help="an image, TIFF, HEIC or PDF file, or a folder")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of text")] = False,
    engine: Annotated[
        str | None,
        typer.Option(help="OCR backend: rapidocr or paddleocr (default: INTAKE_OCR_ENGINE)"),
    ] = None,
) -> None:
    """Print the text lines read from PATH, with confidence and page-relative boxes.

    With --json: {"pages": [{"index", "width", "height", "source", "quality", "lines":
    [{"text", "confidence", "bbox"}]}]} for one file, bbox being page-relative x0, y0, x1, y1
    in 0..1; for a folder {"files": [{"file", "pages"} or {"file", "error", "reason"}]}.
    Exit status 2 if any file could not be read.
    """
    from pipeline.ocr import get_engine
    from pipeline.reader import read_file

    if not path.exists():
        raise typer.BadParameter(f"{path} does not exist", param_hint="PATH")
    settings = get_settings()
    ocr_engine = get_engine(engine, settings)
    files = _document_files(path)
    outputs: list[dict[str, object]] = []
    failed = 0
    for file in files:
        try:
            result = read_file(file, engine=ocr_engine, settings=settings)
        except IntakeError as exc:
            failed += 1
            outputs.append({"file": str(file), "error": str(exc), "reason": exc.reason})
            if not as_json:
                typer.echo(f"error: {exc}", err=True)
            continue
        outputs.append({"file": str(file), "pages": _page_json(result)})
        if not as_json:
            _print_text(result)
    if as_json:
        single = path.is_file() and "pages" in outputs[0]
        payload = {"pages": outputs[0]["pages"]} if single else {"files": outputs}
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    if failed:
        raise typer.Exit(code=2)


def _print_text(result: ReadResult) -> None:
    for page in result.pages:
        flags = ",".join(page.quality.flags) or "ok"
        typer.echo(f"== {result.file} page {page.index + 1} ({page.source.value}, quality {flags})")
        for line in page.lines:
            typer.echo(f"{line.confidence:5.2f}  {line.text}")


@app.command()
def demo(
    folder: Annotated[
        Path, typer.Argument(help="folder holding claims/<claim_id>/ folders")
    ] = Path("sample_docs"),
    report: Annotated[Path | None, typer.Option(help="HTML report path")] = None,
) -> None:
    """The main job on the embedded default: S3 server, Prefect flows, SQLite claim store.

    Starts a local S3 server (SeaweedFS) unless INTAKE_S3_ENDPOINT points at MinIO/S3, uploads
    the claim folders, processes every pending claim with the Prefect flows (OCR on all
    cores), prints a table and writes an HTML report with the pages, boxes, issues and money.
    """
    from flows.pipeline_run import run_batch

    settings = get_settings()
    claims_root = folder / "claims" if (folder / "claims").is_dir() else folder
    claims = sorted(p for p in claims_root.iterdir() if (p / "claim.json").is_file())
    if not claims:
        raise typer.BadParameter(f"no claim folders (with claim.json) under {claims_root}")
    report_path = report or settings.state_dir / "report.html"
    with servers_or_exit():
        results = run_batch(claims, settings, report_path, echo=typer.echo)
    _print_table(results)
    typer.echo(f"\nHTML report: {report_path.resolve()}")


def _print_table(results: list[dict[str, Any]]) -> None:
    typer.echo(
        f"\n{'claim':<14} {'type':<20} {'care':<27} {'status':<13} {'fund pays':>10}  missing / issues"
    )
    for r in results:
        money = r.get("reimbursement") or {}
        codes = sorted({i["code"] for i in r["issues"]})
        detail = ", ".join([*(f"missing {m}" for m in r["missing_documents"]), *codes]) or "-"
        typer.echo(
            f"{r['claim_id']:<14} {r['claim_type']:<20} {r['care_type']:<27} {r['status']:<13} "
            f"{money.get('fund_payment', '-'):>10}  {detail}"
        )


def _extract_file(file: Path) -> list[dict[str, object]] | dict[str, str]:
    from extractors.extract import extract_documents
    from pipeline.reader import read_file

    try:
        result = read_file(file)
    except IntakeError as exc:
        return {"file": str(file), "error": str(exc), "reason": exc.reason}
    return [document.as_json() for document in extract_documents(result)]


@app.command()
def extract(
    path: Annotated[Path, typer.Argument(help="a document file, or a folder of them")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of text")] = False,
) -> None:
    """Find the documents in PATH, classify them and extract their fields.

    With --json: {"documents": [{"id", "file", "pages", "doc_type", "doc_type_confidence",
    "quality", "fields": {key: {"value", "confidence", "bbox", "raw"}}, "missing"}],
    "errors": [{"file", "error", "reason"}]}; keys as in SPEC §2. Exit status 2 if a file
    could not be read.
    """
    if not path.exists():
        raise typer.BadParameter(f"{path} does not exist", param_hint="PATH")
    documents: list[dict[str, object]] = []
    errors: list[dict[str, str]] = []
    for file in _document_files(path):
        outcome = _extract_file(file)
        if isinstance(outcome, dict):
            errors.append(outcome)
            if not as_json:
                typer.echo(f"error: {outcome['error']}", err=True)
            continue
        documents.extend(outcome)
        if not as_json:
            for document in outcome:
                _print_document(document)
    if as_json:
        typer.echo(
            json.dumps({"documents": documents, "errors": errors}, ensure_ascii=False, indent=2)
        )
    if errors:
        raise typer.Exit(code=2)


def _print_document(document: dict[str, Any]) -> None:
    typer.echo(
        f"== {document['id']} pages {document['pages']} {document['doc_type']} "
        f"({document['doc_type_confidence']:.2f})"
    )
    for key, field in document["fields"].items():
        value = field["value"]
        if isinstance(value, list):
            value = f"{len(value)} entries"
        typer.echo(f"   {field['confidence']:.2f}  {key:<22} {value}")
    for key, reason in document["missing"].items():
        typer.echo(f"   ----  {key:<22} absent: {reason}")


@app.command("eval")
def evaluate(
    folder: Annotated[Path, typer.Argument(help="folder of labelled documents")] = Path(
        "sample_docs"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of tables")] = False,
    threshold: Annotated[
        float, typer.Option(help="fields under this confidence count as flagged for review")
    ] = 0.9,
    variant: Annotated[str | None, typer.Option(help="only scan, photo, pdf or bulk")] = None,
    limit: Annotated[int, typer.Option(help="only the first N files (0 = all)")] = 0,
    golden: Annotated[
        bool,
        typer.Option(help="also compare with golden records (INTAKE_UPDATE_GOLDEN=1 rewrites)"),
    ] = False,
    misses: Annotated[bool, typer.Option(help="list every wrong field")] = False,
    ocr_cache: Annotated[
        Path | None,
        typer.Option(help="record each file's OCR here and replay it on later runs (fast)"),
    ] = None,
) -> None:
    """Measure extraction against the ground truth in FOLDER.

    Prints, per document type and per variant (scan, photo, pdf, bulk): field exact-match
    accuracy, classification accuracy, flag rate (fields under the threshold or absent),
    straight-through precision (share of unflagged fields that are exactly right), and for
    tables (expense lines, invoice items, compared as multisets) the share of lines whose name
    and amount are right and the share of every labelled cell that is right.
    """
    from extractors.extract import extract_claim_documents
    from flows.evaluate import (
        Evaluation,
        check_golden,
        compare_document,
        labelled_files,
        match_document,
        read_with_cache,
    )

    files = [f for f in labelled_files(folder) if variant in (None, f.variant)]
    if limit:
        files = files[:limit]
    if not files:
        raise typer.BadParameter(
            f"no labelled files (*.truth.json) under {folder}", param_hint="FOLDER"
        )
    evaluation = Evaluation()
    golden_problems: list[str] = []
    with typer.progressbar(files, label="evaluating", file=sys.stderr) as progress:
        for labelled in progress:
            try:
                reads = [read_with_cache(path, ocr_cache) for path in labelled.paths]
                documents = extract_claim_documents(reads)
            except IntakeError as exc:
                evaluation.errors.append(str(exc))
                continue
            for truth in labelled.documents:
                tally = compare_document(truth, match_document(truth, documents), threshold)
                evaluation.record(
                    labelled.variant, truth, tally, _shown_path(labelled.path, folder)
                )
            if golden:
                problem = check_golden(folder, labelled.path, documents)
                if problem:
                    golden_problems.append(problem)
    report = evaluation.as_json()
    if as_json:
        report["golden_differences"] = golden_problems
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        _print_evaluation(report, show_misses=misses)
        for problem in golden_problems:
            typer.echo(f"golden: {problem}")
    if golden_problems:
        raise typer.Exit(code=1)


def _shown_path(path: Path, folder: Path) -> str:
    """The file as a person finds it: relative to the evaluated folder (names repeat per claim)."""
    return str(path.relative_to(folder)) if path.is_relative_to(folder) else path.name


def _print_evaluation(report: dict[str, Any], *, show_misses: bool) -> None:
    def pct(value: float | None) -> str:
        return "-" if value is None else f"{value:.1%}"

    header = (
        f"{'':<24} {'docs':>5} {'class.':>7} {'fields':>6} {'exact':>7} {'flagged':>8} {'STP':>7}"
        f" {'lines':>6} {'lines ok':>8} {'cells ok':>8}"
    )
    for title, rows in (
        ("by variant", report["by_variant"]),
        ("by document type", report["by_doc_type"]),
    ):
        typer.echo(f"\n{title}\n{header}")
        for name, f in [*rows.items(), ("TOTAL", report["total"])]:
            typer.echo(
                f"{name:<24} {f['documents']:>5} {pct(f['classification_accuracy']):>7} {f['fields']:>6} "
                f"{pct(f['field_exact_match']):>7} {pct(f['flag_rate']):>8} "
                f"{pct(f['straight_through_precision']):>7} {f['lines']:>6} "
                f"{pct(f['line_accuracy']):>8} {pct(f['line_cell_accuracy']):>8}"
            )
    for error in report["errors"]:
        typer.echo(f"refused: {error}")
    if show_misses:
        typer.echo("\nwrong fields:")
        for miss in report["misses"]:
            typer.echo(f"  {miss}")


@app.command()
def claim(
    folder: Annotated[
        Path, typer.Argument(help="a claim folder: claim.json plus the uploaded files")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="print the SPEC §6 result JSON")] = False,
    store: Annotated[
        bool, typer.Option(help="record the result in the claim store (duplicate detection)")
    ] = False,
) -> None:
    """Run OCR, extraction, validation and (for complete claims) calculation on FOLDER.

    Exit status 0 whatever the claim's status; 1 for a bad manifest or folder; 3 if the
    infrastructure (OCR engine, database) fails.
    """
    from flows.claim import process_claim_folder
    from infra.store import ClaimStore
    from pipeline.bundle import ManifestError

    if not folder.is_dir():
        raise typer.BadParameter(f"{folder} is not a folder", param_hint="FOLDER")
    settings = get_settings()
    try:
        claim_store = ClaimStore(settings.store_url()) if store else None
        result = process_claim_folder(folder, store=claim_store, settings=settings)
    except ManifestError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    if as_json:
        typer.echo(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
        return
    _print_claim(result)


def _print_claim(result: ClaimResult) -> None:
    typer.echo(f"claim {result.claim_id}: {result.status.value.upper()}")
    for document in result.documents:
        typer.echo(
            f"  {document.id:<40} {document.doc_type.value:<24} {document.doc_type_confidence:.2f}"
        )
    for problem in result.file_problems:
        typer.echo(f"  {problem.file:<40} refused: {problem.reason}")
    if result.missing_documents:
        typer.echo(f"missing documents: {', '.join(result.missing_documents)}")
    for found in result.issues:
        typer.echo(f"  [{found.severity.value}] {found.code.value}: {found.message}")
    money = result.reimbursement
    if money:
        typer.echo(
            f"reimbursement ({money.policy}): compliant {money.compliant_amount}, "
            f"deductible {money.deductible}, fund pays {money.fund_payment}, "
            f"individual pays {money.individual_payment}"
        )


@app.command()
def bulk(
    scan: Annotated[Path, typer.Argument(help="a scanner PDF holding several claimants' files")],
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
) -> None:
    """Split a bulk scan into claims by ID number (flow ingest-bulk-scan).

    The scan is stored under bulk/ in S3 (never changed), each claimant's pages become
    claims/<claim_id>/<scan name>, and each claim waits for its claim.json (the printed ids).
    Running it again on the same scan creates nothing new. Exit status 2 if the scan is
    unreadable.
    """
    from flows.bulk_flow import ingest_local_scan

    if not scan.is_file():
        raise typer.BadParameter(f"{scan} is not a file", param_hint="SCAN")
    try:
        with servers_or_exit():
            summary = ingest_local_scan(scan, get_settings())
    except IntakeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    if as_json:
        typer.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{summary['scan']}: {summary['pages']} pages, {len(summary['claims'])} claims")
    for claim in summary["claims"]:
        pages = ",".join(str(p + 1) for p in claim["pages"])
        typer.echo(
            f"  {claim['claim_id']}  pages {pages:<12} {claim['id_number'] or '-':<18} "
            f"{claim['status']}"
        )


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def worker(
    ctx: typer.Context,
    pool: Annotated[str, typer.Option(help="the work pool (prefect work-pool create)")],
) -> None:
    """Start a Prefect worker on POOL with the intake's Prefect settings (README, Deployment).

    Runs `prefect worker start --pool POOL` with every further option (--name, --limit, ...)
    in this environment, so that each flow run it starts gets the same settings.
    """
    configure_prefect(get_settings())  # set already (see main); now with its home folder
    beside = Path(sys.executable).parent / "prefect"
    command = [str(beside) if beside.is_file() else "prefect", "worker", "start"]
    os.execvp(command[0], [*command, "--pool", pool, *ctx.args])


rules_app = typer.Typer(help="Validation rules and policy files.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")


@rules_app.command("check")
def rules_check(
    file: Annotated[
        Path, typer.Argument(help="a rules file (validators/rules/*.yaml) or policy file")
    ],
) -> None:
    """Validate a rules or policy file; exit status 1 with the bad key if it is wrong."""
    from validators.rules import RulesFileError, load_rules

    text = file.read_text(encoding="utf-8") if file.is_file() else ""
    try:
        if "required_documents" in text or not text:
            rules = load_rules(file)
            typer.echo(
                f"ok: rules for {rules.region}; example values: {', '.join(rules.example_values)}"
            )
        else:
            from pipeline.calculator import PolicyFileError, load_policy

            try:
                policy = load_policy(file)
            except PolicyFileError as exc:
                raise RulesFileError(str(exc)) from exc
            typer.echo(f"ok: policy {policy.policy_id} for {policy.region}")
    except RulesFileError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc


if __name__ == "__main__":
    app()
