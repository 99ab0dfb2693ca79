"""Orchestration: the `intake` command line (and, later, Prefect flows) over `pipeline`."""
