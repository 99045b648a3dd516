"""Observers of the training loop, one job each: the metrics log, snapshots, checkpoints and the
progress bar. The loop calls ``on_step`` after every step and ``rewind`` after a rollback; each
observer decides for itself whether the step concerns it.
"""

from __future__ import annotations

import sys
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TextIO

import numpy as np
import torch
from tqdm.auto import tqdm

from gankit import __version__
from gankit.config import Config
from gankit.core.console import say
from gankit.core.memberstats import MemberMetrics
from gankit.evaluation import Evaluator
from gankit.session.divergence import DivergenceGuard
from gankit.store.checkpoint import save_checkpoint
from gankit.store.rundir import RunFolder
from gankit.training.steps import StepStats
from gankit.training.streams import SNAPSHOT_STREAM, stream_seed
from gankit.training.team import Solo
from gankit.training.trainer import Trainer


class Observer:
    def on_step(self, trainer: Trainer, stats: StepStats, elapsed: float, last: bool) -> None:
        """Called after every step; ``last`` is true on the final one (steps or time used up)."""

    def rewind(self, step: int) -> None:
        """The run went back to ``step`` (a rollback): forget what came after it."""

    def close(self) -> None:
        """Training ended, normally or not."""


def _due(step: int, every: int, last: bool) -> bool:
    return step % every == 0 or last


class MetricsLog(Observer):
    """Rows of ``metrics.jsonl``: losses and D's outputs every ``log_every`` steps, the
    evaluation metrics every ``eval_every`` steps and on the last step.

    With ``background`` the evaluations during training run in a second thread on a frozen
    copy of the networks (:meth:`Evaluator.frozen`), so training does not wait for them; rows
    wait in order behind an unfinished evaluation and are written as it ends, and everything
    is written before a checkpoint and at the end. The numbers are those of an evaluation in
    the training thread: the same weights, the same evaluation streams.
    """

    def __init__(self, folder: RunFolder, team: Solo | None = None, background: bool = False) -> None:
        self.folder = folder
        self.team = team or Solo()
        self.last_eval: MemberMetrics | None = None
        self.last_row: dict[str, Any] = {}
        self.new_rows: list[dict[str, Any]] = []  # the rows written during the latest on_step
        # every evaluation written by this process, with its step (what an early stop reads)
        self.evaluations: list[tuple[int, MemberMetrics]] = []
        # (step, elapsed, losses, evaluation: done, running in the background, or none due)
        self.pending: deque[tuple[int, float, MemberMetrics, MemberMetrics | Future[MemberMetrics] | None]]
        self.pending = deque()
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="gankit-eval") if background else None

    def on_step(self, trainer: Trainer, stats: StepStats, elapsed: float, last: bool) -> None:
        self.new_rows = []
        log, step = trainer.config.log, trainer.step_count
        if _due(step, log.log_every, last) or _due(step, log.eval_every, last):
            record = MemberMetrics(self.team.average_values(stats.per_member()), trainer.diverged.tolist())
            evaluation: MemberMetrics | Future[MemberMetrics] | None = None
            if _due(step, log.eval_every, last):
                evaluator = Evaluator(trainer)
                # The last evaluation is the summary's, on the full sample; the others only draw
                # the curves, on a smaller one (log.interim_eval_samples).
                if last or self.executor is None:
                    self.flush(wait=True)
                    evaluation = evaluator.evaluate_members(None if last else evaluator.interim_samples())
                else:
                    evaluation = self.executor.submit(evaluator.frozen().evaluate_members,
                                                      evaluator.interim_samples())
            self.pending.append((step, elapsed, record, evaluation))
        self.flush(wait=last)

    def flush_before(self, step: int) -> None:
        """Write every row of a step before ``step``, waiting for their evaluations (an early
        stop decided at ``step`` reads exactly those, however fast the background ran)."""
        self.flush(wait=True, before=step)

    def flush(self, wait: bool = True, before: int | None = None) -> None:
        """Write the rows whose evaluations have ended (all of them with ``wait``; with
        ``before``, those of earlier steps), in order."""
        while self.pending:
            step, elapsed, record, evaluation = self.pending[0]
            if before is not None and step >= before:
                return
            if isinstance(evaluation, Future):
                if not (wait or evaluation.done()):
                    return
                evaluation = evaluation.result()
            self.pending.popleft()
            if evaluation is not None:
                self.last_eval = self.team.gather_metrics(evaluation)
                self.evaluations.append((step, self.last_eval))
                record = record.merged(evaluation)
            record = self.team.gather_metrics(record)
            self.last_row = {"step": step, **record.to_row(), "elapsed_s": round(elapsed, 3)}
            self.new_rows.append(self.last_row)
            if self.team.writes:
                self.folder.metrics.append(self.last_row)

    def rewind(self, step: int) -> None:
        for *_, evaluation in self.pending:  # rows after the last checkpoint: never written
            if isinstance(evaluation, Future):
                evaluation.cancel()  # one already running works on its own copy and is dropped
        self.pending.clear()
        self.folder.metrics.truncate_after(step)

    def close(self) -> None:
        try:
            self.flush(wait=True)
        finally:
            if self.executor is not None:
                self.executor.shutdown(wait=True, cancel_futures=True)


