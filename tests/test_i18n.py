"""Message catalogues: every identifier a person can see has Chinese words (and English)."""

from __future__ import annotations

import re

import pytest
from conftest import REPO

from flows.i18n import Catalogue, Language, catalogue
from flows.review import ACTIONS, TABLE_COLUMNS
from pipeline.bundle import CareType, ClaimStatus, ClaimType, IssueCode
from pipeline.models import QualityFlag
from pipeline.records import RECORD_TYPES, DocType

SPEC_CODES = [
    "missing_document", "unsupported_file", "unreadable_page", "retake_photo", "low_confidence",
    "id_checksum_invalid", "id_birth_mismatch", "id_sex_mismatch", "amount_words_mismatch",
    "payment_parts_mismatch", "expense_total_mismatch", "expense_lines_mismatch", "name_mismatch",
    "id_number_mismatch", "date_invalid", "outside_filing_validity", "document_expired",
    "hospital_outside_filed_region", "submission_late", "emergency_report_late",
    "duplicate_invoice",
]  # fmt: skip
SECTIONS = [
    name for name, info in Catalogue.model_fields.items() if info.annotation == dict[str, str]
]


def codes_in_use() -> set[str]:
    """Every issue code a claim can carry (validators can raise only `IssueCode` members)."""
    return {code.value for code in IssueCode}


def ui_keys_in_use() -> set[str]:
    """m.t('key') in the templates, t("up_key") in upload.js, t("region_key") in review.js."""
    keys: set[str] = set()
    for path in (REPO / "webapp" / "templates").glob("*.html"):
        keys |= set(re.findall(r"m\.t\(['\"]([A-Za-z0-9_-]+)['\"][,)]", path.read_text()))
    script = (REPO / "webapp" / "static" / "upload.js").read_text()
    keys |= set(re.findall(r't\("(up_[a-z_]+)"', script))
    review = (REPO / "webapp" / "static" / "review.js").read_text()
    keys |= set(re.findall(r't\("(region_[a-z_]+)"', review))
    return keys


def test_the_scripts_words_are_found_by_the_scan() -> None:
    assert {"up_wrong_doc", "up_reading_kind", "region_filled", "region_rotating"} <= (
        ui_keys_in_use()
    )


def test_the_code_scan_finds_the_validators_codes() -> None:
    assert {"amount_words_mismatch", "id_checksum_invalid", "missing_document"} <= codes_in_use()


def test_every_identifier_in_use_has_a_chinese_entry() -> None:
    zh = catalogue(Language.ZH_CN)
    wanted = {
        "status": {s.value for s in ClaimStatus},
        "claim_type": {c.value for c in ClaimType},
        "care_type": {c.value for c in CareType},
        "doc_type": {d.value for d in DocType},
        "field": {k for t in RECORD_TYPES.values() for k in t.model_fields},
        "column": {c for columns in TABLE_COLUMNS.values() for c in columns},
        "issue": codes_in_use() | set(SPEC_CODES),
        "action": set(ACTIONS) | {"decision"},
        "quality": {q.value for q in QualityFlag},
        "ui": ui_keys_in_use()
        | {f"state_{s}" for s in ("flagged", "checked", "confirmed", "missing")}
        | {f"role_{r}" for r in ("claimant", "reviewer", "admin")}
        | {f"reason_{a}" for a in ACTIONS},
    }
    for section, keys in wanted.items():
        entries = getattr(zh, section)
        missing = sorted(keys - set(entries))
        assert not missing, f"zh-CN.yaml {section} lacks {missing}"
        for key in keys:
            assert re.search(r"[\u4e00-\u9fff]", entries[key]) or key.startswith("switch_to_en"), (
                f"zh-CN {section}.{key} is not Chinese: {entries[key]!r}"
            )


@pytest.mark.parametrize("section", SECTIONS)
def test_english_has_the_same_entries_and_placeholders(section: str) -> None:
    zh, en = getattr(catalogue("zh-CN"), section), getattr(catalogue("en"), section)
    assert set(zh) == set(en), set(zh) ^ set(en)
    for key, text in zh.items():
        assert set(re.findall(r"{(\w+)}", text)) == set(re.findall(r"{(\w+)}", en[key])), key


def test_an_issue_reads_as_a_chinese_sentence_and_unknown_words_fall_back_to_the_code() -> None:
    zh = catalogue()
    assert zh.language is Language.ZH_CN
    assert zh.issue_text("amount_words_mismatch") == "大写金额与小写金额不一致"
    assert zh.issue_text("a_future_code") == "a_future_code"
    assert catalogue("fr") is zh, "an unknown language falls back to Chinese"
