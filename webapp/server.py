"""Start the review app: S3 (embedded unless configured), the claim store, Prefect, uvicorn."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from pipeline.settings import Settings
from webapp.accounts import Accounts, Role
from webapp.app import create_app

log = logging.getLogger(__name__)

DEMO_USER = "demo"


def build_app(runtime: Any, reprocess: Callable[[str], dict[str, Any]] | None = None) -> FastAPI:
    """The app over a flows Runtime; corrections go through the reprocess-claim flow."""
    if reprocess is None:
        from flows.prefect_flows import reprocess_claim

        reprocess = reprocess_claim
    return create_app(runtime.settings, runtime.store, runtime.objects, reprocess)


def _warm_prefect() -> None:
    """Start Prefect's engine in the background so the first correction is not slow."""
    from prefect import flow

    @flow(name="review-app-ready")
    def ready() -> str:
        return "ready"

    from flows.prefect_env import prefect_server_errors

    try:
        with prefect_server_errors():
            ready()
    except Exception as exc:  # the app works without it; the first save will start Prefect
        log.warning("Prefect warm-up failed: %s", exc)


def demo_login(accounts: Accounts) -> tuple[str, str]:
    """A fresh password for the demo reviewer (created when missing), to print once."""
    password = secrets.token_urlsafe(9)
    accounts.set_password(DEMO_USER, password, Role.REVIEWER)
    return DEMO_USER, password


def serve(
    settings: Settings,
    host: str,
    port: int,
    echo: Callable[[str], None] = print,
    show_demo_login: bool = False,
) -> None:
    """Run the app until interrupted (Ctrl-C)."""
    import uvicorn

    from flows.pipeline_run import s3_endpoint
    from flows.prefect_env import configure_prefect

    configure_prefect(settings)  # before flows.prefect_flows imports prefect
    from flows.prefect_flows import Runtime

    with s3_endpoint(settings) as endpoint:
        runtime = Runtime.install(Runtime(settings, endpoint=endpoint))
        try:
            app = build_app(runtime)
            threading.Thread(target=_warm_prefect, daemon=True).start()
            echo(f"Review app: http://{host}:{port}/login   (S3 at {endpoint}; Ctrl-C stops)")
            if show_demo_login:
                user, password = demo_login(app.state.accounts)
                echo(f"Log in as {user} / {password}   (a new password each start)")
            uvicorn.run(app, host=host, port=port, log_level="warning")
        finally:
            Runtime.reset()
