"""Placeholder: commands are added here by their owning module."""

import typer


def register(app: typer.Typer) -> None:
    pass
