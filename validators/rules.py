"""Validation rules per insured region, loaded from YAML into frozen models."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pipeline.bundle import IssueCode
from pipeline.datafiles import load_yaml_model
from pipeline.records import DocType

RULES_DIR = Path(__file__).resolve().parent / "rules"

Requirement = DocType | tuple[DocType, ...]


class RulesFileError(ValueError):
    """A rules file that does not load; the message names the file and the bad key."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RequiredDocuments(_Frozen):
    always: tuple[Requirement, ...]
    by_care_type: dict[str, tuple[Requirement, ...]]
    by_claim_type: dict[str, tuple[Requirement, ...]]
    by_agent: tuple[Requirement, ...] = ()
    bank_card_required: bool = False

    @field_validator("by_care_type")
    @classmethod
    def _known_care_types(cls, value: dict[str, object]) -> dict[str, object]:
        unknown = set(value) - {"inpatient", "outpatient", "outpatient_special_disease"}
        if unknown:
            raise ValueError(f"unknown care types {sorted(unknown)}")
        return value

    @field_validator("by_claim_type")
    @classmethod
    def _known_claim_types(cls, value: dict[str, object]) -> dict[str, object]:
        known = {
            "relocated_retiree",
            "long_term_resident",
            "resident_worker",
            "referral",
            "emergency",
            "self_referral",
        }
        unknown = set(value) - known
        if unknown:
            raise ValueError(f"unknown claim types {sorted(unknown)}")
        return value


class Deadlines(_Frozen):
    submission_days_after_discharge: int = Field(ge=0)
    submission_grace_days: int = Field(ge=0)
    outpatient_special_disease_same_year: bool = True
    emergency_report_days: int = Field(ge=0)
    referral_validity_days: int = Field(gt=0)
    filing_validity_days: int = Field(gt=0)


class Confidence(_Frozen):
    default: float = Field(ge=0, le=1)
    fields: dict[str, float] = Field(default_factory=dict)
    corroborating_fields: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="a field under its threshold passes when another document of the claim "
        "reads the same value in one of these fields, above their own threshold",
    )

    def threshold(self, field: str) -> float:
        return self.fields.get(field, self.default)


class Rules(_Frozen):
    region: str
    example_values: tuple[str, ...] = ()
    required_documents: RequiredDocuments
    deadlines: Deadlines
    confidence: Confidence
    rejecting_codes: frozenset[IssueCode]  # an unknown code is refused when the file loads
    hospital_regions: dict[str, str] = Field(default_factory=dict)


def load_rules(path: Path) -> Rules:
    return load_yaml_model(path, Rules, RulesFileError)


@lru_cache(maxsize=8)
def rules_for_region(region: str, directory: Path = RULES_DIR) -> Rules:
    """The rules file whose `region` is the claim's insured region."""
    for path in sorted(directory.glob("*.yaml")):
        rules = load_rules(path)
        if rules.region == region:
            return rules
    known = ", ".join(load_rules(p).region for p in sorted(directory.glob("*.yaml")))
    raise RulesFileError(f"no rules for insured region {region!r}; rules exist for: {known}")
