"""What a task (a dataset with known truth) provides to the rest of gankit."""

from __future__ import annotations

import dataclasses
import io
from abc import ABC, abstractmethod
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gankit.core.atomic import atomic_write_bytes
from gankit.core.errors import GankitError, did_you_mean
from gankit.metrics import general_metrics
from gankit.tasks.conditions import Conditions


class Task(Conditions, ABC):
    """A sampler of real data that also knows how to score and draw generated data.

    Subclasses are dataclasses whose fields are the task's parameters (the ``[data]`` section
    of a config, besides ``name``).
    """

    name: str = ""
    eval_samples: int = 16384  # generated samples per evaluation unless log.eval_samples says otherwise
    figure_points: int = 8  # generated samples drawn in a snapshot of the task's figure

    preset: str = "default"  # the preset ``--data NAME`` starts from unless --preset says otherwise
    # Rows decoded and written at once by ``gankit sample``; None: the whole sample in one piece.
    # A task whose decoded rows are heavy (a table's DataFrame) sets it to bound the memory.
    sample_chunk_rows: int | None = None

    @property
    @abstractmethod
    def shape(self) -> tuple[int, ...]:
        """Shape of one data point as the networks see it (encoded), e.g. ``(15,)`` or ``(1, 8, 8)``."""

    @abstractmethod
    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` real points ``[n, *shape]`` as float32, on the generator's device, drawn from
        ``generator``."""

    def calibration_rows(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` real points that D was not trained on, as :meth:`sample` returns them: what
        refinement (:mod:`gankit.evaluation.refine`) calibrates D on and starts MH chains from.
        Fresh draws of :meth:`sample` here (a known law has no training rows to avoid); a task
        with a finite set of rows returns its held-out rows (:func:`cycled_order`)."""
        return self.sample(n, generator)

    def sampler(self, generator: torch.Generator) -> Sampler:
        """The stream of real batches one member trains on; its state goes into checkpoints."""
        return Sampler(self, generator)

    @property
    def training_rows(self) -> int | None:
        """How many rows training draws from, for a task with a finite set of them (a table's
        training rows: its default length follows them); None for a law sampled afresh."""
        return None

    def include_held_out(self) -> bool:
        """Train on every row from now on, the held-out ones too: the last phase of a run whose
        length the held-out rows chose. False (and nothing changes) for a task without a finite
        set of held-out rows. The streams' samplers must be rebuilt after it
        (:meth:`gankit.training.streams.Streams.restart_samplers`)."""
        return False

    @classmethod
    def accepts(cls, source: str) -> bool:
        """Whether ``--data SOURCE`` (a file or folder path) is data this task reads; the task
        then gets ``data.path = SOURCE``. Built-in distributions read no files."""
        return False

    def use_run_folder(self, path: Any) -> None:
        """The run folder this task's run reads and writes, for whatever the task caches there
        (the digits' reference classifier) or keeps there (a task reading the user's files
        writes its :meth:`saved_state`). Nothing here."""
        return None

    def saved_state(self) -> dict[str, Any] | None:
        """What sampling, decoding and evaluating need of this task's data, so that a run works
        without its source: plain values and numpy arrays (:mod:`gankit.tasks.saved`), or None
        when the task needs nothing kept (built-in distributions). It is also what an exported
        model carries (the digits' is their reference classifier alone, for the export: their run
        folder keeps it in ``reference_classifier.pt``)."""
        return None

    @classmethod
    def from_saved_state(cls, params: dict[str, Any], state: dict[str, Any]) -> Task:
        """The task rebuilt from ``params`` and a :meth:`saved_state`, without reading its
        source. Built from its parameters alone here: a task with no state ignores one."""
        return cls(**params)

    def output_head(self, x: torch.Tensor) -> torch.Tensor:
        """Applied to G's raw output ``[members, batch, *shape]`` before D or decoding sees it:
        e.g. a softmax over each categorical column's one-hot span. The identity here."""
        return x

    def generator_term(self, fake: torch.Tensor, real: torch.Tensor) -> torch.Tensor | None:
        """A term added to G's loss, per member, from G's points and the real batch (each
        ``[members, batch, width]`` as D sees them, conditions included): e.g. a table's
        one-hot shares matched. None (no term) here."""
        return None

    def decode(self, x: torch.Tensor | np.ndarray) -> Any:
        """Generated tensors -> the user's form (a numpy array here; a table or images elsewhere)."""
        return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)

    @classmethod
    def check_output(cls, out: Path, folder_form: bool) -> None:
        """Refuse an output that :meth:`write_samples` would not write, before the run is loaded
        (seconds): a .npy file, or a .csv table of one row per point. ``folder_form``: the user
        named a folder (``--out DIR/``, or an existing one)."""
        if folder_form:
            raise GankitError(f"--out DIR/ writes PNG images, but this run's data ('{cls.name}') "
                              "are not images; use --out FILE.npy or FILE.csv")
        if out.suffix not in (".npy", ".csv"):
            raise GankitError(f"--out must end in .npy or .csv, got '{out.name}'")
        if not out.parent.is_dir():
            raise GankitError(f"cannot write '{out}': folder '{out.parent}' does not exist")

    def write_samples(self, chunks: Iterable[Any], out: Path) -> str:
        """Write decoded samples (the chunks of ``Run.sample_chunks``) to ``out``, which appears
        only when complete; returns the line that says what was written."""
        parts = [np.asarray(chunk) for chunk in chunks]
        # One chunk is written as it is: a concatenated copy could change the .npy header's order.
        samples = parts[0] if len(parts) == 1 else np.concatenate(parts)
        if out.suffix == ".npy":
            buffer = io.BytesIO()
            np.save(buffer, samples)
            data = buffer.getvalue()
        else:
            if samples.ndim != 2:
                raise GankitError(f"samples of shape {samples.shape[1:]} do not fit a CSV table; "
                                  "use --out FILE.npy")
            lines = [",".join(self.column_names(samples.shape[1]))]
            lines += [",".join(f"{v:.7g}" for v in row) for row in samples]
            data = ("\n".join(lines) + "\n").encode()
        try:
            atomic_write_bytes(out, data)
        except OSError as exc:
            raise GankitError(f"cannot write '{out}': {exc.strerror}") from None
        return f"wrote {len(samples)} samples of size {samples.shape[1]} to {out}"

    def column_names(self, dim: int) -> list[str]:
        """A CSV header for points of ``dim`` values: the coordinates ``x0``, ``x1``, ... here."""
        return [f"x{i}" for i in range(dim)]

    @abstractmethod
    def metrics(self, fake: np.ndarray) -> dict[str, float]:
        """The task's exact quality metrics for generated points (rows of ``fake``)."""

    def general_metrics(self, real: np.ndarray, fake: np.ndarray, real2: np.ndarray) -> dict[str, float]:
        """The sample-based metrics of :mod:`gankit.metrics` on flattened rows, each with its
        floor from ``real2``; a task whose real draws can overlap (a finite held-out set) may
        compare with disjoint real samples of its own instead. A task with a finite held-out
        set in ``holdout_rows`` (a table) does so here: ``real`` and ``real2``, drawn from its
        training rows with replacement, are not used (see :func:`gankit.metrics.held_out_metrics`)."""
        held = getattr(self, "holdout_rows", None)
        if held is not None:
            from gankit.metrics import held_out_metrics

            return held_out_metrics(np.asarray(held), fake)
        return general_metrics(real, fake, real2)

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


