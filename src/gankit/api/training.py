"""Training a run end to end, or continuing one: the Python API behind ``gankit train``."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from gankit import __version__
from gankit.api.run import Run
from gankit.config import Config, config_from_dict, read_toml, shortcut_overrides
from gankit.config.resolve import data_preset, resolve_config
from gankit.core.atomic import atomic_file, atomic_write_text
from gankit.core.errors import GankitError
from gankit.session.distributed import team_for
from gankit.session.divergence import TrainingDiverged
from gankit.session.loop import Interrupted, run_session
from gankit.session.phases import phases_on, prepare_resume
from gankit.store.checkpoint import open_latest
from gankit.store.rundir import RunFolder
from gankit.training.team import Solo
from gankit.training.trainer import Trainer

__all__ = ["Figures", "InMemory", "Interrupted", "TrainingDiverged", "in_memory_source", "resume", "train"]

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

    ``data`` may also be data in memory: a pandas DataFrame (a table), a 2-D NumPy array of
    numbers (a table) or a 3-D/4-D one (images ``[N, H, W]`` or ``[N, H, W, C]``). The run
    folder then keeps it as ``dataframe.csv`` (written as ``frame.to_csv(index=False)`` writes it:
    the index is not a column) or ``array.npy``, and the run trains on that file exactly as on the
    same file given by its path (see :func:`_train_in_memory`).
    """
    if config is None:
        data = settings.get("data")
        if isinstance(data, os.PathLike):
            settings["data"] = data = os.fspath(data)
        source = in_memory_source(data)
        if source is not None:
            rest = {k: v for k, v in settings.items() if k != "data"}
            return _train_in_memory(source, rest, preset, config_file, out, overwrite, progress, live,
                                    figures)
        config = resolve_config(preset, config_file, shortcut_overrides(**settings))
    elif settings:
        raise TypeError("pass either a Config or settings, not both")
    _check_extras(config)
    team = team_for(config)
    _check_team(config, team)
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


@dataclass(frozen=True)
class InMemory:
    """Data given in memory: what to call it in messages, the file it becomes, how to write it."""

    what: str  # "the DataFrame", "the array"
    name: str  # the file in the run folder: "dataframe.csv" or "array.npy"
    write: Callable[[Path], None]


def in_memory_source(data: Any) -> InMemory | None:
    """``train(data=...)`` as data in memory to write to a file, None for a dataset name or path
    (a string); anything else (a list, a dict, a 1-D array...) is refused in one line."""
    if data is None or isinstance(data, str):
        return None
    import numpy as np

    if isinstance(data, np.ndarray):
        return _array_source(data)
    pandas = sys.modules.get("pandas")  # a DataFrame means pandas is imported already
    if pandas is not None and isinstance(data, pandas.DataFrame):
        if isinstance(data.columns, pandas.MultiIndex):
            raise GankitError("data: a DataFrame with several header rows (MultiIndex columns) is not a "
                              "table gankit reads; join them into one name per column first")
        return InMemory("the DataFrame", "dataframe.csv", lambda path: data.to_csv(path, index=False))
    kind, module = type(data).__name__, type(data).__module__.split(".")[0]
    hint = ("; pass series.to_frame()" if pandas is not None and isinstance(data, pandas.Series)
            else "; convert it with .to_pandas()" if hasattr(data, "to_pandas")  # polars, pyarrow
            else "; pass tensor.cpu().numpy()" if module == "torch" else "")
    raise GankitError(f"data must be a dataset name, a file or folder path, a pandas DataFrame or a "
                      f"NumPy array, got a {kind if module == 'builtins' else f'{module}.{kind}'}{hint}")


