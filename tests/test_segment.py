"""One expense list is one document however many pages or files it spans (a fake reading of
OCR lines, no engine): titled pages numbered 第2页, pages before the 合计 row, photos a page
a file; another patient's list is another document."""

from __future__ import annotations

from decimal import Decimal

from extractors.extract import extract_claim_documents
from pipeline.models import BBox, OcrLine, Page, PageSource, ReadResult
from pipeline.records import DocType

COLUMNS = {"项目名称": 0.10, "数量": 0.50, "单价": 0.62, "金额": 0.78}


def _line(text: str, x: float, y: float, width: float = 0.10) -> OcrLine:
    return OcrLine(text=text, confidence=0.99, bbox=BBox(x0=x, y0=y, x1=x + width, y1=y + 0.015))


def _list_page(
    index: int,
    patient: str,
    admission: str,
    rows: list[tuple[str, str]],
    *,
    number: str = "",
    grand_total: str | None = None,
) -> Page:
    """A page of a 住院费用明细清单 as hospitals print it: the title on every page."""
    lines = [
        _line("住院费用明细清单", 0.35, 0.03, 0.30),
        _line(f"姓名：{patient}", 0.05, 0.07, 0.20),
        _line(f"住院号：{admission}", 0.40, 0.07, 0.20),
    ]
    if number:
        lines.append(_line(number, 0.80, 0.03))
    lines += [_line(name, x - 0.02, 0.12) for name, x in COLUMNS.items()]
    y = 0.16
    for name, amount in rows:
        lines += [
            _line(name, 0.08, y, 0.25),
            _line("1", 0.48, y, 0.04),
            _line(amount, 0.60, y),
            _line(amount, 0.76, y),
        ]
        y += 0.04
    page_total = sum((Decimal(a) for _, a in rows), Decimal(0))
    lines += [_line("本页小计", 0.60, y, 0.08), _line(f"{page_total:.2f}", 0.76, y)]
    if grand_total is not None:
        lines += [_line("合计", 0.60, y + 0.04, 0.06), _line(grand_total, 0.76, y + 0.04)]
    return Page(index=index, width=2480, height=3508, source=PageSource.OCR, lines=lines)


def _read(name: str, pages: list[Page]) -> ReadResult:
    return ReadResult(file=name, media_type="image/jpeg", pages=pages)


FIRST = [("注射用头孢曲松钠", "120.00"), ("氯化钠注射液", "30.00")]
SECOND = [("血常规检查", "25.00"), ("一级护理", "40.00")]


def test_titled_pages_numbered_as_later_pages_are_one_list() -> None:
    pages = [
        _list_page(0, "张三", "123456", FIRST, number="第1页 共2页"),
        _list_page(1, "张三", "123456", SECOND, number="第2页 共2页", grand_total="215.00"),
    ]
    (document,) = extract_claim_documents([_read("list.pdf", pages)])
    assert document.pages == [0, 1]
    assert [line.name for line in document.fields["lines"].value] == [
        "注射用头孢曲松钠", "氯化钠注射液", "血常规检查", "一级护理",
    ]  # fmt: skip
    assert document.fields["total_amount"].value == Decimal("215.00")


def test_a_titled_page_before_the_lists_total_continues_it_without_page_numbers() -> None:
    pages = [
        _list_page(0, "张三", "123456", FIRST),
        _list_page(1, "张三", "123456", SECOND, grand_total="215.00"),
    ]
    (document,) = extract_claim_documents([_read("list.pdf", pages)])
    assert document.pages == [0, 1]


def test_another_patients_list_is_another_document() -> None:
    pages = [
        _list_page(0, "张三", "123456", FIRST),
        _list_page(1, "李四", "654321", SECOND, number="第2页", grand_total="65.00"),
    ]
    documents = extract_claim_documents([_read("bulk.pdf", pages)])
    assert [d.pages for d in documents] == [[0], [1]]


def test_a_finished_list_followed_by_a_titled_page_starts_a_new_list() -> None:
    pages = [
        _list_page(0, "张三", "123456", FIRST, grand_total="150.00"),
        _list_page(1, "张三", "777777", SECOND, grand_total="65.00"),
    ]
    assert len(extract_claim_documents([_read("bulk.pdf", pages)])) == 2


def test_a_list_photographed_a_page_a_file_is_one_document_with_each_pages_subtotal() -> None:
    reads = [
        _read("list_p1.jpg", [_list_page(0, "张三", "123456", FIRST, number="第1页")]),
        _read("list_p2.jpg", [_list_page(0, "张三", "123456", SECOND, grand_total="215.00")]),
    ]
    (document,) = extract_claim_documents(reads)
    assert document.doc_type is DocType.EXPENSE_LIST
    assert (document.file, document.pages, document.continued) == (
        "list_p1.jpg",
        [0],
        {"list_p2.jpg": [0]},
    )
    assert document.page_images() == [("list_p1.jpg", 0), ("list_p2.jpg", 0)]
    lines = document.fields["lines"].value
    assert [line.page for line in lines] == [0, 0, 1, 1]
    assert document.fields["page_totals"].value == [Decimal("150.00"), Decimal("65.00")]
    assert document.fields["total_amount"].value == Decimal("215.00")
    assert document.as_json()["continued"] == {"list_p2.jpg": [0]}
