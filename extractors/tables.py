"""Tables: expense-list lines across pages, and the item grid of an invoice.

Columns are found from the header row's labels (synonyms in `columns.yml`); each later row
is cut into cells by the column positions, so a list of any length, over any number of
pages, is read row by row — nothing depends on the whole table fitting one window.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import yaml

from extractors.layout import normal
from extractors.values import money_or_none
from pipeline.models import BBox, OcrLine
from pipeline.normalize import parse_decimal, to_halfwidth
from pipeline.records import ExpenseLine, InvoiceItem

COLUMNS_FILE = Path(__file__).resolve().parent / "forms" / "columns.yml"


@lru_cache(maxsize=1)
def column_synonyms() -> dict[str, tuple[str, ...]]:
    data = yaml.safe_load(COLUMNS_FILE.read_text(encoding="utf-8"))
    return {str(k): tuple(str(s) for s in v) for k, v in data["expense_list"].items()}


@lru_cache(maxsize=1)
def table_markers() -> dict[str, tuple[str, ...]]:
    data = yaml.safe_load(COLUMNS_FILE.read_text(encoding="utf-8"))
    return {str(k): tuple(str(s) for s in v) for k, v in data["markers"].items()}


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    x0: float
    x1: float

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2


@dataclass(frozen=True, slots=True)
class Row:
    cells: list[OcrLine]

    @property
    def text(self) -> str:
        return normal("".join(c.text for c in self.cells))

    @property
    def bbox(self) -> BBox:
        return BBox.union([c.bbox for c in self.cells])

    @property
    def confidence(self) -> float:
        return min(c.confidence for c in self.cells)


def group_rows(lines: list[OcrLine]) -> list[Row]:
    """Lines that share a row, left to right; rows top to bottom.

    A line joins the current row when its centre is within half a line height of the row's
    median centre, so one tall or slanted cell cannot chain two rows together.
    """
    rows: list[list[OcrLine]] = []
    for line in sorted(lines, key=lambda ln: ln.bbox.cy):
        if rows:
            current = rows[-1]
            centres = sorted(ln.bbox.cy for ln in current)
            heights = sorted(ln.bbox.height for ln in current)
            middle, height = centres[len(centres) // 2], heights[len(heights) // 2]
            if abs(line.bbox.cy - middle) < 0.5 * min(height, line.bbox.height):
                current.append(line)
                continue
        rows.append([line])
    return [Row(sorted(r, key=lambda ln: ln.bbox.x0)) for r in rows]


def unstack(lines: list[OcrLine]) -> list[OcrLine]:
    """Split a detection box that swallowed one narrow column over several rows.

    The text detector can merge short cells stacked in a column (`袋` over `盒` in the unit
    column) into one tall box read as `袋盒`. When a box spans the centres of n rows of its
    neighbours and its text divides into n equal parts, each part goes back to its own row.
    """
    return [piece for line in lines for piece in _unstacked(line, lines)]


def _unstacked(line: OcrLine, lines: list[OcrLine]) -> list[OcrLine]:
    text = line.text.strip()
    if len(text) < 2:
        return [line]
    beside = [
        other
        for other in lines
        if other is not line
        and line.bbox.y0 < other.bbox.cy < line.bbox.y1
        and (other.bbox.x1 <= line.bbox.x0 or other.bbox.x0 >= line.bbox.x1)
        and other.bbox.height < 0.75 * line.bbox.height
    ]
    rows = group_rows(beside)
    count = len(rows)
    if count < 2 or len(text) % count:
        return [line]
    size = len(text) // count
    pieces = []
    for index, row in enumerate(rows):
        top, bottom = row.bbox.y0, row.bbox.y1
        box = BBox(x0=line.bbox.x0, y0=top, x1=line.bbox.x1, y1=bottom)
        piece = text[index * size : (index + 1) * size]
        pieces.append(line.model_copy(update={"text": piece, "bbox": box}))
    return pieces


def find_header(rows: list[Row]) -> tuple[int, list[Column]] | None:
    """The first row naming at least three known columns, with each column's x-range."""
    synonyms = column_synonyms()
    for index, row in enumerate(rows):
        columns: list[Column] = []
        for cell in row.cells:
            columns.extend(_columns_in_cell(cell, synonyms))
        keys = {c.key for c in columns}
        if len(keys) >= 3 and "amount" in keys:
            unique = {c.key: c for c in sorted(columns, key=lambda c: c.x0)}
            return index, sorted(unique.values(), key=lambda c: c.x0)
    return None


