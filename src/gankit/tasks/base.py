"""What a task (a dataset with known truth) provides to the rest of gankit."""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import torch

from gankit.errors import GankitError, did_you_mean


class Task(ABC):
    """A sampler of real data that also knows how to score and draw generated data.

    Subclasses are dataclasses whose fields are the task's parameters (the ``[data]`` section
    of a config, besides ``name``).
    """

    name: str = ""
    eval_samples: int = 16384  # generated samples per evaluation unless log.eval_samples says otherwise
    figure_points: int = 8  # generated samples drawn in a snapshot of the task's figure

    @property
    @abstractmethod
    def dim(self) -> int:
        """Size of one data point."""

    @abstractmethod
    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` real points as float32, on the generator's device, drawn from ``generator``."""

    @abstractmethod
    def metrics(self, fake: np.ndarray) -> dict[str, float]:
        """The task's exact quality metrics for generated points (rows of ``fake``)."""

    def success(self, metrics: dict[str, float]) -> bool:
        """Whether a run with these metrics counts as having learned the task."""
        return False

    @abstractmethod
    def draw_samples(self, ax: Any, real: np.ndarray, fake: np.ndarray) -> None:
        """Draw a few real and generated points on a matplotlib axis."""

    def extra_figures(self, fake: np.ndarray, figures_dir: Any,
                      metrics: dict[str, Any] | None = None) -> list[Any]:
        """Task-specific figures of a final generated sample; returns the paths written.
        Numbers shown are ``metrics`` (the run's summary) when given, else computed on ``fake``."""
        return []

    def discriminator_figure(self, discriminator: Any, device: Any, path: Any) -> Any:
        """A picture of D over the data space, where the task has one; returns its path or None."""
        return None


def build_task(task_class: type[Task], params: dict[str, Any]) -> Task:
    """Instantiate a task, answering unknown or mistyped parameters with a GankitError."""
    fields = {f.name: f for f in dataclasses.fields(task_class)}  # type: ignore[arg-type]
    for key, value in params.items():
        if key not in fields:
            raise GankitError(
                f"unknown parameter data.{key} for dataset '{task_class.name}'"
                f"{did_you_mean(key, fields)}; accepted: {', '.join(fields)}"
            )
        default = fields[key].default
        if isinstance(default, tuple):  # a list-valued parameter; the task checks the items
            if not isinstance(value, (list, tuple, int, float)) or isinstance(value, bool):
                raise GankitError(f"data.{key} must be a number or a list of numbers, got {value!r}")
            params[key] = tuple(value) if isinstance(value, (list, tuple)) else value
            continue
        expected = type(default)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            params[key] = value = float(value)
        if not isinstance(value, expected) or isinstance(value, bool) != isinstance(default, bool):
            raise GankitError(
                f"data.{key} must be of type {expected.__name__}, got {value!r}"
            )
    return task_class(**params)
