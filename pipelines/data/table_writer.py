"""Append Arrow tables chunk by chunk to a CSV or Parquet file."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq


class TableWriter:
    """Opens the file on the first chunk; the first chunk's schema is the file's schema."""

    def __init__(self, path: Path, fmt: str) -> None:
        self.path = Path(path)
        self.fmt = fmt
        self.rows = 0
        self._writer: pcsv.CSVWriter | pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None

    def write(self, table: pa.Table) -> None:
        if self._writer is None:
            self._schema = table.schema
            if self.fmt == "csv":
                self._writer = pcsv.CSVWriter(self.path, table.schema)
            else:
                self._writer = pq.ParquetWriter(self.path, table.schema, compression="zstd")
        self._writer.write_table(table.cast(self._schema))
        self.rows += table.num_rows

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
