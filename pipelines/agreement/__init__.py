"""The agreement: file model, loading and validation, planner, diff and JSON Schema."""

from pipelines.agreement.load import (
    load_agreements,
    revision_in_force,
    stage_value_map,
)
from pipelines.agreement.model import Agreement

__all__ = ["Agreement", "load_agreements", "revision_in_force", "stage_value_map"]
