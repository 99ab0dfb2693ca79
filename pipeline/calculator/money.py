"""Money arithmetic: Decimal only, rounded half-up to the fen where a step ends."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

FEN = Decimal("0.01")
ZERO = Decimal("0.00")


def fen(value: Decimal) -> Decimal:
    """Round to the fen half-up (0.105 → 0.11), as a cashier does; never banker's rounding."""
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def canonical(value: Decimal) -> str:
    """One spelling per amount ("1000" and "1000.000" → "1000.00", "0.1050" → "0.105").

    The input digest is taken over this spelling, so the same amounts always give the same
    digest however the caller wrote them.
    """
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        return format(value.normalize(), "f")
    return format(fen(value), "f")


def refuse_float(value: Any) -> Any:
    """A float may already have lost the fen (0.105 is 0.10499…): money must be Decimal/str."""
    if isinstance(value, float):
        raise ValueError(
            f"money must be a decimal string or Decimal, not the float {value!r} "
            "(a float cannot hold every fen exactly)"
        )
    return value
