"""Reimbursement policies as data: one YAML file per insured region, edited by an operator.

A policy file is validated at load into frozen models that forbid unknown keys, so a typo
(`anual_cap`) or a missing hospital level stops the load with the file and the key named,
instead of silently paying by a default.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from pipeline.bundle import CareType
from pipeline.calculator.money import refuse_float
from pipeline.datafiles import load_yaml_model

POLICIES_DIR = Path(__file__).resolve().parent / "policies"

Level = Literal[1, 2, 3]
LEVELS: tuple[Level, ...] = (1, 2, 3)
ExpenseClass = Literal["甲", "乙", "丙"]
Ratio = Annotated[Decimal, BeforeValidator(refuse_float), Field(ge=0, le=1)]
Money = Annotated[Decimal, BeforeValidator(refuse_float), Field(ge=0)]


class PolicyFileError(ValueError):
    """A policy file that does not load; the message names the file and the bad key."""


class NoPolicyForRegionError(PolicyFileError):
    """No policy file covers the claim's insured region: nothing can be calculated."""


class CareRates(BaseModel):
    """One care type: deductible (起付线) and ratios by hospital level, annual cap (封顶线)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    deductible: dict[Level, Money]
    own_ratio: dict[Level, Ratio] = Field(description="long-term, treated in the filed place")
    temporary_ratio: dict[Level, Ratio] = Field(description="after the temporary first share")
    annual_cap: Money

    @model_validator(mode="after")
    def _every_level(self) -> CareRates:
        """A missing level would otherwise surface only when a claim from that level arrives."""
        for key in ("deductible", "own_ratio", "temporary_ratio"):
            missing = [level for level in LEVELS if level not in getattr(self, key)]
            if missing:
                raise ValueError(f"{key}: no value for hospital level(s) {missing}")
        return self


class Policy(BaseModel):
    """The insured region's reimbursement rules (SPEC §5); see policies/yantai.yaml."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    policy_id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.\-]{0,63}$")
    region: str = Field(min_length=2)
    effective_from: date
    example_values: tuple[str, ...] = Field(
        (), description="keys whose numbers are examples, not from the seeds"
    )
    temporary_first_share: Ratio
    class_b_first_pay_share: Ratio
    default_hospital_level: Level
    unfiled: Literal["refuse", "temporary"]
    unclassified_lines_as: ExpenseClass
    care: dict[CareType, CareRates]

    @model_validator(mode="after")
    def _every_care_type(self) -> Policy:
        missing = [care.value for care in CareType if care not in self.care]
        if missing:
            raise ValueError(f"care: no rates for {', '.join(missing)}")
        return self

    @model_validator(mode="after")
    def _example_values_name_real_keys(self) -> Policy:
        """A misspelt entry would hide that a number is only an example."""
        data = self.model_dump(mode="json")
        unknown = [key for key in self.example_values if not _has_key(data, key)]
        if unknown:
            raise ValueError(f"example_values: not keys of this policy: {', '.join(unknown)}")
        return self

    def digest(self) -> str:
        """sha256 of the canonical policy: with the input digest it pins down a result."""
        canonical = json.dumps(
            self.model_dump(mode="json"), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _has_key(data: Any, dotted: str) -> bool:
    for part in dotted.split("."):
        if not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return True


def load_policy(path: Path) -> Policy:
    """Load and validate one policy file; any problem raises PolicyFileError naming the key."""
    return load_yaml_model(Path(path), Policy, PolicyFileError)


def region_key(region: str) -> str:
    """'烟台市', '烟台' and ' 烟台市 ' name the same 统筹区."""
    return region.strip().removesuffix("市")


def policy_for_region(region: str, directory: Path = POLICIES_DIR) -> Policy:
    """The policy of an insured region, from the policy files in `directory`.

    Files are re-read when one changes (an operator edits them without a release).
    """
    files = sorted(Path(directory).glob("*.yaml"))
    by_region = _policies_by_region(tuple((path, path.stat().st_mtime_ns) for path in files))
    policy = by_region.get(region_key(region))
    if policy is None:
        raise NoPolicyForRegionError(
            f"no reimbursement policy for insured region {region!r} in {directory} "
            f"(policies cover: {', '.join(sorted(by_region)) or 'none'})"
        )
    return policy


@lru_cache(maxsize=16)
def _policies_by_region(files: tuple[tuple[Path, int], ...]) -> dict[str, Policy]:
    by_region: dict[str, Policy] = {}
    for path, _mtime in files:
        policy = load_policy(path)
        key = region_key(policy.region)
        if key in by_region:
            raise PolicyFileError(
                f"{path}: region: {policy.region} already has policy {by_region[key].policy_id}"
            )
        by_region[key] = policy
    return by_region