def _array_source(array: Any) -> InMemory:
    if array.ndim not in (2, 3, 4):
        raise GankitError(f"data: a NumPy array must be 2-D (a table: rows x columns) or 3-D/4-D "
                          f"(images [N, H, W] or [N, H, W, C]), got shape {array.shape}")
    if array.dtype.kind not in "biuf":
        hint = "; for a table with text columns pass a pandas DataFrame" if array.ndim == 2 else ""
        raise GankitError(f"data: a NumPy array must hold numbers, got dtype {array.dtype}{hint}")
    if len(array) == 0:
        raise GankitError(f"data: the array holds no {'rows' if array.ndim == 2 else 'images'} "
                          f"(shape {array.shape})")
    import numpy as np

    return InMemory("the array", "array.npy", lambda path: np.save(path, array, allow_pickle=False))


@contextlib.contextmanager
def _naming(staged: Path, what: str) -> Iterator[None]:
    """Errors about the temporary file of data given in memory, told of that data instead."""
    try:
        yield
    except GankitError as exc:
        text = str(exc)
        for form in dict.fromkeys((str(staged.resolve()), str(staged))):
            text = text.replace(f"'{form}'", what).replace(form, what)
        raise GankitError(text) from None


def _train_in_memory(source: InMemory, settings: dict[str, Any], preset: str | None,
                     config_file: str | Path | None, out: str | Path | None, overwrite: bool,
                     progress: bool, live: bool, figures: Figures) -> Run:
    """:func:`train` on data in memory, through the same run folder and loop as a file.

    The data are written to a temporary file first, and the config, the task and the networks
    are built from it: every check a file gets (``gankit train --data FILE``) runs before any
    folder is made or emptied, and a refusal leaves nothing behind. The run folder is then
    created (``overwrite`` as for a file) and the file placed in it atomically as
    ``dataframe.csv``/``array.npy``, which its ``config.toml`` names, so that ``--resume`` and every
    later reader find it there; the task read from the temporary file (the same bytes) is the
    one trained. A crash before the first checkpoint leaves a folder without a run to resume,
    never a torn data file.
    """
    overrides = shortcut_overrides(**settings)  # a mistyped setting is refused before any writing
    with tempfile.TemporaryDirectory(prefix="gankit-data-") as staging:
        staged = Path(staging) / source.name
        try:
            source.write(staged)
        except OSError as exc:
            raise GankitError(f"cannot write {source.what} to a temporary file: "
                              f"{exc.strerror or exc}") from None
        with _naming(staged, source.what):
            config = resolve_config(preset, config_file, shortcut_overrides(data=str(staged)) + overrides)
            _check_extras(config)
            team = team_for(config)
            _check_team(config, team)
            task = Trainer.from_config(team.local_config(config), team=team).task
        folder = RunFolder(out if out is not None else _default_out(config))
        placed = folder.path.resolve() / staged.name
        config = dataclasses.replace(config, data=dataclasses.replace(
            config.data, params={**config.data.params, "path": str(placed)}))
        task.path = str(placed)  # type: ignore[attr-defined]  # the same bytes, at their place
        error = None
        if team.writes:
            try:
                stale = _given_data_file(folder) if overwrite else None
                folder.create(config, overwrite)
                folder.update_info(preset=preset or data_preset(config.data.name), gankit_version=__version__)
                _place(staged, placed)
                if stale is not None and stale != placed:
                    stale.unlink(missing_ok=True)
            except GankitError as exc:
                error = str(exc)
        team.agree(error)
    trainer = Trainer.from_config(team.local_config(config), task=task, team=team)
    return _run(trainer, folder, progress, live, figures, config, team)


def _place(staged: Path, placed: Path) -> None:
    """Copy the data's temporary file into the run folder: complete, or not there at all."""
    try:
        with staged.open("rb") as source, atomic_file(placed) as target:
            shutil.copyfileobj(source, target, 1 << 20)
    except OSError as exc:
        raise GankitError(f"cannot write '{placed}': {exc.strerror or exc}") from None


