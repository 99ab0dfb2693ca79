"""Generate the labelled sample documents and claim folders in sample_docs/ (deterministic).

    .venv/bin/python sample_docs/generate.py [--out sample_docs]

Every document is drawn from a list of layout operations, so the same document can be
rendered as a scan (PNG/JPEG/TIFF), a phone photo (perspective, rotation, shadow, blur, JPEG)
or a text-layer PDF. Layouts vary: several label synonyms per field, field order, label/value
on one line or in columns, full- or half-width colons, five CJK fonts, sizes and offsets.
Each file gets a `<file>.truth.json` with the canonical field values (SPEC §2).
"""

from __future__ import annotations

import argparse
import io
import json
import random
import shutil
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

FONTS = [
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
]
PDF_FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
NOTO = FONTS[0]
DPI = 150
A4 = (210, 297)
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉建国志强永红海燕春梅晓东文博子涵思远雨欣浩然梓萱"
HOSPITALS = [
    ("上海市第六人民医院", "上海市", "三级甲等综合医院"),
    ("上海市中医医院", "上海市", "三级甲等中医医院"),
    ("北京市朝阳医院", "北京市", "三级甲等综合医院"),
    ("济南市中心医院", "济南市", "三级甲等综合医院"),
    ("杭州市第一人民医院", "杭州市", "三级甲等综合医院"),
    ("青岛市市立医院", "青岛市", "二级甲等综合医院"),
]
STREETS = ["芝罘区南大街", "莱山区观海路", "福山区河滨路", "牟平区正阳路", "蓬莱区钟楼东路"]
DRUGS = [
    ("头孢呋辛酯片", "甲", "0.25g*12片", "盒"), ("阿莫西林胶囊", "甲", "0.5g*24粒", "盒"),
    ("氯化钠注射液", "甲", "250ml", "袋"), ("葡萄糖注射液", "甲", "500ml", "袋"),
    ("奥美拉唑肠溶胶囊", "乙", "20mg*14粒", "盒"), ("一次性输液器", "乙", "带针", "套"),
    ("注射用头孢曲松钠", "乙", "1.0g", "支"), ("血常规检查", "甲", "次", "次"),
    ("胸部CT平扫", "乙", "次", "次"), ("床位费", "甲", "日", "日"), ("护理费", "甲", "日", "日"),
    ("进口人工晶体", "丙", "个", "个"), ("阿托伐他汀钙片", "乙", "20mg*7片", "盒"),
    ("注射用奥美拉唑钠", "乙", "40mg", "支"), ("复方氨基酸注射液", "乙", "250ml", "瓶"),
    ("心电图检查", "甲", "次", "次"), ("静脉输液", "甲", "次", "次"), ("医用纱布", "丙", "包", "包"),
]  # fmt: skip
ITEM_NAMES = ["西药费", "检查费", "化验费", "治疗费", "床位费", "护理费", "材料费", "诊察费"]
DIAGNOSES = [
    "急性阑尾炎",
    "社区获得性肺炎",
    "2型糖尿病",
    "冠状动脉粥样硬化性心脏病",
    "右股骨颈骨折",
    "急性胃肠炎",
]


def check_digit(first17: str) -> str:
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True)) % 11]


def capital(amount: Decimal) -> str:
    digits = "零壹贰叁肆伍陆柒捌玖"
    units = ["", "拾", "佰", "仟"]
    yuan = int(amount)
    jiao, fen = divmod(int((amount - yuan) * 100), 10)
    words, zero = "", False
    text = str(yuan)
    groups = [text[max(0, i - 4) : i] for i in range(len(text), 0, -4)][::-1]
    for gi, group in enumerate(groups):
        part = ""
        for pos, ch in enumerate(group):
            d = int(ch)
            unit = units[len(group) - pos - 1]
            if d == 0:
                zero = bool(part or words)
                continue
            if zero:
                part += "零"
                zero = False
            part += digits[d] + unit
        if part:
            words += part + ("万" if len(groups) - gi - 1 == 1 else "")
        elif len(groups) - gi - 1 == 1:
            zero = bool(words)
    if yuan == 0:
        words = ""
    out = (words + "元") if words else ("零元" if not (jiao or fen) else "")
    if jiao:
        out += ("零" if zero and words else "") + digits[jiao] + "角"
    elif fen and words:
        out += "零"
    if fen:
        out += digits[fen] + "分"
    if not fen:
        out += "整"
    return out


@dataclass
class Person:
    name: str
    sex: str
    birth: date
    id_number: str
    address: str
    ethnicity: str = "汉"


def make_person(rng: random.Random, region: str = "370602") -> Person:
    name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))
    birth = date(rng.randint(1950, 1998), rng.randint(1, 12), rng.randint(1, 28))
    seq = rng.randint(10, 99)
    sex_digit = rng.randint(0, 9)
    first17 = f"{region}{birth:%Y%m%d}{seq}{sex_digit}"
    address = f"山东省烟台市{rng.choice(STREETS)}{rng.randint(1, 300)}号{rng.randint(1, 30)}单元{rng.randint(101, 2206)}室"
    return Person(
        name,
        "男" if sex_digit % 2 else "女",
        birth,
        first17 + check_digit(first17),
        address,
        rng.choice(["汉", "汉", "汉", "回", "满"]),
    )


@dataclass
class Op:
    kind: str  # text | line | rect | seal
    x: float  # mm
    y: float
    text: str = ""
    size: float = 3.5  # mm
    x2: float = 0.0
    y2: float = 0.0
    colour: tuple[int, int, int] = (20, 20, 20)
    overlay: bool = False  # stamped over the print (seal ink): multiplied, never hiding it


@dataclass
class Doc:
    doc_type: str
    fields: dict[str, Any]
    pages: list[list[Op]] = field(default_factory=list)
    size: tuple[float, float] = A4
    font: str = NOTO
    background: tuple[int, int, int] = (255, 255, 255)


class Layout:
    """Writes one page of text with a cursor, in mm."""

    def __init__(self, rng: random.Random, size: float) -> None:
        self.rng = rng
        self.ops: list[Op] = []
        self.size = size
        self.colon = rng.choice(["：", ":", "："])

    def text(
        self,
        x: float,
        y: float,
        text: str,
        size: float | None = None,
        colour: tuple[int, int, int] = (20, 20, 20),
    ) -> None:
        self.ops.append(Op("text", x, y, text, size or self.size, colour=colour))

    def kv(
        self,
        x: float,
        y: float,
        label: str,
        value: str,
        column: float | None = None,
        size: float | None = None,
    ) -> None:
        if column is None:
            self.text(x, y, f"{label}{self.colon}{value}", size)
        else:
            self.text(x, y, label, size)
            self.text(x + column, y, value, size)

    def line(self, x: float, y: float, x2: float, y2: float) -> None:
        self.ops.append(Op("line", x, y, x2=x2, y2=y2))

    def seal(self, x: float, y: float, text: str, overlay: bool = False) -> None:
        self.ops.append(Op("seal", x, y, text, 3.0, colour=(200, 30, 40), overlay=overlay))


def money(value: Decimal) -> str:
    return f"{value:.2f}"


# ---------------------------------------------------------------- document builders


