"""Training a run end to end, and reading a finished one back: the Python API behind the CLI."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from gankit import __version__
from gankit.checkpoint import atomic_write_text, open_latest
from gankit.config import Config, config_from_dict, data_preset, resolve_config, shortcut_overrides
from gankit.distributed import Solo, team_for
from gankit.divergence import TrainingDiverged
from gankit.errors import GankitError
from gankit.rundir import RunFolder
from gankit.session import Interrupted, run_session
from gankit.training import Trainer

if TYPE_CHECKING:
    from gankit.refine import Refined, RefineSettings

__all__ = ["Interrupted", "Run", "TrainingDiverged", "resume", "train"]

Figures = bool | Literal["background"]  # draw them before returning, in another process, or not


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
        state = open_latest(folder.checkpoints)
        config = config_from_dict(state["config"]).validate()  # what the weights were trained as
        if device is not None:
            config = dataclasses.replace(config, device=device)
        trainer = Trainer.from_config(config)
        trainer.load_state_dict(state["trainer"], restore_rng=False)
        trainer.task.use_run_folder(folder.path)
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

    def sample(self, n: int, seed: int | None = None, member: int = 0,
               refine: str | RefineSettings | None = None) -> Any:
        """``n`` generated points of one member (from the EMA generator when EMA is on), in the
        user's form (the task's ``decode``: an array for the built-in tasks).

        ``refine`` (``"drs"``, ``"mh"`` or a :class:`gankit.refine.RefineSettings`) draws them
        with the discriminator's help; :meth:`refine` also returns the acceptance rate and cost.
        """
        if refine is None:
            return self.trainer.task.decode(self.trainer.sample(n, seed, member))
        return self.sample_refined(n, refine, seed, member)[0]

    def sample_refined(self, n: int, refine: str | RefineSettings, seed: int | None = None,
                       member: int = 0) -> tuple[Any, dict[str, float]]:
        """Refined samples of one member in the user's form, and that member's acceptance rate
        and passes per sample."""
        if not 0 <= member < self.trainer.members:
            raise GankitError(f"member {member} does not exist; this run has members 0 to "
                              f"{self.trainer.members - 1}")
        refined = self.refine(n, refine, seed)
        samples = self.trainer.task.decode(refined.samples[member].cpu().numpy())
        return samples, refined.member_metrics(member)

    def refine(self, n: int, settings: str | RefineSettings = "drs", seed: int | None = None) -> Refined:
        """``n`` samples of every member drawn by DRS or MH-GAN (:mod:`gankit.refine`), with
        each member's acceptance rate and generator/discriminator passes per sample."""
        from gankit.refine import refine

        return refine(self.trainer, n, settings, seed)

    def evaluate(self, n: int | None = None, general: bool = False,
                 refine: str | RefineSettings | None = None, seed: int = 0) -> dict[str, Any]:
        """Metrics recomputed now; with several members, their median, quartiles and range.

        ``general`` adds the sample-based metrics (MMD, sliced W1, precision, recall, density,
        coverage) with their noise floors. With ``refine`` the metrics score refined samples
        (drawn with ``seed``) and add ``acceptance_rate``, ``g_passes_per_sample`` and
        ``d_passes_per_sample``.
        """
        if refine is None:
            return self.trainer.evaluate(n, general)
        from gankit.memberstats import MemberMetrics
        from gankit.refine import refinement_metrics

        trainer = self.trainer
        n = n or trainer.config.log.eval_samples or trainer.task.eval_samples
        n -= n % trainer.config.model.pack  # D's mean on the samples is taken over packed rows
        refined = self.refine(n, refine, seed)
        record = trainer.evaluate_members(n, general, fake=refined.samples)
        costs = MemberMetrics.from_members(refinement_metrics(refined), trainer.diverged.tolist())
        return record.merged(costs).to_row()

    def evaluate_members(self, n: int | None = None, general: bool = False) -> list[dict[str, float]]:
        """Each member's metrics, recomputed now."""
        record = self.trainer.evaluate_members(n, general)
        return [record.member(i) for i in range(record.members)]

    def plot_in_background(self) -> subprocess.Popen:
        """Draw the figures in a separate ``gankit plot`` process and return at once.

        Figures take seconds of matplotlib (about a fifth of a default run); drawn apart, the
        run's results come back without waiting for them and the drawing can use another core.
        The process outlives this one (its own session: Ctrl-C on the terminal leaves it be) and
        writes what it prints to ``figures/plot.log``. A folder that cannot be written is
        refused here, with the same one line as a drawing in this process.
        """
        folder = self.folder.figures
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
        from gankit.figures import render_run

        trainer = self.trainer
        members = list(trainer.evaluation_samples())
        return render_run(self.folder.figures, trainer.task, self.folder.metrics.read(),
                          self.folder.snapshots.read(), members, self.summary,
                          lambda path: trainer.task.discriminator_figure(trainer.discriminator,
                                                                         trainer.device, path))


