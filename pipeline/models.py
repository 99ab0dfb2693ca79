"""Core data that travels between stages: boxes, OCR lines, pages and their quality."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator


class BBox(BaseModel):
    """An axis-aligned box relative to its page: 0..1 on both axes, origin top-left."""

    model_config = ConfigDict(frozen=True)

    x0: float
    y0: float
    x1: float
    y1: float

    @field_validator("x0", "y0", "x1", "y1")
    @classmethod
    def _clamp(cls, v: float) -> float:
        return min(1.0, max(0.0, round(float(v), 5)))

    @classmethod
    def from_pixels(
        cls, x0: float, y0: float, x1: float, y1: float, width: float, height: float
    ) -> BBox:
        return cls(x0=x0 / width, y0=y0 / height, x1=x1 / width, y1=y1 / height)

    @classmethod
    def union(cls, boxes: list[BBox]) -> BBox:
        return cls(
            x0=min(b.x0 for b in boxes),
            y0=min(b.y0 for b in boxes),
            x1=max(b.x1 for b in boxes),
            y1=max(b.y1 for b in boxes),
        )

    def as_list(self) -> list[float]:
        return [self.x0, self.y0, self.x1, self.y1]

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def width(self) -> float:
        return self.x1 - self.x0


class OcrLine(BaseModel):
    """One line of text as read, with the reader's confidence and where it stands on the page."""

    model_config = ConfigDict(frozen=True)

    text: str
    confidence: float = Field(ge=0.0, le=1.0)
    bbox: BBox


class PageSource(StrEnum):
    """Where a page's lines came from."""

    OCR = "ocr"
    PDF_TEXT = "pdf_text"


class QualityFlag(StrEnum):
    """Named image problems, in the spirit of Tencent/Baidu card OCR warnings."""

    BLUR = "blur"
    GLARE = "glare"
    CUT_OFF = "cut_off"
    LOW_RESOLUTION = "low_resolution"
    GRAYSCALE_COPY = "grayscale_copy"
    TOO_DARK = "too_dark"
    MARKED_UNREADABLE = "marked_unreadable"  # a reviewer could not read it: ask for a new one


class PageQuality(BaseModel):
    """Measured image quality of one page; `flags` lists the metrics past their thresholds."""

    blur: float | None = Field(None, description="variance of the Laplacian; lower is blurrier")
    glare: float | None = Field(None, description="share of the page that is blown-out highlight")
    coverage: float | None = Field(None, description="share of the image the document covers")
    resolution: int | None = Field(None, description="short side of the page in pixels")
    brightness: float | None = Field(None, description="mean luminance 0..255")
    colorfulness: float | None = Field(None, description="mean chroma; near 0 for a grey copy")
    skew_degrees: float = 0.0
    rotated_degrees: int = 0
    perspective_corrected: bool = False
    flags: list[QualityFlag] = Field(default_factory=list)

    @property
    def usable(self) -> bool:
        return not (
            {
                QualityFlag.BLUR,
                QualityFlag.CUT_OFF,
                QualityFlag.LOW_RESOLUTION,
                QualityFlag.MARKED_UNREADABLE,
            }
            & set(self.flags)
        )


class Page(BaseModel):
    """One page of an input file with the lines read from it."""

    index: int = Field(ge=0, description="0-based page index within its file")
    width: int
    height: int
    source: PageSource
    quality: PageQuality = Field(default_factory=PageQuality)
    red_seal: bool | None = Field(
        None,
        description="a seal was seen (red ink, or its round rim on a grey copy); "
        "None if it could not be told",
    )
    lines: list[OcrLine] = Field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


class ReadResult(BaseModel):
    """All pages read from one file."""

    file: str
    media_type: str
    pages: list[Page]
