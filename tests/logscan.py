"""Scan a test run's log file for ID numbers that escaped masking; exit 1 if any did.

`make test` runs the suite with INTAKE_LOG_FILE set, so every intake process of the run (the
tests, the flows, the OCR workers, Prefect workers) appends its records to one file; this
script then reads it. Any 15- or 18-digit number standing alone is a leak: the masking
filter masks exactly those (`pipeline.privacy.ID_NUMBER`), whatever their check digit.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline.privacy import ID_NUMBER, mask_id_number

MIN_LINES = 1000  # a full run logs far more: fewer means the log file was not written


def scan(path: Path) -> tuple[int, list[tuple[int, str]]]:
    """Lines read, and (line number, masked match) for each unmasked ID number found."""
    leaks: list[tuple[int, str]] = []
    lines = 0
    with path.open(encoding="utf-8", errors="replace") as handle:
        for lines, line in enumerate(handle, start=1):
            leaks.extend((lines, mask_id_number(m.group(0))) for m in ID_NUMBER.finditer(line))
    return lines, leaks


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python tests/logscan.py LOG_FILE", file=sys.stderr)
        return 2
    path = Path(argv[1])
    if not path.is_file():
        print(f"log scan: {path} does not exist; was INTAKE_LOG_FILE set for the run?")
        return 1
    lines, leaks = scan(path)
    masked = path.read_text(encoding="utf-8", errors="replace").count("**********")
    print(f"log scan: {path}: {lines} lines, {masked} masked ID numbers, {len(leaks)} unmasked")
    for number, shown in leaks[:20]:
        print(f"  line {number}: an unmasked ID number ({shown})")
    if lines < MIN_LINES:
        print(f"log scan: only {lines} lines; expected a full run's log (at least {MIN_LINES})")
        return 1
    return 1 if leaks else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
