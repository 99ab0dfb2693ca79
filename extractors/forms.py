"""Form knowledge as data: one YAML file per form family under `extractors/forms/`.

A file names the document type, the keywords that identify it (for classification) and, per
canonical field, the printed labels and synonyms, the value kind and where the value sits
relative to its label. A new city's variant of a form is a new or edited YAML file.
"""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from pipeline.datafiles import load_yaml_model
from pipeline.records import RECORD_TYPES, DocType

FORMS_DIR = Path(__file__).resolve().parent / "forms"


class ValueKind(StrEnum):
    TEXT = "text"
    NAME = "name"
    DATE = "date"
    MONEY = "money"
    CAPITAL_AMOUNT = "capital_amount"
    ID_NUMBER = "id_number"
    DIGITS = "digits"
    CODE = "code"
    SEX = "sex"
    ETHNICITY = "ethnicity"
    REGION = "region"
    HOSPITAL_LEVEL = "hospital_level"
    CLAIM_CATEGORY = "claim_category"
    VALIDITY_END = "validity_end"
    DATE_RANGE_START = "date_range_start"
    DATE_RANGE_END = "date_range_end"


class Placement(StrEnum):
    """Where a value may sit relative to its label, tried in the order listed."""

    SAME_LINE = "same_line"
    RIGHT = "right"
    BELOW = "below"


class FieldSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    labels: tuple[str, ...] = Field(min_length=1)
    kind: ValueKind = ValueKind.TEXT
    pattern: str | None = Field(None, description="regex the cleaned value must match")
    placement: tuple[Placement, ...] = (Placement.SAME_LINE, Placement.RIGHT, Placement.BELOW)
    multiline: bool = Field(False, description="value may continue on following lines (address)")
    under_seal: tuple[str, ...] = Field(
        (), description="labels whose value sits under a seal: one reading is never trusted"
    )
    max_chars: int = 60


class ClassifySpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    keywords: dict[str, float] = Field(min_length=1, description="printed text -> weight")
    negative: dict[str, float] = Field(default_factory=dict, description="text that argues against")
    min_score: float = 4.0


class FormSpec(BaseModel):
    """One form family: how to recognise it and where its fields are."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    family: str
    doc_type: DocType
    part: str | None = Field(None, description="e.g. front/back for two-sided cards")
    classify: ClassifySpec
    fields: dict[str, FieldSpec] = Field(default_factory=dict)
    other_labels: tuple[str, ...] = Field(
        (), description="labels printed on the form that name no field: they end a value"
    )
    identity: tuple[str, ...] = Field(
        (), description="fields naming whose document it is: pages that differ are two documents"
    )
    variants: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="printed version of the form -> words of its title that tell it; "
        "the first that matches wins",
    )

    def model_post_init(self, _context: object) -> None:
        record = RECORD_TYPES[self.doc_type]
        unknown = (set(self.fields) | set(self.identity)) - set(record.model_fields)
        if unknown:
            raise ValueError(
                f"fields {sorted(unknown)} are not keys of {self.doc_type.value}; "
                f"known keys: {sorted(record.model_fields)}"
            )


class FormFileError(ValueError):
    """A form file that does not load: the message names the file and the bad key."""


def load_form(path: Path) -> FormSpec:
    return load_yaml_model(path, FormSpec, FormFileError)


@lru_cache(maxsize=4)
def load_forms(directory: Path = FORMS_DIR) -> tuple[FormSpec, ...]:
    """Every form family in `directory`, sorted by file name."""
    forms = tuple(load_form(p) for p in sorted(directory.glob("*.yaml")))
    if not forms:
        raise FormFileError(f"no form files (*.yaml) in {directory}")
    return forms


def all_labels(form: FormSpec) -> tuple[str, ...]:
    """Every label of a form, longest first: used to cut a value where the next label starts."""
    labels = {label for spec in form.fields.values() for label in spec.labels}
    return tuple(sorted(labels, key=len, reverse=True))
