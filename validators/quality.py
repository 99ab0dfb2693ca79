"""Extraction quality: unreadable files and pages, photos to retake, fields under threshold."""

from __future__ import annotations

from pipeline.bundle import ClaimBundle, IssueCode, Severity, ValidationIssue
from pipeline.models import QualityFlag
from pipeline.records import DocType, Document, ExpenseLine
from validators.common import ids_agree, issue
from validators.rules import Rules

RETAKE_FLAGS = {
    QualityFlag.BLUR,
    QualityFlag.CUT_OFF,
    QualityFlag.LOW_RESOLUTION,
    QualityFlag.MARKED_UNREADABLE,
}


def check_files(bundle: ClaimBundle, rules: Rules) -> list[ValidationIssue]:
    return [
        issue(IssueCode.UNSUPPORTED_FILE, f"{p.file}: {p.message}", severity=Severity.ERROR)
        for p in bundle.file_problems
    ]


def check_pages(bundle: ClaimBundle, rules: Rules) -> list[ValidationIssue]:
    """A blurred, cut-off or tiny page cannot be fixed by a reviewer: ask for a new photo."""
    issues: list[ValidationIssue] = []
    for document in bundle.documents:
        flags = set(document.quality.flags)
        bad = sorted(flags & RETAKE_FLAGS)
        if bad:
            issues.append(
                issue(
                    IssueCode.RETAKE_PHOTO,
                    f"{document.file} pages {[p + 1 for p in document.pages]}: "
                    f"{', '.join(bad)} — ask the claimant to photograph it again",
                    [document],
                )
            )
            if document.doc_type is DocType.OTHER or not document.fields:
                issues.append(
                    issue(
                        IssueCode.UNREADABLE_PAGE,
                        f"{document.file}: no text could be read ({', '.join(bad)})",
                        [document],
                    )
                )
    return issues


def check_confidence(bundle: ClaimBundle, rules: Rules) -> list[ValidationIssue]:
    """Every field under its threshold, unless a reviewer confirmed it."""
    issues: list[ValidationIssue] = []
    for document in bundle.documents:
        for key, found in document.fields.items():
            if f"{document.id}:{key}" in bundle.confirmed_fields:
                continue
            threshold = rules.confidence.threshold(key)
            if found.confidence < threshold and not _corroborated(bundle, document, key, rules):
                note = f" ({found.note})" if found.note else _unsure_rows(found.value, threshold)
                issues.append(
                    issue(
                        IssueCode.LOW_CONFIDENCE,
                        f"{key} read as {found.raw!r} with confidence {found.confidence:.2f} "
                        f"(< {threshold:.2f}){note}: confirm or correct it",
                        [document],
                        key,
                        severity=Severity.WARNING,
                    )
                )
    return issues


def _unsure_rows(value: object, threshold: float) -> str:
    """For a table (expense lines), which rows to look at."""
    if not isinstance(value, list):
        return ""
    rows = [
        str(number)
        for number, row in enumerate(value, 1)
        if isinstance(row, ExpenseLine)
        and row.confidence is not None
        and row.confidence < threshold
    ]
    return f" (rows {', '.join(rows)})" if rows else ""


def _agree(seen: object, value: object) -> bool:
    """Equal, or (an ID number masked as the national app prints it) equal where both show."""
    if isinstance(seen, str) and isinstance(value, str):
        return ids_agree(seen, value)
    return seen == value


def _corroborated(bundle: ClaimBundle, document: Document, key: str, rules: Rules) -> bool:
    """Another document of the claim reads the same value, confidently, in a matching field."""
    value = document.fields[key].value
    for other in bundle.documents:
        if other is document:
            continue
        for other_key in rules.confidence.corroborating_fields.get(key, ()):
            seen = other.fields.get(other_key)
            if (
                seen is not None
                and _agree(seen.value, value)
                and seen.confidence >= rules.confidence.threshold(other_key)
            ):
                return True
    return False
