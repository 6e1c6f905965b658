"""The warehouse: the DuckDB path, the agreement tables, and invoking dbt."""
