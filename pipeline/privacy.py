"""Personal data kept out of logs: ID numbers and names are masked before a record leaves us.

Claims carry resident ID numbers (公民身份号码) and names. Results and the claim store hold them
on purpose; logs must not, because logs are shipped, kept and read far more widely (Prefect's
server stores every flow and task log line). `install_log_masking()` makes sure that any
15- or 18-digit ID number in a log record is masked to its first and last four characters,
whichever logger or handler the record goes through:

- a `logging.Filter` (`IdNumberMaskingFilter`) on the root logger's handlers, on every logger of
  the `prefect` tree (records logged there directly, such as `get_run_logger()` lines) and on
  their handlers (Prefect's API log handler, its console handler);
- a log-record factory that masks records as they are created, so that handlers added later
  (an operator's file handler, a test's capture handler) never see an unmasked number either.

Names cannot be recognised in free text; code must not log them (use `mask_name` if it must).
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
"""An 18-character (17 digits and a digit or X) or a 15-digit (first generation) ID number
standing alone: not part of a longer number or of a hex digest."""

KEEP = 4
MASK = "*"
NAME_SEPARATORS = frozenset(" ·•・.")
PREFECT_LOGGERS = ("prefect", "prefect.flow_runs", "prefect.task_runs")


def mask_id_number(value: str) -> str:
    """'330102199001011231' -> '3301**********1231': the first and last four kept, X upper-cased.

    Anything of eight characters or fewer is masked entirely: four and four would show it all."""
    text = value.strip().upper()
    if len(text) <= 2 * KEEP:
        return MASK * len(text)
    return text[:KEEP] + MASK * (len(text) - 2 * KEEP) + text[-KEEP:]


def mask_name(value: str) -> str:
    """'张三丰' -> '张**': the first character kept; separators (as in '买买提·艾力') kept too.

    A one-character name is masked entirely."""
    text = value.strip()
    if len(text) <= 1:
        return MASK * len(text)
    return text[0] + "".join(c if c in NAME_SEPARATORS else MASK for c in text[1:])


def mask_id_numbers(text: str) -> str:
    """Every ID number in free text masked (see ID_NUMBER)."""
    return ID_NUMBER.sub(lambda match: mask_id_number(match.group(0)), text)


def mask_record(record: logging.LogRecord) -> None:
    """Mask ID numbers in a record's message (with its arguments), traceback and stack, in place."""
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: logging reports it itself, later
        return
    masked = mask_id_numbers(message)
    if masked != message:
        record.msg, record.args = masked, ()
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask_id_numbers(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_id_numbers(record.stack_info)


class IdNumberMaskingFilter(logging.Filter):
    """Masks ID numbers in every record it sees; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


class _MaskingRecordFactory:
    """Wraps the current log-record factory: every record is masked as it is created."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record: logging.LogRecord = self.inner(*args, **kwargs)
        mask_record(record)
        return record


_FILTER = IdNumberMaskingFilter()
_LOCK = threading.Lock()


def _add_filter(target: logging.Filterer) -> None:
    if not any(isinstance(f, IdNumberMaskingFilter) for f in target.filters):
        target.addFilter(_FILTER)


def install_log_masking() -> None:
    """Mask ID numbers in every log record of this process; safe to call any number of times.

    Call it again after something reconfigures logging (Prefect's `setup_logging` replaces its
    handlers): the record factory keeps masking meanwhile."""
    with _LOCK:
        root = logging.getLogger()
        targets: list[logging.Filterer] = list(root.handlers)
        names = set(PREFECT_LOGGERS) | {
            name
            for name, logger in list(logging.root.manager.loggerDict.items())
            if isinstance(logger, logging.Logger) and name.split(".", 1)[0] == "prefect"
        }
        for name in sorted(names):
            logger = logging.getLogger(name)
            targets.extend([logger, *logger.handlers])
        for target in targets:
            _add_filter(target)
        factory = logging.getLogRecordFactory()
        if not isinstance(factory, _MaskingRecordFactory):
            logging.setLogRecordFactory(_MaskingRecordFactory(factory))
