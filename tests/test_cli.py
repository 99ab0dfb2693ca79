"""The `intake` command line: help everywhere, JSON shapes, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SAMPLE_DOCS
from typer.testing import CliRunner

from flows.cli import app

runner = CliRunner()
COMMANDS = [[], ["ocr"], ["extract"], ["eval"], ["claim"], ["demo"], ["rules"], ["rules", "check"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "intake")
def test_every_subcommand_explains_itself(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output and len(result.output) > 200


def test_rules_check_accepts_the_shipped_files_and_names_a_bad_key(tmp_path: Path) -> None:
    rules = Path("validators/rules/yantai.yaml")
    ok = runner.invoke(app, ["rules", "check", str(rules)])
    assert ok.exit_code == 0 and "烟台市" in ok.output
    policy = runner.invoke(app, ["rules", "check", "pipeline/calculator/policies/yantai.yaml"])
    assert policy.exit_code == 0 and "yantai-2026" in policy.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        rules.read_text(encoding="utf-8").replace(
            "submission_days_after_discharge: 30", "submission_days_after_discharge: soon"
        ),
        encoding="utf-8",
    )
    failed = runner.invoke(app, ["rules", "check", str(bad)])
    assert failed.exit_code == 1 and "submission_days_after_discharge" in failed.output


@pytest.mark.ocr
def test_ocr_json_has_pages_of_lines_with_page_relative_boxes() -> None:
    result = runner.invoke(
        app, ["ocr", str(SAMPLE_DOCS / "documents/pdf/invoice_outpatient_02.pdf"), "--json"]
    )
    assert result.exit_code == 0
    page = json.loads(result.output)["pages"][0]
    assert set(page) == {"index", "width", "height", "source", "quality", "lines"}
    assert page["source"] == "pdf_text"
    line = page["lines"][0]
    assert set(line) == {"text", "confidence", "bbox"} and all(0 <= v <= 1 for v in line["bbox"])


def test_an_unreadable_file_exits_2_with_the_reason(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    result = runner.invoke(app, ["ocr", str(empty)])
    assert result.exit_code == 2 and "empty" in result.output


@pytest.mark.ocr
def test_extract_json_lists_documents_with_canonical_fields() -> None:
    result = runner.invoke(
        app, ["extract", str(SAMPLE_DOCS / "documents/pdf/invoice_outpatient_02.pdf"), "--json"]
    )
    assert result.exit_code == 0
    (document,) = json.loads(result.output)["documents"]
    assert document["doc_type"] == "medical_invoice"
    assert document["fields"]["total_amount"]["bbox"][0] == 0
    assert {"id", "file", "pages", "doc_type", "doc_type_confidence", "quality", "fields"} <= set(
        document
    )


def test_claim_with_a_bad_manifest_exits_1(tmp_path: Path) -> None:
    (tmp_path / "claim.json").write_text('{"claim_id": "C-1"}')
    result = runner.invoke(app, ["claim", str(tmp_path)])
    assert result.exit_code == 1 and "claim_type" in result.output
