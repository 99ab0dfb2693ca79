"""Approximate string matching used to score OCR text against expected values and labels."""

from __future__ import annotations

import re

_SPACE = re.compile(r"\s+")


def squash(text: str) -> str:
    """Remove all whitespace: OCR and text layers disagree on spaces inside Chinese text."""
    return _SPACE.sub("", text)


def substring_distance(pattern: str, text: str) -> int:
    """Fewest edits turning `pattern` into some substring of `text` (Sellers' algorithm).

    Lets a label such as 票据号码 be found inside a longer OCR line even with one misread
    character, without the cost of a full fuzzy-search library.
    """
    if not pattern:
        return 0
    previous = [0] * (len(text) + 1)
    for i, p_char in enumerate(pattern, 1):
        current = [i] + [0] * len(text)
        for j, t_char in enumerate(text, 1):
            current[j] = min(
                previous[j - 1] + (p_char != t_char),
                previous[j] + 1,
                current[j - 1] + 1,
            )
        previous = current
    return min(previous)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, a_char in enumerate(a, 1):
        current = [i]
        for j, b_char in enumerate(b, 1):
            current.append(
                min(previous[j - 1] + (a_char != b_char), previous[j] + 1, current[-1] + 1)
            )
        previous = current
    return previous[-1]
