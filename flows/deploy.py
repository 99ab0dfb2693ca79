"""Register the intake's flows as deployments of a Prefect work pool (see README, Deployment).

    prefect work-pool create intake --type process
    python -m flows.deploy --pool intake
    intake worker --pool intake                   # on every machine that should run claims

The deployments name their flows by module path (`flows.prefect_flows.process_claim`), so a
worker needs only the installed project, not a copy of this checkout at the same path: every
machine with `make setup` done and the same INTAKE_* settings can run any claim.
"""

from __future__ import annotations

import argparse
from typing import Any
from uuid import UUID

from flows.prefect_env import configure_prefect

DEPLOYMENT = "intake"


def intake_flows() -> list[Any]:
    """The flows a work pool runs: claims, batches, reviews and bulk scans."""
    from flows.bulk_flow import ingest_bulk_scan
    from flows.prefect_flows import process_claim, process_pending, reprocess_claim

    return [process_claim, process_pending, reprocess_claim, ingest_bulk_scan]


def deploy_flows(pool: str, name: str = DEPLOYMENT) -> dict[str, str]:
    """Create or update one deployment per flow on `pool`; `{"<flow>/<name>": id}`."""
    from prefect.deployments.runner import deploy
    from prefect.types.entrypoint import EntrypointType

    deployments = [
        flow.to_deployment(name=name, entrypoint_type=EntrypointType.MODULE_PATH)
        for flow in intake_flows()
    ]
    ids: list[UUID] = deploy(  # type: ignore[assignment]  # sync here: async_dispatch
        *deployments,
        work_pool_name=pool,
        build=False,
        push=False,
        print_next_steps_message=False,
        ignore_warnings=True,
    )
    return {f"{d.flow_name}/{d.name}": str(i) for d, i in zip(deployments, ids, strict=True)}


def main(argv: list[str] | None = None) -> None:
    configure_prefect()  # before anything imports prefect: Prefect reads its settings then
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pool", required=True, help="the work pool (prefect work-pool create)")
    parser.add_argument("--name", default=DEPLOYMENT, help="deployment name (default: intake)")
    args = parser.parse_args(argv)
    for deployment, deployment_id in deploy_flows(args.pool, args.name).items():
        print(f"{deployment}  {deployment_id}")


if __name__ == "__main__":
    main()