def _columns_in_cell(cell: OcrLine, synonyms: dict[str, tuple[str, ...]]) -> list[Column]:
    """Header labels within one OCR cell (OCR may merge several header cells into one).

    The longest printed header wins over every key, so 项目编码 is the code column, not a
    项目 (name) column with 编码 left over."""
    text = normal(cell.text)
    found: list[tuple[int, int, str]] = []
    pairs = sorted(
        ((normal(name), key) for key, names in synonyms.items() for name in names),
        key=lambda nk: -len(nk[0]),
    )
    for name, key in pairs:
        if any(k == key for _, _, k in found):
            continue
        index = text.find(name)
        end = index + len(name)
        if index >= 0 and all(end <= s or index >= e for s, e, _ in found):
            found.append((index, end, key))
    width = max(len(text), 1)
    box = cell.bbox
    return [
        Column(key, box.x0 + box.width * s / width, box.x0 + box.width * e / width)
        for s, e, key in sorted(found)
    ]


def assign_cells(row: Row, columns: list[Column]) -> dict[str, tuple[str, float]]:
    """Map each cell of a row to the column whose centre is nearest its own."""
    assigned: dict[str, tuple[str, float]] = {}
    for cell in row.cells:
        pieces = _split_cell(cell, columns)
        for key, text in pieces:
            previous = assigned.get(key)
            joined = (previous[0] + text) if previous else text
            assigned[key] = (
                joined,
                min(cell.confidence, previous[1]) if previous else cell.confidence,
            )
    return assigned


def _split_cell(cell: OcrLine, columns: list[Column]) -> list[tuple[str, str]]:
    """A cell spanning several columns (merged by OCR) is cut at spaces, piece by piece."""
    parts = to_halfwidth(cell.text).split()
    nearest = min(columns, key=lambda c: abs(c.cx - cell.bbox.cx)).key
    if len(parts) < 2:
        return [(nearest, normal(cell.text))]
    width = max(len(cell.text), 1)
    pieces, position = [], 0
    for part in parts:
        start = cell.text.find(part, position)
        position = start + len(part)
        centre = cell.bbox.x0 + cell.bbox.width * (start + len(part) / 2) / width
        pieces.append((min(columns, key=lambda c: abs(c.cx - centre)).key, normal(part)))
    if len({key for key, _ in pieces}) < 2:
        return [(nearest, normal(cell.text))]
    return pieces


def is_marker(row: Row, marker: str) -> bool:
    return any(normal(m) in row.text for m in table_markers()[marker])


def has_grand_total(lines: list[OcrLine]) -> bool:
    """A 合计 row with an amount: the last page of a list (a 本页小计 row is not one)."""
    return any(
        is_marker(row, "grand_total")
        and not is_marker(row, "page_total")
        and last_money(row) is not None
        for row in group_rows(lines)
    )


def last_money(row: Row) -> Decimal | None:
    for cell in reversed(row.cells):
        value = money_or_none(cell.text)
        if value is not None and re.search(r"\d", cell.text):
            return value
    return None


@dataclass(slots=True)
class ExpenseTable:
    lines: list[ExpenseLine]
    line_boxes: list[tuple[int, BBox]]
    page_totals: list[tuple[int, Decimal, BBox, float]]
    grand_total: tuple[int, Decimal, BBox, float] | None
    confidence: float
    consistent_rows: int


