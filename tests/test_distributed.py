"""Claims spread over two Prefect workers of one work pool, as on several machines.

A real `prefect server start` (SQLite, telemetry off), a process work pool, the flows deployed
with `python -m flows.deploy`, two `intake worker` processes (`prefect worker start` with the
intake's Prefect settings), the claim store on a real PostgreSQL and the uploads on a real S3
server: exactly the commands of README "Deployment".
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any
from uuid import UUID

import pytest
from conftest import REPO

from flows.prefect_env import prefect_environment
from infra.s3server import EmbeddedS3
from pipeline.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]

POOL = "intake-test"
WORKERS = ("intake-worker-1", "intake-worker-2")
CLAIMS = 6
BIN = Path(sys.executable).parent
SUBMITTED = re.compile(r"Worker '([^']+)' submitting flow run '([0-9a-f-]{36})'")


def load_bench() -> ModuleType:
    """bench/load.py, whose claim generator the tests share (it is a script, not a package)."""
    name = "intake_bench_load"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "bench" / "load.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def text_claims(root: Path, count: int, prefix: str) -> list[Path]:
    """`count` complete claims of text-layer PDFs (no OCR needed): fast, and each calculated."""
    folders: list[Path] = load_bench().make_claims(root, count, photo_share=0, prefix=prefix)
    return folders


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.5) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def fresh_database(server_url: str, name: str) -> str:
    """A new, empty database on the test PostgreSQL server; its SQLAlchemy URL."""
    import psycopg

    plain = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"


@dataclass
class Service:
    """A long-running subprocess in its own process group, its output in a file."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM (twice: a Prefect worker may ignore the first), then SIGKILL."""
        for sig in (signal.SIGTERM, signal.SIGTERM, signal.SIGKILL):
            if self.process.poll() is not None:
                return
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout / 2)
        self.process.wait(5)


def start(name: str, command: list[str], env: dict[str, str], logs: Path) -> Service:
    log = logs / f"{name}.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return Service(name, process, log)


def run(command: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@dataclass
class Cluster:
    api_url: str
    env: dict[str, str]
    settings: Settings
    services: list[Service]


@pytest.fixture(scope="module")
def cluster(
    s3_server: EmbeddedS3,
    settings: Settings,
    postgres_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Cluster]:
    """Prefect server + process work pool + deployments + two workers, all real processes."""
    root = tmp_path_factory.mktemp("distributed")
    logs = root / "logs"
    logs.mkdir()
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    local = settings.model_copy(
        update={
            "state_dir": root / "state",
            "s3_endpoint": s3_server.endpoint,
            "s3_bucket": "distributed",
            "database_url": fresh_database(postgres_url, "intake_distributed"),
            "ocr_workers": 1,
        }
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")},
        # the intake's Prefect settings, as `intake worker` gives them to each flow run; INFO
        # logs: the workers' "submitting flow run" lines say which worker ran which claim
        **prefect_environment(local, log_level="INFO"),
        "PREFECT_API_URL": api_url,
        "PREFECT_SERVER_UI_ENABLED": "false",
        "PREFECT_WORKER_QUERY_SECONDS": "2",
        "INTAKE_STATE_DIR": str(local.state_dir),
        "INTAKE_S3_ENDPOINT": s3_server.endpoint,
        "INTAKE_S3_BUCKET": local.s3_bucket,
        "INTAKE_S3_ACCESS_KEY": local.s3_access_key,
        "INTAKE_S3_SECRET_KEY": local.s3_secret_key,
        "INTAKE_DATABASE_URL": str(local.database_url),
        "INTAKE_OCR_WORKERS": "1",
    }
    from infra.store import ClaimStore

    Path(env["PREFECT_HOME"]).mkdir(parents=True)  # the server's SQLite database goes there
    # the schema, before two workers' first runs race to create it
    ClaimStore(str(local.database_url)).engine.dispose()
    services: list[Service] = []
    try:
        server_env = {k: v for k, v in env.items() if k != "PREFECT_API_URL"}
        services.append(
            start(
                "server",
                [
                    str(BIN / "prefect"),
                    "server",
                    "start",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                ],
                server_env,
                logs,
            )
        )

        def healthy() -> bool:
            assert services[0].process.poll() is None, services[0].output()
            try:
                with urllib.request.urlopen(f"{api_url}/health", timeout=2) as answer:
                    return bool(answer.status == 200)
            except OSError:
                return False

        wait_until(healthy, 90, "the Prefect server's /api/health")
        run([str(BIN / "prefect"), "work-pool", "create", POOL, "--type", "process"], env)
        run([sys.executable, "-m", "flows.deploy", "--pool", POOL], env)
        for name in WORKERS:
            command = [str(BIN / "intake"), "worker", "--pool", POOL]
            services.append(start(name, [*command, "--name", name, "--limit", "1"], env, logs))
        yield Cluster(api_url, env, local, services)
    finally:
        for service in reversed(services):
            service.stop()


@contextlib.contextmanager
def prefect_client(api_url: str) -> Iterator[Any]:
    from prefect import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: api_url}), get_client(sync_client=True) as client:
        yield client