def cycled_order(m: int, n: int, generator: torch.Generator) -> torch.Tensor:
    """``n`` indices of ``m`` rows (on the CPU): random orders of all of them one after another,
    so that no row repeats before every row has been drawn."""
    return torch.cat([torch.randperm(m, generator=generator, device=generator.device)
                      for _ in range(-(-n // m))])[:n].cpu()


class Sampler:
    """Draws real batches from a task with one random generator; a task with a finite set of
    rows returns a :class:`RowSampler` instead. ``state_dict`` is everything resume needs."""

    def __init__(self, task: Task, generator: torch.Generator) -> None:
        self.task = task
        self.generator = generator

    def draw(self, n: int) -> torch.Tensor:
        return self.task.condition_real(self.task.sample(n, self.generator), self.generator)

    def state_dict(self) -> dict[str, Any]:
        return {"rng": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["rng"])


class RowSampler(Sampler):
    """Epochs over a fixed tensor of rows, each in a fresh random order without replacement.

    The order of the current epoch and the position in it are part of the state, so a resumed
    run draws exactly the rows the uninterrupted run would have drawn.
    """

    def __init__(self, rows: torch.Tensor, generator: torch.Generator) -> None:
        self.rows = rows
        self.generator = generator
        self.order = torch.empty(0, dtype=torch.long)
        self.position = 0

    def draw(self, n: int) -> torch.Tensor:
        picks = []
        while n > 0:
            if self.position >= len(self.order):
                self.order = torch.randperm(len(self.rows), generator=self.generator,
                                            device=self.generator.device).cpu()
                self.position = 0
            take = self.order[self.position:self.position + n]
            self.position += len(take)
            n -= len(take)
            picks.append(take)
        return self.rows[torch.cat(picks).to(self.rows.device)].to(self.generator.device)

    def state_dict(self) -> dict[str, Any]:
        return {"rng": self.generator.get_state(), "order": self.order.clone(), "position": self.position}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.set_state(state["rng"])
        self.order = state["order"].clone()
        self.position = int(state["position"])


def build_task(task_class: type[Task], params: dict[str, Any], saved: dict[str, Any] | None = None) -> Task:
    """Instantiate a task, answering unknown or mistyped parameters with a GankitError; from a
    run's ``saved`` state (:meth:`Task.from_saved_state`) when one is given."""
    fields = {f.name: f for f in dataclasses.fields(task_class)}  # type: ignore[arg-type]
    for key, value in params.items():
        if key not in fields:
            raise GankitError(
                f"unknown parameter data.{key} for dataset '{task_class.name}'"
                f"{did_you_mean(key, fields)}; accepted: {', '.join(fields)}"
            )
        default = fields[key].default
        if default is dataclasses.MISSING and fields[key].default_factory is not dataclasses.MISSING:
            default = fields[key].default_factory()  # a table of settings, e.g. data.types
        if isinstance(default, tuple):  # a list-valued parameter; the task checks the items
            if isinstance(value, str) and default == ():  # a list of names, e.g. a table's columns
                continue
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
    return task_class(**params) if saved is None else task_class.from_saved_state(params, saved)
