"""Extraction accuracy against labelled documents (`intake eval`).

Ground truth is a sidecar `X.truth.json` beside each sample file `X` (and, for claim folders,
`<claim>.truth.json` beside the folder). Each truth document is matched to the extracted
document on the same first page (and overlapping region); then every canonical field is
compared exactly, list fields as multisets of their elements.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.models import BBox, ReadResult
from pipeline.reader import READ_VERSION, read_file
from pipeline.records import Document
from pipeline.settings import get_settings

GOLDEN_ENV = "INTAKE_UPDATE_GOLDEN"
EXTRA = object()  # stands for the truth of an extracted list element the truth lacks


@dataclass(frozen=True, slots=True)
class LabelledFile:
    path: Path
    variant: str
    documents: list[dict[str, Any]]
    continued_in: tuple[Path, ...] = ()  # later files a document of this one runs on into

    @property
    def paths(self) -> list[Path]:
        return [self.path, *self.continued_in]


def labelled_files(root: Path) -> list[LabelledFile]:
    """Every labelled sample file under `root`, in path order."""
    found: list[LabelledFile] = []
    for sidecar in sorted(root.rglob("*.truth.json")):
        truth = json.loads(sidecar.read_text(encoding="utf-8"))
        if "files" in truth:  # a claim folder's truth: one entry per uploaded file
            folder = sidecar.with_name(sidecar.name.removesuffix(".truth.json"))
            for name, entry in sorted(truth["files"].items()):
                if (folder / name).is_file() and entry.get("documents"):
                    later = tuple(
                        folder / other
                        for other, e in sorted(truth["files"].items())
                        if e.get("continues") == name and (folder / other).is_file()
                    )
                    found.append(
                        LabelledFile(folder / name, entry["variant"], entry["documents"], later)
                    )
            continue
        document = sidecar.with_name(sidecar.name.removesuffix(".truth.json"))
        if document.is_file():
            found.append(LabelledFile(document, truth["variant"], truth["documents"]))
    return found


@dataclass(slots=True)
class Tally:
    documents: int = 0
    classified_right: int = 0
    fields: int = 0
    exact: int = 0
    flagged: int = 0
    unflagged: int = 0
    unflagged_exact: int = 0
    lines: int = 0  # expense-list lines and invoice items, each counted once
    lines_right: int = 0  # name and amount both right
    line_cells: int = 0  # every labelled cell of those lines (code, class, quantity, …)
    line_cells_right: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name in self.__slots__:
            if name != "misses":
                setattr(self, name, getattr(self, name) + getattr(other, name))
        self.misses.extend(other.misses)

    def figures(self) -> dict[str, Any]:
        def ratio(a: int, b: int) -> float | None:
            return round(a / b, 4) if b else None

        return {
            "documents": self.documents,
            "classification_accuracy": ratio(self.classified_right, self.documents),
            "fields": self.fields,
            "field_exact_match": ratio(self.exact, self.fields),
            "flag_rate": ratio(self.flagged, self.fields),
            "straight_through_precision": ratio(self.unflagged_exact, self.unflagged),
            "lines": self.lines,
            "line_accuracy": ratio(self.lines_right, self.lines),
            "line_cell_accuracy": ratio(self.line_cells_right, self.line_cells),
        }


def match_document(truth: dict[str, Any], documents: list[Document]) -> Document | None:
    """The extracted document starting on the truth's first page (and region, if any)."""
    first = truth["pages"][0]
    candidates = [d for d in documents if first in d.pages]
    region = truth.get("region")
    if region and len(candidates) > 1:
        target = BBox(x0=region[0], y0=region[1], x1=region[2], y1=region[3])
        return max(candidates, key=lambda d: _overlap(d.region, target))
    return candidates[0] if candidates else None


def _overlap(a: BBox | None, b: BBox) -> float:
    if a is None:
        return 0.0
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(w, 0.0) * max(h, 0.0)


def compare_document(truth: dict[str, Any], document: Document | None, threshold: float) -> Tally:
    tally = Tally(documents=1)
    if document is not None and document.doc_type.value == truth["doc_type"]:
        tally.classified_right = 1
    elif truth["doc_type"] in ("agent_id_card",) and document and document.doc_type == "id_card":
        tally.classified_right = 1  # the agent is only known at claim level
    extracted = document.as_json()["fields"] if document else {}
    for key, expected in truth["fields"].items():
        got = extracted.get(key)
        for unit, (want, have) in enumerate(_units(expected, got["value"] if got else None)):
            tally.fields += 1
            right = _same(want, have)
            tally.exact += right
            confidence = got["confidence"] if got else 0.0
            if isinstance(have, dict) and isinstance(have.get("confidence"), float):
                confidence = have["confidence"]  # table rows carry their own confidence
            if isinstance(want, dict):
                _count_line(tally, want, have)
            flagged = got is None or confidence < threshold or _only_cells_absent(want, have)
            tally.flagged += flagged
            if not flagged:
                tally.unflagged += 1
                tally.unflagged_exact += right
            if not right:
                label = f"{key}[{unit}]" if isinstance(expected, list) else key
                shown = "nothing (extra element)" if want is EXTRA else repr(want)
                passed = "" if flagged else "  [NOT FLAGGED]"  # the misses that matter most
                tally.misses.append(f"{label}: want {shown} got {have!r}{passed}")
    return tally


