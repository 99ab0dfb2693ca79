"""Turn text as printed into canonical values: ISO dates, Decimal money, ID numbers, sex.

Each parser returns None when the text does not hold a value of its kind: extractors then
leave the field absent with a reason instead of guessing.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN = Decimal("0.01")

# Characters OCR commonly confuses inside digit strings.
_DIGIT_LOOKALIKES = str.maketrans(
    {"O": "0", "o": "0", "D": "0", "I": "1", "l": "1", "|": "1", "Z": "2", "S": "5", "B": "8"}
)


def to_halfwidth(text: str) -> str:
    """Full-width ASCII (０１２ＡＢ：，) to half-width; CJK text is untouched."""
    return unicodedata.normalize("NFKC", text)


def clean_digits(text: str) -> str:
    """Fix letter/digit confusions in a string that should be numeric."""
    return to_halfwidth(text).translate(_DIGIT_LOOKALIKES)


_DATE_PATTERNS = [
    re.compile(
        r"(?P<y>(?:19|20)\d{2})\s*[年./\-]\s*(?P<m>\d{1,2})\s*[月./\-]\s*(?P<d>\d{1,2})\s*日?"
    ),
    re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})(?P<m>[01]\d)(?P<d>[0-3]\d)(?!\d)"),
]


def parse_date(text: str) -> date | None:
    """First valid calendar date in `text`: 2026-03-01, 2026年3月1日, 2026.03.01, 20260301."""
    text = to_halfwidth(text)
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            try:
                return date(int(match["y"]), int(match["m"]), int(match["d"]))
            except ValueError:
                continue
    return None


def find_dates(text: str) -> list[date]:
    """Every valid date in `text`, in order (a stay prints 入院 and 出院 on one line)."""
    text = to_halfwidth(text)
    found: list[tuple[int, date]] = []
    taken: list[tuple[int, int]] = []
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            span = match.span()
            if any(s < span[1] and span[0] < e for s, e in taken):
                continue
            try:
                found.append((span[0], date(int(match["y"]), int(match["m"]), int(match["d"]))))
                taken.append(span)
            except ValueError:
                continue
    return [d for _, d in sorted(found)]


_MONEY = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|-?\d+(?:\.\d{1,2})?")


def parse_money(text: str) -> Decimal | None:
    """The first amount in `text` (¥1,234.50 → Decimal('1234.50')), rounded to the fen."""
    text = to_halfwidth(text).replace("￥", "¥").replace(" ", "")
    text = re.sub(r"(?<=\d),(?=\d{2}(?!\d))", ".", text)  # OCR reads 1892.96 as 1892,96
    match = _MONEY.search(text)
    if not match:
        return None
    try:
        return Decimal(match.group().replace(",", "")).quantize(FEN, rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return None


def parse_decimal(text: str) -> Decimal | None:
    text = to_halfwidth(text).replace(",", "").strip()
    match = re.search(r"-?\d+(?:\.\d+)?", text)
    return Decimal(match.group()) if match else None


_CN_DIGITS = {
    "零": 0, "〇": 0, "壹": 1, "贰": 2, "貳": 2, "叁": 3, "參": 3, "肆": 4, "伍": 5,
    "陆": 6, "陸": 6, "柒": 7, "捌": 8, "玖": 9,
    "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
_CN_UNITS = {"拾": 10, "十": 10, "佰": 100, "百": 100, "仟": 1000, "千": 1000}
_CN_BIG = {"万": 10_000, "萬": 10_000, "亿": 100_000_000, "億": 100_000_000}


def parse_capital_amount(text: str) -> Decimal | None:
    """Parse Chinese capital numerals (壹佰贰拾叁元肆角伍分, 零元整) into Decimal yuan.

    Returns None when the text holds characters that are not part of an amount, so a
    misread is reported instead of silently mis-parsed.
    """
    text = re.sub(r"[\s:：¥￥()（）]|人民币|大写", "", text)
    if not text:
        return None
    text = text.replace("圆", "元")
    if "元" in text:
        yuan_part, _, fraction = text.partition("元")
    elif re.search("[角分]", text):
        yuan_part, fraction = "", text
    else:
        return None
    yuan = _parse_integer(yuan_part) if yuan_part else 0
    if yuan is None:
        return None
    cents = _parse_fraction(fraction)
    if cents is None:
        return None
    return (Decimal(yuan) + Decimal(cents) / 100).quantize(FEN)


def _parse_integer(text: str) -> int | None:
    total = section = digit = 0
    for char in text:
        if char in _CN_DIGITS:
            digit = _CN_DIGITS[char]
        elif char in _CN_UNITS:
            section += (digit or (1 if char in "拾十" and section == 0 else 0)) * _CN_UNITS[char]
            digit = 0
        elif char in _CN_BIG:
            section += digit
            total = (
                (total + section) * _CN_BIG[char]
                if char in "亿億"
                else total + section * _CN_BIG[char]
            )
            section = digit = 0
        else:
            return None
    return total + section + digit


def _parse_fraction(text: str) -> int | None:
    text = text.replace("整", "").replace("正", "")
    cents = 0
    digit: int | None = None
    for char in text:
        if char in _CN_DIGITS:
            digit = _CN_DIGITS[char]
        elif char == "角":
            cents += 10 * (digit or 0)
            digit = None
        elif char == "分":
            cents += digit or 0
            digit = None
        else:
            return None
    if digit:  # a trailing digit with no unit: ambiguous, refuse
        return None
    return cents


def format_capital_amount(amount: Decimal) -> str:
    """Render yuan as 大写 the way invoices print it (used by tests and the sample generator)."""
    digits = "零壹贰叁肆伍陆柒捌玖"
    amount = amount.quantize(FEN)
    if amount < 0:
        raise ValueError("negative amounts have no capital form")
    yuan = int(amount)
    jiao, fen = divmod(int((amount - yuan) * 100), 10)
    words = _integer_words(yuan, digits) + "元" if yuan else ("" if jiao or fen else "零元")
    if not jiao and not fen:
        return words + "整"
    if jiao:
        words += digits[jiao] + "角"
    elif yuan:
        words += "零"
    if fen:
        words += digits[fen] + "分"
    else:
        words += "整"
    return words


def _integer_words(number: int, digits: str) -> str:
    units = ["", "拾", "佰", "仟"]
    groups = []
    while number:
        number, group = divmod(number, 10_000)
        groups.append(group)
    words = ""
    need_zero = False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            need_zero = bool(words)
            continue
        part = ""
        zero = need_zero or (bool(words) and group < 1000)
        for pos in range(3, -1, -1):
            d = (group // 10**pos) % 10
            if d == 0:
                zero = bool(part) or zero
                continue
            if zero and (part or words):
                part += "零"
            zero = False
            part += digits[d] + units[pos]
        words += part + ["", "万", "亿", "万亿"][index]
        need_zero = group % 10 == 0
    return words


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_PATTERN = re.compile(r"^\d{17}[\dX]$")


def id_check_digit(first17: str) -> str:
    """GB 11643 check character (ISO 7064 MOD 11-2) for the first 17 digits."""
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def id_checksum_valid(number: str) -> bool:
    return bool(_ID_PATTERN.match(number)) and id_check_digit(number[:17]) == number[17]


ID_MASK = "*"
_MASKED_ID = re.compile(r"^\d{1,8}\*{4,}\d{0,7}[\dX]$")


def is_masked_id_number(number: str) -> bool:
    """An ID number printed with its middle hidden, as the national app shows it
    (`3706**********1234`): 18 characters, digits at both ends, one run of `*` between."""
    return len(number) == 18 and bool(_MASKED_ID.match(number))


def normalize_id_number(text: str) -> str:
    """Upper-case, half-width, letter/digit confusions fixed except the final X."""
    raw = re.sub(r"\s", "", to_halfwidth(text)).upper()
    if len(raw) == 18:
        return clean_digits(raw[:17]) + (raw[17] if raw[17] == "X" else clean_digits(raw[17]))
    return clean_digits(raw)


def id_birth_date(number: str) -> date | None:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def id_sex(number: str) -> str:
    """Sex encoded in digit 17: odd is male."""
    return "男" if int(number[16]) % 2 else "女"


# Digit pairs OCR confuses in printed ID numbers; a repair only tries these substitutions,
# otherwise almost every position has some digit that satisfies the checksum.
_CONFUSED_PAIRS = ("06", "08", "09", "17", "14", "27", "38", "35", "56", "58", "68", "89", "4X")
_ID_CONFUSIONS: dict[str, str] = {}
for _pair in _CONFUSED_PAIRS:
    _ID_CONFUSIONS[_pair[0]] = _ID_CONFUSIONS.get(_pair[0], "") + _pair[1]
    _ID_CONFUSIONS[_pair[1]] = _ID_CONFUSIONS.get(_pair[1], "") + _pair[0]


def repair_id_number(number: str) -> tuple[str, bool]:
    """Fix one misread character only if exactly one plausible substitution validates.

    Returns (number, corrected). Several valid candidates mean the misread cannot be
    located, so the number is returned unchanged for a reviewer.
    """
    if len(number) != 18 or not re.fullmatch(r"\d{17}[\dX]", number) or id_checksum_valid(number):
        return number, False
    candidates = set()
    for pos, current in enumerate(number):
        for char in _ID_CONFUSIONS.get(current, ""):
            if char == "X" and pos != 17:
                continue
            candidate = number[:pos] + char + number[pos + 1 :]
            if id_checksum_valid(candidate) and _plausible_birth(candidate):
                candidates.add(candidate)
    if len(candidates) == 1:
        return candidates.pop(), True
    return number, False


def _plausible_birth(number: str) -> bool:
    born = id_birth_date(number)
    return born is not None and date(1900, 1, 1) <= born <= date.today()


def normalize_sex(text: str) -> str | None:
    text = text.strip()
    if text.startswith(("男", "M")):
        return "男"
    if text.startswith(("女", "F")):
        return "女"
    return None


def normalize_ethnicity(text: str) -> str | None:
    value = re.sub(r"[\s:：]|民族", "", text).removesuffix("族")
    return value or None
