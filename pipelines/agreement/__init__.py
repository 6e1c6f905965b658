"""The agreement: file model, loading and validation, planner, diff and JSON Schema."""

from pipelines.agreement.load import (
    known_stage_values,
    load_agreements,
    revision_in_force,
)
from pipelines.agreement.model import Agreement

__all__ = ["Agreement", "known_stage_values", "load_agreements", "revision_in_force"]