def _only_cells_absent(want: Any, have: Any) -> bool:
    """A table line whose every cell read is right but some were not read (OCR lost a lone
    `盒`): like an absent field, a gap for a person to fill, not a wrong value passed."""
    if not isinstance(want, dict) or not isinstance(have, dict) or _same(want, have):
        return False
    read = {k: v for k, v in want.items() if v is not None and have.get(k) is not None}
    return len(read) < len([v for v in want.values() if v is not None]) and all(
        _same(v, have[k]) for k, v in read.items()
    )


def _count_line(tally: Tally, want: dict[str, Any], have: Any) -> None:
    """A table line: right when its name and amount are; each labelled cell counts too."""
    have = have if isinstance(have, dict) else {}
    tally.lines += 1
    tally.lines_right += all(_same(want.get(k), have.get(k)) for k in ("name", "amount"))
    cells = [k for k, v in want.items() if v is not None]
    tally.line_cells += len(cells)
    tally.line_cells_right += sum(_same(want[k], have.get(k)) for k in cells)


def _units(expected: Any, got: Any) -> Iterator[tuple[Any, Any]]:
    """Scalar fields count once; list fields once per element, compared as a multiset.

    Real forms fill their item grid row-wise or column-wise, so order carries no meaning:
    each expected element is paired with an equal extracted one if there is one; what is
    left is paired in order, and extracted elements beyond the expected count are misses.
    """
    if not isinstance(expected, list):
        yield expected, got
        return
    remaining = list(got) if isinstance(got, list) else []
    unmatched: list[Any] = []
    for want in expected:
        match = next((i for i, have in enumerate(remaining) if _same(want, have)), None)
        if match is None:
            unmatched.append(want)
        else:
            yield want, remaining.pop(match)
    for want in unmatched:
        yield want, remaining.pop(0) if remaining else None
    for extra in remaining:
        yield EXTRA, extra


def _same(want: Any, have: Any) -> bool:
    if isinstance(want, dict):
        if not isinstance(have, dict):
            return False
        return all(_same(v, have.get(k)) for k, v in want.items() if v is not None)
    if want is EXTRA:
        return False
    if isinstance(want, bool) or want is None:
        return bool(want == have)
    return str(want) == str(have) if have is not None else False


@dataclass(slots=True)
class Evaluation:
    by_type: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_variant: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    total: Tally = field(default_factory=Tally)
    errors: list[str] = field(default_factory=list)

    def record(self, variant: str, truth: dict[str, Any], tally: Tally, file: str) -> None:
        tally.misses = [f"{file} {truth['doc_type']}: {m}" for m in tally.misses]
        self.by_type[truth["doc_type"]].add(tally)
        self.by_variant[variant].add(tally)
        self.total.add(tally)

    def as_json(self) -> dict[str, Any]:
        return {
            "total": self.total.figures(),
            "by_variant": {k: v.figures() for k, v in sorted(self.by_variant.items())},
            "by_doc_type": {k: v.figures() for k, v in sorted(self.by_type.items())},
            "errors": self.errors,
            "misses": self.total.misses,
        }


def golden_path(root: Path, file: Path) -> Path:
    return root / "golden" / (str(file.relative_to(root)).replace(os.sep, "__") + ".json")


def check_golden(root: Path, file: Path, documents: list[Document]) -> str | None:
    """Compare with (or, with INTAKE_UPDATE_GOLDEN=1, rewrite) the golden record file."""
    path = golden_path(root, file)
    current = [_golden_view(d) for d in documents]
    if os.environ.get(GOLDEN_ENV) == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(current, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        return None
    if not path.exists():
        return f"{path} missing (run with {GOLDEN_ENV}=1 to create it)"
    if json.loads(path.read_text(encoding="utf-8")) != current:
        return f"{file} differs from {path}"
    return None


def _golden_view(document: Document) -> dict[str, Any]:
    """Types and values only: confidences and boxes move with OCR noise, values must not."""
    data = document.as_json()
    return {
        "pages": data["pages"],
        "doc_type": data["doc_type"],
        "fields": {k: v["value"] for k, v in data["fields"].items()},
    }


def read_with_cache(path: Path, cache: Path | None) -> ReadResult:
    """Read `path`, or replay its recorded read from `cache` (lines and boxes, no image).

    Extraction work iterates far faster over recorded OCR; the key holds the file's hash,
    the engine and the reader's version, so a change to reading never replays a stale read.
    """
    if cache is None:
        return read_file(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:24]
    entry = cache / f"{digest}-{get_settings().ocr_engine}-v{READ_VERSION}.json"
    if entry.is_file():
        result = ReadResult.model_validate_json(entry.read_text(encoding="utf-8"))
        return result.model_copy(update={"file": str(path)})
    result = read_file(path)
    cache.mkdir(parents=True, exist_ok=True)
    entry.write_text(result.model_dump_json(), encoding="utf-8")
    return result
