"""One call of ``train`` or ``resume``: the loop that steps the trainer and tells the observers.

The loop itself is short: step (Algorithm 1 lives in :mod:`gankit.training.trainer`), check for
divergence, hand the step to the observers, stop at the step count, the time budget or a
signal. Each other job has its own module: logging, snapshots, checkpoints and the progress bar
in :mod:`gankit.session.observers`, divergence and rollback in :mod:`gankit.session.divergence`,
the early stop on held-out quality and the all-rows phase in :mod:`gankit.session.phases`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import torch

from gankit.config import Config
from gankit.core.errors import GankitError
from gankit.evaluation import Evaluator
from gankit.session.divergence import DivergenceGuard, TrainingDiverged
from gankit.session.observers import Checkpoints, MetricsLog, Observer, ProgressBar, Snapshots
from gankit.session.phases import Phases, phases_on
from gankit.store.rundir import RunFolder
from gankit.training.chunks import population_record
from gankit.training.steps import StepStats
from gankit.training.team import Solo
from gankit.training.trainer import Trainer


class Interrupted(GankitError):
    """SIGINT or SIGTERM stopped training after a checkpoint was saved."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class _SignalFlag:
    """Records SIGINT or SIGTERM instead of raising, so the loop stops between two steps.

    Stopping inside a step would save a state in which D has moved and G has not; waiting
    for the step to end keeps every checkpoint on an iteration boundary, and resume exact.
    """

    def __init__(self) -> None:
        self.received: int | None = None

    @contextlib.contextmanager
    def installed(self) -> Iterator[_SignalFlag]:
        if threading.current_thread() is not threading.main_thread():
            yield self  # handlers can only be installed from the main thread
            return

        def record(number: int, frame: object) -> None:
            if self.received is None:  # the first signal names the stop (torchrun follows with SIGTERM)
                self.received = number

        previous = {sig: signal.signal(sig, record) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


class Budget:
    """Where the run stands against its step count and its time budget; a resumed run's clock
    continues from the last logged time."""

    def __init__(self, steps: int, seconds: float, already_elapsed: float = 0.0) -> None:
        self.steps = steps
        self.seconds = seconds
        self.start = time.perf_counter() - already_elapsed
        self.in_steps = 0.0  # seconds this process spent inside training steps

    def step(self, trainer: Trainer) -> StepStats:
        """One training step at the run's place on the schedule, its time counted."""
        start = time.perf_counter()
        stats = trainer.step(self.progress(trainer.step_count))
        self.in_steps += time.perf_counter() - start
        return stats

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def progress(self, step: int) -> float:
        """The share of the run done: the step share, or the time share if that is larger, so
        that a learning-rate schedule also decays over a time budget."""
        done = step / self.steps if self.steps else 0.0
        return min(1.0, max(done, self.elapsed() / self.seconds)) if self.seconds else done

    def used_up(self, step: int) -> bool:
        out_of_steps = bool(self.steps) and step >= self.steps
        return out_of_steps or (self.seconds > 0 and self.elapsed() >= self.seconds)


def _background_eval(trainer: Trainer, team: Solo) -> bool:
    """Evaluate beside training when that can gain: one process, on the CPU, with a core
    that training's threads leave free."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    threads = trainer.config.train.threads or torch.get_num_threads()
    return (trainer.config.log.background_eval and team.size == 1 and trainer.device.type == "cpu"
            and cores > threads)


def run_session(trainer: Trainer, folder: RunFolder, progress: bool = False, live: Any = None,
                config: Config | None = None, team: Solo | None = None,
                resumed: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train until the budget is used up; write the summary and return it.

    Under torchrun, ``team`` joins the ranks and ``config`` is the run's whole config (each
    rank's trainer holds its slice of the members); only rank 0 writes the run folder.
    ``resumed``: the phases' state from the checkpoint a resumed run starts at
    (:mod:`gankit.session.phases`; None for a fresh run or one without phases).
    """
    team = team or Solo()
    config = config or trainer.config
    guard = DivergenceGuard(trainer, folder, team)
    log = MetricsLog(folder, team, background=_background_eval(trainer, team))
    checkpoints = Checkpoints(folder, guard, config, team, log)
    phases = None
    observers: list[Observer] = [log]
    if phases_on(config):  # between the log (its evaluations) and the checkpoints (its networks)
        phases = checkpoints.phases = Phases(folder, log, config, resumed)
        observers.append(phases)
    observers.append(checkpoints)
    bar = None
    if team.writes:
        snapshots = Snapshots(trainer, folder, live)
        bar = ProgressBar(trainer, folder, log, progress)
        observers += [snapshots, bar]
        if config.log.tensorboard:
            from gankit.session.tensorboard import (
                TensorBoardLog,  # an optional extra: loaded only when asked for
            )

            observers.append(TensorBoardLog(trainer, folder, log, snapshots))
    if trainer.step_count == 0:
        checkpoints.save(trainer)  # every run folder can be resumed, even after a kill at step 1
    rows = folder.metrics.read()
    elapsed = rows[-1].get("elapsed_s", 0.0) if rows else 0.0
    budget = Budget(config.train.steps, config.train.max_seconds, elapsed)
    if phases is not None:  # an all-rows phase sets the budget's end, and the bar's
        phases.attach(budget)
        if bar is not None:
            bar.budget = budget
    finished = budget.used_up(trainer.step_count) or (phases is not None and phases.done)
    try:
        with _SignalFlag().installed() as flag:
            stop = False
            while not finished and not stop:
                try:
                    stats = budget.step(trainer)
                    guard.check_losses(trainer.step_count, stats)
                    finished = budget.used_up(trainer.step_count) or (
                        phases is not None and phases.stop_due(trainer))
                    if team.size > 1:
                        # Ranks must agree on when to stop: they vote at log steps and at the
                        # last one, which every rank reaches at the same step.
                        if finished or trainer.step_count % trainer.config.log.log_every == 0:
                            stop = team.any(flag.received is not None)
                            guard.check_team(trainer.step_count)
                    else:
                        stop = flag.received is not None
                    for observer in observers:
                        observer.on_step(trainer, stats, budget.elapsed(), finished)
                    if finished and phases is not None and phases.take_switch():
                        finished = False  # the held-out phase ended; the all-rows one begins
                except TrainingDiverged as diverged:
                    if not guard.roll_back(diverged):
                        raise
                    finished = False
                    for observer in observers:
                        observer.rewind(trainer.step_count)
            if stop and not finished:
                checkpoints.save(trainer)
                name = signal.Signals(flag.received).name if flag.received else "another rank's signal"
                raise Interrupted(f"stopped by {name} at step {trainer.step_count}; saved a checkpoint. "
                                  f"Continue with: gankit train --resume {folder.path}",
                                  exit_code=128 + (flag.received or signal.SIGTERM))
    finally:
        for observer in observers:
            observer.close()
        if team.writes:  # where the time went: steps against the run's whole wall time
            with contextlib.suppress(OSError):
                record = population_record(trainer.gradients, trainer.members)  # how members were computed
                folder.update_info(step_seconds=round(budget.in_steps, 3),
                                   **({"population_path": record} if record else {}))
    return write_summary(trainer, folder, log, team, phases)


def write_summary(trainer: Trainer, folder: RunFolder, log: MetricsLog, team: Solo | None = None,
                  phases: Phases | None = None) -> dict[str, Any]:
    """The final metrics, whether the task counts the run (or each member) as a success; with
    phases, which step's model they are (``best_step``) and what they compare with."""
    team = team or Solo()
    record, fields = phases.summary(log.last_eval) if phases is not None else (log.last_eval, {})
    record = record or team.gather_metrics(Evaluator(trainer).evaluate_members())
    summary: dict[str, Any] = {"step": trainer.step_count, **record.to_row(), **fields}
    if record.members == 1:
        summary["success"] = trainer.task.success(record.member(0))
    else:
        flags = [not out and trainer.task.success(record.member(i))
                 for i, out in enumerate(record.left_out)]
        summary["members"]["success"] = flags
        summary.update({"seeds": record.members, "success_share": sum(flags) / len(flags),
                        "diverged": sum(record.left_out)})
    if team.size > 1:
        summary["world_size"] = team.size
    if team.writes:
        folder.write_summary(summary)
    return summary
