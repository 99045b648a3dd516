"""A run's length chosen by its held-out rows: early stop, the best step kept, then every row.

Two phases, each optional (``train.patience``, ``train.all_rows``; both on in the table preset):

- **held out**: training on the training rows, scored by every evaluation against rows it never
  sees. The best evaluation of ``train.stop_metric`` (its direction from
  :data:`gankit.core.directions.BETTER`) is tracked, its networks written to
  ``checkpoints/best.pt``; after ``train.patience`` evaluations in a row without a better one
  the phase stops early, at the next evaluation step (the first at which the last of them is
  surely known; its own evaluation may still be the best). At its end (early, or at
  ``train.steps``) the best step's networks, optimisers and streams are restored, the step
  count going on (it counts the run's steps, so the log stays in order): without an all-rows
  phase they are the run's model, in its last checkpoint (what ``Run.load`` and ``gankit
  sample`` open), and the summary holds their evaluation with ``best_step``.
- **all rows**: with ``train.all_rows`` and a task with held-out rows (a table), the held-out
  rows join the training rows (``Task.include_held_out``, the samplers rebuilt on them) and
  training goes on from the best step for ``ceil(best_step * held-out rows / training rows)``
  steps: the run then draws as many rows in all as the chosen length, in epochs, would on the
  whole table. Its evaluations compare with rows the model now trains on: the summary keeps
  the held-out phase's metrics apart (``held_out_phase``) and says the final ones are not held
  out (``held_out: false``).

Exactness: the stop is decided at an evaluation step ``t`` from the evaluations before ``t``
only (waiting for a background one if need be), so it falls on the same step whether or not the
run was interrupted and resumed; the phase, the best step and the count since it go into every
checkpoint (``session``), and a resume in the all-rows phase rebuilds its rows before loading
the streams (:func:`prepare_resume`). Not under torchrun (refused before training).
"""

from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from gankit import __version__
from gankit.config import Config
from gankit.core.directions import BETTER, HIGHER
from gankit.core.errors import GankitError
from gankit.core.memberstats import MemberMetrics
from gankit.session.observers import MetricsLog, Observer
from gankit.store.checkpoint import FORMAT_VERSION, load_checkpoint, open_latest, write_plain
from gankit.store.rundir import RunFolder
from gankit.training.steps import StepStats
from gankit.training.trainer import Trainer

HELD_OUT, ALL_ROWS = "held_out", "all_rows"
BEST = "best.pt"  # in checkpoints/; not a step_*.pt file, so never pruned nor taken as the latest


@dataclass
class PhaseState:
    """What a checkpoint keeps of the phases (plain values: checkpoints load weights_only)."""

    phase: str = HELD_OUT
    best_step: int = 0  # 0: no evaluation yet
    best_value: float | None = None
    best_row: dict[str, Any] | None = None  # the best evaluation's metrics
    since_best: int = 0  # evaluations after the best that were no better
    seen_step: int = 0  # the last evaluation taken into account
    stopped_early: bool = False
    held_out_end: int = 0  # the step the held-out phase ended at (0: not yet)
    end_step: int = 0  # the all-rows phase's last step
    rows: list[int] = dataclasses.field(default_factory=list)  # training rows, then all rows


def phases_on(config: Config) -> bool:
    """Whether a run has anything for :class:`Phases` to do; off, a run is as it always was."""
    return config.train.patience > 0 or config.train.all_rows


def prepare_resume(trainer: Trainer, checkpoint: dict[str, Any]) -> None:
    """Before loading a checkpoint's streams: a run resumed in its all-rows phase trains on
    every row again, so its samplers must stand over them (their saved order indexes them)."""
    session = checkpoint.get("session") or {}
    if session.get("phase") == ALL_ROWS and trainer.task.include_held_out():
        trainer.streams.restart_samplers()


def _better(direction: str, value: float, best: float | None) -> bool:
    if math.isnan(value):
        return False
    return best is None or (value > best if direction == HIGHER else value < best)


