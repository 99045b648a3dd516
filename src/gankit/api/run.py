"""A finished (or running) run read back from its folder (or from an exported file,
:mod:`gankit.api.artifact`): sample, evaluate, plot."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gankit.config import Config
from gankit.config.resolve import load_config
from gankit.core.errors import GankitError
from gankit.evaluation import Evaluator
from gankit.evaluation.evaluator import check_member
from gankit.store.checkpoint import open_latest
from gankit.store.rundir import RunFolder
from gankit.tasks import make_task
from gankit.training.trainer import Trainer

if TYPE_CHECKING:
    from gankit.evaluation.refine import Refined, RefineSettings
    from gankit.tasks import Task

__all__ = ["Run", "check_grid", "chunk_seed"]

GRID_IMAGES = 64  # images in Run.save_grid's picture unless told otherwise: 8 x 8


def chunk_seed(seed: int | None, k: int) -> int | None:
    """Chunk ``k``'s noise seed: the seed itself for the first chunk, so that the first rows of
    a file equal ``Run.sample(n, seed)``; a distinct one for each later chunk. The step is odd and
    below 2**32, so the low 32 bits differ from chunk to chunk: torch's CPU generator keeps only
    those (a step of 2**32 gave every chunk the first one's rows)."""
    return None if seed is None else seed + k * 0x9E3779B1


def condition_piece(condition: dict[str, Any] | Sequence[dict[str, Any]] | None, start: int,
                    size: int) -> dict[str, Any] | Sequence[dict[str, Any]] | None:
    """What rows ``start`` to ``start + size`` of a sample drawn in pieces are asked for: the
    one request for every row, or their own of the per-row requests."""
    if condition is None or isinstance(condition, dict):
        return condition
    return condition[start:start + size]


def check_grid(task_class: type[Task], path: str | Path) -> None:
    """Refuse a grid picture :meth:`Run.save_grid` would not draw, from the task's class alone
    (before a run is loaded): a run whose samples are not images, or a file that is not a
    .png in an existing folder."""
    from gankit.tasks.images import ImageTask
    from gankit.tasks.pixels import check_grid_file

    if not issubclass(task_class, ImageTask):
        raise GankitError(f"--grid draws a picture of images, but this run's data ('{task_class.name}') "
                          "are not images; write its samples with --out instead")
    check_grid_file(Path(path))


class Run:
    """A run folder with its trained networks: sample, evaluate, read the summary.

    A run loaded from an exported file (:func:`gankit.load`) has no folder (``folder`` None,
    ``source`` the file): it samples, refines and evaluates; :meth:`plot` needs a run folder
    (the logs), and ``summary`` is the one the file was exported with.
    """

    def __init__(self, folder: RunFolder | None, trainer: Trainer, source: Path | None = None,
                 summary: dict[str, Any] | None = None) -> None:
        self.folder = folder
        self.trainer = trainer
        self.evaluator = Evaluator(trainer)
        self.source = source
        self._summary = summary

    @classmethod
    def load(cls, path: str | Path, device: str | None = None) -> Run:
        """Open a run folder at its latest checkpoint.

        The task is built from the data the run folder keeps (``data.json``, ``data.npz``:
        :mod:`gankit.tasks.saved`) whenever it keeps any, so that a run on a table file or an
        image folder samples, evaluates and plots the same with its source moved, changed or
        deleted. A run written before gankit kept them reads its source (and keeps them then).
        """
        folder = RunFolder(path)
        saved = folder.read_saved()  # a run folder, or a clear error
        folder.load_config(saved)  # a valid config.toml, or a clear error
        state = open_latest(folder.checkpoints)
        config = load_config(state["config"], saved)  # what the weights were trained as
        if device is not None:
            config = dataclasses.replace(config, device=device)
        trainer = Trainer.from_config(config, make_task(config.data.name, config.data.params, saved))
        trainer.load_state_dict(state["trainer"], restore_rng=False)
        trainer.task.use_run_folder(folder.path)
        return cls(folder, trainer)

    @property
    def path(self) -> Path:
        """The run folder, or the exported file a run without one was loaded from."""
        return self.folder.path if self.folder is not None else Path(self.source or "")

    def _run_folder(self, what: str) -> RunFolder:
        if self.folder is None:
            raise GankitError(f"{what} needs a run folder (its logs and figures); this run was loaded "
                              f"from the exported file '{self.source}', which samples, refines and "
                              "evaluates")
        return self.folder

    @property
    def config(self) -> Config:
        return self.trainer.config

    @property
    def task(self) -> Task:
        return self.trainer.task

    @property
    def summary(self) -> dict[str, Any]:
        if self.folder is None:
            return dict(self._summary or {})
        return self.folder.read_summary()

    def sample(self, n: int, seed: int | None = None, member: int = 0,
               refine: str | RefineSettings | None = None,
               condition: dict[str, Any] | Sequence[dict[str, Any]] | None = None,
               extrapolate: bool = False) -> Any:
        """``n`` generated points of one member (from the EMA generator when EMA is on), in the
        user's form (the task's ``decode``: an array for the built-in tasks).

        ``refine`` (``"drs"``, ``"mh"`` or a :class:`gankit.evaluation.refine.RefineSettings`) draws them
        with the discriminator's help; :meth:`refine` also returns the acceptance rate and cost.
        ``condition`` asks a conditional run for points that meet it, e.g. ``{"a": 2.0}``, or for
        each point its own (a list of ``n`` such dicts), refined or not; a number outside the
        training range is refused unless ``extrapolate``.
        """
        if refine is None:
            return self.task.decode(self.evaluator.sample(n, seed, member, condition, extrapolate))
        return self.sample_refined(n, refine, seed, member, condition, extrapolate)[0]

    def sample_chunks(self, n: int, seed: int | None = None, member: int = 0,
                      condition: dict[str, Any] | Sequence[dict[str, Any]] | None = None,
                      extrapolate: bool = False) -> Iterator[Any]:
        """``n`` generated points of one member in the user's form, in pieces of at most the
        task's ``sample_chunk_rows`` (all at once when it is None), so that writing them holds
        one piece in memory. Drawn lazily: nothing is generated before the first is asked for."""
        rows = self.task.sample_chunk_rows
        if rows is None:
            yield self.sample(n, seed, member, condition=condition, extrapolate=extrapolate)
            return
        for k, start in enumerate(range(0, n, rows)):
            size = min(rows, n - start)
            piece = condition_piece(condition, start, size)
            yield self.sample(size, chunk_seed(seed, k), member, condition=piece, extrapolate=extrapolate)

    def save_grid(self, path: str | Path, n: int = GRID_IMAGES, nrow: int | None = None,
                  seed: int | None = None, member: int = 0, refine: str | RefineSettings | None = None,
                  images: Any = None) -> Path:
        """``n`` generated images of one member as one PNG picture at ``path``: ``nrow`` images
        per row (default ``ceil(sqrt(n))``, a square) with 2 pixels between them, laid out as
        torchvision's ``save_image(nrow=...)`` does. ``images``: images already drawn with
        :meth:`sample` (uint8, as it returns them) to draw instead of ``n`` fresh ones. Image
        runs only (the digits, a folder or array of images)."""
        from gankit.tasks.pixels import save_grid

        path = Path(path)
        check_grid(type(self.task), path)
        if images is None:
            images = self.sample(n, seed, member, refine)
        save_grid(images, path, nrow)
        return path

    def sample_refined(self, n: int, refine: str | RefineSettings, seed: int | None = None,
                       member: int = 0, condition: dict[str, Any] | Sequence[dict[str, Any]] | None = None,
                       extrapolate: bool = False) -> tuple[Any, dict[str, float]]:
        """Refined samples of one member in the user's form, and that member's acceptance rate
        and passes per sample; ``condition`` and ``extrapolate`` as in :meth:`sample`."""
        check_member(member, self.trainer.members)
        refined = self.refine(n, refine, seed, condition, extrapolate)
        samples = self.task.decode(self.task.data_part(refined.samples[member]).cpu().numpy())
        return samples, refined.member_metrics(member)

    def refine(self, n: int, settings: str | RefineSettings = "drs", seed: int | None = None,
               condition: dict[str, Any] | Sequence[dict[str, Any]] | None = None,
               extrapolate: bool = False) -> Refined:
        """``n`` samples of every member drawn by DRS or MH-GAN (:mod:`gankit.evaluation.refine`), with
        each member's acceptance rate and generator/discriminator passes per sample. A conditional
        run asked for ``condition`` (as in :meth:`sample`) refines with D judging each point with
        the condition asked for; without one, with conditions drawn as the data have them."""
        from gankit.evaluation.refine import refine

        asked = None if condition is None else self.task.asked(condition, n, self.trainer.device, extrapolate)
        return refine(self.trainer, n, settings, seed, asked)

    def evaluate(self, n: int | None = None, general: bool = False,
                 refine: str | RefineSettings | None = None, seed: int = 0) -> dict[str, Any]:
        """Metrics recomputed now; with several members, their median, quartiles and range.

        ``general`` adds the sample-based metrics (MMD, sliced W1, precision, recall, density,
        coverage) with their noise floors. With ``refine`` the metrics score refined samples
        (drawn with ``seed``) and add ``acceptance_rate``, ``g_passes_per_sample`` and
        ``d_passes_per_sample``.
        """
        if refine is None:
            return self.evaluator.evaluate(n, general)
        from gankit.core.memberstats import MemberMetrics
        from gankit.evaluation.refine import refinement_metrics

        n = self.evaluator.packed_size(n)  # D's mean on the samples is taken over packed rows
        refined = self.refine(n, refine, seed)
        record = self.evaluator.evaluate_members(n, general, fake=refined.samples)
        costs = MemberMetrics.from_members(refinement_metrics(refined), self.trainer.diverged.tolist())
        return record.merged(costs).to_row()

    def evaluate_members(self, n: int | None = None, general: bool = False) -> list[dict[str, float]]:
        """Each member's metrics, recomputed now."""
        record = self.evaluator.evaluate_members(n, general)
        return [record.member(i) for i in range(record.members)]

    def plot_in_background(self) -> subprocess.Popen:
        """Draw the figures in a separate ``gankit plot`` process and return at once.

        Figures take seconds of matplotlib (about a fifth of a default run); drawn apart, the
        run's results come back without waiting for them and the drawing can use another core.
        The process outlives this one (its own session: Ctrl-C on the terminal leaves it be) and
        writes what it prints to ``figures/plot.log``. A folder that cannot be written is
        refused here, with the same one line as a drawing in this process.
        """
        folder = self._run_folder("plot").figures
        try:
            folder.mkdir(parents=True, exist_ok=True)
            log = open(folder / "plot.log", "w")  # noqa: SIM115 - handed to the child process
        except OSError as exc:
            raise GankitError(f"cannot write the figures in '{folder}': {exc.strerror or exc}") from None
        with log:
            return subprocess.Popen(
                [sys.executable, "-m", "gankit", "plot", str(self.folder.path),
                 "--device", self.trainer.config.device],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def plot(self) -> list[Path]:
        """Redraw every figure of the run from its logs and latest checkpoint."""
        from gankit.evaluation.figures import render_run

        folder = self._run_folder("plot")
        trainer = self.trainer
        members = list(self.evaluator.samples())
        task = trainer.task

        def asked(condition: dict[str, Any], n: int, seed: int) -> Any:
            return self.sample(n, seed=seed, condition=condition)

        return render_run(folder.figures, task, folder.metrics.read(),
                          folder.snapshots.read(), members, self.summary,
                          lambda path: task.discriminator_figure(trainer.discriminator, trainer.device, path),
                          lambda path: task.condition_figure(asked, path))
