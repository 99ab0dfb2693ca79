"""Process-wide logging set-up: ID numbers masked everywhere, and an optional log file.

`INTAKE_LOG_FILE` appends every record of every intake process (the CLI, the flows, the OCR
worker processes, Prefect's loggers) to one file, so that an operator has a single place to
read, and a test run a single place to check for leaked ID numbers (`tests/logscan.py`).
"""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.privacy import IdNumberMaskingFilter, install_log_masking
from pipeline.settings import Settings

FORMAT = "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"


def setup_logging(settings: Settings) -> None:
    """Mask ID numbers in every record; also append them to `settings.log_file` if set.

    Idempotent; call it again once Prefect is imported (its set-up replaces the handlers of
    its own loggers, which do not pass records on to the root logger)."""
    install_log_masking()
    if settings.log_file is None:
        return
    path = Path(settings.log_file).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    for logger in (logging.getLogger(), logging.getLogger("prefect")):
        if any(_writes_to(handler, path) for handler in logger.handlers):
            continue
        handler = logging.FileHandler(path, encoding="utf-8", delay=True)
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(IdNumberMaskingFilter())
        logger.addHandler(handler)
    root = logging.getLogger()
    if all(_writes_to(handler, path) for handler in root.handlers):
        root.setLevel(min(root.getEffectiveLevel(), logging.INFO))  # the file is the only output


def _writes_to(handler: logging.Handler, path: Path) -> bool:
    return isinstance(handler, logging.FileHandler) and Path(handler.baseFilename) == path
