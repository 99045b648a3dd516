"""Training a run end to end, and reading a finished one back: the Python API behind the CLI."""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from gankit import __version__
from gankit.checkpoint import (
    atomic_write_text,
    latest_checkpoint,
    list_checkpoints,
    load_checkpoint,
    save_checkpoint,
)
from gankit.config import Config, config_from_dict, resolve_config, shortcut_overrides
from gankit.errors import GankitError
from gankit.figures import LivePlot, has_display, render_run
from gankit.rundir import RunFolder
from gankit.training import SNAPSHOT_STREAM, StepStats, Trainer, aggregate, stream_seed


class TrainingDiverged(GankitError):
    """A loss or a weight became NaN or infinite; the last finite checkpoint is kept."""


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
            self.received = number

        previous = {sig: signal.signal(sig, record) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


class Run:
    """A run folder with its trained networks: sample, evaluate, read the summary."""

    def __init__(self, folder: RunFolder, trainer: Trainer) -> None:
        self.folder = folder
        self.trainer = trainer

    @classmethod
    def load(cls, path: str | Path, device: str | None = None) -> Run:
        """Open a run folder at its latest checkpoint."""
        folder = RunFolder(path)
        folder.load_config()  # a readable run folder, or a clear error
        state = load_checkpoint(latest_checkpoint(folder.checkpoints))
        config = config_from_dict(state["config"]).validate()  # what the weights were trained as
        if device is not None:
            config = dataclasses.replace(config, device=device)
        trainer = Trainer(config)
        _check_compatible(state, trainer)
        trainer.load_state_dict(state["trainer"], restore_rng=False)
        return cls(folder, trainer)

    @property
    def path(self) -> Path:
        return self.folder.path

    @property
    def config(self) -> Config:
        return self.trainer.config

    @property
    def summary(self) -> dict[str, Any]:
        return self.folder.read_summary()

    def sample(self, n: int, seed: int | None = None, member: int = 0) -> np.ndarray:
        """``n`` generated points of one member (from the EMA generator when EMA is on)."""
        return self.trainer.sample(n, seed, member)

    def evaluate(self, n: int | None = None, general: bool = False) -> dict[str, Any]:
        """Metrics recomputed now; with several members, their median, quartiles and range.

        ``general`` adds the sample-based metrics (MMD, sliced W1, precision, recall, density,
        coverage) with their noise floors.
        """
        return self.trainer.evaluate(n, general)

    def evaluate_members(self, n: int | None = None, general: bool = False) -> list[dict[str, float]]:
        return self.trainer.evaluate_members(n, general)

    def plot(self) -> list[Path]:
        """Redraw every figure of the run from its logs and latest checkpoint."""
        trainer = self.trainer
        n = self.config.log.eval_samples or trainer.task.eval_samples
        members = list(trainer.sample_members(n, seed=0))
        return render_run(self.folder.figures, trainer.task, self.folder.metrics.read(),
                          self.folder.snapshots.read(), members, self.summary,
                          lambda path: trainer.task.discriminator_figure(trainer.discriminator,
                                                                         trainer.device, path))


def _check_compatible(state: dict[str, Any], trainer: Trainer) -> None:
    """Refuse a checkpoint whose networks do not fit the config, naming the mismatch."""
    for net in ("generator", "discriminator"):
        module = getattr(trainer, net)
        saved = state.get("trainer", {}).get(net)
        if not isinstance(saved, dict):
            raise GankitError(f"the checkpoint has no {net} weights")
        expected = {k: tuple(v.shape) for k, v in module.state_dict().items()}
        found = {k: tuple(v.shape) for k, v in saved.items()}
        if expected != found:
            diff = sorted(set(expected.items()) ^ set(found.items()))[0][0]
            raise GankitError(f"the checkpoint's {net} does not match the config "
                              f"({diff}: checkpoint {found.get(diff)}, config {expected.get(diff)})")


def _default_out(config: Config) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{config.name or config.data.name}-{stamp}"


class _Session:
    """One call of ``train``: the loop, the logs, the snapshots and the checkpoints."""

    def __init__(self, trainer: Trainer, folder: RunFolder, progress: bool, live: bool) -> None:
        self.trainer = trainer
        self.folder = folder
        self.config = trainer.config
        self.progress = progress
        self.live = LivePlot(trainer.task) if live else None
        # Fixed noise and a fixed real sample, so snapshots show the same z moving over time.
        self.snapshot_seed = stream_seed(self.config.seed, SNAPSHOT_STREAM)
        rng = torch.Generator(trainer.device).manual_seed(self.snapshot_seed)
        self.snapshot_real = trainer.task.sample(trainer.task.figure_points, rng).cpu().numpy()
        self.snapshot_real = np.round(self.snapshot_real, 5).tolist()
        self.last_eval: dict[str, float] = {}
        self.previous: StepStats | None = None

    def log_row(self, step: int, stats: StepStats, elapsed: float, last: bool) -> dict[str, Any]:
        row: dict[str, Any] = {"step": step, **aggregate(stats.per_member()),
                               "elapsed_s": round(elapsed, 3)}
        if step % self.config.log.eval_every == 0 or last:
            self.last_eval = self.trainer.evaluate()
            members = row.pop("members", None)
            row.update(self.last_eval)
            if members is not None:
                row["members"] = {**members, **self.last_eval["members"]}
        return row

    def diverged(self, step: int, what: str, last: StepStats | None) -> TrainingDiverged:
        before = ""
        if last is not None:
            floats = aggregate(last.per_member())
            before = f"; at step {step - 1}: d_loss {floats['d_loss']:.4g}, g_loss {floats['g_loss']:.4g}"
        kept = list_checkpoints(self.folder.checkpoints)
        where = f"the last good checkpoint is {kept[-1]}" if kept else "no checkpoint was written"
        return TrainingDiverged(f"training diverged at step {step}: {what}{before}; {where}")

    def check_finite(self, step: int, stats: StepStats) -> None:
        """Stop on a non-finite loss; with several members, stop only when all have diverged.

        Members never interact, so a member whose numbers broke is marked and left out of the
        statistics while the others train on.
        """
        broken = ~torch.isfinite(stats.d_loss + stats.g_loss).cpu()
        if not broken.any():
            return
        new = broken & ~self.trainer.diverged
        if not new.any():
            return
        first = int(new.nonzero()[0])
        net = "d_loss" if not torch.isfinite(stats.d_loss[first]) else "g_loss"
        what = f"{net} is {float(getattr(stats, net)[first])}"
        if self.trainer.members == 1:
            raise self.diverged(step, what, self.previous)
        self.trainer.diverged |= new
        lost = new.nonzero().flatten().tolist()
        if self.trainer.diverged.all():
            raise self.diverged(step, f"every member has diverged (last: {what})", None)
        tqdm.write(f"gankit: member(s) {lost} diverged at step {step} ({what}); they are left out "
                   f"of the statistics, the other members train on")

    def snapshot(self, step: int, stats: StepStats) -> None:
        first = {key: values[0] for key, values in stats.per_member().items()}
        fake = self.trainer.sample(self.trainer.task.figure_points, seed=self.snapshot_seed)
        snap = {"step": step, "d_real": first["d_real"], "d_loss": first["d_loss"],
                "real": self.snapshot_real, "fake": np.round(fake, 5).tolist()}
        self.folder.snapshots.append(snap)
        if self.live is not None:
            self.live.update(snap)

    def checkpoint(self) -> None:
        bad, network = self.trainer.nonfinite_members()
        unmarked = [i for i in bad if not self.trainer.diverged[i]]
        if unmarked and len(unmarked) + int(self.trainer.diverged.sum()) < self.trainer.members:
            self.trainer.diverged[unmarked] = True  # members are independent: the rest go on
            tqdm.write(f"gankit: member(s) {unmarked} diverged by step {self.trainer.step_count} "
                       f"(non-finite {network} weights); the other members train on")
        elif unmarked:  # never let a checkpoint replace a good one with broken weights
            who = f"the {network}'s weights"
            raise self.diverged(self.trainer.step_count, f"{who} are not finite", None)
        save_checkpoint(self.folder.checkpoints, self.trainer.step_count, {
            "gankit_version": __version__,
            "config": self.config.to_dict(),
            "trainer": self.trainer.state_dict(),
        }, keep=self.config.log.keep_checkpoints)

    def loop(self) -> None:
        trainer, total = self.trainer, self.config.train.steps
        if trainer.step_count == 0:
            self.checkpoint()  # every run folder can be resumed, even after a kill at step 1
        rows = self.folder.metrics.read()
        self.start = time.perf_counter() - (rows[-1].get("elapsed_s", 0.0) if rows else 0.0)
        self.bar = tqdm(total=total, initial=trainer.step_count, unit="it",
                        disable=not self.progress, dynamic_ncols=True, desc=self.folder.path.name)
        rollbacks, finished = 0, trainer.step_count >= total
        try:
            with _SignalFlag().installed() as flag:
                while not finished and flag.received is None:
                    try:
                        finished = self.iterate()
                    except TrainingDiverged as diverged:
                        if (self.config.train.on_divergence != "rollback"
                                or rollbacks >= self.config.train.max_rollbacks):
                            raise
                        rollbacks += 1
                        self.roll_back(diverged)
                if flag.received is not None and not finished:
                    self.bar.close()
                    self.checkpoint()
                    name = signal.Signals(flag.received).name
                    raise Interrupted(
                        f"stopped by {name} at step {trainer.step_count}; saved a checkpoint. "
                        f"Continue with: gankit train --resume {self.folder.path}",
                        exit_code=128 + flag.received)
        finally:
            self.bar.close()
        if self.live is not None:
            self.live.close()

    def out_of_time(self) -> bool:
        budget = self.config.train.max_seconds
        return budget > 0 and time.perf_counter() - self.start >= budget

    def iterate(self) -> bool:
        """One training step and whatever logging, snapshot or checkpoint falls on it.

        Returns whether this was the last step (the step count or the time budget is reached),
        so the last step is always logged, evaluated and checkpointed.
        """
        trainer, log = self.trainer, self.config.log
        stats = trainer.step()
        step = trainer.step_count
        self.check_finite(step, stats)
        self.previous = stats
        self.bar.update(1)
        last = step >= self.config.train.steps or self.out_of_time()
        if step % log.log_every == 0 or step % log.eval_every == 0 or last:
            row = self.log_row(step, stats, time.perf_counter() - self.start, last)
            self.folder.metrics.append(row)
            postfix = {"D": f"{row['d_loss']:.3f}", "G": f"{row['g_loss']:.3f}"}
            shown = [k for k, v in self.last_eval.items() if isinstance(v, float) and "_" in k][:2]
            postfix.update({k: f"{self.last_eval[k]:.4f}" for k in shown})
            self.bar.set_postfix(postfix, refresh=False)
        if step % log.snapshot_every == 0 or step == 1 or last:
            self.snapshot(step, stats)
        if step % log.checkpoint_every == 0 or last:
            self.checkpoint()
        return last

    def roll_back(self, diverged: TrainingDiverged) -> None:
        """Return to the last good checkpoint with smaller learning rates."""
        factor = self.config.train.rollback_lr_factor
        state = load_checkpoint(latest_checkpoint(self.folder.checkpoints))
        self.trainer.load_state_dict(state["trainer"])
        for optimizer in (self.trainer.opt_g, self.trainer.opt_d):
            optimizer.lr *= factor
        self.folder.metrics.truncate_after(self.trainer.step_count)
        self.folder.snapshots.truncate_after(self.trainer.step_count)
        self.previous = None
        self.bar.reset(total=self.config.train.steps)
        self.bar.update(self.trainer.step_count)
        tqdm.write(f"gankit: {diverged}. Rolled back to step {self.trainer.step_count}; "
                   f"learning rates now G {self.trainer.opt_g.lr:.3g}, D {self.trainer.opt_d.lr:.3g}")

    def finish(self) -> dict[str, Any]:
        trainer = self.trainer
        metrics = dict(self.last_eval or trainer.evaluate())
        summary: dict[str, Any] = {"step": trainer.step_count}
        if trainer.members == 1:
            summary.update(metrics)
            summary["success"] = trainer.task.success(metrics)
        else:
            members = metrics.pop("members")
            flags = [not bool(trainer.diverged[i]) and trainer.task.success(
                {k: v[i] for k, v in members.items()}) for i in range(trainer.members)]
            summary.update(metrics)
            summary.update({"seeds": trainer.members, "success_share": sum(flags) / len(flags),
                            "diverged": int(trainer.diverged.sum()),
                            "member_values": {**members, "success": flags}})
        self.folder.write_summary(summary)
        return summary


def train(
    config: Config | None = None,
    *,
    preset: str | None = None,
    config_file: str | Path | None = None,
    out: str | Path | None = None,
    overwrite: bool = False,
    progress: bool = False,
    live: bool = False,
    figures: bool = True,
    **settings: Any,
) -> Run:
    """Train a GAN and return the finished :class:`Run`.

    ``settings`` are the shortcuts of ``gankit.config.SHORTCUTS`` (the CLI's flags: ``data``,
    ``steps``, ``loss``, ``lr``, ...) or dotted config keys in a dict under ``set``, e.g.
    ``train(data="parabola", steps=2000, set={"model.g_hidden": [256]})``. Without ``preset``
    the dataset's own preset is used.
    """
    if config is None:
        config = resolve_config(preset, config_file, shortcut_overrides(**settings))
    elif settings:
        raise TypeError("pass either a Config or settings, not both")
    trainer = Trainer(config)  # fails before any folder is made, e.g. on a missing device
    folder = RunFolder(out if out is not None else _default_out(config))
    folder.create(config, overwrite)
    return _run(trainer, folder, progress, live, figures)


def resume(path: str | Path, *, steps: int | None = None, progress: bool = False,
           live: bool = False, figures: bool = True) -> Run:
    """Continue a run from its latest checkpoint; ``steps`` may extend its length."""
    folder = RunFolder(path)
    config = folder.load_config()
    state = load_checkpoint(latest_checkpoint(folder.checkpoints))
    saved = config_from_dict(state["config"]).to_dict()
    current = config.to_dict()
    saved["train"]["steps"] = current["train"]["steps"]  # the one setting a resume may change
    if saved != current:
        raise GankitError(f"{folder.config_path} differs from the config saved in the checkpoint; "
                          "a resumed run must keep its config")
    if steps is not None and steps != config.train.steps:
        if config.train.lr_schedule != "constant":
            raise GankitError(f"--steps cannot change the length of a run with a "
                              f"'{config.train.lr_schedule}' learning-rate schedule: the schedule "
                              "is laid over train.steps, so the resumed run would differ; to train "
                              f"longer, start a new run: gankit train --config {folder.config_path} "
                              f"--steps {steps} --out NEW_DIR")
        if steps < int(state["trainer"]["step"]):
            raise GankitError(f"--steps {steps} is below the checkpoint's step "
                              f"{state['trainer']['step']}")
        config = dataclasses.replace(config, train=dataclasses.replace(config.train, steps=steps))
        atomic_write_text(folder.config_path, config.to_toml())
    trainer = Trainer(config)
    _check_compatible(state, trainer)
    trainer.load_state_dict(state["trainer"])
    folder.metrics.truncate_after(trainer.step_count)
    folder.snapshots.truncate_after(trainer.step_count)
    return _run(trainer, folder, progress, live, figures)


def _run(trainer: Trainer, folder: RunFolder, progress: bool, live: bool, figures: bool) -> Run:
    if live and not has_display():
        print("gankit: --live needs a display and none was found; training on, figures are "
              f"written to {folder.figures}")
        live = False
    session = _Session(trainer, folder, progress, live)
    session.loop()
    session.finish()
    run = Run(folder, trainer)
    if figures:
        run.plot()
    return run
