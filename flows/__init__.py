"""soetl's flows: the nightly pipeline, its stages, fetching, publishing and the CLI."""

import os

# Project default, before anything imports Prefect: no telemetry from the Prefect server a run starts
# (offline it logs "Failed to send telemetry" at ERROR on every run). Set the variable to true to opt in.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
