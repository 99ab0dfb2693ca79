"""Parse a candidate string into a canonical value of a given kind, scoring how well it fits.

The score multiplies the OCR confidence: 1.0 for a clean, full match of the expected shape,
less where characters had to be repaired or the shape is unusual. A string that does not fit
its kind yields a reason instead of a value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

from extractors.forms import ValueKind
from pipeline.datafiles import load_yaml_model
from pipeline.normalize import (
    ID_MASK,
    clean_digits,
    find_dates,
    id_checksum_valid,
    is_masked_id_number,
    normalize_ethnicity,
    normalize_id_number,
    normalize_sex,
    parse_capital_amount,
    parse_date,
    parse_money,
    repair_id_number,
    to_halfwidth,
)

VOCAB_FILE = Path(__file__).resolve().parent / "forms" / "vocabulary.yml"


@dataclass(frozen=True, slots=True)
class Parsed:
    value: Any
    fit: float
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Rejected:
    reason: str


@lru_cache(maxsize=1)
def vocabulary() -> dict[str, dict[str, str]]:
    """Printed phrase -> canonical code tables (claim categories), kept as data."""
    data = yaml.safe_load(VOCAB_FILE.read_text(encoding="utf-8"))
    return {str(k): {str(a): str(b) for a, b in v.items()} for k, v in data.items()}


MIXED_CODE_FIT = 0.89
_CJK = r"\u3400-\u9fff"
_NAME = re.compile(rf"^[{_CJK}·]{{2,6}}$")
_TRAILING_JUNK = " :：;；,，、|。._-—"


def parse_value(kind: ValueKind, text: str, pattern: str | None = None) -> Parsed | Rejected:
    """Canonical value of `kind` read from `text`, or why there is none."""
    text = text.strip().strip(_TRAILING_JUNK)
    if not text:
        return Rejected("no text next to the label")
    parsed = _PARSERS[kind](text)
    if not isinstance(parsed, Parsed) or not pattern:
        return parsed
    plain = str(_plain(parsed.value))
    if re.fullmatch(pattern, plain):
        return parsed
    found = re.search(pattern, plain) if kind is ValueKind.TEXT else None
    if found:  # stray characters around the value (a seal's bracket, a merged label)
        return Parsed(found.group(), parsed.fit * 0.95)
    return Rejected(f"{text!r} does not have the expected form ({pattern})")


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _text(text: str) -> Parsed | Rejected:
    return Parsed(to_halfwidth(text).strip(), 1.0)


def _name(text: str) -> Parsed | Rejected:
    name = re.sub(rf"[^{_CJK}·]", "", text)
    if not _NAME.match(name):
        return Rejected(f"{text!r} is not a Chinese name")
    return Parsed(name, 1.0 if name == text.strip() else 0.9)


def _date(text: str) -> Parsed | Rejected:
    value = parse_date(text)
    return Parsed(value, 1.0) if value else Rejected(f"{text!r} is not a valid date")


def _money(text: str) -> Parsed | Rejected:
    value = parse_money(text)
    if value is None:
        return Rejected(f"{text!r} is not an amount")
    fit = 1.0 if re.search(r"\d+\.\d{2}(?!\d)", to_halfwidth(text)) else 0.85
    return Parsed(value, fit)


def _capital(text: str) -> Parsed | Rejected:
    words = re.sub(r"[^零〇壹贰貳叁參肆伍陆陸柒捌玖拾佰仟万萬亿億元圆角分整正]", "", text)
    value = parse_capital_amount(words)
    if value is None:
        return Rejected(f"{text!r} is not an amount in capital numerals")
    return Parsed(value, 1.0)


# A masked ID number: visible head, a run of mask characters (OCR reads `*` as x, X, ×, ※),
# the last four visible. A real number has no letter before its check character.
_MASKED_ID = re.compile(
    r"(?<![0-9A-Za-z])([0-9OoDIlZSB]{1,8})([*xX×※✱]{4,})([0-9OoDIlZSB]{3}[0-9Xx×])(?![0-9Xx])"
)
MASKED_HEADS = (4, 6)  # visible leading digits the app keeps


def _id_number(text: str) -> Parsed | Rejected:
    plain = to_halfwidth(text).replace(" ", "")
    match = re.search(r"[0-9OoDIlZSB]{17}[0-9Xx×]", plain)
    if not match:
        return _masked_id_number(text, plain)
    raw = match.group().replace("×", "X")
    number = normalize_id_number(raw)
    fit = 1.0 if number == raw.upper() else 0.85
    if id_checksum_valid(number):
        return Parsed(number, fit)
    repaired, corrected = repair_id_number(number)
    if corrected:
        changed = next(i for i, (a, b) in enumerate(zip(number, repaired, strict=True)) if a != b)
        note = f"check digit repair: position {changed + 1} read {number[changed]!r}, set {repaired[changed]!r}"
        return Parsed(repaired, 0.75 * fit, note)
    return Parsed(number, 0.5 * fit, "check digit does not match")


def _masked_id_number(text: str, plain: str) -> Parsed | Rejected:
    """`3706**********1234` kept as printed with the mask as `*`; an ID number is always 18
    characters, so a mask run read one `*` short or long is set to the length that fits; a
    run further off is another number (a masked phone number)."""
    match = _MASKED_ID.search(plain)
    if not match:
        return Rejected(f"{text!r} is not an 18-character ID number")
    head, mask, tail = match.groups()
    masked = 18 - len(head) - len(tail)
    if abs(len(mask) - masked) > 1:  # a masked phone number (138****1234), not an ID number
        return Rejected(f"{text!r} is not an 18-character ID number")
    number = clean_digits(head) + ID_MASK * masked + normalize_id_number(tail.replace("×", "X"))
    if not is_masked_id_number(number):
        return Rejected(f"{text!r} is not an 18-character ID number")
    fit = 1.0 if (head + tail).upper() == number.replace(ID_MASK, "") else 0.85
    if len(mask) != masked or len(head) not in MASKED_HEADS:
        note = f"masked ID number read as {match.group()!r}: {masked} mask characters fit 18"
        return Parsed(number, 0.85 * fit, note)
    return Parsed(number, fit)


def _digits(text: str) -> Parsed | Rejected:
    cleaned = clean_digits(text).replace(" ", "")
    match = re.search(r"\d{4,}", cleaned)
    if not match:
        return Rejected(f"{text!r} holds no number")
    fit = 1.0 if match.group() in to_halfwidth(text).replace(" ", "") else 0.85
    return Parsed(match.group(), fit)


def _code(text: str) -> Parsed | Rejected:
    match = re.search(r"[0-9A-Za-z\-]{4,}", to_halfwidth(text).replace(" ", ""))
    if not match:
        return Rejected(f"{text!r} holds no code")
    # lower-case letters among digits, no check digit: OCR's c/e, l/1, o/0 cannot be caught
    mixed = re.search(r"[a-z]", match.group()) and re.search(r"\d", match.group())
    return Parsed(match.group(), MIXED_CODE_FIT if mixed else 1.0)


def _sex(text: str) -> Parsed | Rejected:
    value = normalize_sex(text)
    return Parsed(value, 1.0) if value else Rejected(f"{text!r} is not 男 or 女")


ETHNICITIES_FILE = Path(__file__).resolve().parent.parent / "pipeline" / "data" / "ethnicities.yaml"
UNLISTED_FIT = 0.7  # not one of the 56 groups as the card prints them: a reviewer looks


class Ethnicities(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    groups: frozenset[str]
    traditional: dict[str, str]


class EthnicitiesFileError(ValueError):
    """The ethnicities file does not load: the message names the file and the key."""


@lru_cache(maxsize=1)
def ethnicities() -> Ethnicities:
    return load_yaml_model(ETHNICITIES_FILE, Ethnicities, EthnicitiesFileError)


def _ethnicity(text: str) -> Parsed | Rejected:
    value = normalize_ethnicity(re.sub(rf"[^{_CJK}]", "", text))
    if not value or len(value) > 6:
        return Rejected(f"{text!r} is not an ethnicity")
    known = ethnicities()
    simplified = "".join(known.traditional.get(c, c) for c in value)
    if simplified in known.groups:
        return Parsed(simplified, 1.0 if simplified == value else 0.95)
    return Parsed(value, UNLISTED_FIT)


_CITY = re.compile(rf"(?:[{_CJK}]{{2,7}}?(?:省|自治区))?[{_CJK}]{{2,7}}?(?:市|自治州|地区|盟)")
_ANY_REGION = re.compile(rf"[{_CJK}]{{2,10}}?(?:自治州|地区|省|市|州|盟|县|区)")


def _region(text: str) -> Parsed | Rejected:
    """A filing's region (统筹区) is a city: 浙江省杭州市 keeps its city, never just 浙江省."""
    plain = re.sub(r"\s", "", text)
    match = _CITY.search(plain) or _ANY_REGION.search(plain)
    return Parsed(match.group(), 1.0) if match else Rejected(f"{text!r} is not a region name")


