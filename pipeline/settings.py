"""Runtime settings, read from the environment with the `INTAKE_` prefix (pydantic-settings)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

EngineName = Literal["rapidocr", "paddleocr"]


class Settings(BaseSettings):
    """Every knob an operator may turn; defaults suit the embedded single-machine setup."""

    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore")

    state_dir: Path = Field(Path(".state"), description="working data: S3 data, databases, caches")

    ocr_engine: EngineName = Field("rapidocr", description="default OCR backend")
    ocr_threads: int = Field(
        0,
        description="ONNX Runtime intra-op threads per engine; 0 = all cores "
        "(in the flows' OCR pool: the cores shared out between its workers)",
    )
    ocr_workers: int = Field(0, description="OCR worker processes; 0 = one per core")
    ocr_max_side: int = Field(2000, description="longest side, in pixels, the lines are read at")
    ocr_det_side: int = Field(
        0,
        description="longest side, in pixels, the text detector looks at (boxes are mapped back "
        "and lines read from the larger page); 0 = the engine's default (the page as read)",
    )
    paddle_det_model_dir: Path | None = Field(
        None, description="PP-OCR detection model folder (inference.onnx + inference.yml)"
    )
    paddle_rec_model_dir: Path | None = Field(
        None, description="PP-OCR recognition model folder (inference.onnx + inference.yml)"
    )

    database_url: str | None = Field(
        None, description="claim store URL; default: SQLite file under the state dir"
    )
    calculator_url: str | None = Field(
        None, description="an agency's own calculator service; default: the built-in policies"
    )

    prefect_startup_timeout: int = Field(
        180,
        description="seconds Prefect's temporary local server may take to start (its first "
        "start creates its database) before a run fails",
    )

    s3_endpoint: str | None = Field(
        None,
        description="host:port of MinIO/S3; default: the embedded server started by the project",
    )
    s3_access_key: str = Field("intake", description="S3 access key")
    s3_secret_key: str = Field("intake-secret-key", description="S3 secret key")
    s3_secure: bool = Field(False, description="use TLS to reach S3")
    s3_bucket: str = Field("claims", description="bucket holding claims/ and quarantine/")
    s3_region: str = Field("us-east-1", description="S3 region name")
    s3_connect_timeout: float = Field(
        3.0,
        description="seconds to wait for a TCP connection to S3 before the try counts as failed",
    )
    s3_read_timeout: float = Field(
        60.0, description="seconds without a byte from S3 before the try counts as failed"
    )
    s3_attempts: int = Field(
        3,
        description="tries per S3 call on connection errors (exponential backoff) before giving up",
    )
    s3_startup_timeout: float = Field(
        60.0, description="seconds the embedded S3 server may take to answer before start-up fails"
    )

    max_file_bytes: int = Field(200 * 1024 * 1024, description="largest upload accepted")
    max_image_pixels: int = Field(120_000_000, description="decompression-bomb guard")
    max_pages: int = Field(500, description="most pages read from one file")
    pdf_render_dpi: int = Field(200, description="DPI for rendering PDF pages without text")

    log_file: Path | None = Field(
        None,
        description="also append every log record (ID numbers masked) of every intake process here",
    )

    web_session_hours: float = Field(8.0, description="a review-app login lasts this long")
    web_cookie_secure: Literal["auto", "always", "never"] = Field(
        "auto",
        description="Secure flag on the session cookie; auto = when the request came over HTTPS",
    )
    web_login_attempts: int = Field(
        5, description="failed logins allowed per user and address within the window"
    )
    web_login_window_seconds: int = Field(300, description="the failed-login counting window")
    web_presign_seconds: int = Field(
        300, description="how long a presigned upload or download URL stays valid"
    )
    web_max_upload_bytes: int = Field(
        25 * 1024 * 1024, description="largest photo a claimant may upload from the upload page"
    )

    def store_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.state_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.state_dir.resolve() / 'claims.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
