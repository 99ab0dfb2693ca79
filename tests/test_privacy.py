"""Personal data kept out of logs: the masking functions, the log filter, and a real claim flow
whose every log line (Python logging, Prefect's stored logs, the processes' stderr) is searched
for ID numbers."""

from __future__ import annotations

import json
import logging
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import SAMPLE_DOCS

from infra.s3server import EmbeddedS3
from pipeline.privacy import (
    IdNumberMaskingFilter,
    install_log_masking,
    mask_id_number,
    mask_id_numbers,
    mask_name,
)
from pipeline.settings import get_settings

ID_NUMBER = "370602196811159696"
UNMASKED_ID = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


def test_an_18_digit_id_number_keeps_only_its_first_and_last_four() -> None:
    assert mask_id_number("330102199001011231") == "3301**********1231"


def test_a_15_digit_id_number_and_a_lowercase_x_are_masked() -> None:
    assert mask_id_number("33010219900101123x") == "3301**********123X"
    assert mask_id_number("330102900101123") == "3301*******1123"
    assert mask_id_number(" 12345678 ") == "********"


def test_a_name_keeps_only_its_first_character() -> None:
    assert mask_name("张三丰") == "张**"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_name("买买提·艾力") == "买**·**"
    assert mask_name("张") == "*"


def test_id_numbers_in_text_are_masked_and_other_numbers_left_alone() -> None:
    text = (
        f"公民身份号码{ID_NUMBER}，旧证370602681115969，票据号码0012345678，"
        "流水号12345678901234567890，sha256 9f1c370602196811159696ab"
    )
    assert mask_id_numbers(text) == (
        "公民身份号码3706**********9696，旧证3706*******5969，票据号码0012345678，"
        "流水号12345678901234567890，sha256 9f1c370602196811159696ab"
    )


def test_the_log_filter_masks_the_message_its_arguments_and_the_traceback() -> None:
    try:
        raise ValueError(f"no card for {ID_NUMBER}")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord(
        "flows.claim", logging.ERROR, __file__, 1, "card %s: %s", ("张三", ID_NUMBER), exc_info
    )
    assert IdNumberMaskingFilter().filter(record) is True
    assert record.getMessage() == "card 张三: 3706**********9696"
    formatted = logging.Formatter().format(record)
    assert ID_NUMBER not in formatted and "no card for 3706**********9696" in formatted


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_installed_masking_covers_prefect_loggers_and_handlers_added_later(
    caplog: pytest.LogCaptureFixture,
) -> None:
    install_log_masking()
    install_log_masking()  # idempotent
    run_logger = logging.getLogger("prefect.flow_runs")
    assert sum(isinstance(f, IdNumberMaskingFilter) for f in run_logger.filters) == 1
    assert all(
        any(isinstance(f, IdNumberMaskingFilter) for f in handler.filters)
        for handler in run_logger.handlers
    )
    late = _Collect()
    logger = logging.getLogger("pipeline.test_privacy")
    logger.addHandler(late)
    try:
        with caplog.at_level(logging.INFO):
            logger.warning("read the card of %s", ID_NUMBER)
            run_logger.warning("claim of %s", ID_NUMBER, extra={"send_to_api": False})
    finally:
        logger.removeHandler(late)
    assert late.lines == ["read the card of 3706**********9696"]
    assert ID_NUMBER not in caplog.text and "claim of 3706**********9696" in caplog.text


@pytest.mark.ocr
def test_a_claim_flow_with_id_cards_logs_no_id_number_anywhere(
    s3_server: EmbeddedS3,
    tmp_path: Path,
    prefect_engine: None,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    from prefect import get_run_logger
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.logging.handlers import APILogHandler

    from flows.pipeline_run import upload_claim_folder
    from flows.prefect_flows import Runtime, process_claim

    truth = json.loads((SAMPLE_DOCS / "claims" / "C-2026-0001.truth.json").read_text())
    card = truth["files"]["01_id_front.jpg"]["documents"][0]["fields"]
    id_number, name = card["id_number"], card["name"]
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="prefect")

    def careless_log(claim_id: str, status: str) -> None:
        """Runs inside the claim's task run: a log line that should never have been written."""
        get_run_logger().warning("claim %s (%s): %s", claim_id, id_number, status)
        logging.getLogger("flows.careless").warning("ID card %s read", id_number)

    # created here, so that the OCR worker processes write to this test's captured stderr
    settings = get_settings().model_copy(
        update={"state_dir": tmp_path / "state", "s3_bucket": "privacy", "ocr_workers": 2}
    )
    runtime = Runtime.install(Runtime(settings, endpoint=s3_server.endpoint))
    runtime.on_claim_done = careless_log
    try:
        claim_id = upload_claim_folder(runtime.objects, SAMPLE_DOCS / "claims" / "C-2026-0001")
        state: Any = process_claim(claim_id, return_state=True)
        result = state.result()
    finally:
        Runtime.reset()
    APILogHandler().flush()
    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        stored_logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id]))
        )
        task_runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id]))
        )
    captured = capfd.readouterr()

    # the data keeps the number: only logs are masked
    cards = [d for d in result["documents"] if d["doc_type"] == "id_card"]
    assert any(d["fields"].get("id_number", {}).get("value") == id_number for d in cards)
    logs = {
        "python logging": caplog.text,
        "prefect api": "\n".join(log.message for log in stored_logs),
        "stderr": captured.err,
        "stdout": captured.out,
    }
    assert mask_id_number(id_number) in logs["prefect api"]  # the careless line, masked
    for source, text in logs.items():
        assert id_number not in text, source
        assert UNMASKED_ID.findall(text) == [], source
    described = [f"{r.name} {json.dumps(r.parameters, default=str)}" for r in runs]
    described += [f"{t.name} {json.dumps(t.task_inputs, default=str)}" for t in task_runs]
    assert len(described) >= 2  # the flow run and its claim task run
    for text in described:
        assert id_number not in text and name not in text, text
