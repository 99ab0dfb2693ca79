"""Typed errors for input a person must act on. Broken infrastructure raises other exceptions."""

from __future__ import annotations

from pathlib import Path


class IntakeError(Exception):
    """Base of every error the intake reports to a person; `reason` is a stable short code."""

    reason = "intake_error"

    def __init__(self, message: str, *, path: str | None = None) -> None:
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)

    def rename(self, name: str, path: str | Path | None = None) -> IntakeError:
        """Name the file `name` (as the person gave it, or its S3 key) in the message instead
        of the path it was read from (`path`, `self.path`: a scratch copy); returns self."""
        text = str(self)
        for where in sorted({str(p) for p in (self.path, path) if p}, key=len, reverse=True):
            text = text.replace(where, name)
        self.args = (text,)
        if self.path:
            self.path = name
        return self


class UnsupportedFileError(IntakeError):
    """The file is not a type the intake reads (or lies about its type)."""

    reason = "unsupported_file"


class EmptyFileError(UnsupportedFileError):
    reason = "empty_file"


class CorruptFileError(UnsupportedFileError):
    """The file claims a supported type but cannot be decoded (truncated, damaged)."""

    reason = "corrupt_file"


class EncryptedFileError(UnsupportedFileError):
    reason = "encrypted_file"


class FileTooLargeError(UnsupportedFileError):
    """Over a configured limit: bytes, pixels (decompression bomb) or pages."""

    reason = "file_too_large"


class OcrEngineError(Exception):
    """An OCR engine could not be loaded or failed: infrastructure, not bad input."""
