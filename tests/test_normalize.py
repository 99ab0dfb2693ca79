"""Canonical values from printed text, with property tests for the ID checksum and 大写 parser."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from pipeline.normalize import (
    find_dates,
    format_capital_amount,
    id_birth_date,
    id_check_digit,
    id_checksum_valid,
    id_sex,
    normalize_ethnicity,
    normalize_id_number,
    normalize_sex,
    parse_capital_amount,
    parse_date,
    parse_money,
    repair_id_number,
)

money = st.decimals(min_value=0, max_value=Decimal("99999999.99"), places=2)
births = st.dates(min_value=date(1920, 1, 1), max_value=date(2025, 12, 31))


@st.composite
def id_numbers(draw: st.DrawFn) -> str:
    region = draw(st.sampled_from(["370602", "310104", "110105", "370102", "330106"]))
    born = draw(births)
    sequence = draw(st.integers(min_value=0, max_value=999))
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    return first17 + id_check_digit(first17)


@given(money)
def test_capital_amount_round_trips_for_any_amount(amount: Decimal) -> None:
    assert parse_capital_amount(format_capital_amount(amount)) == amount


def test_capital_amount_parses_invoice_examples() -> None:
    assert parse_capital_amount("壹佰贰拾叁元肆角伍分") == Decimal("123.45")
    assert parse_capital_amount("人民币（大写）壹仟零贰拾元零伍分") == Decimal("1020.05")
    assert parse_capital_amount("壹万零伍元整") == Decimal("10005.00")
    assert parse_capital_amount("零元整") == Decimal("0.00")
    assert parse_capital_amount("伍分") == Decimal("0.05")


def test_capital_amount_refuses_text_that_is_not_an_amount() -> None:
    assert parse_capital_amount("壹佰贰拾叁元肆角伍") is None  # digit without unit
    assert parse_capital_amount("合计金额") is None
    assert parse_capital_amount("壹佰贰拾叁元肆角伍分X") is None


def test_capital_amount_is_written_the_invoice_way() -> None:
    assert format_capital_amount(Decimal("1020.05")) == "壹仟零贰拾元零伍分"
    assert format_capital_amount(Decimal("30.50")) == "叁拾元伍角整"
    assert format_capital_amount(Decimal("100000")) == "壹拾万元整"


@given(id_numbers())
def test_generated_id_numbers_validate_and_carry_birth_and_sex(number: str) -> None:
    assert id_checksum_valid(number)
    assert id_birth_date(number) is not None
    assert id_sex(number) in ("男", "女")


@given(id_numbers(), st.integers(min_value=0, max_value=16), st.integers(min_value=1, max_value=9))
def test_changing_one_digit_breaks_the_checksum(number: str, pos: int, delta: int) -> None:
    changed = number[:pos] + str((int(number[pos]) + delta) % 10) + number[pos + 1 :]
    assert not id_checksum_valid(changed)


@given(id_numbers(), st.integers(min_value=0, max_value=17))
def test_id_repair_never_returns_a_wrong_number(number: str, pos: int) -> None:
    confusions = {"0": "8", "8": "0", "1": "7", "7": "1", "3": "8", "5": "6", "6": "5", "9": "8"}
    if number[pos] not in confusions:
        return
    misread = number[:pos] + confusions[number[pos]] + number[pos + 1 :]
    repaired, corrected = repair_id_number(misread)
    if corrected:
        assert repaired == number
    else:
        assert repaired == misread


def test_id_repair_records_a_unique_correction() -> None:
    assert repair_id_number("370602198503871237") == ("370602198503071237", True)
    assert repair_id_number("370602198503071237") == ("370602198503071237", False)


def test_id_number_is_upper_cased_and_cleaned() -> None:
    assert normalize_id_number("３７０６０２１９８５０３０７１２３x") == "37060219850307123X"
    assert normalize_id_number("37O602 19850307 1237") == "370602198503071237"


def test_dates_parse_in_every_printed_form() -> None:
    for text in ["2026-03-01", "2026年3月1日", "2026.03.01", "20260301", "开票日期：2026/03/01"]:
        assert parse_date(text) == date(2026, 3, 1), text
    assert parse_date("2026-02-30") is None
    assert find_dates("住院时间：2026年03月01日-2026年03月09日") == [
        date(2026, 3, 1),
        date(2026, 3, 9),
    ]


def test_money_is_decimal_never_float() -> None:
    assert parse_money("（小写）¥1,234.50") == Decimal("1234.50")
    assert parse_money("￥３０.５") == Decimal("30.50")
    assert parse_money("无") is None


def test_sex_and_ethnicity_are_canonical() -> None:
    assert normalize_sex("男") == "男" and normalize_sex("女性") == "女"
    assert normalize_ethnicity("汉族") == "汉" and normalize_ethnicity("民族 回") == "回"
