"""Reimbursement of a complete claim from a policy file (SPEC §5), every figure explained.

- `policy`: policy files (`policies/*.yaml`) validated into frozen models; `load_policy`,
  `policy_for_region`, `PolicyFileError` naming the file and the bad key.
- `models`: `CalculationInput` in, `ReimbursementResult` out (per line, per class, the
  explanation, the inputs echoed with their sha256), and the `Calculator` protocol.
- `engine`: `PolicyCalculator`, ours: 甲 in full, 乙 less its first-pay share, 丙/自费 out;
  temporary settlement (individual first share, seed 000) or own-place ratios; deductible and
  ratio by hospital level; annual cap with what was paid this year. An unfiled non-emergency
  claim under `unfiled: refuse` is a result with fund 0.00 and the reason, not an exception.
- `remote`: `HttpCalculator`, an agency's own service in our place; `get_calculator(url)`.

Money is Decimal, never float, rounded half-up to the fen once at the end of each line and of
each claim-level step.
"""

from pipeline.calculator.engine import PolicyCalculator
from pipeline.calculator.models import (
    CalculationInput,
    Calculator,
    ClassResult,
    ExplanationStep,
    LineResult,
    ReimbursementResult,
)
from pipeline.calculator.money import fen
from pipeline.calculator.policy import (
    POLICIES_DIR,
    CareRates,
    NoPolicyForRegionError,
    Policy,
    PolicyFileError,
    load_policy,
    policy_for_region,
)
from pipeline.calculator.remote import (
    CalculatorUnavailable,
    CalculatorUnavailableError,
    HttpCalculator,
    get_calculator,
)

__all__ = [
    "POLICIES_DIR",
    "CalculationInput",
    "Calculator",
    "CalculatorUnavailable",
    "CalculatorUnavailableError",
    "CareRates",
    "ClassResult",
    "ExplanationStep",
    "HttpCalculator",
    "LineResult",
    "NoPolicyForRegionError",
    "Policy",
    "PolicyCalculator",
    "PolicyFileError",
    "ReimbursementResult",
    "fen",
    "get_calculator",
    "load_policy",
    "policy_for_region",
]
