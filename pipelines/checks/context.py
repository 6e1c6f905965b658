"""The GX project folder and GX contexts, offline.

Import great_expectations only through `gx()`: it sets the environment first (no usage
statistics, no tqdm progress bars) and keeps the ~3 s import out of the light commands.
"""

from __future__ import annotations

import os
import shutil
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.errors import InputError, Problem

if TYPE_CHECKING:
    from great_expectations.data_context import AbstractDataContext, FileDataContext

DEFAULT_PROJECT_DIR = Path("expectations")
CONFIG = Path("gx") / "great_expectations.yml"

_GITIGNORE = """\
# Written by GX at run time: validation results, data docs, local variables.
gx/uncommitted/
# Created by GX on first use; nothing of ours lives there.
gx/plugins/
"""

OFFLINE_ENV = {
    "GX_ANALYTICS_ENABLED": "False",
    "TQDM_DISABLE": "1",
}


def gx():
    """The great_expectations module, imported with the offline environment in place."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    import great_expectations

    return great_expectations


def ensure_project(project_dir: Path) -> None:
    """Make `project_dir` a GX project (config and .gitignore) unless it already is one."""
    config = project_dir / CONFIG
    if not config.exists():
        config.parent.mkdir(parents=True, exist_ok=True)
        template = resources.files("pipelines.checks").joinpath("great_expectations.yml")
        with resources.as_file(template) as src:
            shutil.copyfile(src, config)
    ignore = project_dir / ".gitignore"
    if not ignore.exists():
        ignore.write_text(_GITIGNORE, encoding="utf-8")


def file_context(project_dir: Path = DEFAULT_PROJECT_DIR) -> FileDataContext:
    ensure_project(project_dir)
    great_expectations = gx()
    from great_expectations.exceptions import GreatExpectationsError

    try:
        return great_expectations.get_context(mode="file", project_root_dir=str(project_dir))
    except GreatExpectationsError as exc:  # a config edited by hand: bad input, not a bug
        raise InputError(Problem(
            f"Great Expectations cannot open this project ({type(exc).__name__}: {' '.join(str(exc).split())}); "
            "expected the config funnelpact writes (delete the file and `funnelpact compile` writes it again)",
            file=str(project_dir / CONFIG))) from None


def ephemeral_context() -> AbstractDataContext:
    """An in-memory context: validation writes nothing to disk."""
    great_expectations = gx()
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    return great_expectations.get_context(mode="ephemeral", project_config=config)