class Snapshots(Observer):
    """The seed's picture at intervals: fixed noise and a fixed real sample, so that successive
    snapshots show the same z moving (``snapshots.jsonl``, and the live window when asked)."""

    def __init__(self, trainer: Trainer, folder: RunFolder, live: Any = None) -> None:
        self.folder = folder
        self.live = live
        self.seed = stream_seed(trainer.config.seed, SNAPSHOT_STREAM)
        rng = torch.Generator(trainer.device).manual_seed(self.seed)
        real = trainer.task.sample(trainer.task.figure_points, rng).cpu().numpy()
        self.real = np.round(real, 5).tolist()
        self.last: dict[str, Any] | None = None  # the latest snapshot, for the TensorBoard log

    def on_step(self, trainer: Trainer, stats: StepStats, elapsed: float, last: bool) -> None:
        step = trainer.step_count
        if not (_due(step, trainer.config.log.snapshot_every, last) or step == 1):
            return
        first = {key: values[0] for key, values in stats.per_member().items()}
        fake = Evaluator(trainer).sample(trainer.task.figure_points, seed=self.seed)
        snap = {"step": step, "d_real": first["d_real"], "d_loss": first["d_loss"],
                "real": self.real, "fake": np.round(fake, 5).tolist()}
        self.folder.snapshots.append(snap)
        self.last = snap
        if self.live is not None:
            self.live.update(snap)

    def rewind(self, step: int) -> None:
        self.folder.snapshots.truncate_after(step)

    def close(self) -> None:
        if self.live is not None:
            self.live.close()


class Checkpoints(Observer):
    """A complete checkpoint every ``checkpoint_every`` steps and on the last one, never one
    with broken weights (the divergence guard checks them first)."""

    def __init__(self, folder: RunFolder, guard: DivergenceGuard, config: Config,
                 team: Solo | None = None, log: MetricsLog | None = None) -> None:
        self.folder = folder
        self.guard = guard
        self.config = config  # the run's config: under torchrun a rank's trainer holds a slice
        self.team = team or Solo()
        self.log = log
        self.phases: Any = None  # session.phases.Phases, whose state each checkpoint keeps

    def save(self, trainer: Trainer) -> None:
        if self.log is not None:
            self.log.flush(wait=True)  # a resumed run keeps the rows up to its checkpoint
        self.guard.check_weights()
        state = self.team.full_state(trainer)
        payload = {"gankit_version": __version__, "config": self.config.to_dict(), "trainer": state}
        if self.phases is not None:
            payload["session"] = self.phases.state_dict()
        if self.team.writes:
            save_checkpoint(self.folder.checkpoints, trainer.step_count, payload,
                            keep=self.config.log.keep_checkpoints)

    def on_step(self, trainer: Trainer, stats: StepStats, elapsed: float, last: bool) -> None:
        if _due(trainer.step_count, trainer.config.log.checkpoint_every, last):
            self.save(trainer)


class ProgressBar(Observer):
    """Progress that suits where it goes: a tqdm bar on a terminal; on a file or a pipe, one
    plain line every ``LINE_EVERY`` of the run (or every ``LINE_SECONDS`` under a time budget)
    with the step, the losses and the latest metrics, instead of thousands of bar redraws."""

    LINE_EVERY = 0.05
    LINE_SECONDS = 10.0

    def __init__(self, trainer: Trainer, folder: RunFolder, log: MetricsLog, enabled: bool,
                 stream: TextIO | None = None) -> None:
        self.log = log
        self.stream = stream or sys.stderr
        self.budget: Any = None  # session.loop.Budget, set by the loop when an all-rows phase may extend it
        self.total = trainer.config.train.steps
        self.terminal = enabled and self.stream.isatty()
        self.lines = enabled and not self.terminal
        self.next_line_at = 0.0
        self.bar = tqdm(total=self.total or None, initial=trainer.step_count, unit="it", file=self.stream,
                        disable=not self.terminal, dynamic_ncols=True, desc=folder.path.name)

    def _postfix(self) -> dict[str, str]:
        row = self.log.last_row
        postfix = {"D": f"{row['d_loss']:.3f}", "G": f"{row['g_loss']:.3f}"} if row else {}
        if self.log.last_eval is not None:
            shown = [k for k in self.log.last_eval.names() if "_" in k][:2]
            postfix.update({k: f"{self.log.last_eval.value(k):.4f}" for k in shown})
        return postfix

    def on_step(self, trainer: Trainer, stats: StepStats, elapsed: float, last: bool) -> None:
        step = trainer.step_count
        if self.budget is not None and self.budget.steps != self.total:
            self.total = self.bar.total = self.budget.steps
        if self.lines:
            position = step / self.total if self.total else elapsed
            if position >= self.next_line_at or last:
                self.next_line_at = position + (self.LINE_EVERY if self.total else self.LINE_SECONDS)
                of = f"/{self.total}" if self.total else ""
                left = ""
                if self.total and 0 < step < self.total:
                    left = f", about {elapsed / step * (self.total - step):.0f} s left"
                shown = " ".join(f"{k} {v}" for k, v in self._postfix().items())
                say(f"step {step}{of} ({elapsed:.1f} s{left}) {shown}", self.stream)
            return
        self.bar.update(1)
        if self.log.new_rows:
            self.bar.set_postfix(self._postfix(), refresh=False)

    def rewind(self, step: int) -> None:
        self.bar.reset(total=self.bar.total)
        self.bar.update(step)

    def close(self) -> None:
        self.bar.close()
