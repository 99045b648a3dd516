"""Training a run end to end, or continuing one: the Python API behind ``gankit train``."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from gankit import __version__
from gankit.api.run import Run
from gankit.config import Config, config_from_dict, shortcut_overrides
from gankit.config.resolve import data_preset, resolve_config
from gankit.core.atomic import atomic_write_text
from gankit.core.errors import GankitError
from gankit.session.distributed import team_for
from gankit.session.divergence import TrainingDiverged
from gankit.session.loop import Interrupted, run_session
from gankit.store.checkpoint import open_latest
from gankit.store.rundir import RunFolder
from gankit.training.team import Solo
from gankit.training.trainer import Trainer

__all__ = ["Figures", "Interrupted", "TrainingDiverged", "resume", "train"]

Figures = bool | Literal["background"]  # draw them before returning, in another process, or not


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
    progress: bool = True,
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
    ``progress`` (on by default, as in ``gankit train`` and ``gankit.run_theory``) goes to
    stderr: a bar on a terminal, a plain line every 5% of the run elsewhere (a notebook, a log
    file); ``progress=False`` is ``gankit train --quiet``.
    """
    if config is None:
        config = resolve_config(preset, config_file, shortcut_overrides(**settings))
    elif settings:
        raise TypeError("pass either a Config or settings, not both")
    _check_extras(config)
    team = team_for(config)
    trainer = Trainer.from_config(team.local_config(config), team=team)  # fails before any folder is made
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
        from gankit.session.tensorboard import require_tensorboard

        require_tensorboard()


def resume(path: str | Path, *, steps: int | None = None, progress: bool = True,
           live: bool = False, figures: Figures = True) -> Run:
    """Continue a run from its latest checkpoint; ``steps`` may extend its length. ``progress``
    as in :func:`train`."""
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
    trainer = Trainer.from_config(team.local_config(config), team=team)
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
    window = None
    if live and team.writes:
        from gankit.evaluation.figures import LivePlot, has_display

        if has_display():
            window = LivePlot(trainer.task)
        else:
            print("gankit: --live needs a display and none was found; training on, figures are "
                  f"written to {folder.figures}")
    if team.writes:
        folder.update_info(status="running", pid=os.getpid(), host=socket.gethostname(), started=_now(),
                           ended=None, reason=None)
    # Under torchrun a rank that loses another must outlive torchrun's SIGTERM to say so.
    with team.reporting_loss():
        try:
            try:
                run_session(trainer, folder, progress and team.writes, window, config, team)
            except RuntimeError as exc:
                if team.size == 1:
                    raise
                # A collective failed: another rank is gone (gloo saw its connection close).
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise GankitError(f"rank {team.rank}: lost another rank of the job ({first}); the run "
                                  f"folder keeps its last checkpoint: gankit train --resume {folder.path}"
                                  ) from None
        except BaseException as stopped:
            status = "diverged" if isinstance(stopped, TrainingDiverged) else "interrupted"
            if team.writes:  # a failed write (a full disk) must not hide the error that stopped training
                with contextlib.suppress(OSError):
                    folder.update_info(status=status, ended=_now(),
                                       reason=str(stopped) or type(stopped).__name__)
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
