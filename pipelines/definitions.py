"""The Dagster code location: `dagster dev -w workspace.yaml` loads `defs` from here."""

from pipelines.defs.build import build_definitions

defs = build_definitions()