class Phases(Observer):
    """The held-out phase's early stop and best step, and the switch to the all-rows phase.

    It must come after the :class:`MetricsLog` (it reads its evaluations) and before the
    checkpoints (the last checkpoint of a phase holds the networks it restored).
    """

    def __init__(self, folder: RunFolder, log: MetricsLog, config: Config,
                 resumed: dict[str, Any] | None = None) -> None:
        self.folder = folder
        self.log = log
        self.config = config
        self.budget: Any = None  # session.loop.Budget (see attach): the all-rows phase moves its end
        self.metric = config.train.stop_metric
        self.direction = BETTER.get(self.metric, HIGHER)
        self.state = PhaseState(**resumed) if resumed else PhaseState()
        self.stash: dict[int, dict[str, Any]] = {}  # step -> the trainer's state, until evaluated
        self.taken = len(log.evaluations)  # evaluations of this process already absorbed
        self.switched = False

    def attach(self, budget: Any) -> None:
        """The loop's budget, made once the first checkpoint is written; a run resumed in its
        all-rows phase trains to that phase's end."""
        self.budget = budget
        if self.state.phase == ALL_ROWS:
            self._extend_budget()

    # --- what the loop asks ---------------------------------------------------------------
    @property
    def done(self) -> bool:
        """The run ended with its held-out phase (a resumed run has nothing left to train)."""
        return bool(self.state.held_out_end) and self.state.phase == HELD_OUT

    def stop_due(self, trainer: Trainer) -> bool:
        """At an evaluation step, whether the evaluations before it have run out of patience."""
        step, patience = trainer.step_count, self.config.train.patience
        if self.state.phase != HELD_OUT or not patience or step % self.config.log.eval_every:
            return False
        self.log.flush_before(step)
        self.absorb()
        if self.state.since_best >= patience:
            self.state.stopped_early = True
        return self.state.stopped_early

    def take_switch(self) -> bool:
        """Whether the all-rows phase began at this step (the loop then trains on)."""
        switched, self.switched = self.switched, False
        return switched

    # --- observer ------------------------------------------------------------------------
    def on_step(self, trainer: Trainer, stats: StepStats, elapsed: float, last: bool) -> None:
        if self.state.phase != HELD_OUT:
            return
        step = trainer.step_count
        if self.metric and (step % self.config.log.eval_every == 0 or last):
            self.stash[step] = copy.deepcopy(trainer.state_dict())
        if last:
            self._end_held_out(trainer)

    def rewind(self, step: int) -> None:
        """A rollback: back to the state of the checkpoint it went back to."""
        self.stash.clear()
        self.taken = len(self.log.evaluations)
        saved = open_latest(self.folder.checkpoints).get("session")
        self.state = PhaseState(**saved) if saved else PhaseState()

    def state_dict(self) -> dict[str, Any]:
        """For a checkpoint: every evaluation done so far is taken into account first."""
        self.absorb()
        return dataclasses.asdict(self.state)

    # --- the work ------------------------------------------------------------------------
    def absorb(self) -> None:
        """Take the log's new held-out evaluations into account, a new best written to best.pt."""
        if not self.metric:
            return
        state = self.state
        for step, record in self.log.evaluations[self.taken:]:
            self.taken += 1
            networks = self.stash.pop(step, None)
            if state.phase != HELD_OUT or step <= state.seen_step:
                continue
            if self.metric not in record.values:
                raise GankitError(f"train.stop_metric '{self.metric}' is not among this run's metrics "
                                  f"({', '.join(n for n in record.names() if n in BETTER)})")
            value = float(record.value(self.metric))
            state.seen_step = step
            if _better(self.direction, value, state.best_value):
                state.best_step, state.best_value, state.best_row = step, value, record.to_row()
                state.since_best = 0
                if networks is not None:
                    self._write_best(networks)
            else:
                state.since_best += 1

    def _write_best(self, networks: dict[str, Any]) -> None:
        write_plain(self.folder.checkpoints / BEST, {
            "format_version": FORMAT_VERSION, "gankit_version": __version__,
            "config": self.config.to_dict(), "trainer": networks,
            "session": dataclasses.asdict(self.state)})

    def _end_held_out(self, trainer: Trainer) -> None:
        """The held-out phase ends at this step: the best step's networks back, and the
        all-rows phase begun where it applies."""
        self.log.flush(wait=True)
        self.absorb()
        state, step = self.state, trainer.step_count
        state.held_out_end = step
        best = state.best_step or step
        if best != step:
            networks = load_checkpoint(self.folder.checkpoints / BEST)["trainer"]
            trainer.load_state_dict(networks)
            trainer.step_count = step  # the run's step count goes on: the log stays in order
        self.stash.clear()
        if state.best_row is None and self.log.last_eval is not None:  # no metric watched
            state.best_row = self.log.last_eval.to_row()
        before = trainer.task.training_rows
        if not (self.config.train.all_rows and before and trainer.task.include_held_out()):
            return
        trainer.streams.restart_samplers()
        after = trainer.task.training_rows or before
        state.rows = [before, after]
        state.phase = ALL_ROWS
        state.end_step = step + max(1, math.ceil(best * (after - before) / before))
        self._extend_budget()
        self.switched = True

    def _extend_budget(self) -> None:
        """The all-rows phase is a number of steps, whatever time budget the first one had."""
        self.budget.steps = self.state.end_step
        self.budget.seconds = 0.0

    def summary(self, record: MemberMetrics | None) -> tuple[MemberMetrics | None, dict[str, Any]]:
        """The record the summary's metrics come from, and the summary's phase fields."""
        state = self.state
        if not state.held_out_end:  # stopped before the held-out phase ended (a signal)
            return record, {}
        fields: dict[str, Any] = {"best_step": state.best_step or state.held_out_end,
                                  "stopped_early": state.stopped_early}
        if state.phase != ALL_ROWS:
            if state.best_row is not None:  # the model is the best step's: its evaluation
                record = MemberMetrics.from_row(state.best_row)
            return record, fields
        held = {"step": state.held_out_end, **fields, "metrics": state.best_row}
        extra = {"from_step": state.held_out_end, "steps": state.end_step - state.held_out_end,
                 "training_rows": state.rows[0], "rows": state.rows[1]}
        return record, {"held_out": False, "held_out_phase": held, "all_rows_phase": extra}
