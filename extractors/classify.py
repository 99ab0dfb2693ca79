"""Page classification by scoring: every form family scores the text, the highest wins.

As paperless-ngx picks a parser, each form family returns a score from its keywords (data in
the form files); below the family's minimum the page is `other`, never forced into a type.
"""

from __future__ import annotations

from dataclasses import dataclass

from extractors.forms import FormSpec, load_forms
from extractors.layout import find_in_line, normal
from pipeline.models import OcrLine
from pipeline.records import DocType


@dataclass(frozen=True, slots=True)
class Classification:
    doc_type: DocType
    confidence: float
    form: FormSpec | None
    score: float


def score_form(form: FormSpec, text: str) -> float:
    """Sum of the weights of the form's keywords present in `text`, minus negative ones."""
    score = 0.0
    for keyword, weight in form.classify.keywords.items():
        found = find_in_line(normal(keyword), text)
        if found is not None:
            score += weight * (1.0 if found[2] == 0 else 0.6)
    for keyword, weight in form.classify.negative.items():
        if normal(keyword) in text:
            score -= weight
    return score


def page_text(lines: list[OcrLine]) -> str:
    return normal("".join(line.text for line in lines))


def classify_lines(
    lines: list[OcrLine], forms: tuple[FormSpec, ...] | None = None
) -> Classification:
    """The best-scoring form family for these lines, or `other` when none is convincing."""
    forms = forms or load_forms()
    text = page_text(lines)
    scored = sorted(((score_form(f, text), f) for f in forms), key=lambda sf: -sf[0])
    best_score, best = scored[0]
    runner_up = next((s for s, f in scored[1:] if f.doc_type != best.doc_type), 0.0)
    if best_score < best.classify.min_score:
        strength = max(best_score, 0.0) / best.classify.min_score
        return Classification(DocType.OTHER, round(1.0 - 0.5 * strength, 4), None, best_score)
    margin = (best_score - max(runner_up, 0.0)) / best_score
    strength = min(1.0, best_score / (2 * best.classify.min_score))
    confidence = 0.5 + 0.5 * margin * strength
    return Classification(best.doc_type, round(confidence, 4), best, best_score)
