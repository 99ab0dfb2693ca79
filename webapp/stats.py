"""Review statistics from the claim store and its audit trail, to tune thresholds with evidence.

- straight-through share: claims the pipeline finished complete with no reviewer change at all
  (decisions aside) among all processed claims;
- the fields reviewers touch most, by document type (and form family where the result records
  one): changed (the value was wrong) versus confirmed as read (the field was flagged for
  nothing — its confidence threshold may be too strict);
- per document type: documents read, documents a reviewer changed, type corrections;
- per form family (票据版式: 电子票据, 门诊票据, 住院票据 … where the extractor records one as
  the document's `form`): documents read, changed by a reviewer, fields changed and confirmed,
  the forms reviewers change most first — the worst forms are visible;
- per ISO week: claims processed, straight-through, reviewer changes.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from flows.review import DECISION
from infra.store import ClaimRow, CorrectionRow

FIELD_ACTIONS = ("edit", "confirm")


class FieldStat(BaseModel):
    doc_type: str
    form: str
    key: str
    changed: int
    confirmed: int

    @property
    def total(self) -> int:
        return self.changed + self.confirmed


class DocTypeStat(BaseModel):
    doc_type: str
    documents: int
    reviewed: int  # documents with at least one reviewer change
    changed_fields: int
    confirmed_fields: int
    retyped: int  # documents whose type a reviewer corrected from this type


class FormStat(BaseModel):
    """One form family of one document type (only documents whose result names a form)."""

    doc_type: str
    form: str
    documents: int
    reviewed: int  # documents with at least one reviewer change
    changed_fields: int
    confirmed_fields: int

    @property
    def reviewed_share(self) -> float:
        return self.reviewed / self.documents if self.documents else 0.0


class WeekStat(BaseModel):
    week: str  # ISO week, 2026-W49
    claims: int
    straight_through: int
    changes: int


class Stats(BaseModel):
    claims: int
    by_status: dict[str, int]
    straight_through: int
    reviewed_claims: int
    straight_through_share: float | None
    actions: dict[str, int]
    decisions: dict[str, int]
    fields: list[FieldStat]
    doc_types: list[DocTypeStat]
    forms: list[FormStat] = Field(description="by form family, most often changed first")
    weeks: list[WeekStat]


def iso_week(moment: datetime) -> str:
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def _form_of(document: dict[str, Any]) -> str:
    """The form family, when the result records one (older results do not)."""
    return str(document.get("form") or document.get("form_family") or "")


def _form_stats(
    documents: dict[tuple[str, str], dict[str, Any]],
    reviewed_docs: set[tuple[str, str]],
    fields: list[FieldStat],
) -> list[FormStat]:
    """Documents, reviewed documents and field changes per (document type, form family), for
    the documents whose result names their form; the most often reviewed forms first."""
    forms: dict[tuple[str, str], FormStat] = {}
    for key, document in documents.items():
        form = _form_of(document)
        if not form:
            continue
        doc_type = str(document.get("doc_type", "other"))
        stat = forms.setdefault(
            (doc_type, form),
            FormStat(
                doc_type=doc_type,
                form=form,
                documents=0,
                reviewed=0,
                changed_fields=0,
                confirmed_fields=0,
            ),
        )
        stat.documents += 1
        stat.reviewed += key in reviewed_docs
    for f in fields:
        found = forms.get((f.doc_type, f.form))
        if found is not None:
            found.changed_fields += f.changed
            found.confirmed_fields += f.confirmed
    return sorted(
        forms.values(),
        key=lambda s: (-s.reviewed_share, -s.changed_fields, -s.documents, s.doc_type, s.form),
    )


def compute(rows: list[ClaimRow], corrections: list[CorrectionRow], first: dict[str, str]) -> Stats:
    """Statistics over claims, their audit trails and their first statuses."""
    documents = {
        (row.claim_id, d["id"]): d for row in rows for d in row.result.get("documents", [])
    }
    changes = [c for c in corrections if c.action != DECISION]
    touched = {c.claim_id for c in changes}
    by_status = Counter(row.status for row in rows)
    straight = {
        row.claim_id
        for row in rows
        if row.claim_id not in touched
        and first.get(row.claim_id, row.status) == "complete"
        and row.status == "complete"
    }

    fields: dict[tuple[str, str, str], FieldStat] = {}
    retyped: Counter[str] = Counter()
    reviewed_docs: set[tuple[str, str]] = set()
    for c in changes:
        document = documents.get((c.claim_id, c.doc_id), {})
        if c.doc_id:
            reviewed_docs.add((c.claim_id, c.doc_id))
        if c.action == "doc_type":
            retyped[str(c.old_value or "")] += 1
            continue
        if c.action not in FIELD_ACTIONS or not c.key:
            continue
        doc_type = str(document.get("doc_type", "other"))
        slot = (doc_type, _form_of(document), c.key)
        stat = fields.setdefault(
            slot, FieldStat(doc_type=doc_type, form=slot[1], key=c.key, changed=0, confirmed=0)
        )
        if c.action == "edit" and c.old_value != c.new_value:
            stat.changed += 1
        else:
            stat.confirmed += 1

    doc_counts = Counter(str(d.get("doc_type", "other")) for d in documents.values())
    doc_types = []
    for doc_type in sorted(set(doc_counts) | set(retyped)):
        of_type = [f for f in fields.values() if f.doc_type == doc_type]
        doc_types.append(
            DocTypeStat(
                doc_type=doc_type,
                documents=doc_counts.get(doc_type, 0),
                reviewed=sum(
                    1
                    for key in reviewed_docs
                    if str(documents.get(key, {}).get("doc_type", "")) == doc_type
                ),
                changed_fields=sum(f.changed for f in of_type),
                confirmed_fields=sum(f.confirmed for f in of_type),
                retyped=retyped.get(doc_type, 0),
            )
        )
    doc_types.sort(key=lambda d: (-(d.changed_fields + d.confirmed_fields + d.retyped), d.doc_type))

    forms = _form_stats(documents, reviewed_docs, list(fields.values()))

    weeks: dict[str, WeekStat] = {}

    def week(name: str) -> WeekStat:
        return weeks.setdefault(name, WeekStat(week=name, claims=0, straight_through=0, changes=0))

    for row in rows:
        entry = week(iso_week(row.created_at))
        entry.claims += 1
        entry.straight_through += row.claim_id in straight
    for c in changes:
        week(iso_week(c.at)).changes += 1

    return Stats(
        claims=len(rows),
        by_status=dict(sorted(by_status.items())),
        straight_through=len(straight),
        reviewed_claims=len(touched & {row.claim_id for row in rows}),
        straight_through_share=round(len(straight) / len(rows), 4) if rows else None,
        actions=dict(Counter(c.action for c in changes).most_common()),
        decisions=dict(
            Counter(str(c.key) for c in corrections if c.action == DECISION).most_common()
        ),
        fields=sorted(fields.values(), key=lambda f: (-f.total, -f.changed, f.doc_type, f.key)),
        doc_types=doc_types,
        forms=forms,
        weeks=[weeks[k] for k in sorted(weeks)],
    )
