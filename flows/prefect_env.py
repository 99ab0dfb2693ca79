"""Prefect's settings for every intake process, set before `prefect` is first imported.

Prefect reads its settings once, when `prefect` is imported: an `os.environ` change made after
that reaches only the subprocesses it starts, not the process itself. So every entry point (the
`intake` command and its `intake worker`, `python -m flows.deploy`, the benches, the tests)
calls `configure_prefect` before anything imports `prefect`, and the modules that import
`prefect` at their top (`flows/prefect_flows.py`, `flows/bulk_flow.py`) call it first too. When
Prefect is not imported yet it sets the variables; when it is, it checks that the imported
Prefect has them and raises `PrefectSettingsError` if not (the process would otherwise write to
`~/.prefect` and give the temporary server Prefect's 20 s to start).

The variables (an operator's own `PREFECT_*` variables win):

- `PREFECT_HOME` = `<INTAKE_STATE_DIR>/prefect`: Prefect's database, memo store and profiles
  live with the rest of the state, never in `~/.prefect`;
- `PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS` = `INTAKE_PREFECT_STARTUP_TIMEOUT` (180):
  the first run creates the temporary server's database, longer than 20 s on two busy cores;
- `PREFECT_SERVER_ANALYTICS_ENABLED=false`, `DO_NOT_TRACK=1`: no telemetry;
- `PREFECT_LOGGING_LEVEL`: WARNING unless the caller asks for more.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.settings import Settings, get_settings

log = logging.getLogger(__name__)

HOME = "PREFECT_HOME"
STARTUP_TIMEOUT = "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"
EPHEMERAL_TIMEOUT_MESSAGE = "Timed out while attempting to connect to ephemeral Prefect API server"
_EXIT_CODE = re.compile(r"exited with code (-?\d+)")


class PrefectSettingsError(RuntimeError):
    """`prefect` was imported before `configure_prefect` set its environment."""


class PrefectUnavailableError(RuntimeError):
    """Prefect's temporary local server did not come up; the message says what to do."""


def prefect_home(settings: Settings) -> Path:
    return settings.state_dir.resolve() / "prefect"


def prefect_environment(settings: Settings, log_level: str = "WARNING") -> dict[str, str]:
    """The variables the intake gives Prefect, for this process or a subprocess's env (create
    the home folder first: Prefect creates only its last level)."""
    return {
        HOME: str(prefect_home(settings)),
        STARTUP_TIMEOUT: str(settings.prefect_startup_timeout),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_LOGGING_LEVEL": log_level,
    }


def configure_prefect(
    settings: Settings | None = None, log_level: str = "WARNING", *, create_home: bool = True
) -> None:
    """Give this process (and its subprocesses) the intake's Prefect settings.

    Call it before the first `import prefect`. Variables already set are kept, so the first
    call of a process decides; a later call, or one made after Prefect was imported, checks
    that the imported Prefect uses what the environment now says. The home folder is created
    unless `create_home` is false (the CLI: most commands never start Prefect)."""
    for name, value in prefect_environment(settings or get_settings(), log_level).items():
        os.environ.setdefault(name, value)
    if create_home:
        Path(os.environ[HOME]).expanduser().mkdir(parents=True, exist_ok=True)
    if "prefect" in sys.modules:
        check_prefect_settings()


def check_prefect_settings() -> None:
    """Raise PrefectSettingsError when the imported Prefect disagrees with the environment."""
    from prefect.settings import Settings as PrefectSettings
    from prefect.settings import get_current_settings

    current, wanted = get_current_settings(), PrefectSettings()
    differences = [
        f"{name} = {now} instead of {expected}"
        for name, now, expected in (
            (HOME, current.home.resolve(), wanted.home.resolve()),
            (
                STARTUP_TIMEOUT,
                current.server.ephemeral.startup_timeout_seconds,
                wanted.server.ephemeral.startup_timeout_seconds,
            ),
            (
                "PREFECT_SERVER_ANALYTICS_ENABLED",
                current.server.analytics_enabled,
                wanted.server.analytics_enabled,
            ),
        )
        if now != expected
    ]
    if differences:
        raise PrefectSettingsError(
            "Prefect was imported before the intake set its settings, so this process uses "
            f"{'; '.join(differences)}: call flows.prefect_env.configure_prefect() before the "
            "first `import prefect` (and start Prefect workers with `intake worker`)"
        )


@contextmanager
def prefect_server_errors() -> Iterator[None]:
    """Turn Prefect's failure to start its temporary local server into one sentence saying
    what happened and what to do (PrefectUnavailableError); Prefect's own text is logged."""
    try:
        yield
    except RuntimeError as exc:
        cause = _ephemeral_timeout(exc)
        if cause is None:
            raise
        log.info("Prefect: %s", cause)
        raise PrefectUnavailableError(unavailable_message(str(cause))) from exc


def unavailable_message(prefect_message: str = "") -> str:
    """The sentence for a temporary server that did not come up."""
    from prefect.settings import get_current_settings

    current = get_current_settings()
    seconds = current.server.ephemeral.startup_timeout_seconds
    exited = _EXIT_CODE.search(prefect_message)
    what = (
        f"exited with code {exited.group(1)} while starting"
        if exited
        else f"did not answer within {seconds} s"
    )
    return (
        f"Prefect's local server {what} (its first start creates a database under "
        f"{current.home}, which is slow on a busy machine); run the command again, or allow "
        f"it more time with INTAKE_PREFECT_STARTUP_TIMEOUT={max(2 * seconds, 300)}"
    )


def _ephemeral_timeout(exc: BaseException) -> BaseException | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if EPHEMERAL_TIMEOUT_MESSAGE in str(current):
            return current
        current = current.__cause__ or current.__context__
    return None
