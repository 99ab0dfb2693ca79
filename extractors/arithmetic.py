"""Joint decoding of a receipt: the printed arithmetic chooses and confirms the values.

A receipt states its total up to three times (大写, 小写, the item lines' sum) and splits it
into payment parts. Each field's reading alone can be wrong with a high OCR confidence (a
receipt number taken for the code, a seal over the 小写); the checks between them cannot be
fooled that way. The value the most independent readings agree on is chosen; a value a check
confirms earns a high confidence; a value a check contradicts, or that nothing checks where a
check was possible, is held under the review threshold with the reason in its note.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from extractors.values import money_or_none
from pipeline.models import OcrLine
from pipeline.records import ExtractedField, InvoiceItem

CONFIRMED = 0.98  # two independent readings agree
CONFLICT = 0.6  # a check between readings failed: a person must look
UNCHECKED = 0.85  # one reading, where a second one should have been printed
PAYMENT_PARTS = ("fund_payment", "account_payment", "other_payment", "cash_payment")

Fields = dict[str, ExtractedField[Any]]


@dataclass(frozen=True, slots=True)
class TotalReading:
    value: Decimal
    sources: frozenset[str]


def reconcile_invoice(
    fields: Fields, alternatives: dict[str, list[ExtractedField[Any]]], lines: list[OcrLine]
) -> None:
    """Choose and score an invoice's totals, items and payment parts against each other."""
    printed = _printed_amounts(lines)
    total = _choose_total(fields, alternatives, printed)
    if total is not None:
        _settle_total(fields, total, alternatives)
        _check_items(fields, total.value)
        _check_parts(fields, total.value)
    _distinct_code_and_number(fields, alternatives)
    _ordered_dates(fields)


def _printed_amounts(lines: Iterable[OcrLine]) -> set[Decimal]:
    found: set[Decimal] = set()
    for line in lines:
        for piece in line.text.replace("：", " ").replace(":", " ").split():
            value = money_or_none(piece)
            if value is not None and "." in piece:
                found.add(value)
    return found


def _choose_total(
    fields: Fields, alternatives: dict[str, list[ExtractedField[Any]]], printed: set[Decimal]
) -> TotalReading | None:
    readings: dict[Decimal, set[str]] = {}
    labelled = [
        a.value for a in alternatives.get("total_amount", []) if isinstance(a.value, Decimal)
    ]
    for value in labelled[:2]:
        readings.setdefault(value, set()).add("小写")
    words = fields.get("total_amount_words")
    if words is not None and isinstance(words.value, Decimal):
        readings.setdefault(words.value, set()).add("大写")
    item_sum = _item_sum(fields)
    if item_sum is not None and item_sum > 0:
        readings.setdefault(item_sum, set()).add("items")
    for value, sources in readings.items():
        if "小写" not in sources and value in printed:
            sources.add("printed")
    if not readings:
        return None
    first_labelled = labelled[0] if labelled else None
    value, sources = max(
        readings.items(), key=lambda vs: (len(vs[1]), vs[0] == first_labelled, "大写" in vs[1])
    )
    return TotalReading(value, frozenset(sources))


def _item_sum(fields: Fields) -> Decimal | None:
    items = fields.get("items")
    if items is None or not isinstance(items.value, list) or not items.value:
        return None
    return sum((i.amount for i in items.value if isinstance(i, InvoiceItem)), Decimal(0))


def _settle_total(
    fields: Fields, total: TotalReading, alternatives: dict[str, list[ExtractedField[Any]]]
) -> None:
    agreeing = " = ".join(sorted(total.sources))
    current = fields.get("total_amount")
    if current is None or current.value != total.value:
        source = next(
            (a for a in alternatives.get("total_amount", []) if a.value == total.value), None
        )
        words = fields.get("total_amount_words")
        base = source or (words if words is not None and words.value == total.value else None)
        current = ExtractedField(
            value=total.value,
            confidence=base.confidence if base else UNCHECKED,
            page=base.page if base else None,
            bbox=base.bbox if base else None,
            raw=base.raw if base else str(total.value),
            note=f"total from {agreeing}",
        )
    if len(total.sources) >= 2:
        fields["total_amount"] = _confirmed(current, f"confirmed: {agreeing}")
    else:
        fields["total_amount"] = _capped(current, UNCHECKED, f"only {agreeing} was read")
    words = fields.get("total_amount_words")
    if words is None:
        return
    if words.value == total.value and len(total.sources) >= 2:
        fields["total_amount_words"] = _confirmed(words, f"confirmed: {agreeing}")
    elif words.value != total.value:
        fields["total_amount_words"] = _capped(
            words, CONFLICT, f"大写 reads {words.value}, the total reads {total.value}"
        )


def _check_items(fields: Fields, total: Decimal) -> None:
    items = fields.get("items")
    item_sum = _item_sum(fields)
    if items is None or item_sum is None:
        return
    if item_sum == total:
        fields["items"] = _confirmed(items, "items add up to the total")
    else:
        fields["items"] = _capped(items, CONFLICT, f"items add up to {item_sum}, not {total}")


def _check_parts(fields: Fields, total: Decimal) -> None:
    parts = {k: fields[k] for k in PAYMENT_PARTS if k in fields}
    values = [p.value for p in parts.values() if isinstance(p.value, Decimal)]
    if len(values) < 2:
        return
    if sum(values, Decimal(0)) == total:
        for key, part in parts.items():
            fields[key] = _confirmed(part, "payment parts add up to the total")
        return
    for key, part in parts.items():
        fields[key] = _capped(
            part, UNCHECKED, f"payment parts add up to {sum(values)}, not {total}"
        )


def _distinct_code_and_number(
    fields: Fields, alternatives: dict[str, list[ExtractedField[Any]]]
) -> None:
    code, number = fields.get("invoice_code"), fields.get("invoice_number")
    if code is None or number is None or code.value != number.value:
        return
    other = next((a for a in alternatives.get("invoice_code", []) if a.value != number.value), None)
    if other is not None:
        fields["invoice_code"] = other
    else:
        fields["invoice_code"] = _capped(code, CONFLICT, "the code reads the same as the number")


def _ordered_dates(fields: Fields) -> None:
    start, end = fields.get("admission_date"), fields.get("discharge_date")
    if start is not None and end is not None and start.value > end.value:
        note = f"admitted {start.value} after discharge {end.value}"
        fields["admission_date"] = _capped(start, CONFLICT, note)
        fields["discharge_date"] = _capped(end, CONFLICT, note)


def _confirmed(field: ExtractedField[Any], note: str) -> ExtractedField[Any]:
    return field.model_copy(update={"confidence": max(field.confidence, CONFIRMED), "note": note})


def _capped(field: ExtractedField[Any], cap: float, note: str) -> ExtractedField[Any]:
    if field.confidence <= cap:
        return field.model_copy(update={"note": field.note or note})
    return field.model_copy(update={"confidence": cap, "note": note})
