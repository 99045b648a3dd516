"""Registry of tasks: each task lives in its own module next to its metrics and figures."""

from __future__ import annotations

from typing import Any

from gankit.registry import Registry
from gankit.tasks.base import Task, build_task
from gankit.tasks.mixture1d import Mixture1D
from gankit.tasks.mixture2d import Grid, Ring
from gankit.tasks.parabola import Parabola

TASKS: Registry[type[Task]] = Registry("dataset")
TASKS.register("parabola")(Parabola)
TASKS.register("mixture1d")(Mixture1D)
TASKS.register("ring")(Ring)
TASKS.register("grid")(Grid)


def make_task(name: str, params: dict[str, Any] | None = None) -> Task:
    return build_task(TASKS.get(name), dict(params or {}))


__all__ = ["TASKS", "Task", "make_task"]
