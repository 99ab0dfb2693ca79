"""Typed value patterns: what a card's printed value becomes, and how sure it fits."""

from __future__ import annotations

import pytest

from extractors.forms import ValueKind
from extractors.values import Parsed, parse_value


@pytest.mark.parametrize(
    ("printed", "value", "fit"),
    [
        ("汉", "汉", 1.0),
        ("汉族", "汉", 1.0),
        ("漢", "汉", 0.95),  # OCR's traditional form of the simplified character
        ("维吾爾", "维吾尔", 0.95),
        ("穿青", "穿青", 0.7),  # not one of the 56 groups the card prints: a reviewer looks
    ],
)
def test_an_ethnicity_is_one_of_the_56_groups_in_simplified_characters(
    printed: str, value: str, fit: float
) -> None:
    parsed = parse_value(ValueKind.ETHNICITY, printed)
    assert isinstance(parsed, Parsed) and (parsed.value, parsed.fit) == (value, fit)
