"""The agreement: file model, loading and validation, planner, diff and JSON Schema."""

from pipelines.agreement.load import (
    DEFAULT_SLA_DIR,
    load_agreements,
    revision_in_force,
    stage_value_map,
)
from pipelines.agreement.model import Agreement

__all__ = ["DEFAULT_SLA_DIR", "Agreement", "load_agreements", "revision_in_force", "stage_value_map"]
