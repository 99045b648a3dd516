"""Registry of tasks: each task lives in its own module next to its metrics and figures."""

from __future__ import annotations

from typing import Any

from gankit.config.builtins import BUILTIN_NAMES, check_data_source, looks_like_path
from gankit.core.errors import GankitError
from gankit.core.registry import Registry
from gankit.tasks.base import Task, build_task
from gankit.tasks.images import Digits, ImageFolder
from gankit.tasks.mixture1d import Mixture1D
from gankit.tasks.mixture2d import Grid, Ring
from gankit.tasks.parabola import Parabola

TASKS: Registry[type[Task]] = Registry("dataset")
TASKS.register("parabola")(Parabola)
TASKS.register("mixture1d")(Mixture1D)
TASKS.register("ring")(Ring)
TASKS.register("grid")(Grid)
TASKS.register("digits")(Digits)
TASKS.register("images")(ImageFolder)


def _table() -> type[Task]:
    from gankit.tasks.table import Table  # with pandas: imported by the runs on a table only

    return Table


TASKS.register_lazy("table", _table)


def make_task(name: str, params: dict[str, Any] | None = None, saved: dict[str, Any] | None = None) -> Task:
    """The task ``name`` with ``params``; rebuilt from a run's ``saved`` state
    (:mod:`gankit.tasks.saved`) instead of its source when one is given."""
    return build_task(TASKS.get(name), dict(params or {}), saved)


def data_source(source: str) -> tuple[str, dict[str, Any]]:
    """``--data SOURCE`` as a task name and its parameters: a registered name as it is, a path
    (file or folder) given to the first task that accepts it, as ``data.path``."""
    if source in TASKS:
        return source, {}
    for name in TASKS:
        if TASKS.get(name).accepts(source):
            if name in BUILTIN_NAMES["dataset"]:  # a task added in Python may read what is no file
                check_data_source(source)
            return name, {"path": source}
    check_data_source(source)
    if looks_like_path(source):
        raise GankitError(f"no dataset reads '{source}' (a dataset name is one of: "
                          f"{', '.join(TASKS.names())})")
    return source, {}  # not a path: validation names the unknown dataset, with a did-you-mean


__all__ = ["TASKS", "Task", "make_task"]
