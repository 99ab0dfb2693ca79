"""Message catalogues: every label a person reads, in Chinese (zh-CN, the default) and English.

The catalogues are data files (`flows/messages/<language>.yaml`) loaded once into a frozen
model. Identifiers (statuses, issue codes, field keys, document types) stay identifiers in the
API and in tooltips; people read the catalogue's words for them. A missing entry falls back to
the identifier itself, and a test fails when any identifier in use lacks a zh-CN entry.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from pipeline.datafiles import load_yaml_model
from pipeline.errors import IntakeError

MESSAGES = Path(__file__).resolve().parent / "messages"


class Language(StrEnum):
    ZH_CN = "zh-CN"
    EN = "en"


DEFAULT_LANGUAGE = Language.ZH_CN


class CatalogueError(IntakeError):
    reason = "bad_catalogue"


class Catalogue(BaseModel):
    """One language's words; each section maps identifiers to text."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    language: Language
    language_name: str
    ui: dict[str, str]
    status: dict[str, str]
    claim_type: dict[str, str]
    care_type: dict[str, str]
    doc_type: dict[str, str]
    field: dict[str, str]
    column: dict[str, str]
    issue: dict[str, str]
    severity: dict[str, str]
    action: dict[str, str]
    decision: dict[str, str]
    quality: dict[str, str]
    advice: dict[str, str]
    error: dict[str, str]

    def t(self, key: str, **values: object) -> str:
        """A UI sentence, its `{name}` slots filled in."""
        text = self.ui.get(key, key)
        return text.format(**values) if values else text

    def status_label(self, code: str) -> str:
        return self.status.get(code, code)

    def claim_type_label(self, code: str) -> str:
        return self.claim_type.get(code, code)

    def care_type_label(self, code: str) -> str:
        return self.care_type.get(code, code)

    def doc_type_label(self, code: str) -> str:
        return self.doc_type.get(code, code)

    def field_label(self, key: str) -> str:
        return self.field.get(key, key)

    def column_label(self, key: str) -> str:
        return self.column.get(key, key)

    def issue_text(self, code: str) -> str:
        return self.issue.get(code, code)

    def severity_label(self, code: str) -> str:
        return self.severity.get(code, code)

    def action_label(self, code: str) -> str:
        return self.action.get(code, code)

    def decision_label(self, code: str) -> str:
        return self.decision.get(code, code)

    def quality_label(self, flag: str) -> str:
        return self.quality.get(flag, flag)

    def advice_text(self, flag: str) -> str:
        return self.advice.get(flag, self.quality_label(flag))

    def error_text(self, key: str, **values: object) -> str:
        text = self.error.get(key, self.error.get("generic", key))
        return text.format(**values) if values else text


def catalogue(language: Language | str = DEFAULT_LANGUAGE) -> Catalogue:
    """The catalogue of `language` (zh-CN for anything unknown), loaded once per process."""
    try:
        return _load(Language(language))
    except ValueError:
        return _load(DEFAULT_LANGUAGE)


@cache
def _load(chosen: Language) -> Catalogue:
    loaded = load_yaml_model(MESSAGES / f"{chosen.value}.yaml", Catalogue, CatalogueError)
    if loaded.language is not chosen:
        raise CatalogueError(f"{chosen.value}.yaml declares language {loaded.language.value}")
    return loaded
