"""TensorBoard event files in ``RUN/tensorboard/``: the log's scalars, the snapshot figures, the
hyper-parameters with the final metrics.

An observer like the others: it reads what :class:`~gankit.session.observers.MetricsLog` and
:class:`~gankit.session.observers.Snapshots` have just produced rather than computing anything
again, so the curves in TensorBoard are exactly the numbers of ``metrics.jsonl``, under tags
grouped in TensorBoard's sections (the part of a tag before its first ``/``):

- ``loss/d``, ``loss/g``: the losses of the step's batch (``d_loss``, ``g_loss``);
- ``d/real``, ``d/fake``: D's mean output on that batch (``d_real``, ``d_fake``), and beside
  them each penalty or projection of D's step (``d/r1``, ``d/gp``, ``d/clip``);
- ``metric/NAME``: every evaluated metric, the task's and the general ones, each noise floor
  next to its metric (``metric/a_w1``, ``metric/mmd_rbf``, ``metric/mmd_rbf_floor``).

The evaluation's ``d_real_mean`` and ``d_fake_mean`` (in the log and the summary) are not
written: they are the same quantity as ``d/real`` and ``d/fake``, mean D on the fixed evaluation
sample instead of the training batch and only every ``eval_every`` steps, and a second curve of
it beside the first would read as a second quantity. A population writes
one series per member under its tag and their median (``metric/a_w1/member_3``,
``metric/a_w1/median``), so ``tensorboard --logdir runs/`` compares members within a run and
runs with each other.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from gankit.config import flat_settings
from gankit.core.errors import GankitError
from gankit.core.memberstats import MemberMetrics
from gankit.objectives import REGULARISERS
from gankit.session.observers import MetricsLog, Observer, Snapshots
from gankit.store.rundir import RunFolder
from gankit.training.steps import StepStats
from gankit.training.trainer import Trainer

if TYPE_CHECKING:
    from torch.utils.tensorboard import SummaryWriter

INSTALL_HINT = ("--tensorboard (log.tensorboard) needs the tensorboard package: "
                "pip install gankit[tensorboard]")
NOT_SCALARS = ("step", "elapsed_s", "d_real_mean", "d_fake_mean")
TRAINING_TAGS = {"d_loss": "loss/d", "g_loss": "loss/g", "d_real": "d/real", "d_fake": "d/fake"}


def require_tensorboard() -> None:
    """Fail with one line saying how to install the optional extra."""
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        raise GankitError(INSTALL_HINT) from None


def tag_of(key: str) -> str:
    """A log key's TensorBoard tag: ``loss/``, ``d/`` (D's outputs and penalties) or ``metric/``."""
    if key in TRAINING_TAGS:
        return TRAINING_TAGS[key]
    return f"d/{key}" if key in REGULARISERS else f"metric/{key}"


def scalar_tags(row: dict[str, Any]) -> dict[str, float]:
    """A log row's numbers by TensorBoard tag (:func:`tag_of`): the tag for one member;
    ``tag/member_i`` for each member of a population that did not diverge, and ``tag/median``."""
    record = MemberMetrics.from_row(row)
    tags: dict[str, float] = {}
    for key in record.names():
        if key in NOT_SCALARS:
            continue
        values = record.values[key]
        if not all(isinstance(v, (int, float)) for v in values):
            continue  # e.g. the success flags of a summary are not series
        tag = tag_of(key)
        if record.members == 1:
            tags[tag] = float(values[0])
            continue
        for i, (value, out) in enumerate(zip(values, record.left_out)):
            if not out:
                tags[f"{tag}/member_{i}"] = float(value)
        tags[f"{tag}/median"] = record.spread(key).median
    return {tag: value for tag, value in tags.items() if math.isfinite(value)}


def _snapshot_image(trainer: Trainer, snap: dict[str, Any]) -> np.ndarray:
    """The task's snapshot figure (points, curves or an image grid) as an RGB array.

    Drawn straight to an Agg canvas with fixed margins: ``tight_layout`` and a PNG round trip
    doubled the cost of each image (benchmarks/tensorboard_overhead.py).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from gankit.evaluation.figures import draw_snapshot

    figure = Figure(figsize=(6.4, 4.8), dpi=80)
    canvas = FigureCanvasAgg(figure)
    draw_snapshot(figure.subplots(), trainer.task, snap)
    figure.subplots_adjust(left=0.08, right=0.98, bottom=0.08, top=0.97)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


class TensorBoardLog(Observer):
    """Writes each logged row, each snapshot and, on the last step, the HParams summary.

    A resumed run, or one rolled back after a divergence, reopens its writer with ``purge_step``
    one past the step it went back to: TensorBoard then hides the events the lost steps wrote,
    so no step appears twice.
    """

    def __init__(self, trainer: Trainer, folder: RunFolder, log: MetricsLog, snapshots: Snapshots) -> None:
        require_tensorboard()
        self.folder = folder
        self.log = log
        self.snapshots = snapshots
        try:
            self.preset = folder.read_info().get("preset")
        except ValueError:
            self.preset = None
        self.writer = self._open(trainer.step_count)

    def _open(self, step: int) -> SummaryWriter:
        from torch.utils.tensorboard import SummaryWriter

        return SummaryWriter(str(self.folder.tensorboard), purge_step=step + 1 if step else None)

    def on_step(self, trainer: Trainer, stats: StepStats, elapsed: float, last: bool) -> None:
        step = trainer.step_count
        for row in self.log.new_rows:  # an evaluation in the background ends steps later
            for tag, value in scalar_tags(row).items():
                self.writer.add_scalar(tag, value, row["step"])
        snap = self.snapshots.last
        if snap is not None and snap["step"] == step:
            self.writer.add_image("samples", _snapshot_image(trainer, snap), step, dataformats="HWC")
        if last:
            self._hparams(trainer)
        self.writer.flush()

    def _hparams(self, trainer: Trainer) -> None:
        """The run's settings beside its final metrics: the tags of the last row's scalars, so
        the HParams view links each run to its curves."""
        from torch.utils.tensorboard.summary import hparams

        params = flat_settings(trainer.config.to_dict())
        if self.preset:
            params["preset"] = self.preset
        final = {tag: value for tag, value in scalar_tags(self.log.last_row).items()
                 if "/member_" not in tag}
        for summary in hparams(params, final):
            self.writer.file_writer.add_summary(summary)

    def rewind(self, step: int) -> None:
        self.writer.close()
        self.writer = self._open(step)

    def close(self) -> None:
        self.writer.close()
