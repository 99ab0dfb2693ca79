"""The `intake` command line. Each subcommand is thin: it parses, calls `pipeline`, prints."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from pipeline.errors import IntakeError
from pipeline.models import ReadResult
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
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


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
    folder: Annotated[Path, typer.Argument(help="sample folder")] = Path("sample_docs"),
) -> None:
    """Run the main job over the sample claims and print a summary table."""
    from pipeline.ocr import get_engine
    from pipeline.reader import read_file

    settings = get_settings()
    claims = folder / "claims"
    files = _document_files(claims if claims.is_dir() else folder)
    typer.echo(f"reading {len(files)} files under {folder} with {settings.ocr_engine} ...")
    engine = get_engine(settings=settings)
    header = f"{'file':<58} {'pages':>5} {'source':<9} {'lines':>5} {'conf':>5} {'sec':>5}  quality"
    typer.echo(header)
    started = time.perf_counter()
    for number, file in enumerate(files, 1):
        t0 = time.perf_counter()
        name = str(file.relative_to(folder))[-58:]
        try:
            result = read_file(file, engine=engine, settings=settings)
        except IntakeError as exc:
            typer.echo(
                f"{name:<58} {'-':>5} {'refused':<9} {'-':>5} {'-':>5} {'-':>5}  {exc.reason}"
            )
            continue
        lines = [ln for page in result.pages for ln in page.lines]
        conf = sum(ln.confidence for ln in lines) / len(lines) if lines else 0.0
        sources = ",".join(sorted({p.source.value for p in result.pages}))
        flags = ",".join(sorted({f.value for p in result.pages for f in p.quality.flags})) or "ok"
        typer.echo(
            f"{name:<58} {len(result.pages):>5} {sources:<9} {len(lines):>5} {conf:>5.2f} "
            f"{time.perf_counter() - t0:>5.1f}  {flags}   [{number}/{len(files)}]"
        )
    typer.echo(f"done: {len(files)} files in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    app()
