"""Expense-list tables from OCR lines (a fake reading, no engine): columns by their header."""

from __future__ import annotations

from decimal import Decimal

from extractors.tables import read_expense_table
from pipeline.models import BBox, OcrLine

COLUMNS = {"序号": 0.04, "项目编码": 0.12, "项目名称": 0.30, "类别": 0.46, "规格": 0.54,
           "单位": 0.62, "数量": 0.68, "单价": 0.76, "金额": 0.86, "自付比例": 0.95}  # fmt: skip


def _line(text: str, x: float, y: float, width: float = 0.06) -> OcrLine:
    return OcrLine(text=text, confidence=0.99, bbox=BBox(x0=x, y0=y, x1=x + width, y1=y + 0.015))


def _row(y: float, values: dict[str, str]) -> list[OcrLine]:
    return [_line(text, COLUMNS[key] - 0.02, y) for key, text in values.items()]


def _header(y: float) -> list[OcrLine]:
    return [_line(name, x - 0.02, y) for name, x in COLUMNS.items()]


def test_each_line_keeps_its_code_in_its_own_column_and_its_name_whole() -> None:
    lines = _header(0.10) + _row(
        0.13,
        {"序号": "1", "项目编码": "XJ01DDA044", "项目名称": "注射用头孢曲", "类别": "乙",
         "规格": "1.0g", "单位": "支", "数量": "2", "单价": "1,250.50", "金额": "2,501.00",
         "自付比例": "10%"},
    ) + _row(0.148, {"项目名称": "松钠"})  # the name wraps inside its cell  # fmt: skip
    table = read_expense_table([(0, lines)])
    (line,) = table.lines
    assert line.code == "XJ01DDA044"
    assert line.name == "注射用头孢曲松钠"
    assert (line.quantity, line.unit_price, line.amount) == (
        Decimal(2),
        Decimal("1250.50"),
        Decimal("2501.00"),
    )


def test_a_code_run_into_the_name_is_cut_off_it() -> None:
    lines = _header(0.10) + [
        _line("1XJ01DDA044注射用头孢曲松钠", 0.02, 0.13, 0.36),
        _line("乙", 0.44, 0.13),
        _line("1", 0.66, 0.13),
        _line("12.50", 0.74, 0.13),
        _line("12.50", 0.84, 0.13),
    ]
    (line,) = read_expense_table([(0, lines)]).lines
    assert (line.code, line.name) == ("XJ01DDA044", "注射用头孢曲松钠")


def test_a_name_whose_closing_bracket_wrapped_out_of_sight_gets_it_back() -> None:
    lines = _header(0.10) + _row(
        0.13, {"项目名称": "胸部CT平扫(多排螺旋", "数量": "1", "单价": "320.00", "金额": "320.00"}
    )
    (line,) = read_expense_table([(0, lines)]).lines
    assert line.name == "胸部CT平扫(多排螺旋)"


def test_a_spec_in_millilitres_read_with_a_one_is_millilitres() -> None:
    lines = _header(0.10) + _row(
        0.13,
        {"项目名称": "葡萄糖注射液", "规格": "500m1", "数量": "3", "单价": "3.62", "金额": "10.86"},
    )
    (line,) = read_expense_table([(0, lines)]).lines
    assert line.spec == "500ml"


def test_lines_that_miss_their_pages_subtotal_are_flagged_unless_quantity_times_price_confirms_them() -> (
    None
):
    lines = _header(0.10) + _row(0.13, {"项目名称": "床位费", "类别": "甲", "金额": "60.00"}) + _row(
        0.16, {"项目名称": "一级护理", "类别": "甲", "数量": "2", "单价": "20.00", "金额": "40.00"}
    ) + [_line("本页小计", 0.74, 0.19), _line("190.00", 0.84, 0.19)]  # fmt: skip
    table = read_expense_table([(0, lines)])
    unverified, confirmed = table.lines
    assert unverified.confidence == 0.8 and confirmed.confidence == 0.99
    assert table.confidence == 0.8


def test_unit_cells_the_detector_stacked_into_one_box_go_back_to_their_rows() -> None:
    first = {"项目名称": "葡萄糖注射液", "数量": "2", "单价": "297.20", "金额": "594.40"}
    second = {"项目名称": "阿托伐他汀钙片", "数量": "5", "单价": "366.22", "金额": "1831.10"}
    stacked = OcrLine(  # `袋` over `盒` in the unit column, read as one tall box
        text="袋盒", confidence=0.99, bbox=BBox(x0=0.60, y0=0.128, x1=0.63, y1=0.167)
    )
    lines = _header(0.10) + _row(0.13, first) + _row(0.15, second) + [stacked]
    table = read_expense_table([(0, lines)])
    assert [(line.name, line.unit) for line in table.lines] == [
        ("葡萄糖注射液", "袋"),
        ("阿托伐他汀钙片", "盒"),
    ]


def test_a_name_wrapped_over_two_lines_in_one_row_is_not_split() -> None:
    tall = OcrLine(
        text="一次性输液器带针", confidence=0.99, bbox=BBox(x0=0.28, y0=0.128, x1=0.40, y1=0.165)
    )
    row = _row(0.138, {"数量": "1", "单价": "3.50", "金额": "3.50"})
    (line,) = read_expense_table([(0, _header(0.10) + [tall] + row)]).lines
    assert line.name == "一次性输液器带针"
