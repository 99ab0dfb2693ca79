"""The full `intake` command: the pipeline commands of `flows.cli` plus the web app's.

`serve` starts the review and upload app; `users add` creates accounts. `demo --serve` runs
the main job and then keeps the review app up over its results.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import Annotated

import typer

from flows.cli import app, servers_or_exit
from flows.cli import demo as run_demo
from pipeline.errors import IntakeError
from pipeline.settings import get_settings

# `demo` is redefined below with --serve; drop the pipeline-only version.
app.registered_commands = [c for c in app.registered_commands if c.callback is not run_demo]
users_app = typer.Typer(help="Review-app accounts.", no_args_is_help=True)
app.add_typer(users_app, name="users")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    demo_login: Annotated[
        bool, typer.Option(help="create or reset the 'demo' reviewer and print its password")
    ] = False,
) -> None:
    """Start the review and upload web app (login at /login, queue at /claims, API at /api/).

    Uses the embedded S3 server unless INTAKE_S3_ENDPOINT is set, and the claim store of
    INTAKE_DATABASE_URL (default: SQLite under the state dir). Create accounts first with
    `intake users add NAME`.
    """
    from webapp.server import serve as run_server

    with servers_or_exit():
        run_server(get_settings(), host, port, echo=typer.echo, show_demo_login=demo_login)


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="lower-case login name, e.g. wang.li")],
    role: Annotated[str, typer.Option(help="reviewer or admin")] = "reviewer",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input")
    ] = False,
) -> None:
    """Create a review-app account (the password is asked for, or read with --password-stdin)."""
    from infra.store import ClaimStore
    from webapp.accounts import Accounts, Role

    if role not in {r.value for r in Role}:
        raise typer.BadParameter(f"role must be reviewer or admin, not {role!r}")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password (10+ characters): ")
        if getpass.getpass("Again: ") != password:
            typer.echo("error: the passwords differ", err=True)
            raise typer.Exit(code=1)
    accounts = Accounts(ClaimStore(get_settings().store_url()))
    try:
        accounts.add_user(username, password, Role(role))
    except IntakeError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    typer.echo(f"created {role} {username}")


@users_app.command("list")
def users_list() -> None:
    """Print every account and its role."""
    from infra.store import ClaimStore
    from webapp.accounts import Accounts

    for name, role in Accounts(ClaimStore(get_settings().store_url())).users():
        typer.echo(f"{name}\t{role}")


@app.command("demo")
def demo(
    folder: Annotated[
        Path, typer.Argument(help="folder holding claims/<claim_id>/ folders")
    ] = Path("sample_docs"),
    report: Annotated[Path | None, typer.Option(help="HTML report path")] = None,
    serve_after: Annotated[
        bool, typer.Option("--serve/--no-serve", help="then start the review app on port 8000")
    ] = False,
    port: Annotated[int, typer.Option(help="review app port with --serve")] = 8000,
) -> None:
    """The main job on the embedded default: S3 server, Prefect flows, SQLite claim store.

    Starts a local S3 server (SeaweedFS) unless INTAKE_S3_ENDPOINT points at MinIO/S3, uploads
    the claim folders, processes every pending claim with the Prefect flows (OCR on all
    cores), prints a table and writes an HTML report. With --serve, the review app then
    starts over the results and a login is printed.
    """
    run_demo(folder, report)
    if serve_after:
        from webapp.server import serve as run_server

        with servers_or_exit():
            run_server(get_settings(), "127.0.0.1", port, echo=typer.echo, show_demo_login=True)


if __name__ == "__main__":
    app()