def worker_of_each_run(client: Any, run_ids: list[UUID]) -> dict[UUID, str]:
    """Which worker submitted each flow run, from the runs' logs on the server."""
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    logs = client.read_logs(
        log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=run_ids)), limit=200
    )
    found: dict[UUID, str] = {}
    for entry in logs:
        match = SUBMITTED.search(entry.message)
        if match:
            found[UUID(match.group(2))] = match.group(1)
    return found


def test_two_workers_share_a_batch_and_every_claim_is_stored_once(
    cluster: Cluster, tmp_path: Path
) -> None:
    from prefect.client.schemas.filters import WorkerFilter, WorkerFilterStatus

    from flows.pipeline_run import upload_claim_folder
    from infra.storage import ObjectStore
    from infra.store import CalculationRow, ClaimRow, ClaimStore, StatusHistoryRow

    objects = ObjectStore(cluster.settings)
    objects.ensure_bucket()
    claim_ids = [
        upload_claim_folder(objects, folder) for folder in text_claims(tmp_path, CLAIMS, "C-DIST-")
    ]
    with prefect_client(cluster.api_url) as client:

        def workers_online() -> bool:
            for service in cluster.services:
                assert service.process.poll() is None, f"{service.name}:\n{service.output()}"
            online = client.read_workers_for_work_pool(
                POOL, worker_filter=WorkerFilter(status=WorkerFilterStatus(any_=["ONLINE"]))
            )
            return {w.name for w in online} >= set(WORKERS)

        wait_until(workers_online, 90, "both workers to be online")
        deployment = client.read_deployment_by_name("process-claim/intake")
        runs = {
            client.create_flow_run_from_deployment(
                deployment.id, parameters={"claim_id": claim_id}
            ).id: claim_id
            for claim_id in claim_ids
        }

        def all_final() -> bool:
            return all(client.read_flow_run(run_id).state.is_final() for run_id in runs)

        wait_until(all_final, 240, f"{CLAIMS} flow runs to finish", interval=2)
        states = {runs[r]: client.read_flow_run(r).state.type.value for r in runs}
        assert states == dict.fromkeys(claim_ids, "COMPLETED"), "\n".join(
            s.output()[-3000:] for s in cluster.services[1:]
        )
        by_worker: dict[UUID, str] = {}

        def every_run_attributed() -> bool:
            by_worker.update(worker_of_each_run(client, list(runs)))
            return by_worker.keys() == runs.keys()

        wait_until(every_run_attributed, 30, "the workers' logs of every run")
    assert set(by_worker.values()) == set(WORKERS)  # both workers ran claims

    store = ClaimStore(str(cluster.settings.database_url))
    for claim_id in claim_ids:
        assert (objects.get_result(claim_id) or {}).get("status") == "complete"
        assert (store.get_result(claim_id) or {}).get("status") == "complete"
        assert objects.get_result(claim_id, "reimbursement.json") is not None
    assert store.count(ClaimRow) == CLAIMS
    assert store.count(StatusHistoryRow) == CLAIMS
    assert store.count(CalculationRow) == CLAIMS