def _default_out(config: Config) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{config.name or config.data.name}-{stamp}"


def train(
    config: Config | None = None,
    *,
    preset: str | None = None,
    config_file: str | Path | None = None,
    out: str | Path | None = None,
    overwrite: bool = False,
    progress: bool = False,
    live: bool = False,
    figures: Figures = True,
    **settings: Any,
) -> Run:
    """Train a GAN and return the finished :class:`Run`.

    ``settings`` are the shortcuts of ``gankit.config.SHORTCUTS`` (the CLI's flags: ``data``,
    ``steps``, ``loss``, ``lr``, ...) or dotted config keys in a dict under ``set``, e.g.
    ``train(data="parabola", steps=2000, set={"model.g_hidden": [256]})``. Without ``preset``
    the dataset's own preset is used. With a ``config``, ``preset`` only names the preset it was
    resolved from, for ``run.json`` and ``gankit runs``. ``figures``: True draws them before
    returning, ``"background"`` in a separate process (:meth:`Run.plot_in_background`), False not.
    """
    if config is None:
        config = resolve_config(preset, config_file, shortcut_overrides(**settings))
    elif settings:
        raise TypeError("pass either a Config or settings, not both")
    _check_extras(config)
    team = team_for(config)
    trainer = Trainer.from_config(team.local_config(config))  # fails before any folder is made
    folder = RunFolder(out if out is not None else _default_out(config))
    error = None
    if team.writes:
        try:
            folder.create(config, overwrite)
            folder.update_info(preset=preset or data_preset(config.data.name), gankit_version=__version__)
        except GankitError as exc:
            error = str(exc)
    team.agree(error)  # every rank stops with rank 0's one line, or all go on
    return _run(trainer, folder, progress, live, figures, config, team)


def _check_extras(config: Config) -> None:
    """Optional packages the config asks for, checked before any folder is made."""
    if config.log.tensorboard:
        from gankit.tensorboard import require_tensorboard

        require_tensorboard()


def resume(path: str | Path, *, steps: int | None = None, progress: bool = False,
           live: bool = False, figures: Figures = True) -> Run:
    """Continue a run from its latest checkpoint; ``steps`` may extend its length."""
    folder = RunFolder(path)
    config = folder.load_config()
    state = open_latest(folder.checkpoints)
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
    _check_extras(config)
    team = team_for(config)
    trainer = Trainer.from_config(team.local_config(config))
    trainer.load_state_dict(team.local_state(state["trainer"], trainer))
    if team.writes:
        atomic_write_text(folder.config_path, config.to_toml())
        folder.metrics.truncate_after(trainer.step_count)
        folder.snapshots.truncate_after(trainer.step_count)
    team.agree(None)  # the files are trimmed before any rank logs again
    return _run(trainer, folder, progress, live, figures, config, team)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _run(trainer: Trainer, folder: RunFolder, progress: bool, live: bool, figures: Figures,
         config: Config, team: Solo) -> Run:
    trainer.task.use_run_folder(folder.path)
    trainer.team = team
    team.prepare(trainer)
    window = None
    if live and team.writes:
        from gankit.figures import LivePlot, has_display

        if has_display():
            window = LivePlot(trainer.task)
        else:
            print("gankit: --live needs a display and none was found; training on, figures are "
                  f"written to {folder.figures}")
    if team.writes:
        folder.update_info(status="running", pid=os.getpid(), host=socket.gethostname(), started=_now(),
                           ended=None, reason=None)
    try:
        try:
            run_session(trainer, folder, progress and team.writes, window, config, team)
        except RuntimeError as exc:
            if team.size == 1:
                raise
            # A collective failed: another rank is gone (gloo saw its connection close).
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise GankitError(f"rank {team.rank}: lost another rank of the job ({first}); the run folder "
                              f"keeps its last checkpoint: gankit train --resume {folder.path}") from None
    except BaseException as stopped:
        status = "diverged" if isinstance(stopped, TrainingDiverged) else "interrupted"
        if team.writes:  # a failed write (a full disk) must not hide the error that stopped training
            with contextlib.suppress(OSError):
                folder.update_info(status=status, ended=_now(), reason=str(stopped) or type(stopped).__name__)
        raise
    finally:
        team.close()
    if not team.writes:
        return Run(folder, trainer)
    folder.update_info(status="finished", ended=_now())
    # Under torchrun rank 0 holds a slice of the members; the run folder holds them all.
    run = Run(folder, trainer) if team.size == 1 else Run.load(folder.path, config.device)
    if figures == "background":
        run.plot_in_background()
    elif figures:
        run.plot()
    return run
