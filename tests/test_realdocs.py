"""Extraction on real documents: recorded OCR of `../shared/realdocs` replayed, scored on its truth.

The images never enter this repository (their publishers gave no licence to redistribute);
what the OCR engine read from them (text lines and boxes) does, under `fixtures/realdocs_ocr`,
keyed by the file's hash, the engine and the reader's version. The truth is read from the
shared folder beside the checkout. When reading changes (a new `READ_VERSION`), the first run
reads the images again with the real engine, so these figures never stand on a stale read.
`make eval-real` prints the same figures from a fresh read.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from extractors.extract import extract_documents
from flows.evaluate import (
    Evaluation,
    compare_document,
    labelled_files,
    match_document,
    read_with_cache,
)

REALDOCS = Path(__file__).resolve().parents[2] / "shared" / "realdocs"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "realdocs_ocr"
THRESHOLD = 0.9


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory: pytest.TempPathFactory) -> Evaluation:
    assert REALDOCS.is_dir(), f"{REALDOCS} is missing: the real-document set sits beside the repo"
    cache = tmp_path_factory.mktemp("realdocs_ocr")
    for fixture in FIXTURES.glob("*.json"):
        shutil.copy(fixture, cache / fixture.name)
    result = Evaluation()
    for labelled in labelled_files(REALDOCS):
        documents = extract_documents(read_with_cache(labelled.path, cache))
        for truth in labelled.documents:
            tally = compare_document(truth, match_document(truth, documents), THRESHOLD)
            result.record(labelled.variant, truth, tally, labelled.path.name)
    return result


def test_every_real_document_is_classified_right(evaluation: Evaluation) -> None:
    total = evaluation.total
    assert total.documents >= 15
    assert total.classified_right == total.documents


def test_real_receipt_fields_are_read_and_unflagged_ones_are_right(evaluation: Evaluation) -> None:
    receipts = evaluation.by_type["medical_invoice"]
    assert receipts.exact / receipts.fields >= 0.95, receipts.misses
    assert receipts.flagged / receipts.fields <= 0.25
    assert receipts.unflagged_exact == receipts.unflagged, receipts.misses


def test_real_id_card_fields_are_read(evaluation: Evaluation) -> None:
    cards = evaluation.by_type["id_card"]
    assert cards.exact == cards.fields, cards.misses


def test_a_vat_invoice_is_not_taken_for_a_medical_receipt(evaluation: Evaluation) -> None:
    assert evaluation.by_type["other"].classified_right == evaluation.by_type["other"].documents
