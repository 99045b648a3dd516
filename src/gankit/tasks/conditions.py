"""Conditions are data: the part of a task's interface that a conditional GAN (by
concatenation, Mirza & Osindero 2014) reads, with the unconditional answers.

A task with a condition vector ``c`` of ``condition_width`` values has G read ``z`` followed by
``c`` and D read a point followed by the ``c`` it meets. Real batches carry their conditions
(the task's sampler, :meth:`Conditions.condition_real`); everything past D sees points without
them (:meth:`Conditions.data_part`). Without conditions (width 0) nothing is drawn and nothing
changes. What a user may ask for is named by ``data.condition`` (:attr:`condition_names` lists
what a task accepts) and asked with ``Run.sample(condition=...)`` / ``--condition NAME=VALUE``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from gankit.core.errors import GankitError, did_you_mean


class Conditions:
    """The condition methods of :class:`gankit.tasks.Task`: none, unless a task overrides them."""

    @property
    def condition_width(self) -> int:
        """The condition vector's width; 0: an unconditional task."""
        return 0

    def conditions(self, n: int, generator: torch.Generator, training: bool) -> torch.Tensor:
        """``[n, condition_width]`` conditions for generated points: as training draws them
        (``training``), or as the data have them (what samples and evaluations use)."""
        return torch.empty((n, 0), device=generator.device)

    def condition_real(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Real points ``[n, *shape]`` followed by conditions they meet: what D sees of them.
        The points themselves (no draw) for an unconditional task."""
        return x

    def calibration_points(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` of the task's :meth:`calibration_rows` followed by the conditions they meet:
        the real points refinement scores. A task whose conditions are labels overrides it."""
        rows = self.calibration_rows(n, generator).to(generator.device)  # type: ignore[attr-defined]
        return self.condition_real(rows, generator)

    def real_with_conditions(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` fresh real points (as ``sample`` draws them) followed by their conditions: the
        real side of an evaluation. A task whose conditions are labels overrides it."""
        return self.condition_real(self.sample(n, generator), generator)  # type: ignore[attr-defined]

    def attach_conditions(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """G's points (after :meth:`output_head`) followed by the conditions they were asked
        for: what D sees. A task with hard conditions first makes the points meet them."""
        return torch.cat([x, c], dim=-1)

    # What a user may ask for (data.condition names them; Run.sample(condition=...) asks).
    condition_names: tuple[str, ...] = ()
    # Whether the condition vector is the one-hot of one class (what ACGAN's class head names):
    # the mixtures' mode and an image's class; not the curves' a, nor a table's columns.
    condition_is_class: bool = False

    def condition_vector(self, values: dict[str, Any], n: int, device: Any = "cpu",
                         extrapolate: bool = False) -> torch.Tensor:
        """``[n, condition_width]`` conditions asking every point for ``values`` (a name of
        ``data.condition`` -> a value); bad names and values refused in one line."""
        name = getattr(self, "name", "")
        raise GankitError(f"this run of '{name}' is not conditional: it was trained without "
                          "data.condition, so it cannot be asked for a condition")

    def asked(self, condition: dict[str, Any] | Sequence[dict[str, Any]], n: int, device: Any = "cpu",
              extrapolate: bool = False) -> torch.Tensor:
        """``[n, condition_width]`` vectors of what a user asks for: one ``condition`` for every
        point, or one per point (a sequence of ``n``; equal requests are read once)."""
        if isinstance(condition, dict):
            return self.condition_vector(condition, n, device, extrapolate)
        if len(condition) != n:
            raise GankitError(f"{len(condition)} conditions were given for {n} samples: give one per sample")
        read: dict[tuple, torch.Tensor] = {}
        rows = []
        for wanted in condition:
            key = tuple(sorted((str(k), str(v)) for k, v in wanted.items()))
            if key not in read:
                read[key] = self.condition_vector(dict(wanted), 1, device, extrapolate)
            rows.append(read[key])
        return torch.cat(rows)

    def condition_figure(self, sample: Any, path: Any) -> Any:
        """A picture of a conditional run's samples by condition at ``path`` (``sample(condition,
        n, seed)`` draws them in the user's form); its path, or None (no condition, no picture)."""
        return None

    def condition_metrics(self, points: np.ndarray) -> dict[str, float]:
        """Metrics of generated points followed by the conditions they were asked for (``[n,
        width + condition_width]``): how well they meet them (e.g. ``condition_error``)."""
        return {}

    def data_part(self, x: Any) -> Any:
        """Points as D sees them -> the points alone (conditions dropped)."""
        return x[..., :x.shape[-1] - self.condition_width] if self.condition_width else x


def name_list(key: str, value: Any) -> tuple[str, ...]:
    """``["a", "b"]``, ``"a,b"`` or ``"[a,b]"`` (what --set leaves of an unquoted list) as names."""
    if isinstance(value, str):
        text = value.strip().removeprefix("[").removesuffix("]")
        return tuple(part.strip().strip("'\"") for part in text.split(",") if part.strip())
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    items = list(value) if isinstance(value, (list, tuple)) else [value]  # 7 and [7] read alike
    raise GankitError(f"data.{key} must be a list of names, e.g. data.{key}=[\"a\",\"b\"], got {items!r}")


def check_condition_names(task: Any, names: tuple[str, ...], known: tuple[str, ...] | None = None,
                          where: str = "data.condition") -> None:
    """Refuse a name ``where`` gives that is not among ``known`` (default: what the task can be
    conditioned on), with the accepted ones."""
    known = task.condition_names if known is None else known
    for name in names:
        if name not in known:
            accepted = ", ".join(known) or "none"
            raise GankitError(f"{where} names '{name}', which this '{task.name}' run is not conditioned on"
                              f"{did_you_mean(name, known)}; accepted: {accepted}")