def _level(text: str) -> Parsed | Rejected:
    match = re.search(r"([一二三])级", text)
    return Parsed(match.group(), 1.0) if match else Rejected(f"{text!r} is not a hospital level")


def _category(text: str) -> Parsed | Rejected:
    plain = re.sub(r"\s", "", text)
    for phrase, code in sorted(vocabulary()["claim_category"].items(), key=lambda kv: -len(kv[0])):
        if phrase in plain:
            return Parsed(code, 1.0)
    return Rejected(f"{text!r} is not a known filing category")


def _validity_end(text: str) -> Parsed | Rejected:
    if "长期" in text:
        return Parsed("长期", 1.0)
    dates = find_dates(text)
    if not dates:
        return Rejected(f"{text!r} holds no end date")
    ranged = re.search("[至~～—]|-\\D", text) is not None
    return Parsed(dates[-1].isoformat(), 0.9 if ranged and len(dates) < 2 else 1.0)


def _range_start(text: str) -> Parsed | Rejected:
    dates = find_dates(text)
    return Parsed(dates[0], 1.0) if dates else Rejected(f"{text!r} holds no date")


def _range_end(text: str) -> Parsed | Rejected:
    """The second date of a range; a lone date counts only when no range is printed."""
    dates = find_dates(text)
    if len(dates) >= 2:
        return Parsed(dates[1], 1.0)
    if len(dates) == 1 and not re.search("[至~～—]", text):
        return Parsed(dates[0], 1.0)
    return Rejected(f"{text!r} holds no end date")


_PARSERS = {
    ValueKind.TEXT: _text,
    ValueKind.NAME: _name,
    ValueKind.DATE: _date,
    ValueKind.MONEY: _money,
    ValueKind.CAPITAL_AMOUNT: _capital,
    ValueKind.ID_NUMBER: _id_number,
    ValueKind.DIGITS: _digits,
    ValueKind.CODE: _code,
    ValueKind.SEX: _sex,
    ValueKind.ETHNICITY: _ethnicity,
    ValueKind.REGION: _region,
    ValueKind.HOSPITAL_LEVEL: _level,
    ValueKind.CLAIM_CATEGORY: _category,
    ValueKind.VALIDITY_END: _validity_end,
    ValueKind.DATE_RANGE_START: _range_start,
    ValueKind.DATE_RANGE_END: _range_end,
}


def money_or_none(text: str) -> Decimal | None:
    parsed = _money(text)
    return parsed.value if isinstance(parsed, Parsed) else None