def invoice(
    rng: random.Random,
    person: Person,
    hospital: tuple[str, str, str],
    start: date,
    end: date,
    amount_lines: list[tuple[str, Decimal]],
    inpatient: bool,
    codes: tuple[str, str],
    flaw: str | None = None,
    payer: str | None = None,
) -> Doc:
    total = sum((a for _, a in amount_lines), Decimal("0.00"))
    fund = (total * Decimal(rng.choice(["0.50", "0.60", "0.00"]))).quantize(Decimal("0.01"))
    account = Decimal("0.00") if fund == 0 else Decimal(rng.randint(0, 30))
    cash = total - fund - account
    words_total = total + Decimal("10.00") if flaw and "words" in flaw else total
    printed_cash = cash + Decimal("5.00") if flaw and "parts" in flaw else cash
    lay = Layout(rng, rng.choice([3.6, 3.8, 4.0]))
    title = "医疗住院收费票据（电子）" if inpatient else "医疗门诊收费票据（电子）"
    if rng.random() < 0.4:
        title = title.replace("（电子）", "")
    lay.text(60, 18, title, 6)
    issue = end + timedelta(days=rng.randint(0, 1))
    if flaw and "early" in flaw:
        issue = start - timedelta(days=3)
    number_label = rng.choice(["票据号码", "票据号码"])
    head = [
        ("票据代码", codes[0]),
        (number_label, codes[1]),
        ("校验码", f"{rng.randint(100000, 999999)}a{rng.randint(10, 99)}"),
        (
            "开票日期",
            rng.choice(
                [f"{issue:%Y-%m-%d}", f"{issue.year}年{issue.month:02d}月{issue.day:02d}日"]
            ),
        ),
    ]
    for i, (label, value) in enumerate(head):
        lay.kv(15 + (i % 2) * 95, 32 + (i // 2) * 8, label, value)
    name_label = rng.choice(["交款人", "交款人", "患者姓名"])
    block = [
        (name_label, payer or person.name),
        ("性别", person.sex),
        ("医保类型", rng.choice(["职工基本医疗保险", "城乡居民基本医疗保险"])),
        ("医保编号", f"Y{rng.randint(10**9, 10**10 - 1)}"),
        ("医疗机构类型", hospital[2]),
        ("业务流水号", f"{rng.randint(10**11, 10**12 - 1)}"),
        ("住院号" if inpatient else "门诊号", f"{rng.randint(100000, 999999)}"),
    ]
    if inpatient:
        block.append(("住院时间", f"{start:%Y-%m-%d}至{end:%Y-%m-%d}"))
    else:
        block.append(("就诊日期", f"{start:%Y-%m-%d}"))
    order = list(range(len(block)))
    rng.shuffle(order)
    lay.kv(15, 48, "交款人统一社会信用代码", person.id_number)
    y = 56
    for i, idx in enumerate(order):
        label, value = block[idx]
        lay.kv(15 + (i % 2) * 95, y + (i // 2) * 8, label, value, size=3.4)
    y += ((len(block) + 1) // 2) * 8 + 6
    lay.line(12, y - 4, 198, y - 4)
    lay.text(15, y, "项目名称")
    lay.text(60, y, "金额")
    lay.text(110, y, "项目名称")
    lay.text(155, y, "金额")
    for i, (name, amount) in enumerate(amount_lines):
        row_y = y + 8 + (i // 2) * 7
        col = 95 * (i % 2)
        lay.text(15 + col, row_y, name)
        lay.text(60 + col, row_y, money(amount))
    y += 8 + ((len(amount_lines) + 1) // 2) * 7 + 4
    lay.line(12, y - 3, 198, y - 3)
    lay.text(15, y, f"合计（大写）{capital(words_total)}")
    lay.text(130, y, f"（小写）¥{money(total)}")
    parts = [
        ("医保统筹基金支付", fund),
        ("个人账户支付", account),
        ("其他支付", Decimal("0.00")),
        ("个人现金支付", printed_cash),
        ("个人自付", (cash * Decimal("0.3")).quantize(Decimal("0.01"))),
        ("个人自费", Decimal("0.00")),
    ]
    for i, (label, value) in enumerate(parts):
        lay.kv(15 + (i % 3) * 63, y + 10 + (i // 3) * 8, label, money(value), size=3.2)
    lay.kv(15, y + 32, "收款单位（章）", hospital[0])
    lay.seal(60, y + 26, hospital[0])
    fields = {
        "invoice_code": codes[0], "invoice_number": codes[1], "check_code": head[2][1], "payer_name": payer or person.name,
        "payer_id_number": person.id_number, "issue_date": issue.isoformat(), "hospital_name": hospital[0],
        "hospital_type": hospital[2], "insurance_type": block[2][1], "insurance_number": block[3][1], "sex": person.sex,
        "serial_number": block[5][1], "admission_number": block[6][1], "admission_date": start.isoformat(),
        "items": [{"name": n, "amount": money(a)} for n, a in amount_lines], "total_amount": money(total),
        "total_amount_words": money(words_total), "fund_payment": money(fund), "account_payment": money(account),
        "other_payment": "0.00", "cash_payment": money(printed_cash), "self_pay": money(parts[4][1]), "self_expense": "0.00",
    }  # fmt: skip
    if inpatient:
        fields["discharge_date"] = end.isoformat()
    return Doc(
        "medical_invoice", fields, [lay.ops], size=(210, 160 + 7 * ((len(amount_lines) + 1) // 2))
    )


def expense_lines(rng: random.Random, count: int) -> list[dict[str, Any]]:
    rows = []
    for _ in range(count):
        name, cat, spec, unit = rng.choice(DRUGS)
        qty = rng.randint(1, 6)
        price = Decimal(rng.randint(200, 40000)) / 100
        rows.append({"name": name, "category": cat, "spec": spec, "unit": unit, "quantity": str(qty),
                     "unit_price": money(price), "amount": money(price * qty),
                     "self_pay_ratio": {"甲": "0.00", "乙": "0.10", "丙": "1.00"}[cat]})  # fmt: skip
    return rows


def expense_list(
    rng: random.Random,
    person: Person,
    hospital: tuple[str, str, str],
    start: date,
    end: date,
    rows: list[dict[str, Any]],
    admission: str,
    flaw: str | None = None,
) -> Doc:
    per_page = rng.choice([24, 28, 30])
    pages_rows = [rows[i : i + per_page] for i in range(0, len(rows), per_page)]
    columns = [
        ("项目名称", 15),
        ("类别", 68),
        ("规格", 82),
        ("单位", 110),
        ("数量", 124),
        ("单价", 140),
        ("金额", 162),
        ("自付比例", 182),
    ]
    if rng.random() < 0.5:
        columns[1] = ("甲乙类", 68)
    pages: list[list[Op]] = []
    totals = []
    for number, chunk in enumerate(pages_rows):
        lay = Layout(rng, 3.2)
        if number == 0:
            lay.text(40, 15, f"{hospital[0]}住院费用明细清单", 5.5)
            header = [
                ("姓名", person.name),
                ("住院号", admission),
                ("入院日期", f"{start:%Y-%m-%d}"),
                ("出院日期", f"{end:%Y-%m-%d}"),
            ]
            for i, (label, value) in enumerate(header):
                lay.kv(15 + i * 47, 27, label, value)
        else:
            lay.text(15, 15, f"{person.name}  住院号 {admission}  第{number + 1}页", 3.2)
        y = 36
        for label, x in columns:
            lay.text(x, y, label)
        lay.line(12, y + 5, 200, y + 5)
        for i, row in enumerate(chunk):
            ry = y + 8 + i * 7
            values = [
                row["name"],
                row["category"],
                row["spec"],
                row["unit"],
                row["quantity"],
                row["unit_price"],
                row["amount"],
                f"{int(Decimal(row['self_pay_ratio']) * 100)}%",
            ]
            for (_, x), value in zip(columns, values, strict=True):
                lay.text(x, ry, value)
        page_total = sum((Decimal(r["amount"]) for r in chunk), Decimal("0.00"))
        totals.append(page_total)
        ty = y + 10 + len(chunk) * 7
        lay.line(12, ty - 3, 200, ty - 3)
        lay.text(140, ty, "本页小计")
        lay.text(162, ty, money(page_total))
        if number == len(pages_rows) - 1:
            grand = sum(totals, Decimal("0.00")) + (
                Decimal("100.00") if flaw == "list_total" else 0
            )
            lay.text(140, ty + 8, "合计")
            lay.text(162, ty + 8, money(grand))
        pages.append(lay.ops)
    fields = {"patient_name": person.name, "hospital_name": hospital[0], "admission_number": admission,
              "admission_date": start.isoformat(), "discharge_date": end.isoformat(), "lines": rows,
              "page_totals": [money(t) for t in totals], "total_amount": money(grand)}  # fmt: skip
    return Doc("expense_list", fields, pages)


def id_front(rng: random.Random, person: Person, flaw: str | None = None) -> Doc:
    lay = Layout(rng, 3.6)
    number = person.id_number
    if flaw == "checksum":
        number = number[:-1] + ("0" if number[-1] != "0" else "1")
    if flaw == "birth_sex":  # the card disagrees with its own number: a forged or misread card
        person = Person(
            person.name,
            "女" if person.sex == "男" else "男",
            person.birth + timedelta(days=31),
            person.id_number,
            person.address,
            person.ethnicity,
        )
    lay.text(8, 10, "姓名", 3.2, (60, 90, 140))
    lay.text(22, 10, person.name, 4.2)
    lay.text(8, 19, "性别", 3.2, (60, 90, 140))
    lay.text(22, 19, person.sex)
    lay.text(36, 19, "民族", 3.2, (60, 90, 140))
    lay.text(50, 19, person.ethnicity)
    lay.text(8, 28, "出生", 3.2, (60, 90, 140))
    lay.text(22, 28, f"{person.birth.year}年{person.birth.month}月{person.birth.day}日")
    lay.text(8, 37, "住址", 3.2, (60, 90, 140))
    lay.text(22, 37, person.address[:11])
    lay.text(22, 43, person.address[11:])
    lay.text(6, 53, "公民身份号码", 3.0, (60, 90, 140))
    lay.text(31, 53, number, 3.6)
    lay.ops.append(Op("rect", 62, 8, x2=82, y2=36, colour=(200, 205, 215)))
    fields = {
        "name": person.name,
        "sex": person.sex,
        "ethnicity": person.ethnicity,
        "birth_date": person.birth.isoformat(),
        "address": person.address,
        "id_number": number,
    }
    return Doc("id_card", fields, [lay.ops], size=(86, 58), background=(236, 232, 220))


def id_back(rng: random.Random, person: Person, valid_from: date, forever: bool) -> Doc:
    lay = Layout(rng, 3.4)
    lay.text(30, 12, "中华人民共和国", 4.5)
    lay.text(30, 22, "居民身份证", 5.5)
    authority = f"烟台市公安局{rng.choice(['芝罘分局', '莱山分局', '福山分局'])}"
    until = (
        "长期" if forever else f"{valid_from.year + 20}.{valid_from.month:02d}.{valid_from.day:02d}"
    )
    lay.text(12, 40, "签发机关", 3.0)
    lay.text(30, 40, authority)
    lay.text(12, 48, "有效期限", 3.0)
    lay.text(30, 48, f"{valid_from:%Y.%m.%d}-{until}")
    fields = {
        "issuing_authority": authority,
        "valid_from": valid_from.isoformat(),
        "valid_until": "长期"
        if forever
        else date(valid_from.year + 20, valid_from.month, valid_from.day).isoformat(),
    }
    return Doc("id_card", fields, [lay.ops], size=(86, 58), background=(230, 236, 226))


def form(
    rng: random.Random,
    doc_type: str,
    title: str,
    entries: list[tuple[str, str, str, Any]],
    body: list[str] | None = None,
    seal: str | None = None,
) -> Doc:
    """A generic labelled form: (key, label, printed value, truth value) rows, order varied."""
    lay = Layout(rng, rng.choice([3.6, 3.8, 4.0]))
    lay.text(55, 18, title, 6)
    column = rng.choice([None, 30.0])
    rows = list(entries)
    if rng.random() < 0.5:
        head, tail = rows[:2], rows[2:]
        rng.shuffle(tail)
        rows = head + tail
    y = 38.0
    for _, label, printed, _ in rows:
        lay.kv(20, y, label, printed, column)
        y += 10
    for line in body or []:
        lay.text(20, y, line)
        y += 8
    if seal:
        lay.text(110, y + 12, seal)
        lay.seal(130, y + 6, seal)
    fields = {key: truth for key, _, _, truth in entries if key}
    return Doc(doc_type, fields, [lay.ops], size=(210, max(150.0, y + 40)))


def cn_date(d: date, rng: random.Random) -> str:
    return rng.choice(
        [
            f"{d:%Y-%m-%d}",
            f"{d.year}年{d.month:02d}月{d.day:02d}日",
            f"{d.year}年{d.month}月{d.day}日",
        ]
    )


def discharge_summary(
    rng: random.Random,
    person: Person,
    hospital: tuple[str, str, str],
    start: date,
    end: date,
    name: str | None = None,
    seal: bool = True,
) -> Doc:
    diagnosis = rng.choice(DIAGNOSES)
    entries = [
        ("patient_name", "姓名", name or person.name, name or person.name),
        ("", "性别", person.sex, None),
        ("admission_date", "入院日期", cn_date(start, rng), start.isoformat()),
        ("discharge_date", "出院日期", cn_date(end, rng), end.isoformat()),
        ("diagnosis", "出院诊断", diagnosis, diagnosis),
    ]
    body = [
        "诊疗经过：入院后完善相关检查，予抗感染、补液等对症治疗，",
        "病情好转，准予出院。",
        "出院医嘱：注意休息，按时服药，门诊随诊。",
    ]
    doc = form(
        rng,
        "discharge_summary",
        f"{hospital[0]}出院小结",
        entries,
        body,
        seal=hospital[0] if seal else None,
    )
    doc.fields["hospital_name"] = hospital[0]
    doc.fields["has_seal"] = seal
    return doc


def referral(rng: random.Random, person: Person, issued: date, destination: str) -> Doc:
    until = issued + timedelta(days=365)
    referring = "烟台毓璜顶医院" if rng.random() < 0.5 else "烟台市烟台山医院"
    entries = [
        ("patient_name", "患者姓名", person.name, person.name),
        ("id_number", "身份证号", person.id_number, person.id_number),
        ("referring_hospital", "转出医院", referring, referring),
        ("referring_hospital_level", "医院等级", "三级甲等", "三级"),
        ("destination", "转往地区", destination, destination),
        ("issue_date", "开具日期", cn_date(issued, rng), issued.isoformat()),
        ("valid_until", "有效期至", cn_date(until, rng), until.isoformat()),
    ]
    return form(
        rng,
        "referral_form",
        "转诊转院审批表",
        entries,
        ["转诊原因：病情复杂，需转上级医院进一步诊治。"],
        seal=referring,
    )


CATEGORY_TEXT = {"referral": "异地转诊就医人员", "emergency": "异地急诊抢救人员", "self_referral": "其他临时外出就医人员",
                 "long_term_resident": "异地长期居住人员", "resident_worker": "常驻异地工作人员", "relocated_retiree": "异地安置退休人员"}  # fmt: skip


def filing(
    rng: random.Random,
    person: Person,
    category: str,
    region: str,
    filed: date,
    valid_from: date,
    valid_until: date,
) -> Doc:
    entries = [
        ("name", "姓名", person.name, person.name),
        ("id_number", "身份证号", person.id_number, person.id_number),
        ("insured_region", "参保地", "烟台市", "烟台市"),
        ("treatment_region", "就医地", region, region),
        ("category", "人员类别", CATEGORY_TEXT[category], category),
        ("filing_date", "备案日期", cn_date(filed, rng), filed.isoformat()),
        ("valid_from", "开始日期", cn_date(valid_from, rng), valid_from.isoformat()),
        ("valid_until", "结束日期", cn_date(valid_until, rng), valid_until.isoformat()),
    ]
    return form(rng, "filing_record", "异地就医备案表", entries, seal="烟台市医疗保障事业中心")


def emergency_cert(
    rng: random.Random, person: Person, hospital: tuple[str, str, str], visit: date
) -> Doc:
    diagnosis = rng.choice(DIAGNOSES)
    entries = [
        ("patient_name", "姓名", person.name, person.name),
        ("visit_date", "就诊日期", cn_date(visit, rng), visit.isoformat()),
        ("diagnosis", "初步诊断", diagnosis, diagnosis),
    ]
    doc = form(
        rng,
        "emergency_certificate",
        "急诊证明",
        entries,
        [f"兹证明该患者于{visit:%Y-%m-%d}在我院急诊抢救治疗。"],
        seal=hospital[0],
    )
    doc.fields["hospital_name"] = hospital[0]
    return doc


def residence_permit(
    rng: random.Random, person: Person, region: str, valid_from: date, valid_until: date
) -> Doc:
    district = rng.choice(["浦东新区", "朝阳区", "历下区", "西湖区"])
    street = rng.choice(["世纪大道", "建国路", "泉城路", "文三路"])
    number = rng.randint(1, 500)
    # building, unit and room follow from the house number: no further draw, so every other
    # document stays as it was
    room = f"{number % 9 + 1}号楼{number % 3 + 1}单元{100 * (number % 18 + 1) + number % 4 + 1}室"
    address = f"{region}{district}{street}{number}号{room}"
    entries = [
        ("name", "姓名", person.name, person.name),
        ("sex", "性别", person.sex, person.sex),
        (
            "birth_date",
            "出生",
            f"{person.birth.year}年{person.birth.month}月{person.birth.day}日",
            person.birth.isoformat(),
        ),
        ("id_number", "公民身份号码", person.id_number, person.id_number),
        ("address", "居住地址", address, address),
        ("issuing_authority", "签发机关", f"{region}公安局", f"{region}公安局"),
        (
            "valid_from",
            "有效期限",
            f"{valid_from:%Y.%m.%d}-{valid_until:%Y.%m.%d}",
            valid_from.isoformat(),
        ),
    ]
    doc = form(rng, "residence_permit", "居住证", entries)
    doc.fields["valid_until"] = valid_until.isoformat()
    wrap_value(doc, "居住地址", PERMIT_ADDRESS_CHARS)
    return doc


PERMIT_ADDRESS_CHARS = 11  # a card prints about eleven characters of the address a line


def wrap_value(doc: Doc, label: str, chars: int) -> None:
    """Wrap a long value over lines as a card prints it, each continuation under the value's
    first character; everything below moves down. Draws nothing from the random generator."""
    ops = doc.pages[0]
    at = next(i for i, op in enumerate(ops) if op.kind == "text" and op.text.startswith(label))
    op = ops[at]
    inline = op.text != label
    value_op = (
        op if inline else next(o for o in ops if o.kind == "text" and o.y == op.y and o.x > op.x)
    )
    value = value_op.text[len(label) + 1 :] if inline else value_op.text
    if len(value) <= chars:
        return
    em = op.size * 1.3
    x = (
        op.x + (len(label) + (1 if op.text[len(label)] == "：" else 0.5)) * em
        if inline
        else value_op.x
    )
    step = em * 1.25
    parts = [value[k : k + chars] for k in range(0, len(value), chars)]
    for other in ops:
        if other.y > op.y + 0.1:
            other.y += step * (len(parts) - 1)
            other.y2 += step * (len(parts) - 1) if other.kind == "line" else 0.0
    value_op.text = (value_op.text[: len(label) + 1] if inline else "") + parts[0]
    for n, part in enumerate(parts[1:], 1):
        ops.append(Op("text", x, op.y + n * step, part, op.size, colour=op.colour))
    doc.size = (doc.size[0], doc.size[1] + step * (len(parts) - 1))


def residence_proof(rng: random.Random, person: Person, region: str, since: date) -> Doc:
    address = f"{region}{rng.choice(['徐汇区', '海淀区', '市中区'])}{rng.choice(['漕溪路', '中关村大街', '经七路'])}{rng.randint(1, 300)}号"
    issuer = f"{region}{rng.choice(['湖南路街道', '学院路街道', '大观园街道'])}居民委员会"
    entries = [
        ("name", "姓名", person.name, person.name),
        ("address", "现居住地址", address, address),
        ("valid_from", "居住起始日期", cn_date(since, rng), since.isoformat()),
        ("issuing_authority", "出具单位", issuer, issuer),
    ]
    return form(
        rng,
        "residence_proof",
        "居住证明",
        entries,
        ["兹证明该居民在本辖区连续居住六个月以上。"],
        seal=issuer,
    )


def employment_proof(rng: random.Random, person: Person, region: str, since: date) -> Doc:
    employer = rng.choice(
        ["烟台万华化学集团有限公司", "烟台张裕葡萄酿酒股份有限公司", "山东烟台港集团有限公司"]
    )
    until = since + timedelta(days=730)
    entries = [
        ("employee_name", "员工姓名", person.name, person.name),
        ("employer", "用人单位", employer, employer),
        ("work_place", "派驻地点", region, region),
        ("valid_from", "派驻期限", f"{since:%Y-%m-%d}至{until:%Y-%m-%d}", since.isoformat()),
    ]
    doc = form(
        rng,
        "employment_proof",
        "派驻证明",
        entries,
        ["兹证明该员工由我单位派驻异地长期工作。"],
        seal=employer,
    )
    doc.fields["valid_until"] = until.isoformat()
    return doc


def prescription(
    rng: random.Random, person: Person, hospital: tuple[str, str, str], day: date
) -> Doc:
    entries = [
        ("patient_name", "姓名", person.name, person.name),
        ("date", "开具日期", cn_date(day, rng), day.isoformat()),
    ]
    drugs = [f"Rp：{d[0]}  {d[2]}  ×{rng.randint(1, 3)}" for d in rng.sample(DRUGS[:8], 3)]
    doc = form(rng, "prescription_or_report", f"{hospital[0]}处方笺", entries, drugs, seal=None)
    doc.fields["hospital_name"] = hospital[0]
    return doc


def other_page(rng: random.Random, kind: int) -> Doc:
    lay = Layout(rng, 4.0)
    if kind == 0:
        lay.text(60, 20, "鲁味家常菜馆 结账单", 5.5)
        for i, (dish, price) in enumerate(
            [("宫保鸡丁", "38.00"), ("清炒时蔬", "22.00"), ("米饭", "4.00"), ("酸梅汤", "12.00")]
        ):
            lay.text(30, 40 + i * 9, dish)
            lay.text(130, 40 + i * 9, price)
        lay.text(30, 85, "总计 76.00 元  欢迎再次光临")
    else:
        lay.text(70, 20, "停水通知", 6)
        for i, text in enumerate(
            [
                "各位住户：",
                "因管道检修，本小区将于本周六上午八时至下午五时停水。",
                "请提前做好储水准备，给您带来不便敬请谅解。",
                "物业服务中心",
            ]
        ):
            lay.text(25, 40 + i * 10, text)
    return Doc("other", {}, [lay.ops], size=(210, 140))


# ---------------------------------------------------------------- rendering


def mm(value: float) -> int:
    return round(value / 25.4 * DPI)


def render(doc: Doc, rng: random.Random, font: str) -> list[Image.Image]:
    images = []
    fonts: dict[int, ImageFont.FreeTypeFont] = {}
    for ops in doc.pages:
        page = Image.new("RGB", (mm(doc.size[0]), mm(doc.size[1])), doc.background)
        stamps = Image.new("RGB", page.size, (255, 255, 255))
        dx, dy = rng.uniform(-2, 2), rng.uniform(-2, 2)
        for op in ops:
            draw = ImageDraw.Draw(stamps if op.overlay else page)
            if op.kind == "text":
                px = mm(op.size * 1.3)
                fonts.setdefault(px, ImageFont.truetype(font, px))
                draw.text((mm(op.x + dx), mm(op.y + dy)), op.text, font=fonts[px], fill=op.colour)
            elif op.kind == "line":
                draw.line(
                    [(mm(op.x + dx), mm(op.y + dy)), (mm(op.x2 + dx), mm(op.y2 + dy))],
                    fill=(90, 90, 90),
                    width=2,
                )
            elif op.kind == "rect":
                draw.rectangle([(mm(op.x), mm(op.y)), (mm(op.x2), mm(op.y2))], fill=op.colour)
            elif op.kind == "seal":
                r = mm(17)
                cx, cy = mm(op.x + dx), mm(op.y + dy)
                draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=op.colour, width=5)
                draw.regular_polygon((cx, cy, mm(4)), 5, fill=op.colour)
        if any(op.overlay for op in ops):
            page = ImageChops.multiply(page, stamps)
        images.append(page)
    return images


def scan(image: Image.Image, rng: random.Random) -> Image.Image:
    array = np.asarray(image).astype(np.float32)
    array += np.random.default_rng(rng.randint(0, 10**6)).normal(0, 1.5, array.shape)
    return Image.fromarray(array.clip(0, 255).astype(np.uint8)).filter(
        ImageFilter.GaussianBlur(0.4)
    )


def photo(
    image: Image.Image,
    rng: random.Random,
    turn: int = 0,
    blur: float = 0.0,
    glare: bool = False,
    cut: bool = False,
    grey: bool = False,
    fold: bool = False,
) -> Image.Image:
    """A phone picture: the page on a table, at an angle, unevenly lit."""
    page = np.asarray(image.convert("RGB"))[:, :, ::-1].copy()
    if grey:
        page = cv2.cvtColor(cv2.cvtColor(page, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    if fold:
        page = folded(page, rng)
    h, w = page.shape[:2]
    nrng = np.random.default_rng(rng.randint(0, 10**6))
    bw, bh = int(w * 1.35), int(h * 1.3)
    base = np.array(
        rng.choice([(70, 95, 130), (60, 60, 70), (120, 140, 150), (40, 70, 100)]), np.float32
    )
    table = (base + nrng.normal(0, 14, (bh, bw, 3))).clip(0, 255).astype(np.uint8)
    j = 0.05
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    ox, oy = (bw - w) / 2, (bh - h) / 2
    if cut:
        ox = -w * 0.25
    dst = np.float32([[ox + rng.uniform(-j, j) * w, oy + rng.uniform(-j, j) * h], [ox + w + rng.uniform(-j, j) * w, oy + rng.uniform(-j, j) * h],
                      [ox + w + rng.uniform(-j, j) * w, oy + h + rng.uniform(-j, j) * h], [ox + rng.uniform(-j, j) * w, oy + h + rng.uniform(-j, j) * h]])  # fmt: skip
    matrix = cv2.getPerspectiveTransform(src, dst)
    shot = cv2.warpPerspective(
        page, matrix, (bw, bh), dst=table, borderMode=cv2.BORDER_TRANSPARENT
    ).astype(np.float32)
    gx = np.linspace(rng.uniform(0.75, 0.9), rng.uniform(0.95, 1.05), bw)[None, :, None]
    gy = np.linspace(rng.uniform(0.9, 1.0), rng.uniform(0.8, 0.95), bh)[:, None, None]
    shot *= gx * gy
    if glare:
        mask = np.zeros((bh, bw), np.float32)
        cv2.ellipse(mask, (bw // 2, bh // 3), (bw // 6, bh // 10), 0, 0, 360, 1.0, -1)
        mask = cv2.GaussianBlur(mask, (0, 0), 8)[:, :, None]
        shot = shot * (1 - mask) + 255 * mask
    shot = shot.clip(0, 255).astype(np.uint8)
    sigma = blur or rng.uniform(0.3, 0.8)
    shot = cv2.GaussianBlur(shot, (0, 0), sigma)
    scale = rng.uniform(1600, 2000) / max(bw, bh)
    shot = cv2.resize(shot, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    if turn:
        shot = cv2.rotate(
            shot,
            {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}[
                turn
            ],
        )
    return Image.fromarray(shot[:, :, ::-1])


def folded(page: np.ndarray, rng: random.Random) -> np.ndarray:
    """Paper that was folded in half and in half again, then flattened for the photo: a dark
    crease along each fold, the two sides lit differently, and one side a little shifted."""
    h, w = page.shape[:2]
    out = page.astype(np.float32)
    for axis, at in ((1, rng.uniform(0.45, 0.55)), (0, rng.uniform(0.3, 0.7))):
        size = w if axis == 1 else h
        cut = int(size * at)
        ramp = np.ones(size, np.float32)
        ramp[cut:] = np.linspace(rng.uniform(0.78, 0.88), rng.uniform(0.95, 1.0), size - cut)
        ramp[:cut] = np.linspace(1.0, rng.uniform(0.92, 0.98), cut)
        crease = np.exp(-(((np.arange(size) - cut) / 2.5) ** 2)) * rng.uniform(0.25, 0.4)
        ramp *= 1 - crease
        out *= ramp[None, :, None] if axis == 1 else ramp[:, None, None]
        shift = rng.randint(2, 5)  # the flattened fold does not lie quite flat
        if axis == 1:
            out[shift:, cut:] = out[:-shift, cut:].copy()
        else:
            out[cut:, shift:] = out[cut:, :-shift].copy()
    return out.clip(0, 255).astype(np.uint8)


def text_pdf(doc: Doc, path: Path, font: str = PDF_FONT) -> None:
    from fpdf import FPDF

    pdf = FPDF(unit="mm", format=doc.size)
    pdf.set_creation_date(
        __import__("datetime").datetime(2026, 1, 1, tzinfo=__import__("datetime").timezone.utc)
    )
    pdf.set_auto_page_break(False)
    pdf.add_font("cjk", fname=font)
    for ops in doc.pages:
        pdf.add_page()
        draw_pdf_page(pdf, ops)
    pdf.output(str(path))


def draw_pdf_page(pdf: Any, ops: list[Op]) -> None:
    """Draw one page's text, rules and seal on the current fpdf2 page (font "cjk" added)."""
    for op in ops:
        if op.kind == "text":
            pdf.set_font("cjk", size=op.size * 1.3 / 0.3528)
            pdf.set_text_color(*op.colour)
            pdf.text(op.x, op.y + op.size * 1.1, op.text)
        elif op.kind == "line":
            pdf.line(op.x, op.y, op.x2, op.y2)
        elif op.kind == "seal":
            pdf.set_draw_color(200, 30, 40)
            pdf.set_line_width(0.8)
            pdf.circle(x=op.x, y=op.y, radius=17)
            pdf.set_draw_color(0, 0, 0)
            pdf.set_line_width(0.2)


# ---------------------------------------------------------------- writing files


class Writer:
    def __init__(self, out: Path, rng: random.Random) -> None:
        self.out = out
        self.rng = rng

    def truth(
        self,
        path: Path,
        variant: str,
        docs: list[tuple[Doc, list[int], list[float] | None]],
        defects: list[str] | None = None,
    ) -> dict[str, Any]:
        data = {"variant": variant, "defects": defects or [],
                "documents": [{"pages": pages, "doc_type": d.doc_type, "region": region, "fields": d.fields} for d, pages, region in docs]}  # fmt: skip
        path.with_name(path.name + ".truth.json").write_text(
            json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        return data

    def image(self, doc: Doc, path: Path, variant: str, **photo_args: Any) -> dict[str, Any]:
        path.parent.mkdir(parents=True, exist_ok=True)
        font = self.rng.choice(FONTS)
        pages = render(doc, self.rng, font)
        if variant == "photo":
            shot = photo(pages[0], self.rng, **photo_args)
            shot.save(path, quality=78)
        elif path.suffix == ".tif":
            frames = [scan(p, self.rng).convert("L") for p in pages]
            frames[0].save(
                path, save_all=True, append_images=frames[1:], compression="tiff_deflate"
            )
        elif path.suffix == ".png":
            scan(pages[0], self.rng).convert("L").save(path, optimize=True)
        else:
            scan(pages[0], self.rng).save(path, quality=75)
        defects = [k for k, v in photo_args.items() if v and k != "turn"] + (
            [f"rotated_{photo_args['turn']}"] if photo_args.get("turn") else []
        )
        return self.truth(
            path,
            variant,
            [(doc, list(range(len(doc.pages) if path.suffix == ".tif" else 1)), None)],
            defects,
        )

    def pdf(self, doc: Doc, path: Path, font: str = PDF_FONT) -> dict[str, Any]:
        path.parent.mkdir(parents=True, exist_ok=True)
        text_pdf(doc, path, font)
        return self.truth(path, "pdf", [(doc, list(range(len(doc.pages))), None)])

    def scanned_pdf(self, docs: list[Doc], path: Path, variant: str) -> dict[str, Any]:
        path.parent.mkdir(parents=True, exist_ok=True)
        images: list[Image.Image] = []
        entries = []
        for doc in docs:
            rendered = [
                scan(p, self.rng).convert("L")
                for p in render(doc, self.rng, self.rng.choice(FONTS))
            ]
            pages = list(range(len(images), len(images) + len(rendered)))
            images.extend(rendered)
            previous = entries[-1] if entries else None
            if (
                previous
                and previous[0].doc_type == doc.doc_type == "id_card"
                and len(previous[1]) == 1
            ):
                # an ID card's front and back pages are one document
                merged = Doc("id_card", {**previous[0].fields, **doc.fields})
                entries[-1] = (merged, previous[1] + pages, None)
                continue
            entries.append((doc, pages, None))
        first, *rest = images
        buffer = io.BytesIO()
        first.save(buffer, "PDF", resolution=float(DPI), save_all=True, append_images=rest)
        path.write_bytes(buffer.getvalue().replace(b"/CreationDate", b"/XCreationDate"))
        return self.truth(path, variant, entries)


@dataclass
class Stay:
    person: Person
    hospital: tuple[str, str, str]
    start: date
    end: date
    rows: list[dict[str, Any]]
    codes: tuple[str, str]
    admission: str

    @property
    def items(self) -> list[tuple[str, Decimal]]:
        """Invoice item groups that add up to the expense list's total."""
        total = sum((Decimal(r["amount"]) for r in self.rows), Decimal("0.00"))
        names = ITEM_NAMES[:4]
        shares = [Decimal("0.4"), Decimal("0.3"), Decimal("0.2")]
        amounts = [(total * s).quantize(Decimal("0.01")) for s in shares]
        return [*zip(names, amounts, strict=False), (names[3], total - sum(amounts))]


def make_stay(
    rng: random.Random,
    person: Person,
    hospital: tuple[str, str, str],
    start: date,
    days: int,
    lines: int,
) -> Stay:
    codes = (
        f"{rng.choice(['3101', '1101', '3701', '3301'])}{rng.randint(1000, 9999)}",
        f"{rng.randint(10**9, 10**10 - 1)}",
    )
    return Stay(
        person,
        hospital,
        start,
        start + timedelta(days=days),
        expense_lines(rng, lines),
        codes,
        f"{rng.randint(100000, 999999)}",
    )


def generate(out: Path) -> None:
    rng = random.Random(20261123)
    for sub in ("documents", "bulk", "claims", "golden"):
        shutil.rmtree(out / sub, ignore_errors=True)
    w = Writer(out, rng)
    docs_dir = out / "documents"
    people = [make_person(rng) for _ in range(12)]
    stays = [
        make_stay(
            rng,
            people[i],
            HOSPITALS[i % len(HOSPITALS)],
            date(2026, rng.randint(1, 8), rng.randint(1, 20)),
            rng.randint(3, 12),
            rng.randint(6, 20),
        )
        for i in range(8)
    ]
    stays.append(make_stay(rng, people[8], HOSPITALS[0], date(2026, 5, 4), 9, 64))  # a long list

    # ---- single documents in every variant
    for i, stay in enumerate(stays[:6]):
        inv = invoice(
            rng,
            stay.person,
            stay.hospital,
            stay.start,
            stay.end,
            stay.items,
            inpatient=i % 3 != 2,
            codes=stay.codes,
        )
        variant = ["scan", "photo", "pdf"][i % 3]
        name = f"invoice_{'inpatient' if i % 3 != 2 else 'outpatient'}_{i:02d}"
        if variant == "pdf":
            w.pdf(inv, docs_dir / "pdf" / f"{name}.pdf")
        else:
            w.image(
                inv,
                docs_dir / variant / f"{name}.jpg",
                variant,
                **({"turn": 180} if i == 4 else {}),
            )
        lst = expense_list(
            rng, stay.person, stay.hospital, stay.start, stay.end, stay.rows, stay.admission
        )
        if variant == "pdf":
            w.pdf(lst, docs_dir / "pdf" / f"expense_list_{i:02d}.pdf")
        elif variant == "scan":
            w.image(lst, docs_dir / "scan" / f"expense_list_{i:02d}.tif", "scan")
        else:
            w.image(
                Doc(lst.doc_type, {**lst.fields}, lst.pages[:1]),
                docs_dir / "photo" / f"expense_list_{i:02d}.jpg",
                "photo",
            ) if len(lst.pages) == 1 else None
    long_list = expense_list(
        rng,
        stays[8].person,
        stays[8].hospital,
        stays[8].start,
        stays[8].end,
        stays[8].rows,
        stays[8].admission,
    )
    w.pdf(long_list, docs_dir / "pdf" / "expense_list_long.pdf")
    w.image(long_list, docs_dir / "scan" / "expense_list_long.tif", "scan")
    w.pdf(
        long_list, docs_dir / "pdf" / "expense_list_long_noto.pdf", font=NOTO
    )  # pdfplumber reads 0 chars

    for i, person in enumerate(people[:4]):
        front, back = (
            id_front(rng, person),
            id_back(rng, person, date(2016 + i, 3, 1 + i), forever=i == 3),
        )
        w.image(front, docs_dir / "scan" / f"id_front_{i:02d}.png", "scan")
        w.image(back, docs_dir / "scan" / f"id_back_{i:02d}.png", "scan")
        w.image(
            front,
            docs_dir / "photo" / f"id_front_{i:02d}.jpg",
            "photo",
            **({"turn": 90} if i == 1 else {}),
        )
        w.image(back, docs_dir / "photo" / f"id_back_{i:02d}.jpg", "photo")
    bad = [
        ("blur", {"blur": 5.0}),
        ("glare", {"glare": True}),
        ("cut", {"cut": True}),
        ("grey", {"grey": True}),
    ]
    for name, args in bad:
        w.image(
            id_front(rng, people[5]),
            docs_dir / "photo" / f"id_front_bad_{name}.jpg",
            "photo",
            **args,
        )

    for i, stay in enumerate(stays[:4]):
        region = stay.hospital[1]
        ds = discharge_summary(rng, stay.person, stay.hospital, stay.start, stay.end, seal=i != 2)
        variant = ["scan", "photo", "pdf", "scan"][i]
        if variant == "pdf":
            w.pdf(ds, docs_dir / "pdf" / f"discharge_summary_{i:02d}.pdf")
        else:
            w.image(ds, docs_dir / variant / f"discharge_summary_{i:02d}.jpg", variant)
        forms = [
            ("referral", referral(rng, stay.person, stay.start - timedelta(days=5), region)),
            (
                "filing",
                filing(
                    rng,
                    stay.person,
                    rng.choice(list(CATEGORY_TEXT)),
                    region,
                    stay.start - timedelta(days=10),
                    stay.start - timedelta(days=10),
                    stay.start + timedelta(days=355),
                ),
            ),
            ("emergency", emergency_cert(rng, stay.person, stay.hospital, stay.start)),
            (
                "permit",
                residence_permit(rng, stay.person, region, date(2025, 1, 10), date(2027, 1, 9)),
            ),
            ("residence_proof", residence_proof(rng, stay.person, region, date(2024, 6, 1))),
            ("employment", employment_proof(rng, stay.person, region, date(2025, 3, 1))),
            ("prescription", prescription(rng, stay.person, stay.hospital, stay.start)),
        ]
        for name, doc in forms:
            w.image(
                doc,
                docs_dir / variant.replace("pdf", "scan") / f"{name}_{i:02d}.jpg",
                variant.replace("pdf", "scan"),
            )
    for k in range(2):
        w.image(other_page(rng, k), docs_dir / "scan" / f"other_{k:02d}.jpg", "scan")

    # ---- bulk scans: several claimants' documents in one image-only PDF
    for b in range(2):
        docs: list[Doc] = []
        for stay in stays[2 + 2 * b : 4 + 2 * b]:
            docs += [id_front(rng, stay.person), id_back(rng, stay.person, date(2018, 5, 5), False),
                     invoice(rng, stay.person, stay.hospital, stay.start, stay.end, stay.items, True, stay.codes),
                     expense_list(rng, stay.person, stay.hospital, stay.start, stay.end, stay.rows, stay.admission),
                     discharge_summary(rng, stay.person, stay.hospital, stay.start, stay.end)]  # fmt: skip
        w.scanned_pdf(docs, out / "bulk" / f"bulk_scan_{b:02d}.pdf", "bulk")

    generate_claims(out / "claims", rng, w)
    generate_real_layouts(docs_dir, Writer(out, random.Random(20261203)))
    generate_filing_screenshots(docs_dir, Writer(out, random.Random(20261214)))
    generate_folds_and_lists(docs_dir, Writer(out, random.Random(20261215)))


def generate_claims(root: Path, rng: random.Random, w: Writer) -> None:
    root.mkdir(parents=True, exist_ok=True)
    first_codes: tuple[str, str] | None = None

    def claim(claim_id: str, claim_type: str, care: str, stay: Stay, submitted: date, *, expected: dict[str, Any], notes: str,
              extra: list[tuple[str, Doc]] = (), drop: tuple[str, ...] = (), by_agent: bool = False, flaws: dict[str, str] | None = None,
              photo_id: bool = False, raw_files: dict[str, bytes] | None = None, codes: tuple[str, str] | None = None,
              paged_list: str | None = None) -> None:  # fmt: skip
        flaws = flaws or {}
        folder = root / claim_id
        folder.mkdir(parents=True, exist_ok=True)
        manifest = {"claim_id": claim_id, "claim_type": claim_type, "care_type": care, "insured_region": "烟台市",
                    "treatment_region": stay.hospital[1], "submitted_on": submitted.isoformat(), "by_agent": by_agent, "paid_this_year": "0.00"}  # fmt: skip
        (folder / "claim.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )
        inpatient = care == "inpatient"
        documents: list[tuple[str, Doc]] = [
            ("01_id_front", id_front(rng, stay.person, flaws.get("id"))),
            ("02_id_back", id_back(rng, stay.person, date(2019, 4, 2), False)),
            (
                "03_invoice",
                invoice(
                    rng,
                    stay.person,
                    stay.hospital,
                    stay.start,
                    stay.end,
                    stay.items,
                    inpatient,
                    codes or stay.codes,
                    flaws.get("invoice"),
                    flaws.get("payer"),
                ),
            ),
            ("04_expense_list", _claim_list(rng, stay, paged_list, flaws.get("list"))),
        ]
        if inpatient:
            documents.append(
                (
                    "05_discharge_summary",
                    discharge_summary(rng, stay.person, stay.hospital, stay.start, stay.end),
                )
            )
        documents += list(extra)
        files: dict[str, Any] = {}
        for name, doc in documents:
            if any(name.endswith(d) for d in drop):
                continue
            if (
                doc.doc_type == "expense_list" and paged_list
            ):  # one file a page, as phones take them
                for number, ops in enumerate(doc.pages, 1):
                    path = folder / f"{name}_p{number}.jpg"
                    files[path.name] = w.image(
                        Doc(doc.doc_type, doc.fields, [ops], doc.size), path, paged_list
                    )
                    path.with_name(path.name + ".truth.json").unlink()
                    if number > 1:  # the list's later pages: its truth stands with the first file
                        files[path.name] |= {"documents": [], "continues": f"{name}_p1.jpg"}
                continue
            if name == "03_invoice" and paged_list:  # the e-receipt as the hospital sent it
                path = folder / f"{name}.pdf"
                files[path.name] = w.pdf(doc, path)
                path.with_name(path.name + ".truth.json").unlink()
                continue
            if name == "01_id_front" and photo_id:
                path = folder / f"{name}.jpg"
                files[path.name] = w.image(doc, path, "photo", blur=5.0)
            elif doc.doc_type == "expense_list" and len(doc.pages) > 1:
                path = folder / f"{name}.pdf"
                files[path.name] = w.pdf(doc, path)
            else:
                path = folder / f"{name}.jpg"
                files[path.name] = w.image(doc, path, "scan")
            path.with_name(path.name + ".truth.json").unlink()
        for name, data in (raw_files or {}).items():
            (folder / name).write_bytes(data)
            files[name] = {"variant": "scan", "defects": ["unsupported"], "documents": []}
        truth = {"files": files, "expected": expected, "notes": notes}
        (root / f"{claim_id}.truth.json").write_text(
            json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
        )

    def exp(
        status: str, missing: list[str] | None = None, codes: list[str] | None = None
    ) -> dict[str, Any]:
        return {"status": status, "missing_documents": missing or [], "issue_codes": codes or []}

    persons = [make_person(rng) for _ in range(16)]

    def stay_for(i: int, hospital: int = 0, month: int = 3, lines: int = 8) -> Stay:
        return make_stay(rng, persons[i], HOSPITALS[hospital], date(2026, month, 2 + i), 6, lines)

    s = stay_for(0)
    first_codes = s.codes
    claim("C-2026-0001", "referral", "inpatient", s, s.end + timedelta(days=10), expected=exp("complete"),
          notes="complete referral inpatient claim", extra=[("06_referral", referral(rng, s.person, s.start - timedelta(days=3), "上海市"))])  # fmt: skip
    s = stay_for(1, 2)
    claim("C-2026-0002", "emergency", "inpatient", s, s.end + timedelta(days=12), expected=exp("complete"),
          notes="complete emergency claim, reported on the day after admission",
          extra=[("06_emergency", emergency_cert(rng, s.person, s.hospital, s.start)),
                 ("07_filing", filing(rng, s.person, "emergency", "北京市", s.start + timedelta(days=1), s.start, s.start + timedelta(days=180)))])  # fmt: skip
    s = stay_for(2, 3)
    claim("C-2026-0003", "self_referral", "outpatient", s, s.end + timedelta(days=8), expected=exp("complete"), notes="complete self-referral outpatient claim",
          extra=[("06_filing", filing(rng, s.person, "self_referral", "济南市", s.start - timedelta(days=20), s.start - timedelta(days=20), s.start + timedelta(days=345)))])  # fmt: skip
    s = stay_for(3, 4)
    claim("C-2026-0004", "long_term_resident", "inpatient", s, s.end + timedelta(days=5), expected=exp("complete"), notes="long-term resident with a residence permit",
          extra=[("06_permit", residence_permit(rng, s.person, "杭州市", date(2025, 2, 1), date(2028, 1, 31)))])  # fmt: skip
    s = stay_for(4, 0)
    claim("C-2026-0005", "resident_worker", "outpatient_special_disease", s, s.end + timedelta(days=15), expected=exp("complete"),
          notes="resident worker, special disease outpatient, with employment proof, prescription and filing",
          extra=[("06_employment", employment_proof(rng, s.person, "上海市", date(2025, 1, 1))),
                 ("07_prescription", prescription(rng, s.person, s.hospital, s.start)),
                 ("08_filing", filing(rng, s.person, "resident_worker", "上海市", date(2025, 1, 5), date(2025, 1, 5), date(2027, 1, 4)))])  # fmt: skip
    s = stay_for(5, 1)
    claim("C-2026-0006", "referral", "inpatient", s, s.end + timedelta(days=9), expected=exp("incomplete", ["discharge_summary"], ["missing_document"]),
          notes="discharge summary missing", drop=("discharge_summary",), extra=[("06_referral", referral(rng, s.person, s.start - timedelta(days=2), "上海市"))])  # fmt: skip
    s = stay_for(6, 0)
    claim("C-2026-0007", "referral", "inpatient", s, s.end + timedelta(days=9), expected=exp("incomplete", ["referral_form"], ["missing_document"]),
          notes="referral form missing")  # fmt: skip
    s = stay_for(7, 0)
    claim("C-2026-0008", "referral", "inpatient", s, s.end + timedelta(days=6), expected=exp("needs_review", [], ["amount_words_mismatch", "payment_parts_mismatch"]),
          notes="invoice 大写 says 10 yuan more than 小写; cash payment 5 yuan too high", flaws={"invoice": "words+parts"},
          extra=[("06_referral", referral(rng, s.person, s.start - timedelta(days=2), "上海市"))])  # fmt: skip
    s = stay_for(8, 0)
    claim("C-2026-0009", "referral", "inpatient", s, s.end + timedelta(days=6), expected=exp("needs_review", [], ["expense_total_mismatch", "expense_lines_mismatch", "id_checksum_invalid"]),
          notes="expense list grand total 100 yuan too high; ID card check digit wrong", flaws={"list": "list_total", "id": "checksum"},
          extra=[("06_referral", referral(rng, s.person, s.start - timedelta(days=2), "上海市"))])  # fmt: skip
    s = stay_for(9, 0)
    claim("C-2026-0010", "referral", "inpatient", s, s.end + timedelta(days=6), expected=exp("needs_review", [], ["name_mismatch", "retake_photo", "unsupported_file"]),
          notes="invoice payer is another person; blurred ID photo; a .docx that is not a document image", flaws={"payer": persons[15].name}, photo_id=True,
          raw_files={"scan_notes.docx": b"PK\x03\x04" + bytes(200)},
          extra=[("06_referral", referral(rng, s.person, s.start - timedelta(days=2), "上海市"))])  # fmt: skip
    s = stay_for(10, 0, month=2)
    claim("C-2026-0011", "referral", "inpatient", s, s.end + timedelta(days=95), expected=exp("rejected", [], ["submission_late"]),
          notes="submitted 95 days after discharge", extra=[("06_referral", referral(rng, s.person, s.start - timedelta(days=2), "上海市"))])  # fmt: skip
    s = stay_for(11, 0)
    claim("C-2026-0012", "referral", "inpatient", s, s.end + timedelta(days=20), expected=exp("rejected", [], ["duplicate_invoice"]),
          notes="reuses the invoice code and number of C-2026-0001", codes=first_codes,
          extra=[("06_referral", referral(rng, s.person, s.start - timedelta(days=2), "上海市"))])  # fmt: skip
    s = stay_for(12, 3)
    claim("C-2026-0013", "self_referral", "inpatient", s, s.end + timedelta(days=10), expected=exp("rejected", [], ["outside_filing_validity"]),
          notes="filing expired before the admission",
          extra=[("06_filing", filing(rng, s.person, "self_referral", "济南市", date(2025, 1, 10), date(2025, 1, 10), date(2026, 1, 9)))])  # fmt: skip
    s = stay_for(13, 0)
    claim("C-2026-0014", "self_referral", "inpatient", s, s.end + timedelta(days=10), expected=exp("rejected", [], ["hospital_outside_filed_region"]),
          notes="filed for 北京市, treated in 上海市",
          extra=[("06_filing", filing(rng, s.person, "self_referral", "北京市", s.start - timedelta(days=30), s.start - timedelta(days=30), s.start + timedelta(days=300)))])  # fmt: skip
    s = stay_for(14, 2)
    claim("C-2026-0015", "emergency", "inpatient", s, s.end + timedelta(days=10), expected=exp("rejected", [], ["emergency_report_late"]),
          notes="emergency admission reported 6 days later",
          extra=[("06_emergency", emergency_cert(rng, s.person, s.hospital, s.start)),
                 ("07_filing", filing(rng, s.person, "emergency", "北京市", s.start + timedelta(days=6), s.start, s.start + timedelta(days=180)))])  # fmt: skip
    s = stay_for(15, 4)
    agent = make_person(rng)
    claim("C-2026-0016", "long_term_resident", "inpatient", s, s.end + timedelta(days=10), expected=exp("rejected", [], ["document_expired"]),
          notes="submitted by an agent (agent's ID card included); the residence permit expired before the stay", by_agent=True,
          extra=[("06_permit", residence_permit(rng, s.person, "杭州市", date(2024, 1, 1), date(2025, 12, 31))),
                 ("07_agent_id", id_front(rng, agent))])  # fmt: skip
    _birth_sex_claim(
        claim,
        exp,
        lambda i, h, month: make_stay(
            rng, make_person(rng), HOSPITALS[h], date(2026, month, 3), 6, 8
        ),
        rng,
    )
    _paged_list_claim(claim, exp, rng)


def _claim_list(rng: random.Random, stay: Stay, paged: str | None, flaw: str | None) -> Doc:
    """The claim's expense list: the plain form, or the real layout when photographed by page."""
    if paged:
        return real_expense_list(
            rng, stay.person, stay.hospital, stay.start, stay.end, stay.rows, stay.admission
        )
    return expense_list(
        rng, stay.person, stay.hospital, stay.start, stay.end, stay.rows, stay.admission, flaw
    )


def _paged_list_claim(claim: Any, exp: Any, rng: random.Random) -> None:
    """An expense list of three pages, each page its own photo, title on every page."""
    person = make_person(rng)
    start = date(2026, 5, 11)
    codes = (f"3301{rng.randint(1000, 9999)}", f"{rng.randint(10**9, 10**10 - 1)}")
    rows = real_list_rows(rng, 3)
    s = Stay(
        person,
        HOSPITALS[0],
        start,
        start + timedelta(days=7),
        rows,
        codes,
        f"{rng.randint(100000, 999999)}",
    )
    claim("C-2026-0018", "referral", "inpatient", s, s.end + timedelta(days=9), expected=exp("complete"),
          notes="the expense list scanned page by page: three files, one document", paged_list="scan",
          extra=[("06_referral", referral(rng, s.person, s.start - timedelta(days=2), "上海市"))])  # fmt: skip


def _birth_sex_claim(claim: Any, exp: Any, stay_for: Any, rng: random.Random) -> None:
    s = stay_for(0, 0, month=6)
    claim("C-2026-0017", "referral", "inpatient", s, s.end + timedelta(days=7),
          expected=exp("needs_review", [], ["id_birth_mismatch", "id_sex_mismatch", "date_invalid"]),
          notes="ID card prints a birth date and sex that its number contradicts; invoice dated before admission",
          flaws={"id": "birth_sex", "invoice": "early"},
          extra=[("06_referral", referral(rng, s.person, s.start - timedelta(days=2), "上海市"))])  # fmt: skip


# ---------------------------------------------------------------- receipts as real ones look

PROVINCES = ["福建省", "河南省", "重庆市", "天津市", "贵州省", "黑龙江省", "湖南省", "山东省"]
REAL_ITEMS = ["床位费", "诊察费", "检查费", "化验费", "治疗费", "手术费", "护理费", "卫生材料费",
              "西药费", "中成药费", "中草药费", "一般诊疗费", "其他住院费用", "MRI", "CT费"]  # fmt: skip
INKS = {"red": (196, 48, 52), "blue": (40, 64, 168), "brown": (138, 82, 44)}
RED = (205, 40, 45)


def money_th(value: Decimal) -> str:
    """2,298.10: real e-receipts print thousands separators."""
    return f"{value:,.2f}"


def zero_or(value: Decimal) -> str:
    """Real receipts print 0 for 0.00 in their 其他信息 block."""
    return "0" if value == 0 else money(value)


def real_items(rng: random.Random, count: int) -> list[tuple[str, Decimal]]:
    names = rng.sample(REAL_ITEMS, count)
    return [(n, Decimal(rng.randint(50, 1_500_000)) / 100) for n in names]


def seal_text(lay: Layout, x: float, y: float, words: str) -> None:
    """A round red stamp with its words, printed over whatever lies beneath."""
    lay.seal(x, y, words, overlay=True)
    lay.ops.append(Op("text", x - len(words) * 2.6, y + 5, words, 4.0, colour=RED, overlay=True))


def grid_ereceipt(
    rng: random.Random, person: Person, hospital: tuple[str, str, str], start: date, end: date
) -> Doc:
    """The national 医疗收费电子票据 printout: code top left, number/check code/date top right,
    an item grid of three `项目名称 | 金额（元） | 备注` groups filled row- or column-wise,
    大写 and 小写 on one line, a 其他信息 block of pairs run together, a seal over the payee."""
    inpatient = rng.random() < 0.6
    items = real_items(rng, rng.randint(4, 9))
    total = sum((a for _, a in items), Decimal("0.00"))
    fund = (total * Decimal(rng.choice(["0.55", "0.27", "0.00"]))).quantize(Decimal("0.01"))
    account = Decimal("0.00")
    cash = total - fund
    code = f"{rng.choice(['350602', '410602', '500602', '520601'])}{rng.randint(10, 99)}"
    number = f"{rng.randint(0, 10**8 - 1):08d}"
    check = f"{rng.choice('abcdef')}{rng.randint(1, 9)}{rng.choice('abcdef')}{rng.randint(1, 9)}"
    issue = end + timedelta(days=rng.randint(0, 1))
    lay = Layout(rng, 3.6)
    title = f"{rng.choice(PROVINCES)}医疗{'住院' if inpatient else '门诊'}收费票据（电子）"
    lay.text(60, 12, title, 6.2)
    seal_text(lay, 112, 30, "财政部监制")
    lay.text(14, 34, f"票据代码：{code}")
    for i, (label, value) in enumerate(
        [("票据号码", number), ("校验码", check), ("开票日期", f"{issue:%Y-%m-%d}")]
    ):
        lay.text(150, 30 + 7 * i, f"{label}：{value}")
    lay.text(14, 42, "交款人统一社会信用代码：")
    lay.text(14, 50, f"交款人：{person.name}")
    lay.line(10, 58, 232, 58)
    for g in range(3):
        lay.text(16 + 74 * g, 61, "项目名称")
        lay.text(44 + 74 * g, 61, "金额（元）")
        lay.text(68 + 74 * g, 61, "备注")
    rows = (len(items) + 2) // 3
    column_wise = rng.random() < 0.5
    for i, (name, amount) in enumerate(items):
        g, r = (i // rows, i % rows) if column_wise else (i % 3, i // 3)
        lay.text(14 + 74 * g, 70 + 7 * r, name)
        lay.text(44 + 74 * g, 70 + 7 * r, money_th(amount))
    y = 74 + 7 * rows
    lay.line(10, y - 2, 232, y - 2)
    lay.text(14, y, f"金额合计（大写）{capital(total)}")
    lay.text(150, y, f"(小写){money_th(total)}")
    serial, adm = f"{rng.randint(10**6, 10**7 - 1)}", f"{rng.randint(10**5, 10**6 - 1)}"
    kind = rng.choice(["专科医院", "综合医院", "三级综合医院"])
    insurance = rng.choice(["省内异地医保", "城乡居民", "职工医保", "自费"])
    stay = f"{start:%Y-%m-%d}~{end:%Y-%m-%d}" if inpatient else f"{start:%Y%m%d}"
    stay_label = "住院时间" if inpatient else "就诊日期"
    deposit = (total + Decimal(rng.randint(1, 500))).quantize(Decimal("0.01"))
    block = [
        [f"业务流水号：{serial}", f"{'住院号' if inpatient else '门诊号'}：{adm}", "住院科别："],
        [f"{stay_label}：{stay}预缴金额：{money(deposit)}", "补缴金额：0", f"退费金额：{money(deposit - cash)}"],
        [f"医疗机构类型：{kind}", f"医保类型：{insurance}", "医保编号：", f"性别：{person.sex}"],
        [f"医保统筹基金支付：{zero_or(fund)}", "其他支付：0", f"个人账户支付：{zero_or(account)}",
         f"个人现金支付：{zero_or(cash)}"],
        ["个人自付：0", "个人自费：0"],
    ]  # fmt: skip
    for k, char in enumerate("其他信息"):  # printed down the block's left edge
        lay.text(11, y + 10 + 8 * k, char, 3.2)
    for r, row in enumerate(block):
        x = 18.0
        for cell in row:
            lay.text(x, y + 9 + 7 * r, cell, 3.2)
            x += max(44.0, 4.2 * sum(1.0 if ord(c) > 0x2E80 else 0.55 for c in cell) + 6)
    y += 9 + 7 * len(block) + 4
    lay.text(14, y, f"收款单位（章）：{hospital[0]}")
    lay.text(120, y, f"复核人：{rng.choice(SURNAMES)}{rng.choice(GIVEN)}")
    lay.text(180, y, f"收款人：{rng.choice(SURNAMES)}{rng.choice(GIVEN)}")
    seal_text(lay, 48, y - 4, "收费专用章")
    fields = {
        "invoice_code": code, "invoice_number": number, "check_code": check,
        "issue_date": issue.isoformat(), "payer_name": person.name, "hospital_name": hospital[0],
        "hospital_type": kind, "insurance_type": insurance, "sex": person.sex,
        "serial_number": serial, "admission_number": adm, "admission_date": start.isoformat(),
        "items": [{"name": n, "amount": money(a)} for n, a in items], "total_amount": money(total),
        "total_amount_words": money(total), "fund_payment": money(fund),
        "account_payment": money(account), "other_payment": "0.00", "cash_payment": money(cash),
        "self_pay": "0.00", "self_expense": "0.00",
    }  # fmt: skip
    if inpatient:
        fields["discharge_date"] = end.isoformat()
    return Doc("medical_invoice", fields, [lay.ops], size=(262, y + 12))


def paper_receipt(
    rng: random.Random,
    person: Person,
    hospital: tuple[str, str, str],
    day: date,
    ink: tuple[int, int, int],
) -> Doc:
    """A pre-printed paper 收费票据 in coloured ink, its values printed later by another machine:
    shifted off their cells, no colons, a red NO. number, 4–5 `name amount` pairs a row,
    provincial wording, and a 现金收讫 stamp over the totals."""
    items = real_items(rng, rng.randint(6, 10))
    total = sum((a for _, a in items), Decimal("0.00"))
    fund = (total * Decimal(rng.choice(["0.6", "0.3"]))).quantize(Decimal("0.01"))
    account = Decimal(rng.randint(0, 400))
    cash = total - fund - account
    dx, dy = rng.uniform(6, 12), rng.uniform(-1.0, 1.0)  # the printer's misalignment
    lay = Layout(rng, 3.6)

    def value(x: float, y: float, text: str) -> None:
        lay.text(x + dx, y + dy, text)

    inpatient = rng.random() < 0.5
    lay.text(
        50, 10, f"{rng.choice(PROVINCES)}医疗{'住院' if inpatient else '门诊'}收费票据", 6.0, ink
    )
    number = f"{rng.randint(10**9, 10**10 - 1)}"
    lay.text(150, 20, f"NO.{number}", 4.2, RED)
    fund_label = rng.choice(["统筹支付", "医保统筹支付", "统筹基金支付"])
    account_label = rng.choice(["个人帐户", "个人账户支付"])
    cash_label = rng.choice(["现金支付", "个人现金支付"])
    type_label = rng.choice(["医保类别", "医保类型"])
    insurance = rng.choice(["城乡居民", "城镇职工", "异地参保人员"])
    labels = [(14, 30, "姓名", person.name), (70, 30, "性别", person.sex),
              (110, 30, type_label, insurance), (14, 38, "收费日期", f"{day.year}年{day.month:02d}月{day.day:02d}日")]  # fmt: skip
    for x, y, label, text in labels:
        lay.text(x, y, label, colour=ink)
        value(x + 4 * len(label) + 2, y, text)
    lay.line(10, 46, 200, 46)
    per_row = 4
    for r in range(0, len(items), per_row):
        row = items[r : r + per_row]
        lay.text(
            12 + dx, 50 + dy + 7 * (r // per_row), " ".join(f"{n} {money(a)}" for n, a in row), 3.2
        )
    y = 54 + 7 * ((len(items) + per_row - 1) // per_row)
    lay.line(10, y - 2, 200, y - 2)
    lay.text(14, y, "合计金额(大写)", colour=ink)
    value(52, y, capital(total))
    value(140, y, money(total))
    for i, (label, amount) in enumerate(
        [(fund_label, fund), (account_label, account), (cash_label, cash)]
    ):
        lay.text(14 + 62 * i, y + 10, label, colour=ink)
        value(14 + 62 * i + 4 * len(label) - 4, y + 10, money(amount))
    lay.text(14, y + 22, "收款单位(盖章)", colour=ink)
    lay.text(120, y + 22, "收款人", colour=ink)
    value(40, y + 28, hospital[0])
    seal_text(lay, 150, y + 4, "现金收讫")
    fields = {
        "invoice_number": number, "payer_name": person.name, "sex": person.sex,
        "insurance_type": insurance, "issue_date": day.isoformat(), "hospital_name": hospital[0],
        "items": [{"name": n, "amount": money(a)} for n, a in items], "total_amount": money(total),
        "total_amount_words": money(total), "fund_payment": money(fund),
        "account_payment": money(account), "cash_payment": money(cash),
    }  # fmt: skip
    return Doc("medical_invoice", fields, [lay.ops], size=(210, y + 40))


def vat_invoice(rng: random.Random) -> Doc:
    """A taxi 增值税电子普通发票: a receipt, but not a medical one."""
    lay = Layout(rng, 3.6)
    amount = Decimal(rng.randint(1000, 9000)) / 100
    lay.text(50, 10, "北京增值税电子普通发票", 6.0, (150, 60, 40))
    lay.text(150, 20, f"发票代码：0110{rng.randint(10**5, 10**6 - 1)}")
    lay.text(150, 27, f"发票号码：{rng.randint(10**7, 10**8 - 1)}")
    lay.text(150, 34, "开票日期：2022年04月02日")
    lay.text(14, 44, "购买方 名称：")
    lay.text(14, 51, "纳税人识别号：")
    for x, head in ((14, "货物或应税劳务、服务名称"), (90, "单位"), (110, "数量"), (130, "单价"), (150, "金额"), (170, "税率"), (188, "税额")):  # fmt: skip
        lay.text(x, 62, head)
    lay.text(14, 70, "*运输服务*客运服务费")
    lay.text(90, 70, "次")
    lay.text(112, 70, "1")
    lay.text(130, 70, money(amount))
    lay.text(150, 70, money(amount))
    lay.text(170, 70, "免税")
    lay.text(14, 84, f"价税合计（大写）{capital(amount)}")
    lay.text(130, 84, f"(小写)¥{money(amount)}")
    lay.text(14, 94, "销售方 名称：")
    seal_text(lay, 175, 96, "发票专用章")
    return Doc("other", {}, [lay.ops], size=(210, 110))


def stacked(top: Image.Image, under: Image.Image, rng: random.Random) -> Image.Image:
    """A photo of a stack: one receipt on top, another peeking out above and beside it."""
    w, h = top.size
    shift_x, shift_y = int(w * rng.uniform(0.04, 0.08)), int(h * rng.uniform(0.15, 0.22))
    canvas = Image.new("RGB", (w + shift_x, h + shift_y), (235, 232, 225))
    canvas.paste(under.resize((w, h)), (0, 0))
    shadow = Image.new("RGB", (w, h), (150, 150, 150))
    canvas.paste(shadow, (shift_x + 6, shift_y + 6))
    canvas.paste(top, (shift_x, shift_y))
    return canvas


LIST_ITEMS = [
    ("XJ01DDA044", "注射用头孢曲松钠", "乙", "1.0g", "支"),
    ("XB05BAA001", "复方氨基酸注射液(18AA-II)", "乙", "250ml", "瓶"),
    ("XA02BCA001", "奥美拉唑肠溶胶囊", "乙", "20mg*14粒", "盒"),
    ("XB05CBA001", "氯化钠注射液", "甲", "250ml", "袋"),
    ("001102000010000", "床位费(三人间)", "甲", "日", "日"),
    ("002101000010000", "一级护理", "甲", "日", "日"),
    ("250101015000000", "血常规检查(五分类)", "甲", "次", "次"),
    ("210300001010000", "胸部CT平扫(多排螺旋)", "乙", "次", "次"),
    ("C14020100100", "一次性使用无菌注射器带针", "丙", "5ml", "支"),
    ("C03110200100", "医用外科口罩(独立包装)", "丙", "个", "个"),
]
LIST_COLUMNS = [("序号", 10), ("项目编码", 20), ("项目名称", 58), ("类别", 112), ("规格", 124),
                ("单位", 152), ("数量", 166), ("单价", 182), ("金额", 206), ("自付比例", 232)]  # fmt: skip
NAME_CHARS = 11  # what fits the name cell on one line: longer names wrap inside it
LIST_ROWS_PER_PAGE = 11


def real_list_rows(rng: random.Random, repeat: int = 2) -> list[dict[str, Any]]:
    """Expense-list rows with codes, specs and classes, each priced at random."""
    rows = []
    for code, name, cat, spec, unit in rng.sample(LIST_ITEMS, len(LIST_ITEMS)) * repeat:
        qty = Decimal(rng.randint(1, 12))
        price = Decimal(rng.randint(150, 160000)) / 100
        rows.append({"code": code, "name": name, "category": cat, "spec": spec, "unit": unit,
                     "quantity": str(qty), "unit_price": money(price), "amount": money(price * qty),
                     "self_pay_ratio": {"甲": "0.00", "乙": "0.10", "丙": "1.00"}[cat]})  # fmt: skip
    return rows


def real_expense_list(
    rng: random.Random,
    person: Person,
    hospital: tuple[str, str, str],
    start: date,
    end: date,
    rows: list[dict[str, Any]] | None = None,
    admission: str | None = None,
) -> Doc:
    """A 住院费用明细清单 as hospitals print it: the title and 第N页 共M页 on every page, 序号
    and 项目编码 columns, names that wrap inside their cell, thousands separators, 本页小计
    on every page, 合计 and a 甲/乙/丙 summary last."""
    rows = rows if rows is not None else real_list_rows(rng)
    admission = admission or f"{rng.randint(100000, 999999)}"
    pages: list[list[Op]] = []
    totals: list[Decimal] = []
    per_page = LIST_ROWS_PER_PAGE
    count = -(-len(rows) // per_page)
    for number, start_row in enumerate(range(0, len(rows), per_page)):
        chunk = rows[start_row : start_row + per_page]
        lay = Layout(rng, 3.0)
        lay.text(80, 10, f"{hospital[0]}住院费用明细清单", 5.5)
        lay.text(250, 12, f"第{number + 1}页 共{count}页")
        if number == 0:
            for i, (label, value) in enumerate([("姓名", person.name), ("住院号", admission),
                                                ("入院日期", f"{start:%Y-%m-%d}"), ("出院日期", f"{end:%Y-%m-%d}")]):  # fmt: skip
                lay.text(12 + i * 66, 24, f"{label}：{value}")
        else:
            lay.text(12, 24, f"姓名：{person.name}  住院号：{admission}")
        y = 34.0
        for label, x in LIST_COLUMNS:
            lay.text(x, y, label)
        lay.line(8, y + 5, 290, y + 5)
        for i, row in enumerate(chunk):
            ry = y + 9 + i * 11
            name = row["name"]
            values = [str(start_row + i + 1), row["code"], name[:NAME_CHARS], row["category"],
                      row["spec"], row["unit"], row["quantity"], money_th(Decimal(row["unit_price"])),
                      money_th(Decimal(row["amount"])), f"{int(Decimal(row['self_pay_ratio']) * 100)}%"]  # fmt: skip
            for (_, x), value in zip(LIST_COLUMNS, values, strict=True):
                lay.text(x, ry, value)
            if len(name) > NAME_CHARS:
                lay.text(LIST_COLUMNS[2][1], ry + 4.4, name[NAME_CHARS:])
        page_total = sum((Decimal(r["amount"]) for r in chunk), Decimal("0.00"))
        totals.append(page_total)
        ty = y + 12 + len(chunk) * 11
        lay.line(8, ty - 3, 290, ty - 3)
        lay.text(182, ty, "本页小计")
        lay.text(206, ty, money_th(page_total))
        if start_row + per_page >= len(rows):
            grand = sum(totals, Decimal("0.00"))
            lay.text(182, ty + 8, "合计")
            lay.text(206, ty + 8, money_th(grand))
            by_class = {c: sum((Decimal(r["amount"]) for r in rows if r["category"] == c), Decimal(0))
                        for c in "甲乙丙"}  # fmt: skip
            lay.text(12, ty + 16, "  ".join(f"{c}类：{money_th(v)}" for c, v in by_class.items()))
        pages.append(lay.ops)
    fields = {"patient_name": person.name, "hospital_name": hospital[0], "admission_number": admission,
              "admission_date": start.isoformat(), "discharge_date": end.isoformat(), "lines": rows,
              "page_totals": [money(t) for t in totals], "total_amount": money(sum(totals, Decimal(0)))}  # fmt: skip
    return Doc("expense_list", fields, pages, size=(297, 210))


def generate_real_layouts(docs_dir: Path, w: Writer) -> None:
    """Receipts laid out as real ones, scanned and photographed: grids, coloured-ink paper
    forms, seals over values, a 90° photo, a dark background, a stack, a VAT invoice."""
    rng = w.rng
    people = [make_person(rng, rng.choice(["350102", "410105", "500103"])) for _ in range(6)]
    day = date(2026, rng.randint(1, 6), rng.randint(1, 20))
    grids = [
        grid_ereceipt(rng, people[i], HOSPITALS[i], day, day + timedelta(days=rng.randint(1, 9)))
        for i in range(4)
    ]
    w.image(grids[0], docs_dir / "scan" / "real_grid_receipt_00.jpg", "scan")
    w.image(grids[1], docs_dir / "scan" / "real_grid_receipt_01.png", "scan")
    w.image(grids[2], docs_dir / "photo" / "real_grid_receipt_02.jpg", "photo", turn=90)
    w.pdf(grids[3], docs_dir / "pdf" / "real_grid_receipt_03.pdf")
    papers = [
        paper_receipt(rng, people[4 + i % 2], HOSPITALS[4 + i % 2], day, ink)
        for i, ink in enumerate(INKS.values())
    ]
    w.image(papers[0], docs_dir / "scan" / "real_paper_receipt_red.jpg", "scan")
    w.image(papers[1], docs_dir / "scan" / "real_paper_receipt_blue.jpg", "scan")
    w.image(papers[2], docs_dir / "photo" / "real_paper_receipt_brown.jpg", "photo")
    w.image(vat_invoice(rng), docs_dir / "scan" / "real_vat_invoice.jpg", "scan")
    top = grid_ereceipt(rng, people[5], HOSPITALS[2], day, day + timedelta(days=3))
    under = paper_receipt(rng, people[0], HOSPITALS[3], day, INKS["blue"])
    top_image = scan(render(top, rng, rng.choice(FONTS))[0], rng)
    under_image = scan(render(under, rng, rng.choice(FONTS))[0], rng)
    path = docs_dir / "photo" / "real_receipt_stack.jpg"
    photo(stacked(top_image, under_image, rng), rng).save(path, quality=80)
    w.truth(path, "photo", [(top, [0], None)], ["stack"])
    stay_start = day - timedelta(days=6)
    listing = real_expense_list(rng, people[1], HOSPITALS[1], stay_start, day)
    w.image(listing, docs_dir / "scan" / "real_expense_list.tif", "scan")


# ---------------------------------------------------------------- app screenshots

SCREEN_DPI_MM = 25.4 / DPI  # mm per rendered pixel
APP_GREEN = (46, 170, 96)
APP_BLUE = (38, 110, 230)


def px_mm(pixels: float) -> float:
    return pixels * SCREEN_DPI_MM


def text_width(text: str, size: float, font: str = NOTO) -> float:
    """Width in mm of `text` drawn at `size` (as `render` draws it) in `font`."""
    return px_mm(ImageFont.truetype(font, mm(size * 1.3)).getlength(text))


def mask_id(number: str, keep_head: int) -> str:
    """An ID number as the app prints it: the head and the last four kept (3706**********1234)."""
    return number[:keep_head] + "*" * (18 - keep_head - 4) + number[-4:]


def filing_screenshot(
    rng: random.Random,
    person: Person,
    category: str,
    insured: str,
    treatment: str,
    filed: date,
    valid_until: date,
    *,
    screen: tuple[int, int] = (1080, 2340),
    style: str = "query",
) -> Doc:
    """A phone screenshot of the national app's filing page (国家医保服务平台 APP): status bar,
    title bar, a 备案成功 badge, then rows with the label left and the value right-aligned."""
    width, height = px_mm(screen[0]), px_mm(screen[1])
    pt = px_mm(3)  # one iOS/Android point at 3x scale, in mm
    lay = Layout(rng, 16 * pt / 1.3)
    size = lay.size
    pad = 16 * pt
    accent = APP_GREEN if style == "query" else APP_BLUE
    white = (255, 255, 255)
    # status bar: time, signal bars, battery
    lay.ops.append(Op("rect", 0, 0, x2=width, y2=44 * pt, colour=white))
    lay.text(pad + 6 * pt, 12 * pt, f"{rng.randint(7, 22)}:{rng.randint(0, 59):02d}", 15 * pt / 1.3)
    battery = f"{rng.randint(18, 100)}%"
    right = width - pad
    lay.ops.append(Op("rect", right - 25 * pt, 16 * pt, x2=right, y2=28 * pt, colour=(40, 40, 40)))
    lay.text(right - 30 * pt - text_width(battery, 12 * pt / 1.3), 14 * pt, battery, 12 * pt / 1.3)
    for bar in range(4):
        x = right - 80 * pt + bar * 5 * pt
        lay.ops.append(
            Op("rect", x, (26 - 3 * bar) * pt, x2=x + 3 * pt, y2=28 * pt, colour=(40, 40, 40))
        )
    # title bar
    title = "异地就医备案查询" if style == "query" else "备案详情"
    lay.ops.append(Op("rect", 0, 44 * pt, x2=width, y2=88 * pt, colour=white))
    lay.text(pad, 53 * pt, "<", 20 * pt / 1.3)
    title_size = 17 * pt / 1.3
    lay.text((width - text_width(title, title_size)) / 2, 55 * pt, title, title_size)
    lay.ops.append(Op("rect", 0, 88 * pt, x2=width, y2=88.4 * pt, colour=(225, 225, 225)))
    # the 备案成功 badge
    y = 100 * pt
    if style == "query":
        lay.ops.append(Op("rect", pad, y, x2=width - pad, y2=y + 64 * pt, colour=accent))
        lay.text(pad + 20 * pt, y + 20 * pt, "✓ 备案成功", 20 * pt / 1.3, white)
        y += 76 * pt
    else:
        lay.ops.append(Op("rect", 0, y - 12 * pt, x2=width, y2=y + 60 * pt, colour=white))
        lay.text(pad, y + 4 * pt, "异地就医备案", 18 * pt / 1.3)
        badge = "备案成功"
        bw = text_width(badge, 13 * pt / 1.3) + 16 * pt
        lay.ops.append(
            Op("rect", width - pad - bw, y + 2 * pt, x2=width - pad, y2=y + 30 * pt, colour=accent)
        )
        lay.text(width - pad - bw + 8 * pt, y + 8 * pt, badge, 13 * pt / 1.3, white)
        y += 72 * pt
    head = rng.choice([4, 6])
    range_row = rng.random() < 0.5
    dash = rng.choice(["-", "-", "."])

    def day(d: date) -> str:
        return f"{d.year}{dash}{d.month:02d}{dash}{d.day:02d}"

    insured_rows = [
        ("name", "参保人姓名", person.name, person.name),
        ("id_number", "证件号码", mask_id(person.id_number, head), mask_id(person.id_number, head)),
        ("insured_region", "参保地", insured, insured),
    ]
    filing_rows = [
        ("treatment_region", "就医地", treatment, treatment),
        ("category", rng.choice(["备案类型", "人员类别"]), CATEGORY_TEXT[category], category),
        ("filing_date", "备案日期", day(filed), filed.isoformat()),
    ]
    if range_row:
        filing_rows.append(
            ("valid_from", "有效期", f"{day(filed)}至{day(valid_until)}", filed.isoformat())
        )
    else:
        filing_rows += [
            ("valid_from", "开始日期", day(filed), filed.isoformat()),
            ("valid_until", "结束日期", day(valid_until), valid_until.isoformat()),
        ]
    sections = [("参保信息", insured_rows), ("备案信息", filing_rows)]
    if rng.random() < 0.5:
        sections[1][1].append(("", "备案状态", "已备案", None))
    row = 52 * pt
    for heading, rows in sections:
        lay.text(pad, y + 10 * pt, heading, 13 * pt / 1.3, (130, 130, 130))
        y += 36 * pt
        lay.ops.append(Op("rect", 0, y, x2=width, y2=y + row * len(rows), colour=white))
        for n, (_, label, printed, _) in enumerate(rows):
            top = y + n * row
            lay.text(pad, top + 15 * pt, label, size, (100, 100, 100))
            lay.text(width - pad - text_width(printed, size), top + 15 * pt, printed, size)
            if n < len(rows) - 1:
                lay.ops.append(
                    Op(
                        "rect",
                        pad,
                        top + row,
                        x2=width,
                        y2=top + row + 0.3 * pt,
                        colour=(232, 232, 232),
                    )
                )
        y += row * len(rows) + 12 * pt
    button = "返回首页" if style == "query" else "变更备案"
    lay.ops.append(Op("rect", pad, y + 24 * pt, x2=width - pad, y2=y + 70 * pt, colour=accent))
    lay.text((width - text_width(button, size)) / 2, y + 36 * pt, button, size, white)
    footer = "国家医保服务平台"
    lay.text(
        (width - text_width(footer, 12 * pt / 1.3)) / 2,
        height - 40 * pt,
        footer,
        12 * pt / 1.3,
        (160, 160, 160),
    )
    fields = {key: truth for _, rows in sections for key, _, _, truth in rows if key}
    if range_row:
        fields["valid_until"] = valid_until.isoformat()
    return Doc("filing_record", fields, [lay.ops], size=(width, height), background=(245, 246, 248))


def generate_filing_screenshots(docs_dir: Path, w: Writer) -> None:
    """Filing records as phone screenshots of the national app: PNG as the phone saves it,
    and one forwarded through a chat app (scaled down, JPEG)."""
    rng = w.rng
    cases = [
        ("山东省烟台市", "浙江省杭州市", "long_term_resident", (1080, 2340), "query"),
        ("烟台市", "上海市", "self_referral", (1170, 2532), "detail"),
        ("山东省烟台市", "杭州市", "referral", (1080, 2340), "detail"),
    ]
    folder = docs_dir / "screenshot"
    folder.mkdir(parents=True, exist_ok=True)
    for i, (insured, treatment, category, screen, style) in enumerate(cases):
        person = make_person(rng)
        filed = date(2026, rng.randint(1, 6), rng.randint(1, 28))
        until = filed + timedelta(days=rng.choice([179, 364]))
        doc = filing_screenshot(
            rng, person, category, insured, treatment, filed, until, screen=screen, style=style
        )
        (image,) = render(doc, rng, NOTO)
        path = folder / f"filing_app_{i:02d}.png"
        image.save(path, optimize=True)
        w.truth(path, "screenshot", [(doc, [0], None)])
        if i == 0:  # forwarded through a chat app: scaled down and re-compressed
            scaled = image.resize(
                (round(image.width * 0.72), round(image.height * 0.72)), Image.LANCZOS
            )
            jpeg = folder / f"filing_app_{i:02d}_forwarded.jpg"
            scaled.save(jpeg, quality=72)
            w.truth(jpeg, "screenshot", [(doc, [0], None)])


def generate_folds_and_lists(docs_dir: Path, w: Writer) -> None:
    """Receipts photographed after being folded in four; a real-layout expense list as the
    hospital's text PDF and as a phone photo of its first page."""
    rng = w.rng
    people = [make_person(rng, rng.choice(["330106", "440104", "370602"])) for _ in range(3)]
    day = date(2026, rng.randint(1, 6), rng.randint(1, 20))
    grid = grid_ereceipt(rng, people[0], HOSPITALS[1], day, day + timedelta(days=rng.randint(2, 8)))
    w.image(grid, docs_dir / "photo" / "real_grid_receipt_folded.jpg", "photo", fold=True)
    paper = paper_receipt(rng, people[1], HOSPITALS[3], day, INKS["blue"])
    w.image(paper, docs_dir / "photo" / "real_paper_receipt_folded.jpg", "photo", fold=True)
    listing = real_expense_list(rng, people[2], HOSPITALS[2], day - timedelta(days=5), day)
    w.pdf(listing, docs_dir / "pdf" / "real_expense_list.pdf")
    shown = {k: v for k, v in listing.fields.items() if k != "total_amount"}  # 合计 is on the last
    shown |= {"lines": listing.fields["lines"][:LIST_ROWS_PER_PAGE], "page_totals": listing.fields["page_totals"][:1]}  # fmt: skip
    first_page = Doc(listing.doc_type, shown, listing.pages[:1], listing.size)
    w.image(first_page, docs_dir / "photo" / "real_expense_list_page1.jpg", "photo")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args()
    generate(args.out)
    size = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(
        f"wrote {sum(1 for _ in args.out.rglob('*.truth.json'))} truth files, {size / 1e6:.1f} MB under {args.out}"
    )


if __name__ == "__main__":
    main()
