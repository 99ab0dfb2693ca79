"""Shared fixtures: isolated state dir, settings, and OCR engines loaded once per session."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flows.prefect_env import configure_prefect
from pipeline.ocr import OcrEngine, get_engine
from pipeline.settings import Settings, get_settings

REPO = Path(__file__).resolve().parent.parent
SAMPLE_DOCS = REPO / "sample_docs"
PREFECT_STATE = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    """Prefect's settings before any test module imports prefect (it reads them at import):
    a Prefect home of this run's own, no telemetry, INFO logs (tests/logscan.py reads them)."""
    state = Path(tempfile.mkdtemp(prefix="intake-test-prefect-"))
    config.stash[PREFECT_STATE] = state
    configure_prefect(Settings(state_dir=state), log_level="INFO")


def pytest_unconfigure(config: pytest.Config) -> None:
    state = config.stash.get(PREFECT_STATE, None)
    if state is not None:
        shutil.rmtree(state, ignore_errors=True)


def fresh_env(home: Path, state: Path, **extra: str) -> dict[str, str]:
    """For a subprocess started as on a new machine: this environment without the session's
    PREFECT_* and INTAKE_* settings (INTAKE_LOG_FILE stays: tests/logscan.py reads what the
    subprocess logs too), with `home` (created, empty) as HOME and `state` as the state dir."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PREFECT_", "INTAKE_")) or k == "INTAKE_LOG_FILE"
    }
    home.mkdir(parents=True, exist_ok=True)
    return {**env, "HOME": str(home), "INTAKE_STATE_DIR": str(state), **extra}


@pytest.fixture(scope="session", autouse=True)
def _isolated_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep every test run's state (model folders, caches) out of the developer's .state/."""
    state = os.environ.get("INTAKE_TEST_STATE_DIR") or str(tmp_path_factory.mktemp("state"))
    os.environ["INTAKE_STATE_DIR"] = state
    os.environ.setdefault("PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK", "True")
    get_settings.cache_clear()
    import prefect.main  # noqa: F401  (its logging set-up first: ours is added to it)

    from pipeline.logs import setup_logging

    setup_logging(get_settings())  # INTAKE_LOG_FILE (set by `make test`): see tests/logscan.py
    yield


@pytest.fixture(scope="session")
def settings(_isolated_state: None) -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
def rapid_engine(settings: Settings) -> OcrEngine:
    return get_engine("rapidocr", settings)


@pytest.fixture(scope="session")
def paddle_engine(settings: Settings) -> OcrEngine:
    return get_engine("paddleocr", settings)


@pytest.fixture(scope="session", params=["rapidocr", "paddleocr"])
def any_engine(request: pytest.FixtureRequest, settings: Settings) -> OcrEngine:
    """Each real backend in turn: both are tested in CI."""
    return get_engine(str(request.param), settings)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server for the session (Debian binaries, or INTAKE_TEST_POSTGRES_URL)."""
    from postgres import postgres_server

    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def prefect_engine(settings: Settings) -> Iterator[None]:
    """Prefect's temporary server and database for the session (started once: it is slow)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> Iterator[Any]:
    """A real S3 server (SeaweedFS `weed mini`) for the whole session."""
    from infra.s3server import EmbeddedS3

    server = EmbeddedS3(
        tmp_path_factory.mktemp("s3"), settings.s3_access_key, settings.s3_secret_key
    )
    with server:
        yield server


@contextlib.contextmanager
def flows_runtime(
    settings: Settings, state: Path, bucket: str, s3: Any, **overrides: Any
) -> Iterator[Any]:
    """The flows' Runtime over the session's S3 server, a bucket and state dir of its own,
    two OCR workers; reset afterwards."""
    from flows.prefect_flows import Runtime

    local = settings.model_copy(
        update={"state_dir": state, "s3_bucket": bucket, "ocr_workers": 2, **overrides}
    )
    runtime = Runtime.install(Runtime(local, endpoint=s3.endpoint))
    yield runtime
    Runtime.reset()
