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