def _given_data_file(folder: RunFolder) -> Path | None:
    """The data file of a run already in ``folder`` that was given in memory (its config.toml
    names a ``dataframe.csv``/``array.npy`` in the folder itself): an overwriting run replaces it."""
    if not folder.is_run():
        return None
    try:
        path = read_toml(folder.config_path).get("data", {}).get("path")
    except (GankitError, AttributeError):
        return None
    if not isinstance(path, str):
        return None
    given = Path(path)
    inside = given.parent == folder.path.resolve() and given.name in ("dataframe.csv", "array.npy")
    return given if inside else None


def _check_extras(config: Config) -> None:
    """Optional packages the config asks for, checked before any folder is made."""
    if config.log.tensorboard:
        from gankit.session.tensorboard import require_tensorboard

        require_tensorboard()


def _check_team(config: Config, team: Solo) -> None:
    """What one process does and a torchrun job does not (yet), refused before any folder."""
    if team.size > 1 and phases_on(config):
        raise GankitError("train.patience and train.all_rows run in one process only, not under "
                          "torchrun; set train.patience=0 and train.all_rows=false")


# Keys that only chose train.steps when the config was resolved: a resume may differ in them.
LENGTH_KEYS = ("steps", "epochs", "min_steps", "max_steps")


def resume(path: str | Path, *, steps: int | None = None, progress: bool = True,
           live: bool = False, figures: Figures = True) -> Run:
    """Continue a run from its latest checkpoint; ``steps`` may extend its length. ``progress``
    as in :func:`train`."""
    folder = RunFolder(path)
    config = folder.load_config()
    state = open_latest(folder.checkpoints)
    saved = config_from_dict(state["config"]).to_dict()
    current = config.to_dict()
    for key in LENGTH_KEYS:  # the one setting a resume may change: its length
        saved["train"][key] = current["train"][key]
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
        if (state.get("session") or {}).get("held_out_end"):
            raise GankitError(f"--steps cannot change the length of {folder.path}: its held-out phase "
                              "has ended, and with it the length its evaluations chose")
        # the steps are now the user's, not the rows' (config.toml says so)
        config = dataclasses.replace(config, train=dataclasses.replace(config.train, steps=steps, epochs=0.0))
    _check_extras(config)
    team = team_for(config)
    _check_team(config, team)
    trainer = Trainer.from_config(team.local_config(config), team=team)
    prepare_resume(trainer, state)  # a run in its all-rows phase trains on every row
    trainer.load_state_dict(team.local_state(state["trainer"], trainer))
    if team.writes:
        atomic_write_text(folder.config_path, config.to_toml())
        folder.metrics.truncate_after(trainer.step_count)
        folder.snapshots.truncate_after(trainer.step_count)
    team.agree(None)  # the files are trimmed before any rank logs again
    return _run(trainer, folder, progress, live, figures, config, team, state.get("session"))


def _phase_marks(summary: dict[str, Any]) -> dict[str, Any]:
    """For run.json: the held-out phase's best step (whose networks are checkpoints/best.pt),
    whether it stopped early, and the step the all-rows phase began at; {} for a run without."""
    held = summary.get("held_out_phase", summary)
    marks = {key: held[key] for key in ("best_step", "stopped_early") if key in held}
    if "all_rows_phase" in summary:
        marks["all_rows_from"] = summary["all_rows_phase"]["from_step"]
    return marks


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _run(trainer: Trainer, folder: RunFolder, progress: bool, live: bool, figures: Figures,
         config: Config, team: Solo, resumed: dict[str, Any] | None = None) -> Run:
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
                run_session(trainer, folder, progress and team.writes, window, config, team, resumed)
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
    folder.update_info(status="finished", ended=_now(), **_phase_marks(folder.read_summary()))
    # Under torchrun rank 0 holds a slice of the members; the run folder holds them all.
    run = Run(folder, trainer) if team.size == 1 else Run.load(folder.path, config.device)
    if figures == "background":
        run.plot_in_background()
    elif figures:
        run.plot()
    return run
