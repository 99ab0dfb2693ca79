"""Messages a person reads: the file named as they gave it, never a server scratch path nor a
library's own words, and English sentences ("needs an ID card", not "needs a ID card")."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from PIL import Image

from claims.intake import read_claim_file
from pipeline.bundle import ClaimBundle, ClaimManifest
from pipeline.errors import CorruptFileError, IntakeError, UnsupportedFileError
from pipeline.reader import iter_page_images
from pipeline.settings import Settings
from pipeline.wording import article, with_article
from validators.completeness import check_completeness
from validators.rules import rules_for_region
from webapp.uploads import judge_photo

LIBRARY_WORDS = ("cv2", "OpenCV", "resize.cpp", "Assertion", "Traceback", "-215")


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """A folder like the one a flow downloads a claim's uploads to."""
    folder = tmp_path / "intake-k2j4xq" / "C-2026-0099"
    folder.mkdir(parents=True)
    return folder


def strip_image(path: Path, size: tuple[int, int]) -> Path:
    Image.new("RGB", size, "white").save(path, "JPEG")
    return path


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("ID card (居民身份证)", "an"),
        ("id_card", "an"),
        ("agent's ID card", "an"),
        ("emergency inpatient", "an"),
        ("expense list", "an"),
        ("outpatient special disease", "an"),
        ("referral form", "a"),
        ("medical_invoice", "a"),
        ("self referral inpatient", "a"),
        ("residence permit", "a"),
        ("unit price", "a"),
        ("user", "a"),
        ("hour", "an"),
        ("X-ray report", "an"),
        ("SMS code", "an"),
        ("PDF", "a"),
        ("", "a"),
    ],
)
def test_the_article_follows_the_sound_of_the_first_word(phrase: str, expected: str) -> None:
    assert article(phrase) == expected
    assert with_article(phrase) == f"{expected} {phrase}"


def test_a_missing_document_reads_as_an_english_sentence(settings: Settings) -> None:
    manifest = ClaimManifest.model_validate(
        {
            "claim_id": "C-T-1",
            "claim_type": "emergency",
            "care_type": "inpatient",
            "insured_region": "烟台市",
            "treatment_region": "北京市",
            "submitted_on": "2026-03-21",
            "by_agent": False,
            "paid_this_year": "0.00",
        }
    )
    messages = [
        i.message
        for i in check_completeness(ClaimBundle(manifest=manifest), rules_for_region("烟台市"))
    ]
    assert any("the claim needs an ID card (居民身份证) for an emergency" in m for m in messages)
    assert any("needs a medical invoice" in m for m in messages)
    assert not [m for m in messages if " a ID" in m or " a emergency" in m or " a e" in m]


@pytest.mark.parametrize("size", [(1, 60000), (60000, 1), (30, 3000)], ids=str)
def test_an_absurdly_long_image_is_refused_with_a_reason_not_an_opencv_assertion(
    tmp_path: Path, settings: Settings, size: tuple[int, int]
) -> None:
    strip = strip_image(tmp_path / "strip.jpg", size)
    with pytest.raises(UnsupportedFileError) as refused:
        list(iter_page_images(strip, settings))
    message = str(refused.value)
    assert f"{size[0]}x{size[1]} pixels" in message and "photograph or scan" in message
    assert not [w for w in LIBRARY_WORDS if w in message]


def test_a_page_shaped_image_is_still_read(tmp_path: Path, settings: Settings) -> None:
    receipt = strip_image(tmp_path / "receipt.jpg", (200, 2400))  # a long till receipt, 1:12
    (page,) = list(iter_page_images(receipt, settings))
    assert page.index == 0


def test_a_scanned_pdf_page_of_absurd_shape_is_refused(tmp_path: Path, settings: Settings) -> None:
    from fpdf import FPDF

    pdf = FPDF(unit="pt", format=(12, 2000))  # no text: it would be rendered for OCR
    pdf.add_page()
    pdf.rect(2, 2, 8, 1990, style="F")
    path = tmp_path / "ribbon.pdf"
    pdf.output(str(path))
    with pytest.raises(UnsupportedFileError, match=r"page 1 of the PDF measures 12x2000 pt"):
        list(iter_page_images(path, settings))


def test_a_refused_upload_is_named_as_uploaded_in_the_result_and_the_log(
    scratch: Path, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    notes = scratch / "scan_notes.docx"
    notes.write_bytes(b"PK\x03\x04" + b"\0" * 200)
    strip = strip_image(scratch / "strip.jpg", (1, 60000))
    for path, reason in ((notes, "unsupported_file"), (strip, "unsupported_file")):
        outcome = read_claim_file(path, settings=settings)
        assert outcome.problem is not None and outcome.problem.reason == reason
        assert outcome.problem.message.startswith(f"{path.name}: ")
        assert str(scratch) not in outcome.problem.message
        assert not [w for w in LIBRARY_WORDS if w in outcome.problem.message]
    assert "refused scan_notes.docx: this looks like a ZIP archive" in caplog.text
    assert str(scratch) not in caplog.text


def test_a_reader_crash_is_reported_without_the_library_text(
    scratch: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(path: Path, **_: object) -> None:
        raise RuntimeError(
            "OpenCV(5.1.0) /io/opencv/modules/imgproc/src/resize.cpp:3593: error: "
            f"(-215:Assertion failed) !dsize.empty() in function 'resize' ({path})"
        )

    monkeypatch.setattr("claims.intake.read_file", crash)
    photo = scratch / "03_invoice.jpg"
    photo.write_bytes(b"\xff\xd8\xff")
    outcome = read_claim_file(photo, settings=settings)
    assert outcome.problem is not None and outcome.problem.reason == CorruptFileError.reason
    message = outcome.problem.message
    assert message.startswith("03_invoice.jpg: the file cannot be read") and "upload" in message
    assert str(scratch) not in message and not [w for w in LIBRARY_WORDS if w in message]


def test_the_upload_page_names_the_photo_not_the_servers_copy(
    scratch: Path, settings: Settings
) -> None:
    upload = scratch / "01_id_card_3fa2.jpg"
    upload.write_bytes(b"<html><body>not a photo</body></html>")
    verdict = judge_photo(upload, settings)
    assert not verdict.usable and verdict.flags == ["unsupported_file"]
    (advice,) = verdict.advice
    assert advice.startswith("01_id_card_3fa2.jpg: this looks like an HTML page")
    assert str(scratch) not in advice


def test_an_error_can_be_renamed_to_the_name_the_person_gave() -> None:
    error = UnsupportedFileError(
        "cannot identify image file '/tmp/intake-x/C-1/a.jpg'", path="/tmp/intake-x/C-1/a.jpg"
    )
    renamed = error.rename("a.jpg")
    assert renamed is error and error.path == "a.jpg"
    assert str(error) == "a.jpg: cannot identify image file 'a.jpg'"
    plain = IntakeError("the scan /tmp/intake-bulk-1/scan/s.pdf is not a PDF")
    assert str(plain.rename("bulk/s.pdf", Path("/tmp/intake-bulk-1/scan/s.pdf"))) == (
        "the scan bulk/s.pdf is not a PDF"
    )
