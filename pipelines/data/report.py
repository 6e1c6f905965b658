"""What a load did: per table counts, and the data-quality summary of SPEC §7."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TableLoad:
    table_name: str
    present: bool
    rows_read: int = 0
    rows_loaded: int = 0
    duplicate_rows: int = 0
    quarantined_rows: int = 0
    source: str | None = None


@dataclass(frozen=True)
class LoadReport:
    tables: dict[str, TableLoad]
    by_reason: dict[str, int] = field(default_factory=dict)
    # How the warehouse got there (see `mode`). Not part of equality: the same data gives
    # the same report either way.
    why_full: str | None = field(default=None, compare=False)
    new_files: int = field(default=0, compare=False)

    @property
    def mode(self) -> str:
        """"full" (reloaded; why_full says why not appended), "incremental" (new_files
        appended) or "unchanged" (nothing new)."""
        if self.why_full is not None:
            return "full"
        return "incremental" if self.new_files else "unchanged"

    @property
    def quarantined_rows(self) -> int:
        return sum(t.quarantined_rows for t in self.tables.values())

    @property
    def duplicate_rows(self) -> int:
        return sum(t.duplicate_rows for t in self.tables.values())

    def data_quality(self) -> dict:
        """The `data_quality` object of `run --format json`."""
        return {"quarantined_rows": self.quarantined_rows,
                "duplicate_rows": self.duplicate_rows,
                "by_reason": dict(self.by_reason)}