def read_expense_table(pages: list[tuple[int, list[OcrLine]]]) -> ExpenseTable:
    """Rows of an expense list over all its pages; a page without a header reuses the last one."""
    table = ExpenseTable([], [], [], None, 1.0, 0)
    columns: list[Column] | None = None
    for page, lines in pages:
        rows = group_rows(unstack(lines))
        header = find_header(rows)
        start = 0
        if header is not None:
            start, columns = header[0] + 1, header[1]
        if columns is None:
            continue
        for row in rows[start:]:
            if is_marker(row, "grand_total") and not is_marker(row, "page_total"):
                value = last_money(row)
                if value is not None:
                    table.grand_total = (page, value, row.bbox, row.confidence)
                continue
            if is_marker(row, "page_total"):
                value = last_money(row)
                if value is not None:
                    table.page_totals.append((page, value, row.bbox, row.confidence))
                continue
            cells = assign_cells(row, columns)
            line = _expense_line(cells, page)
            if line is None:
                _continue_name(table, cells, page, row)
                continue
            consistent = _row_consistent(line)
            table.consistent_rows += consistent
            # the class decides the reimbursement: a row whose class was not read needs a reviewer
            complete = line.category is not None or not any(c.key == "category" for c in columns)
            factor = (1.0 if consistent else 0.8) * (1.0 if complete else 0.85)
            confidence = round(row.confidence * factor, 4)
            table.confidence = min(table.confidence, confidence)
            table.lines.append(line.model_copy(update={"confidence": confidence}))
            table.line_boxes.append((page, row.bbox))
    table.lines = [line.model_copy(update={"name": closed(line.name)}) for line in table.lines]
    _check_page_sums(table)
    return table


PAGE_SUM_CAP = 0.8  # a page whose lines miss its 本页小计: its unverified lines need a reviewer


def _check_page_sums(table: ExpenseTable) -> None:
    """Lines that add up to their page's 本页小计 are as sure as OCR says; on a page where
    they do not, a row not confirmed by quantity × unit price may be the misread one."""
    for page, printed, _, _ in table.page_totals:
        on_page = [i for i, line in enumerate(table.lines) if line.page == page]
        added = sum((table.lines[i].amount for i in on_page), Decimal(0))
        if not on_page or abs(added - printed) <= Decimal("0.01"):
            continue
        for i in on_page:
            line = table.lines[i]
            verified = line.quantity is not None and line.unit_price is not None
            if not (verified and _row_consistent(line)) and (line.confidence or 0) > PAGE_SUM_CAP:
                table.lines[i] = line.model_copy(update={"confidence": PAGE_SUM_CAP})
        table.confidence = min(
            [table.confidence, *(table.lines[i].confidence or 1.0 for i in on_page)]
        )


BRACKETS = (("(", ")"), ("（", "）"))


def closed(name: str) -> str:
    """A name whose closing bracket wrapped onto a line of its own, which OCR does not see
    (a lone `)`), gets it back: `胸部CT平扫(多排螺旋` is `胸部CT平扫(多排螺旋)`."""
    for left, right in BRACKETS:
        if name.count(left) == name.count(right) + 1 and name.rfind(left) > name.rfind(right):
            return name + right
    return name


LEADING_CODE = re.compile(r"^(?:\d{1,3}(?=[A-Z]))?([A-Z0-9][A-Z0-9.\-]{5,})(?=[\u3400-\u9fff(（])")


def _continue_name(
    table: ExpenseTable, cells: dict[str, tuple[str, float]], page: int, row: Row
) -> None:
    """A long name wraps onto a second line inside its cell: that line holds only the rest of
    the name (and maybe of the spec), just under it; it belongs to the line above."""
    if not table.lines or table.line_boxes[-1][0] != page or set(cells) - {"name", "spec"}:
        return
    above = table.line_boxes[-1][1]
    if table.grand_total is not None or row.bbox.y0 - above.y1 > row.bbox.height:
        return
    rest = cells.get("name", ("", 0.0))[0]
    if not rest or not re.search(r"[\u3400-\u9fffA-Za-z()（）]", rest):
        return
    last = table.lines[-1]
    spec = cells.get("spec", ("", 0.0))[0]
    table.lines[-1] = last.model_copy(
        update={"name": last.name + rest, "spec": (last.spec or "") + spec or None}
    )


