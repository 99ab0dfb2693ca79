"""Prefect's settings reach every entry point before `prefect` is imported, from one place
(flows/prefect_env.py), and a server that does not come up is reported in one sentence.

Each check runs a fresh interpreter with an empty HOME and state dir and none of the test
session's PREFECT_* variables: Prefect reads its settings when imported, so only a new process
shows what an entry point really gets.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, SAMPLE_DOCS, fresh_env

BIN = Path(sys.executable).parent
SHOW_SETTINGS = (
    "import json; from prefect.settings import get_current_settings as g; s = g(); "
    "print(json.dumps({'home': str(s.home), 'timeout': s.server.ephemeral.startup_timeout_seconds,"
    " 'analytics': s.server.analytics_enabled, 'level': s.logging.level}))"
)


def python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


def settings_of(done: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert done.returncode == 0, done.stderr
    shown: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return shown


def test_configure_prefect_puts_prefect_under_the_state_dir(tmp_path: Path) -> None:
    home, state = tmp_path / "home", tmp_path / "state"
    code = f"from flows.prefect_env import configure_prefect; configure_prefect(); {SHOW_SETTINGS}"
    shown = settings_of(python(code, fresh_env(home, state)))
    assert shown["home"] == str(state.resolve() / "prefect")
    assert isinstance(shown["timeout"], int) and shown["timeout"] >= 120
    assert shown["analytics"] is False and shown["level"] == "WARNING"
    assert not (home / ".prefect").exists()


def test_the_intake_command_sets_them_before_any_subcommand_imports_prefect(
    tmp_path: Path,
) -> None:
    home, state = tmp_path / "home", tmp_path / "state"
    code = (
        "from webapp.cli import app; "
        "app(['-v', 'rules', 'check', 'validators/rules/yantai.yaml'], standalone_mode=False); "
        + SHOW_SETTINGS
    )
    shown = settings_of(python(code, fresh_env(home, state)))
    assert shown["home"] == str(state.resolve() / "prefect")
    assert shown["timeout"] == 180 and shown["level"] == "INFO"  # -v: Prefect's INFO lines too
    assert not (home / ".prefect").exists()


def test_importing_the_flows_sets_them_when_no_entry_point_did(tmp_path: Path) -> None:
    """`python -c "from flows.prefect_flows import process_pending; process_pending.serve()"`
    (README) and the flow runs a worker starts import the flows module directly."""
    home, state = tmp_path / "home", tmp_path / "state"
    code = f"import flows.prefect_flows, flows.bulk_flow; {SHOW_SETTINGS}"
    env = fresh_env(home, state, INTAKE_PREFECT_STARTUP_TIMEOUT="240")
    shown = settings_of(python(code, env))
    assert shown["home"] == str(state.resolve() / "prefect") and shown["timeout"] == 240
    assert not (home / ".prefect").exists()


def test_prefect_imported_with_other_settings_fails_loudly(tmp_path: Path) -> None:
    done = python("import prefect, flows.prefect_flows", fresh_env(tmp_path / "h", tmp_path / "s"))
    assert done.returncode != 0
    assert "PrefectSettingsError: Prefect was imported before the intake set its settings" in (
        done.stderr
    )
    assert "configure_prefect()" in done.stderr and "intake worker" in done.stderr


def test_no_entry_point_imports_prefect_before_it_can_set_the_settings(tmp_path: Path) -> None:
    """Modules whose import precedes `configure_prefect` in an entry point must not import
    prefect themselves (the benches are scripts: loaded without running their main)."""
    modules = ["flows.cli", "webapp.cli", "flows.deploy", "flows.pipeline_run", "webapp.server"]
    scripts = ["bench/pipeline.py", "bench/load.py", "bench/ocr.py", "tests/conftest.py"]
    code = (
        "import importlib, importlib.util, sys\n"
        f"sys.path[:0] = [{str(REPO / 'tests')!r}]\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "    assert 'prefect' not in sys.modules, name\n"
        f"for path in {scripts!r}:\n"
        "    spec = importlib.util.spec_from_file_location('script', path)\n"
        "    spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "    assert 'prefect' not in sys.modules, path\n"
        "print('ok')\n"
    )
    done = python(code, fresh_env(tmp_path / "h", tmp_path / "s"))
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def one_claim(root: Path) -> Path:
    """A claims folder holding one claim with only its manifest (nothing to read)."""
    folder = root / "claims" / "C-2026-0001"
    folder.mkdir(parents=True)
    shutil.copy(SAMPLE_DOCS / "claims" / "C-2026-0001" / "claim.json", folder / "claim.json")
    return root


def intake_demo(folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "intake"), "demo", str(folder)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def only_an_error_sentence(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    errors = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(errors) == 1 and errors[0].startswith("error: "), done.stderr
    return errors[0]


@pytest.mark.slow
def test_a_prefect_server_that_does_not_come_up_is_one_sentence(tmp_path: Path) -> None:
    env = fresh_env(tmp_path / "home", tmp_path / "state", INTAKE_PREFECT_STARTUP_TIMEOUT="1")
    line = only_an_error_sentence(intake_demo(one_claim(tmp_path / "in"), env))
    assert line.startswith("error: Prefect's local server did not answer within 1 s")
    assert "run the command again" in line and "INTAKE_PREFECT_STARTUP_TIMEOUT=300" in line
    assert not (tmp_path / "home" / ".prefect").exists()


@pytest.mark.slow
def test_an_s3_server_that_does_not_come_up_is_one_sentence(tmp_path: Path) -> None:
    env = fresh_env(tmp_path / "home", tmp_path / "state", INTAKE_S3_STARTUP_TIMEOUT="0.001")
    line = only_an_error_sentence(intake_demo(one_claim(tmp_path / "in"), env))
    assert line.startswith("error: the embedded S3 server (SeaweedFS) did not answer within 0 s")
    assert "run the command again" in line and "INTAKE_S3_STARTUP_TIMEOUT=120" in line
