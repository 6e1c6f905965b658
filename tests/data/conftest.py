from __future__ import annotations

import duckdb
import pytest

from pipelines.data.load import load_data_dir

from .helpers import STAGE_VALUES, write_dir


@pytest.fixture
def con():
    connection = duckdb.connect()
    yield connection
    connection.close()


@pytest.fixture
def load(tmp_path, con):
    """load(**tables) -> (report, con): write a data directory and load it."""

    def _load(**tables: str):
        data = write_dir(tmp_path / "data", **tables)
        return load_data_dir(data, con, STAGE_VALUES), con

    return _load