def _expense_line(cells: dict[str, tuple[str, float]], page: int) -> ExpenseLine | None:
    name = cells.get("name", ("", 0.0))[0]
    code = cells.get("code", ("", 0.0))[0] or None
    if not name and code and re.search(r"[\u3400-\u9fff]", code):
        name, code = code, None  # one merged cell nearer the code column holds the name too
    amount = money_or_none(cells.get("amount", ("", 0.0))[0])
    if not name or amount is None or not re.search(r"[\u3400-\u9fff A-Za-z]", name):
        return None
    glued = LEADING_CODE.match(name)
    if glued and code is None:  # 序号 and 项目编码 run into the name: `1X01020304注射用…`
        code, name = glued.group(1), name[glued.end() :]
    return ExpenseLine(
        name=name,
        code=code,
        category=_category(cells.get("category", ("", 0.0))[0]),
        spec=_spec(cells.get("spec", ("", 0.0))[0]),
        unit=cells.get("unit", ("", 0.0))[0] or None,
        quantity=parse_decimal(cells["quantity"][0]) if "quantity" in cells else None,
        unit_price=money_or_none(cells["unit_price"][0]) if "unit_price" in cells else None,
        amount=amount,
        self_pay_ratio=_ratio(cells["self_pay_ratio"][0]) if "self_pay_ratio" in cells else None,
        page=page,
    )


ML_MISREAD = re.compile(r"(?<=\d)m[1I|](?![\dA-Za-z])")


def _spec(text: str) -> str | None:
    """The spec as printed; `500m1` is OCR's `500ml` (no unit is written m1)."""
    return ML_MISREAD.sub("ml", text) or None


LONE_YI = {"2", "Z", "z", "己"}


def _category(text: str) -> str | None:
    # 由/申 are OCR's usual misreads of a lone 甲 in the class column
    for char, canonical in (
        ("甲", "甲"),
        ("乙", "乙"),
        ("丙", "丙"),
        ("自费", "丙"),
        ("由", "甲"),
        ("申", "甲"),
    ):
        if char in text:
            return canonical
    if text.strip() in LONE_YI:  # 乙 alone in its cell reads as 2, Z or 己
        return "乙"
    return None


def _ratio(text: str) -> Decimal | None:
    value = parse_decimal(text)
    if value is None:
        return None
    fraction = value / 100 if "%" in text or value > 1 else value
    return fraction.quantize(Decimal("0.01"))


def _row_consistent(line: ExpenseLine) -> bool:
    """quantity × unit price = amount (to the fen) is a strong check on what was read."""
    if line.quantity is None or line.unit_price is None:
        return True
    return abs(line.quantity * line.unit_price - line.amount) <= Decimal("0.01")


@dataclass(frozen=True, slots=True)
class GridColumn:
    """One column of an invoice item grid: `name`, `amount` or another (quantity, remark)."""

    role: str
    cx: float


@dataclass(frozen=True, slots=True)
class Token:
    """A name or a number cut from a grid cell, with the x of its centre."""

    text: str
    cx: float
    confidence: float
    is_name: bool
    glued: bool = False  # a number printed in the same cell right after its name


def read_invoice_items(lines: list[OcrLine]) -> tuple[list[InvoiceItem], BBox | None, float]:
    """(name, amount) pairs of an invoice's item grid, any number of column groups.

    The header row names the columns (`项目名称 | 金额（元） | 备注` once, twice or three
    times; paper forms print none and pack 4–5 `name amount` pairs into a row). Each row is
    cut into name and number tokens; a number belongs to the column whose header is nearest,
    and pairs with the name before it, so quantities and remarks never become amounts and
    rows filled row-wise or column-wise read alike.
    """
    rows = group_rows(lines)
    start = next((i for i, r in enumerate(rows) if is_marker(r, "item_header")), None)
    if start is None:
        return _headless_items(rows)
    columns = _grid_columns(rows, start)
    items: list[InvoiceItem] = []
    boxes: list[BBox] = []
    confidence = 1.0
    for row in rows[start + 1 :]:
        if is_marker(row, "grand_total") or is_marker(row, "invoice_end"):
            break
        if is_marker(row, "item_header"):
            continue  # the second line of a header whose column groups sit a little lower
        found = _row_items(_tokens(row), columns)
        for item, token_confidence in found:
            items.append(item)
            confidence = min(confidence, token_confidence)
        if found:
            boxes.append(row.bbox)
    box = BBox.union(boxes) if boxes else None
    return items, box, confidence


