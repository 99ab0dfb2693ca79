"""Splitting and merging documents on the review page (as result JSON, recorded in the audit
trail and applied by `flows.review`).

- Merge: a document the pipeline cut in two (an expense list's second page, an ID card's back)
  is put back into the one before: its pages run on after the first's, its fields fill the
  fields the first lacks, and table rows (`items`, `lines`) are appended.
- Split: the pages from one page on become a document of their own (of the type the reviewer
  names), read again with the OCR engine; fields read on those pages leave the first document.

Pages are numbered through a document as the extractor numbers them (a later file's pages
count on after the last page of the file before), and field boxes carry those numbers, so
every box is renumbered when pages move.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from flows.review import TABLE_COLUMNS
from webapp.pages import numbered_pages

PageRef = tuple[str, int]  # (file, page in file)


class Restructure(BaseModel):
    """What a split or merge changes: documents as they become, and the ids merged away."""

    documents: list[dict[str, Any]]
    removed: list[str]
    created: str | None = None


def _layout(pages: list[PageRef]) -> dict[str, Any]:
    """file, pages and continued for pages in reading order (the first file's first)."""
    files: dict[str, list[int]] = {}
    for name, page in pages:
        files.setdefault(name, [])
        if page not in files[name]:
            files[name].append(page)
    first, *rest = files
    return {
        "file": first,
        "pages": sorted(files[first]),
        "continued": {name: sorted(files[name]) for name in rest},
    }


def _with_layout(document: dict[str, Any], pages: list[PageRef]) -> dict[str, Any]:
    """The document on `pages`, its field boxes renumbered for the new page numbering."""
    old = {n: (name, page) for name, page, n in numbered_pages(document)}
    moved = {**copy.deepcopy(document), **_layout(pages)}
    if not moved["continued"]:
        moved.pop("continued")
    new = {(name, page): n for name, page, n in numbered_pages(moved)}
    fields = {}
    for key, field in moved["fields"].items():
        box = field.get("bbox")
        if box:
            where = old.get(box[0])
            if where is not None and where not in new:
                continue  # read on a page the document no longer has
            if where is not None:
                field = {**field, "bbox": [new[where], *box[1:]]}
        fields[key] = field
    moved["fields"] = fields
    return moved


def merge(into: dict[str, Any], other: dict[str, Any]) -> Restructure:
    """`other` becomes part of `into`: pages after its pages, fields it lacks, rows appended."""
    pages = [(n, p) for n, p, _ in numbered_pages(into)]
    pages += [(n, p) for n, p, _ in numbered_pages(other) if (n, p) not in pages]
    merged = _with_layout(into, pages)
    numbers = {(name, page): n for name, page, n in numbered_pages(merged)}
    theirs = {n: (name, page) for name, page, n in numbered_pages(other)}
    for key, field in other.get("fields", {}).items():
        box = field.get("bbox")
        if box and theirs.get(box[0]) in numbers:
            field = {**field, "bbox": [numbers[theirs[box[0]]], *box[1:]]}
        mine = merged["fields"].get(key)
        if mine is None:
            merged["fields"][key] = field
        elif key in TABLE_COLUMNS and isinstance(mine.get("value"), list):
            rows = [*mine["value"], *(field.get("value") or [])]
            merged["fields"][key] = {**mine, "value": rows, "raw": f"{len(rows)} rows"}
    merged["missing"] = {
        k: v for k, v in merged.get("missing", {}).items() if k not in merged["fields"]
    }
    return Restructure(documents=[merged], removed=[other["id"]])


def split_pages(document: dict[str, Any], at: int) -> tuple[list[PageRef], list[PageRef]]:
    """The document's pages before page number `at` and from it on."""
    numbered = numbered_pages(document)
    return (
        [(name, page) for name, page, n in numbered if n < at],
        [(name, page) for name, page, n in numbered if n >= at],
    )


def new_id(used: set[str], file: str) -> str:
    """A `<file name>#<n>` id for a document that starts in `file`, never used before in the
    claim (not even by a document merged away), so the audit trail stays unambiguous."""
    stem = Path(file).name
    n = 1
    while f"{stem}#{n}" in used:
        n += 1
    return f"{stem}#{n}"


def split(
    document: dict[str, Any], at: int, doc_type: str, used: set[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the first part, the new document without fields yet) of a split at page `at`."""
    keep, move = split_pages(document, at)
    if not keep or not move:
        raise ValueError("a split needs pages on both sides")
    first = _with_layout(document, keep)
    second = {
        "id": new_id(used, move[0][0]),
        **_layout(move),
        "doc_type": doc_type,
        "doc_type_confidence": 1.0,
        "region": None,
        "quality": copy.deepcopy(document.get("quality") or {}),
        "fields": {},
        "missing": {},
    }
    if not second["continued"]:
        second.pop("continued")
    return first, second