def _headless_items(rows: list[Row]) -> tuple[list[InvoiceItem], BBox | None, float]:
    """Paper forms print no grid header: rows of two or more `name amount` pairs before the
    合计 row are the items."""
    items: list[InvoiceItem] = []
    boxes: list[BBox] = []
    confidence = 1.0
    for row in rows:
        if is_marker(row, "grand_total") or is_marker(row, "invoice_end"):
            break
        found = _row_items(_tokens(row), [])
        if len(found) < (1 if items else 2):  # the grid's last row may hold one pair
            continue
        for item, token_confidence in found:
            items.append(item)
            confidence = min(confidence, token_confidence)
        boxes.append(row.bbox)
    return items, (BBox.union(boxes) if boxes else None), confidence


def _grid_columns(rows: list[Row], start: int) -> list[GridColumn]:
    """Columns named on the header row and on any header row just beside it."""
    header = rows[start]
    roles = table_roles()
    columns: list[GridColumn] = []
    for row in rows[start : start + 3]:
        if row is not header and abs(row.bbox.cy - header.bbox.cy) > 2.5 * header.bbox.height:
            break
        for cell in row.cells:
            text = normal(cell.text)
            width = max(len(text), 1)
            position = 0
            while position < len(text):
                match = next(
                    ((role, name) for role, name in roles if text.startswith(name, position)),
                    None,
                )
                if match is None:
                    position += 1
                    continue
                role, name = match
                centre = cell.bbox.x0 + cell.bbox.width * (position + len(name) / 2) / width
                columns.append(GridColumn(role, centre))
                position += len(name)
    return columns


@lru_cache(maxsize=1)
def table_roles() -> tuple[tuple[str, str], ...]:
    """(role, printed header) for item grids, longest header first."""
    data = yaml.safe_load(COLUMNS_FILE.read_text(encoding="utf-8"))["item_grid"]
    pairs = [(str(role), normal(str(name))) for role, names in data.items() for name in names]
    return tuple(sorted(pairs, key=lambda rn: -len(rn[1])))


_TOKEN = re.compile(
    r"(?P<number>[¥￥]?\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|[¥￥]?\d+(?:\.\d{1,2})?)"
    r"|(?P<name>[(（\[]?[\u3400-\u9fffA-Za-z]"
    r"(?:(?!\d+(?:,\d{3})*\.\d{2}(?!\d))[\u3400-\u9fffA-Za-z0-9()（）\[\]*./+-])*)"
)


def _tokens(row: Row) -> list[Token]:
    tokens: list[Token] = []
    for cell in row.cells:
        text = to_halfwidth(cell.text)
        width = max(len(text), 1)
        previous_name = False
        for match in _TOKEN.finditer(text):
            centre = cell.bbox.x0 + cell.bbox.width * (match.start() + match.end()) / 2 / width
            is_name = match.group("name") is not None
            value = match.group().rstrip(":：")
            if is_name and not re.search(r"[\u3400-\u9fff]|[A-Za-z]{2,}", value):
                continue
            glued = previous_name and not is_name  # 检查费:10.00 printed as one cell
            tokens.append(Token(value, centre, cell.confidence, is_name, glued))
            previous_name = is_name
    return sorted(tokens, key=lambda t: t.cx)


def _row_items(tokens: list[Token], columns: list[GridColumn]) -> list[tuple[InvoiceItem, float]]:
    """Pair each name with the first amount after it on the row."""
    found: list[tuple[InvoiceItem, float]] = []
    pending: Token | None = None
    for token in tokens:
        if token.is_name:
            pending = token
            continue
        if pending is None or not (token.glued or _in_amount_column(token, columns)):
            continue
        amount = money_or_none(token.text)
        if amount is not None:
            found.append(
                (
                    InvoiceItem(name=pending.text, amount=amount),
                    min(pending.confidence, token.confidence),
                )
            )
            pending = None
    return found


def _in_amount_column(token: Token, columns: list[GridColumn]) -> bool:
    """A number is an amount unless a quantity or remark column is nearer to it."""
    if not columns:
        return True
    nearest = min(columns, key=lambda c: abs(c.cx - token.cx))
    return nearest.role in ("amount", "name")
